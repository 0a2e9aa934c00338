/*-------------------------------------------------------------------------
 *
 * json_parsers.c
 *		  Reading every field of every task of ListDownloadTask pages:
 *		  response.c's reader against PostgreSQL's own JSON parser.
 *
 *   json_parsers REPS PAGE_FILE...
 *
 * Each PAGE_FILE is one response body as the emulator renders it.  Three
 * ways of getting every field of every task out of all the pages, each run
 * REPS times over all of them:
 *
 *   bls_fast  bls_page_parse_shape() then bls_page_read_item() of all 21 fields of
 *             every task: what a scan does (src/response.c);
 *   pg_json   pg_parse_json() from the frontend libpgcommon, with semantic
 *             callbacks that keep each task field's de-escaped value (no
 *             tree), as a backend would use it (common/jsonapi.h);
 *   json_c    json-c's tree of the whole page, then a lookup of every field
 *             of every task (the parser bls_fast falls back on).
 *
 * For each it prints the median of the runs as MB/s of page text and
 * tasks/s, and checks that all three saw the same number of fields and the
 * same bytes of string values, so none of them skips work.
 *
 * Built by bench/json_parsers.sh.
 *
 * bench/json_parsers.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <time.h>

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"

#include <json-c/json.h>

#include "response.h"

static const char *const field_names[] = {
	"uuid", "name", "project", "logStoreName", "logStreamName", "query",
	"queryStartTime", "queryEndTime", "format", "order", "state",
	"failedCode", "failedMessage", "fileDir", "fileName", "execStartTime",
	"execEndTime", "createdTime", "updatedTime", "limit", "writtenRows",
};

#define NFIELDS ((int) lengthof(field_names))

/* What a run saw, to check that the parsers did the same work */
typedef struct Seen
{
	long		items;
	long		fields;			/* fields present, of the 21 */
	long		strbytes;		/* bytes of string values */
	long		intsum;			/* sum of integer values, modulo 2^63 */
} Seen;

typedef struct Page
{
	char	   *text;
	size_t		len;
} Page;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
field_index(const char *k, size_t len)
{
	for (int i = 0; i < NFIELDS; i++)
		if (strlen(field_names[i]) == len && memcmp(field_names[i], k, len) == 0)
			return i;
	return -1;
}

/* ---- response.c's reader ---- */

static void
run_bls(Page *pages, int npages, Seen *seen)
{
	const char *keys[NFIELDS];
	size_t		keylens[NFIELDS];
	BlsValue	values[NFIELDS];
	BlsFields	f;

	for (int k = 0; k < NFIELDS; k++)
	{
		keys[k] = field_names[k];
		keylens[k] = strlen(keys[k]);
	}
	memset(&f, 0, sizeof(f));
	f.nkeys = NFIELDS;
	f.keys = keys;
	f.keylens = keylens;
	f.values = values;
	bls_fields_reset(&f);

	for (int p = 0; p < npages; p++)
	{
		BlsPage		page;

		if (bls_page_parse_shape(pages[p].text, pages[p].len,
								 &bls_shape_download_tasks, &page) != BLS_PARSE_OK)
		{
			fprintf(stderr, "bls: page %d: %s\n", p + 1, page.error);
			exit(1);
		}
		for (int i = 0; i < page.nitems; i++)
		{
			if (!bls_page_read_item(&page, i, &f))
			{
				fprintf(stderr, "bls: task %d: %s\n", i + 1, page.error);
				exit(1);
			}
			seen->items++;
			for (int k = 0; k < NFIELDS; k++)
			{
				if (!values[k].present)
					continue;
				seen->fields++;
				if (values[k].type == BLS_JSON_STRING)
					seen->strbytes += values[k].len;
				else if (values[k].is_int)
					seen->intsum += values[k].ival;
			}
		}
		bls_page_free(&page);
	}
}

/* ---- PostgreSQL's pg_parse_json, semantic callbacks, no tree ---- */

typedef struct PgState
{
	int			depth;			/* 1 inside the top object */
	int			in_tasks;		/* depth of the tasks array, or 0 */
	int			field;			/* the task field being read, or -1 */
	bool		next_is_tasks;	/* the "result" member "tasks" starts */
	Seen	   *seen;
	/* the latest task's values, as a scan would keep them */
	char	   *val[NFIELDS];
} PgState;

static void
pg_object_start(void *arg)
{
	PgState    *st = arg;

	st->depth++;
	if (st->in_tasks && st->depth == st->in_tasks + 1)
	{
		st->seen->items++;
		for (int k = 0; k < NFIELDS; k++)
		{
			free(st->val[k]);
			st->val[k] = NULL;
		}
	}
}

static void
pg_object_end(void *arg)
{
	PgState    *st = arg;

	st->depth--;
}

static void
pg_array_start(void *arg)
{
	PgState    *st = arg;

	st->depth++;
	if (st->next_is_tasks)
	{
		st->in_tasks = st->depth;
		st->next_is_tasks = false;
	}
}

static void
pg_array_end(void *arg)
{
	PgState    *st = arg;

	if (st->depth == st->in_tasks)
		st->in_tasks = 0;
	st->depth--;
}

static void
pg_field_start(void *arg, char *fname, bool isnull)
{
	PgState    *st = arg;

	(void) isnull;
	st->field = -1;
	if (st->in_tasks && st->depth == st->in_tasks + 1)
		st->field = field_index(fname, strlen(fname));
	else if (st->depth == 2 && strcmp(fname, "tasks") == 0)
		st->next_is_tasks = true;
	free(fname);
}

static void
pg_scalar(void *arg, char *token, JsonTokenType type)
{
	PgState    *st = arg;

	if (st->in_tasks && st->depth == st->in_tasks + 1 && st->field >= 0)
	{
		st->seen->fields++;
		if (type == JSON_TOKEN_STRING)
			st->seen->strbytes += strlen(token);
		else if (type == JSON_TOKEN_NUMBER)
			st->seen->intsum += strtoll(token, NULL, 10);
		free(st->val[st->field]);
		st->val[st->field] = token;	/* kept, as a scan would */
		return;
	}
	free(token);
}

static void
run_pg(Page *pages, int npages, Seen *seen)
{
	PgState		st;
	JsonSemAction sem;

	memset(&st, 0, sizeof(st));
	memset(&sem, 0, sizeof(sem));
	st.seen = seen;
	sem.semstate = &st;
	sem.object_start = pg_object_start;
	sem.object_end = pg_object_end;
	sem.array_start = pg_array_start;
	sem.array_end = pg_array_end;
	sem.object_field_start = pg_field_start;
	sem.scalar = pg_scalar;

	for (int p = 0; p < npages; p++)
	{
		JsonLexContext *lex;
		JsonParseErrorType err;

		st.depth = st.in_tasks = 0;
		st.next_is_tasks = false;
		lex = makeJsonLexContextCstringLen(pages[p].text, (int) pages[p].len,
										   PG_UTF8, true);
		err = pg_parse_json(lex, &sem);
		if (err != JSON_SUCCESS)
		{
			/* json_errdetail() is not in the frontend libpgcommon of 15 */
			fprintf(stderr, "pg: page %d: JsonParseErrorType %d\n", p + 1, (int) err);
			exit(1);
		}
		if (lex->strval)
		{
			free(lex->strval->data);
			free(lex->strval);
		}
		free(lex);
	}
	for (int k = 0; k < NFIELDS; k++)
		free(st.val[k]);
}

/* ---- json-c's tree ---- */

static void
run_jsonc(Page *pages, int npages, Seen *seen)
{
	for (int p = 0; p < npages; p++)
	{
		json_tokener *tok = json_tokener_new();
		json_object *root = json_tokener_parse_ex(tok, pages[p].text, (int) pages[p].len);
		json_object *result;
		json_object *tasks;

		if (root == NULL ||
			!json_object_object_get_ex(root, "result", &result) ||
			!json_object_object_get_ex(result, "tasks", &tasks))
		{
			fprintf(stderr, "json-c: page %d does not parse\n", p + 1);
			exit(1);
		}
		for (size_t i = 0; i < json_object_array_length(tasks); i++)
		{
			json_object *task = json_object_array_get_idx(tasks, i);

			seen->items++;
			for (int k = 0; k < NFIELDS; k++)
			{
				json_object *v;

				if (!json_object_object_get_ex(task, field_names[k], &v))
					continue;
				seen->fields++;
				if (json_object_is_type(v, json_type_string))
					seen->strbytes += json_object_get_string_len(v);
				else if (json_object_is_type(v, json_type_int))
					seen->intsum += json_object_get_int64(v);
			}
		}
		json_object_put(root);
		json_tokener_free(tok);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0)
	{
		perror(path);
		exit(1);
	}
	rewind(f);
	buf = malloc(n + 1);
	if (buf == NULL || fread(buf, 1, n, f) != (size_t) n)
	{
		perror(path);
		exit(1);
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t) n;
	return buf;
}

int
main(int argc, char **argv)
{
	static const struct
	{
		const char *name;
		void		(*run) (Page *, int, Seen *);
	}			parsers[] = {
		{"bls_fast", run_bls},
		{"pg_json", run_pg},
		{"json_c", run_jsonc},
	};
	int			reps;
	int			npages = argc - 2;
	Page	   *pages;
	size_t		bytes = 0;
	Seen		first = {0};
	double		base = 0;

	if (argc < 3 || (reps = atoi(argv[1])) < 1)
	{
		fprintf(stderr, "usage: %s REPS PAGE_FILE...\n", argv[0]);
		return 2;
	}
	pages = malloc(sizeof(Page) * npages);
	for (int p = 0; p < npages; p++)
	{
		pages[p].text = read_file(argv[p + 2], &pages[p].len);
		bytes += pages[p].len;
	}

	printf("%-9s %10s %12s %8s   (%d pages, %.1f MB, median of %d runs)\n",
		   "parser", "MB/s", "tasks/s", "time/bls", npages, bytes / 1e6, reps);
	for (size_t k = 0; k < lengthof(parsers); k++)
	{
		double	   *secs = malloc(sizeof(double) * reps);
		double		med;
		Seen		seen = {0};

		/* one untimed run to warm caches and check the work done */
		parsers[k].run(pages, npages, &seen);
		if (k == 0)
			first = seen;
		else if (seen.items != first.items || seen.fields != first.fields ||
				 seen.strbytes != first.strbytes || seen.intsum != first.intsum)
		{
			fprintf(stderr, "%s saw %ld tasks %ld fields %ld string bytes, bls_fast %ld %ld %ld\n",
					parsers[k].name, seen.items, seen.fields, seen.strbytes,
					first.items, first.fields, first.strbytes);
			return 1;
		}
		for (int r = 0; r < reps; r++)
		{
			Seen		s = {0};
			double		t0 = now();

			parsers[k].run(pages, npages, &s);
			secs[r] = now() - t0;
		}
		qsort(secs, reps, sizeof(double), cmp_double);
		med = reps % 2 ? secs[reps / 2] : (secs[reps / 2 - 1] + secs[reps / 2]) / 2;
		if (k == 0)
			base = med;
		printf("%-9s %10.1f %12.0f %7.2fx\n", parsers[k].name, bytes / 1e6 / med,
			   first.items / med, med / base);
		free(secs);
	}
	printf("# %ld tasks, %ld fields, %ld bytes of strings per run\n",
		   first.items, first.fields, first.strbytes);
	return 0;
}
