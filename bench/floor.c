/*
 * floor: what libcurl and json-c alone allow, with no PostgreSQL.
 *
 *   floor URL PAGE_SIZE REPS
 *
 * Fetches every page of ListDownloadTask (POST /v2/logstore/download/list,
 * pageNo 1, 2, ... until a short or empty page) from the emulator at URL,
 * started with --no-auth, over one keep-alive connection (one easy handle
 * for all pages and all runs), and parses every field of every task with
 * json-c: json_tokener_parse of the body, then json_object_object_get_ex of
 * all 21 fields and json_object_get_string / json_object_get_int64 of each.
 * Runs REPS times and prints one line per run:
 *
 *   run N rows R pages P bytes B wall_s W cpu_s C
 *
 * where cpu_s is this process's user + system time (getrusage) for the run.
 * Built by bench/perf.sh:  cc -O2 -o floor bench/floor.c -lcurl -ljson-c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

static const char *const string_fields[] = {
	"uuid", "name", "project", "logStoreName", "logStreamName", "query",
	"queryStartTime", "queryEndTime", "format", "order", "state",
	"failedCode", "failedMessage", "fileDir", "fileName", "execStartTime",
	"execEndTime", "createdTime", "updatedTime",
};
static const char *const int_fields[] = {"limit", "writtenRows"};

#define NSTR (sizeof(string_fields) / sizeof(string_fields[0]))
#define NINT (sizeof(int_fields) / sizeof(int_fields[0]))

struct buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
};

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	size_t		n = size * nmemb;

	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 65536;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (b->data == NULL)
		{
			fprintf(stderr, "floor: out of memory\n");
			exit(1);
		}
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	const char *base;
	long		page_size;
	int			reps;
	char		url[1024];
	CURL	   *h;
	struct curl_slist *hdrs = NULL;
	struct buf b = {0};
	uint64_t	sink = 0;

	if (argc != 4)
	{
		fprintf(stderr, "usage: %s URL PAGE_SIZE REPS\n", argv[0]);
		return 2;
	}
	base = argv[1];
	page_size = atol(argv[2]);
	reps = atoi(argv[3]);
	if (page_size < 1 || reps < 1 || reps > 100)
	{
		fprintf(stderr, "floor: bad PAGE_SIZE or REPS\n");
		return 2;
	}
	snprintf(url, sizeof(url), "%s/v2/logstore/download/list", base);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);

	for (int run = 1; run <= reps; run++)
	{
		long		rows = 0,
					pages = 0,
					bytes = 0;
		double		w0 = now_s(),
					c0 = cpu_s();

		for (long page = 1; page <= 1000000; page++)
		{
			char		body[128];
			long		status = 0;
			CURLcode	rc;
			json_object *doc,
					   *result,
					   *tasks;
			size_t		n;

			snprintf(body, sizeof(body), "{\"pageNo\":%ld,\"pageSize\":%ld}", page, page_size);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
			b.len = 0;
			rc = curl_easy_perform(h);
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
			if (rc != CURLE_OK || status != 200)
			{
				fprintf(stderr, "floor: page %ld: %s, HTTP %ld\n", page,
						curl_easy_strerror(rc), status);
				return 1;
			}
			pages++;
			bytes += (long) b.len;
			doc = json_tokener_parse(b.data);
			if (doc == NULL ||
				!json_object_object_get_ex(doc, "result", &result) ||
				!json_object_object_get_ex(result, "tasks", &tasks) ||
				!json_object_is_type(tasks, json_type_array))
			{
				fprintf(stderr, "floor: page %ld: unexpected body\n", page);
				return 1;
			}
			n = json_object_array_length(tasks);
			for (size_t i = 0; i < n; i++)
			{
				json_object *t = json_object_array_get_idx(tasks, i);
				json_object *v;

				for (size_t f = 0; f < NSTR; f++)
					if (json_object_object_get_ex(t, string_fields[f], &v) && v != NULL)
					{
						const char *s = json_object_get_string(v);

						sink += (uint64_t) json_object_get_string_len(v) + (unsigned char) s[0];
					}
				for (size_t f = 0; f < NINT; f++)
					if (json_object_object_get_ex(t, int_fields[f], &v) && v != NULL)
						sink += (uint64_t) json_object_get_int64(v);
			}
			rows += (long) n;
			json_object_put(doc);
			if ((long) n < page_size)
				break;
		}
		printf("run %d rows %ld pages %ld bytes %ld wall_s %.6f cpu_s %.6f\n",
			   run, rows, pages, bytes, now_s() - w0, cpu_s() - c0);
		fflush(stdout);
	}
	fprintf(stderr, "floor: checksum %llu\n", (unsigned long long) sink);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	curl_global_cleanup();
	free(b.data);
	return 0;
}
