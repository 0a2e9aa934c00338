/*-------------------------------------------------------------------------
 *
 * http.c
 *		  HTTP transport to BLS: the connection cache, signed requests,
 *		  retries, cancellation and error reporting.
 *
 * This is the only file that includes curl.h.  Each backend keeps one
 * libcurl easy handle and one multi handle per (server, user) pair; the
 * multi handle owns libcurl's connection pool, so pages and queries reuse
 * one keep-alive connection.
 *
 * Transfers run through the multi interface in short polls, with
 * CHECK_FOR_INTERRUPTS() between them, so a cancel or statement_timeout is
 * reported as such (SQLSTATE 57014) within a poll interval, and a terminate
 * stays FATAL.  No ERROR is ever raised inside a libcurl callback: the write
 * callback caps the body by returning a short count, and errors are raised
 * after libcurl has returned.  If an ERROR escapes mid-transfer the handle
 * is left attached to its multi handle; the transaction abort callback, or
 * failing that the next request, detaches it.
 *
 * libcurl allocates with malloc, not palloc: its memory outlives queries
 * (the connection pool), and a longjmp out of palloc inside libcurl would
 * corrupt its state.  The response buffer is malloc'd for the same reason
 * and is reused across requests.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <curl/curl.h>
#include <time.h>

#include "access/xact.h"
#include "common/pg_prng.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "bce_auth.h"
#include "bls_fdw.h"
#include "request.h"

/* How long one wait for socket activity may last before checking interrupts. */
#define BLS_POLL_MS				100

/* Back-off after a retryable failure, as the official Go SDK does. */
#define BLS_BACKOFF_BASE_MS		300
#define BLS_BACKOFF_MAX_MS		20000
#define BLS_RETRY_AFTER_MAX_MS	60000

/* A response buffer larger than this is released after use. */
#define BLS_KEEP_BUFFER_BYTES	(8 * 1024 * 1024)

typedef struct BlsConnKey
{
	Oid			serverid;
	Oid			userid;
} BlsConnKey;

struct BlsConnection
{
	BlsConnKey	key;			/* hash key; must be first */
	CURL	   *easy;
	CURLM	   *multi;
	bool		attached;		/* easy is in multi: a transfer is under way */
	struct curl_slist *headers; /* of the transfer under way */

	/* response of the last transfer */
	char	   *buf;
	size_t		len;
	size_t		cap;
	size_t		max_len;
	bool		too_large;
	bool		out_of_memory;
	long		status;
	char		request_id[80];
	char		retry_after[40];
	char		content_type[80];
	char		errbuf[CURL_ERROR_SIZE];
};

static HTAB *ConnectionHash = NULL;

static void bls_xact_callback(XactEvent event, void *arg);

/*
 * Abort a transfer that an ERROR interrupted.  Removing the handle from its
 * multi handle closes that (half-used) connection.
 */
static void
detach_transfer(BlsConnection *conn)
{
	if (conn->attached)
	{
		curl_multi_remove_handle(conn->multi, conn->easy);
		conn->attached = false;
	}
	if (conn->headers)
	{
		curl_slist_free_all(conn->headers);
		conn->headers = NULL;
	}
}

/* On abort, release what an interrupted transfer holds. */
static void
bls_xact_callback(XactEvent event, void *arg)
{
	HASH_SEQ_STATUS scan;
	BlsConnection *conn;

	if (event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	hash_seq_init(&scan, ConnectionHash);
	while ((conn = (BlsConnection *) hash_seq_search(&scan)) != NULL)
		detach_transfer(conn);
}

/*
 * bls_get_connection
 *		Return this backend's connection for the scan's server and user,
 *		creating it on first use.  The struct lives in CacheMemoryContext
 *		and the libcurl handles until the backend exits.
 */
BlsConnection *
bls_get_connection(const BlsOptions *opts)
{
	BlsConnKey	key;
	BlsConnection *conn;
	bool		found;

	if (ConnectionHash == NULL)
	{
		HASHCTL		ctl;

		if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("could not initialize libcurl")));
		ctl.keysize = sizeof(BlsConnKey);
		ctl.entrysize = sizeof(BlsConnection);
		ConnectionHash = hash_create("bls_fdw connections", 8, &ctl,
									 HASH_ELEM | HASH_BLOBS);
		RegisterXactCallback(bls_xact_callback, NULL);
	}

	key.serverid = opts->serverid;
	key.userid = opts->userid;
	conn = hash_search(ConnectionHash, &key, HASH_ENTER, &found);
	if (!found)
	{
		memset((char *) conn + sizeof(BlsConnKey), 0,
			   sizeof(BlsConnection) - sizeof(BlsConnKey));
		conn->easy = curl_easy_init();
		conn->multi = curl_multi_init();
		if (conn->easy == NULL || conn->multi == NULL)
		{
			if (conn->easy)
				curl_easy_cleanup(conn->easy);
			if (conn->multi)
				curl_multi_cleanup(conn->multi);
			hash_search(ConnectionHash, &key, HASH_REMOVE, NULL);
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("could not create a libcurl handle")));
		}
	}
	return conn;
}

static size_t
write_callback(char *data, size_t size, size_t nmemb, void *arg)
{
	BlsConnection *conn = (BlsConnection *) arg;
	size_t		n = size * nmemb;

	if (conn->len + n > conn->max_len)
	{
		conn->too_large = true;
		return 0;				/* aborts the transfer */
	}
	if (conn->len + n + 1 > conn->cap)
	{
		size_t		newcap = conn->cap ? conn->cap : 64 * 1024;
		char	   *p;

		while (newcap < conn->len + n + 1)
			newcap *= 2;
		p = realloc(conn->buf, newcap);
		if (p == NULL)
		{
			conn->out_of_memory = true;
			return 0;
		}
		conn->buf = p;
		conn->cap = newcap;
	}
	memcpy(conn->buf + conn->len, data, n);
	conn->len += n;
	conn->buf[conn->len] = '\0';
	return n;
}

/* Copy a header's trimmed value into dst if its name matches. */
static void
match_header(const char *line, size_t len, const char *name,
			 char *dst, size_t dstlen)
{
	size_t		nlen = strlen(name);
	const char *v;
	const char *end;
	size_t		vlen;

	if (len <= nlen || line[nlen] != ':' || pg_strncasecmp(line, name, nlen) != 0)
		return;
	v = line + nlen + 1;
	end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
					   end[-1] == ' ' || end[-1] == '\t'))
		end--;
	vlen = Min((size_t) (end - v), dstlen - 1);
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

static size_t
header_callback(char *data, size_t size, size_t nmemb, void *arg)
{
	BlsConnection *conn = (BlsConnection *) arg;
	size_t		n = size * nmemb;

	/* a new status line (after a 1xx response) starts a new header set */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
	{
		conn->request_id[0] = '\0';
		conn->retry_after[0] = '\0';
		conn->content_type[0] = '\0';
		return n;
	}
	match_header(data, n, "x-bce-request-id", conn->request_id,
				 sizeof(conn->request_id));
	match_header(data, n, "retry-after", conn->retry_after,
				 sizeof(conn->retry_after));
	match_header(data, n, "content-type", conn->content_type,
				 sizeof(conn->content_type));
	return n;
}

/*
 * Run the prepared transfer to completion, checking for interrupts between
 * short waits on its sockets.  An interrupt raises its ERROR (or FATAL) from
 * here with the handle still attached; see detach_transfer().
 */
static CURLcode
perform_interruptibly(BlsConnection *conn)
{
	CURLMcode	mc;
	CURLMsg    *msg;
	int			running = 1;
	int			left;
	CURLcode	result = CURLE_OK;

	mc = curl_multi_add_handle(conn->multi, conn->easy);
	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not start a request to BLS: %s",
						curl_multi_strerror(mc))));
	conn->attached = true;

	while (running)
	{
		mc = curl_multi_perform(conn->multi, &running);
		if (mc != CURLM_OK)
			break;
		if (running)
		{
			pgstat_report_wait_start(PG_WAIT_EXTENSION);
			mc = curl_multi_poll(conn->multi, NULL, 0, BLS_POLL_MS, NULL);
			pgstat_report_wait_end();
			if (mc != CURLM_OK)
				break;
		}
		CHECK_FOR_INTERRUPTS();
	}

	if (mc != CURLM_OK)
	{
		detach_transfer(conn);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("request to BLS failed: %s", curl_multi_strerror(mc))));
	}

	while ((msg = curl_multi_info_read(conn->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == conn->easy)
			result = msg->data.result;
	detach_transfer(conn);
	return result;
}

static void
append_header(BlsConnection *conn, const char *name, const char *value)
{
	char	   *line = psprintf("%s: %s", name, value);
	struct curl_slist *l = curl_slist_append(conn->headers, line);

	/* the line may hold the session token: do not leave it in palloc'd memory */
	explicit_bzero(line, strlen(line));
	pfree(line);
	if (l == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	conn->headers = l;
}

/*
 * Send one signed ListDownloadTask request and wait for its response.
 * Returns libcurl's result; conn holds the status, headers and body.
 */
static CURLcode
send_request(BlsConnection *conn, const BlsOptions *opts,
			 const char *body, size_t bodylen)
{
	char		timestamp[32];
	char		content_length[32];
	BceHeader	sign[5];
	int			nsign = 0;
	char	   *auth;
	char	   *url;
	CURL	   *h = conn->easy;

	detach_transfer(conn);
	if (conn->cap > BLS_KEEP_BUFFER_BYTES)
	{
		free(conn->buf);
		conn->buf = NULL;
		conn->cap = 0;
	}
	conn->len = 0;
	conn->max_len = (size_t) opts->max_response_bytes;
	conn->too_large = false;
	conn->out_of_memory = false;
	conn->status = 0;
	conn->request_id[0] = '\0';
	conn->retry_after[0] = '\0';
	conn->content_type[0] = '\0';
	conn->errbuf[0] = '\0';

	/* the signature covers exactly the header values sent below */
	bce_format_timestamp(time(NULL), timestamp);
	snprintf(content_length, sizeof(content_length), "%zu", bodylen);
	sign[nsign++] = (BceHeader) {"host", opts->host_header};
	sign[nsign++] = (BceHeader) {"content-type", "application/json;charset=utf-8"};
	sign[nsign++] = (BceHeader) {"content-length", content_length};
	sign[nsign++] = (BceHeader) {"x-bce-date", timestamp};
	if (opts->security_token)
		sign[nsign++] = (BceHeader) {"x-bce-security-token", opts->security_token};
	auth = bce_sign("POST", BLS_LIST_PATH, NULL, sign, nsign,
					opts->access_key_id, opts->secret_access_key,
					timestamp, 1800, NULL);
	if (auth == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not sign the request to BLS")));
	PG_TRY();
	{
		append_header(conn, "Authorization", auth);
	}
	PG_FINALLY();
	{
		free(auth);
	}
	PG_END_TRY();
	for (int i = 0; i < nsign; i++)
		if (strcmp(sign[i].name, "content-length") != 0)
			append_header(conn, sign[i].name, sign[i].value);
	/* no "Expect: 100-continue" round trip */
	append_header(conn, "Expect", "");

	url = psprintf("%s%s", opts->endpoint, BLS_LIST_PATH);

	/* start from libcurl's defaults; the connection pool survives this */
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, conn->errbuf);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) bodylen);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, conn->headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "bls_fdw/1.0");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long) opts->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) opts->request_timeout_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) opts->max_response_bytes);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_callback);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, conn);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_callback);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, conn);
	if (opts->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, opts->ca_file);
	/* libcurl's defaults, made explicit; only a superuser can turn them off */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, opts->tls_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, opts->tls_verify ? 2L : 0L);

	{
		CURLcode	rc = perform_interruptibly(conn);

		pfree(url);
		if (rc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &conn->status);
		return rc;
	}
}

static bool
retryable_status(long status)
{
	return status == 429 || status == 500 || status == 502 ||
		status == 503 || status == 504;
}

/* Transport failures worth another attempt: the service may be back soon. */
static bool
retryable_curl_error(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
			return true;

			/* a certificate that fails verification will fail again */
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CONNECT_ERROR:
			return false;
		default:
			return false;
	}
}

/*
 * Milliseconds to wait before retry number attempt (0-based): Retry-After
 * when the service sent one, else exponential back-off with jitter so that
 * many backends do not retry in lockstep.
 */
static long
retry_delay_ms(const BlsConnection *conn, int attempt)
{
	long		delay;

	if (conn->retry_after[0] != '\0')
	{
		char	   *end;
		long		secs = strtol(conn->retry_after, &end, 10);

		if (end != conn->retry_after && *end == '\0' && secs >= 0)
			return Min(secs * 1000, BLS_RETRY_AFTER_MAX_MS);
		else
		{
			time_t		when = curl_getdate(conn->retry_after, NULL);

			if (when > 0)
				return Min(Max((long) (when - time(NULL)), 0) * 1000,
						   BLS_RETRY_AFTER_MAX_MS);
		}
	}
	delay = BLS_BACKOFF_BASE_MS << Min(attempt, 10);
	delay = Min(delay, BLS_BACKOFF_MAX_MS);
	return delay / 2 + (long) (pg_prng_double(&pg_global_prng_state) * (delay / 2));
}

/* Sleep without blocking cancels, terminates or postmaster death. */
static void
sleep_interruptibly(long ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left;

		CHECK_FOR_INTERRUPTS();
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * Copy text from the service into something safe to print: at most maxlen
 * bytes, invalid UTF-8 and control characters replaced, and non-ASCII
 * dropped unless the database encoding is UTF-8 (so reporting can never
 * fail on a conversion).
 */
static char *
printable(const char *s, size_t maxlen)
{
	StringInfoData buf;
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;
	size_t		len = strlen(s);
	size_t		i = 0;

	initStringInfo(&buf);
	while (i < len && (size_t) buf.len < maxlen)
	{
		unsigned char c = (unsigned char) s[i];

		if (c < 0x80)
		{
			appendStringInfoChar(&buf, (c < 0x20 || c == 0x7f) ? ' ' : c);
			i++;
		}
		else
		{
			int			l = pg_utf_mblen((const unsigned char *) s + i);

			if (utf8 && i + l <= len &&
				pg_utf8_islegal((const unsigned char *) s + i, l))
				appendBinaryStringInfo(&buf, s + i, l);
			else
				appendStringInfoChar(&buf, '?');
			i += (utf8 && i + l <= len &&
				  pg_utf8_islegal((const unsigned char *) s + i, l)) ? l : 1;
		}
	}
	if (i < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/* Report an error response; the one place HTTP statuses map to SQLSTATEs. */
static void
report_http_error(BlsConnection *conn, const BlsOptions *opts, int attempts)
{
	char	   *code = NULL;
	char	   *message = NULL;
	char	   *request_id = NULL;
	char	   *pcode;
	char	   *pmessage;
	char	   *prequest;
	int			sqlstate;
	const char *hint = NULL;
	bool		is_bls;

	is_bls = bls_parse_error_body(conn->buf ? conn->buf : "", conn->len,
								  &code, &message, &request_id);
	pcode = printable(code ? code : "", 80);
	pmessage = printable(message ? message : "", 300);
	prequest = printable(request_id ? request_id :
						 conn->request_id[0] ? conn->request_id : "", 80);
	free(code);
	free(message);
	free(request_id);

	switch (conn->status)
	{
		case 401:
		case 403:
			sqlstate = ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;
			hint = conn->status == 401
				? "Check the user mapping's access_key_id and secret_access_key (and security_token for temporary credentials), and that this server's clock is correct."
				: "Check that the access key may list download tasks in this region.";
			break;
		case 429:
			sqlstate = ERRCODE_FDW_ERROR;
			hint = "BLS is throttling requests; retry later or raise the server's max_retries.";
			break;
		default:
			sqlstate = ERRCODE_FDW_ERROR;
			if (strcmp(pcode, "RequestExpired") == 0)
				hint = "Check this server's clock: BLS rejects requests signed more than 30 minutes away from its own time.";
			else if (conn->status >= 500)
				hint = "The service failed; retry later.";
			break;
	}

	ereport(ERROR,
			(errcode(sqlstate),
			 attempts > 1
			 ? errmsg("BLS request to server \"%s\" failed with HTTP status %ld after %d attempts",
					  opts->server_name, conn->status, attempts)
			 : errmsg("BLS request to server \"%s\" failed with HTTP status %ld",
					  opts->server_name, conn->status),
			 is_bls
			 ? errdetail("BLS error code \"%s\", message \"%s\", request id \"%s\".",
						 pcode, pmessage, prequest)
			 : errdetail("The response is not a BLS error (content type \"%s\", request id \"%s\").",
						 printable(conn->content_type, 80), prequest),
			 hint ? errhint("%s", hint) : 0));
}

/* Report a failure of the transport itself: connect, TLS, timeout, size. */
static void
report_transport_error(BlsConnection *conn, const BlsOptions *opts,
					   CURLcode rc, int attempts)
{
	const char *what = conn->errbuf[0] ? conn->errbuf : curl_easy_strerror(rc);
	char	   *pwhat = printable(what, 300);
	char	   *after;

	/* drop libcurl's elapsed time ("... after 12 ms: ..."): it is noise */
	if ((after = strstr(pwhat, " after ")) != NULL)
	{
		char	   *p = after + 7;

		while (isdigit((unsigned char) *p))
			p++;
		if (p > after + 7 && strncmp(p, " ms", 3) == 0)
			memmove(after, p + 3, strlen(p + 3) + 1);
	}

	/* a cancel that arrived meanwhile is reported as a cancel */
	CHECK_FOR_INTERRUPTS();

	if (conn->too_large || rc == CURLE_FILESIZE_EXCEEDED)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("response from BLS server \"%s\" exceeds max_response_bytes (" INT64_FORMAT " bytes)",
						opts->server_name, opts->max_response_bytes),
				 errhint("Lower the page_size option or raise the server's max_response_bytes.")));
	if (conn->out_of_memory)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory while reading a response from BLS server \"%s\"",
						opts->server_name)));
	if (rc == CURLE_OPERATION_TIMEDOUT)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("request to BLS server \"%s\" timed out", opts->server_name),
				 errhint("The limits are the server's connect_timeout_ms (%d) and request_timeout_ms (%d).",
						 opts->connect_timeout_ms, opts->request_timeout_ms)));
	if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("could not verify the TLS certificate of BLS server \"%s\"",
						opts->server_name),
				 errdetail("%s.", pwhat),
				 rc == CURLE_SSL_CACERT_BADFILE
				 ? errhint("Check that the server's ca_file names a PEM file of CA certificates that the database server can read.")
				 : errhint("Set the server's ca_file to a PEM file holding the CA that signed the certificate, and check that the endpoint's host name is one the certificate names.")));
	if (rc == CURLE_SSL_CONNECT_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("could not establish a TLS connection to BLS server \"%s\"",
						opts->server_name),
				 errdetail("%s.", pwhat),
				 errhint("Check that the endpoint speaks https (use \"http://\" for a plain HTTP endpoint), and the server's ca_file.")));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
			 attempts > 1
			 ? errmsg("could not reach BLS server \"%s\" after %d attempts",
					  opts->server_name, attempts)
			 : errmsg("could not reach BLS server \"%s\"", opts->server_name),
			 errdetail("%s.", pwhat)));
}

/*
 * bls_list_tasks
 *		Send a ListDownloadTask request with the given JSON body, retrying
 *		throttling, server errors and connection failures up to max_retries
 *		times, and return the 200 response's body in *resp.
 *
 * The body in *resp is the connection's buffer: valid until the next request
 * on this connection.  Any other outcome raises an ERROR.
 */
void
bls_list_tasks(BlsConnection *conn, const BlsOptions *opts,
			   const char *body, size_t bodylen,
			   BlsResponse *resp, BlsScanStats *stats)
{
	bool		resigned = false;
	int			attempt;

	for (attempt = 0;; attempt++)
	{
		CURLcode	rc = send_request(conn, opts, body, bodylen);
		bool		again;

		stats->requests++;
		if (rc == CURLE_OK)
			stats->bytes += conn->len;

		if (rc == CURLE_OK && conn->status == 200)
			break;

		if (rc != CURLE_OK)
			again = retryable_curl_error(rc) && !conn->too_large &&
				attempt < opts->max_retries;
		else if (conn->status == 400 && !resigned && conn->len > 0 &&
				 strstr(conn->buf, "\"RequestExpired\"") != NULL)
		{
			/* a fresh timestamp may be all it takes, once */
			resigned = true;
			stats->retries++;
			continue;
		}
		else
			again = retryable_status(conn->status) &&
				attempt < opts->max_retries;

		if (!again)
		{
			if (rc != CURLE_OK)
				report_transport_error(conn, opts, rc, attempt + 1);
			report_http_error(conn, opts, attempt + 1);
		}
		stats->retries++;
		sleep_interruptibly(retry_delay_ms(conn, attempt));
	}

	resp->body = conn->buf ? conn->buf : "";
	resp->len = conn->len;
	strlcpy(resp->request_id, conn->request_id, sizeof(resp->request_id));
}

/*
 * bls_report_page_error
 *		Raise the ERROR for a 200 response that bls_page_parse() rejected.
 */
void
bls_report_page_error(BlsParseStatus status, const BlsPage *page,
					  const BlsResponse *resp, const BlsOptions *opts)
{
	const char *request_id = page->request_id ? page->request_id : resp->request_id;

	if (status == BLS_PARSE_FAILURE)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" reported a failure", opts->server_name),
				 errdetail("BLS error code \"%s\", message \"%s\", request id \"%s\".",
						   printable(page->code ? page->code : "", 80),
						   printable(page->message ? page->message : "", 300),
						   printable(request_id, 80))));
	if (status == BLS_PARSE_NOMEM)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory while parsing a response from BLS")));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
			 errmsg("invalid response from BLS server \"%s\"", opts->server_name),
			 errdetail("%s Request id \"%s\".", page->error,
					   printable(request_id, 80))));
}
