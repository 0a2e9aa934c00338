/*-------------------------------------------------------------------------
 *
 * connection.c
 *		  HTTP transport to BLS: the connection cache, signed requests in
 *		  flight side by side, retries, cancellation, invalidation and
 *		  error reporting.
 *
 * This is the only file that includes curl.h.  Each backend keeps, per
 * (server, user) pair, one libcurl multi handle, which owns the keep-alive
 * connection pool, and a few easy handles, one per request in flight.
 * Pages and queries reuse the pool's connections.
 *
 * Requests run in the background through the multi interface; a caller
 * starts one with bls_request_start() and collects it, retries included,
 * with bls_request_wait().  Waiting happens in short polls with
 * CHECK_FOR_INTERRUPTS() between them, so a cancel or statement_timeout is
 * reported as such (SQLSTATE 57014) within a poll interval, a terminate
 * stays FATAL, and the postmaster's death ends the wait at once.  No ERROR
 * is ever raised inside a libcurl callback: the write callback caps the
 * body by returning a short count, and errors are raised after libcurl has
 * returned.
 *
 * Ownership.  A request belongs to whoever started it (a pager, a write),
 * through a request owner (bls_owner_create()) that lives in the user's
 * memory context and releases what is left from that context's reset
 * callback, so an ERROR, a closed cursor or an aborted subtransaction frees
 * exactly the requests of the users that went away, and nothing else.  A
 * caller holds a BlsHandle: a slot and the generation the slot had when the
 * request started.  Every release bumps the generation, so a handle that
 * outlived its request is recognized: using one is an ERROR, releasing one
 * does nothing.  A read released while under way is detached rather than
 * stopped, so that its keep-alive connection survives.  A connection counts its users (pagers); it is closed, by
 * bls_disconnect_all() or after its server or user mapping changed, only
 * when it has none.  At the end of a top-level transaction no scan is left,
 * so any request still under way is stopped then.
 *
 * libcurl allocates with malloc, not palloc: its memory outlives queries
 * (the connection pool), and a longjmp out of palloc inside libcurl would
 * corrupt its state.  Request and response buffers are malloc'd for the
 * same reason, and response buffers are reused across requests.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <time.h>

#include "access/xact.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "foreign/foreign.h"
#include "common/pg_prng.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/postmaster.h"
#include "storage/pmsignal.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "bce_auth.h"
#include "bls_modules.h"
#include "service_text.h"
#include "pg_compat.h"

/* How long one wait for socket activity may last before checking interrupts. */
#define BLS_POLL_MS				100

/* Back-off after a retryable failure, as the official Go SDK does. */
#define BLS_BACKOFF_BASE_MS		300
#define BLS_BACKOFF_MAX_MS		20000
#define BLS_RETRY_AFTER_MAX_MS	60000

/*
 * How long a 429 holds back the other requests of the account, at most
 * (see budget.c): the Retry-After the service gave, bounded as the request
 * that met it bounds its own wait.  The quota is the account's, so the
 * service's answer holds for every backend, also after the request that met
 * it was cancelled.
 */
#define BLS_SHARED_BACKOFF_MAX_MS	BLS_RETRY_AFTER_MAX_MS

/* A response buffer larger than this is released after use. */
#define BLS_KEEP_BUFFER_BYTES	(256 * 1024)

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

/* Transfers per connection: two scans' pages and read-ahead. */
#define BLS_MAX_TRANSFERS		(BLS_MAX_READAHEAD * 2 + 2)

typedef struct BlsConnKey
{
	Oid			serverid;
	Oid			userid;
} BlsConnKey;

/*
 * One request and its response.  Everything here is malloc'd or owned by
 * libcurl, so it can outlive the query that started it.
 */
typedef struct BlsTransfer
{
	CURL	   *easy;			/* created on first use, kept */
	uint32		generation;		/* bumped by every release */
	bool		in_use;			/* handed out by bls_request_start() */
	bool		attached;		/* in the multi handle: under way */
	bool		detached;		/* released while under way, and left to
								 * finish with its body dropped (see
								 * bls_request_release()) */
	bool		done;			/* finished; result and response are valid */
	BlsRequestOwner *owner;		/* who gives it back, if bls_owner_start()
								 * started it */
	CURLcode	result;
	struct curl_slist *headers; /* of the attempt under way */
	const char *method;			/* a string constant */
	char	   *target;			/* path and normalized query string, as sent */
	char	   *path;			/* path, decoded, as signed */
	char	   *query;			/* query string, normalized; NULL if none */
	char	   *body;			/* request body; NULL if none */
	size_t		bodylen;
	bool		not_idempotent; /* see BlsHttpRequest */
	bool		see_every_attempt;	/* likewise */
	int			sends;			/* of the attempt under way, by libcurl */
	bool		resend_stopped; /* libcurl's resend was refused */
	char	   *what;
	char	   *not_found_code;
	const BlsOptions *opts;		/* the starting scan's; valid while in use */
	BlsScanStats *stats;
	int			attempts;		/* sent so far */
	bool		resigned;		/* RequestExpired has been retried */
	bool		maybe_applied;	/* an earlier attempt may have been applied */
	TimestampTz retry_at;		/* resend then; 0 if not waiting */
	TimestampTz sent_at;
	BlsBudget  *budget;			/* the account's (see budget.c) */
	bool		holds_slot;		/* a slot of budget, from the attempt's
								 * start until its end */
	int			budget_slot;

	/* response of the last attempt */
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

	/* its BLS error body, parsed once by error_body() */
	bool		err_parsed;
	bool		err_is_bls;		/* the body is a JSON object */
	char	   *err_code;		/* malloc'd; NULL where absent */
	char	   *err_message;
	char	   *err_request_id;
} BlsTransfer;

struct BlsConnection
{
	BlsConnKey	key;			/* hash key; must be first */
	CURLM	   *multi;			/* owns the keep-alive connection pool */
	int			users;			/* pagers holding it: not closed while > 0 */
	bool		invalidated;	/* its server or user mapping changed */
	uint32		server_hashvalue;	/* of the server's syscache entry */
	uint32		mapping_hashvalue;	/* of the user mapping's */
	BlsTransfer xfers[BLS_MAX_TRANSFERS];
};

static HTAB *ConnectionHash = NULL;

/*
 * Milliseconds to wait before retry number attempt (0-based): Retry-After
 * when the service sent one, else exponential back-off with jitter so that
 * many backends do not retry in lockstep.
 */
static long
retry_delay_ms(const BlsTransfer *t, int attempt)
{
	long		delay;

	if (t->retry_after[0] != '\0')
	{
		char	   *end;
		long		secs = strtol(t->retry_after, &end, 10);

		/* clamp before multiplying: a huge value must not overflow */
		if (end != t->retry_after && *end == '\0' && secs >= 0)
			return Min(secs, BLS_RETRY_AFTER_MAX_MS / 1000) * 1000;
		else
		{
			time_t		when = curl_getdate(t->retry_after, NULL);

			if (when > 0)
				return Min(Max((long) (when - time(NULL)), 0) * 1000,
						   BLS_RETRY_AFTER_MAX_MS);
		}
	}
	delay = BLS_BACKOFF_BASE_MS << Min(attempt, 10);
	delay = Min(delay, BLS_BACKOFF_MAX_MS);
	return delay / 2 + (long) (pg_prng_double(&pg_global_prng_state) * (delay / 2));
}

static void bls_xact_callback(XactEvent event, void *arg);
static void bls_inval_callback(Datum arg, int cacheid, uint32 hashvalue);
static void report_http_error(BlsTransfer *t, const BlsOptions *opts,
							  int attempts);
static void report_transport_error(BlsTransfer *t, const BlsOptions *opts,
								   CURLcode rc, int attempts);

/*
 * Forget the headers and response of t's last attempt, keeping a response
 * buffer of ordinary size for the next one.
 */
static void
drop_attempt(BlsTransfer *t)
{
	if (t->headers)
	{
		curl_slist_free_all(t->headers);
		t->headers = NULL;
	}
	if (t->cap > BLS_KEEP_BUFFER_BYTES)
	{
		free(t->buf);
		t->buf = NULL;
		t->cap = 0;
	}
	t->len = 0;
	free(t->err_code);
	free(t->err_message);
	free(t->err_request_id);
	t->err_code = t->err_message = t->err_request_id = NULL;
	t->err_parsed = false;
}

/*
 * The attempt of t is no longer in flight: give its budget slot back.
 * Never raises an error.
 */
static void
give_back_slot(BlsTransfer *t)
{
	if (t->holds_slot)
	{
		bls_budget_release(t->budget, t->budget_slot);
		t->holds_slot = false;
	}
}

/*
 * Stop a transfer and forget it.  Removing an unfinished handle from the
 * multi handle closes its (half-used) connection.
 */
static void
release_transfer(BlsConnection *conn, BlsTransfer *t)
{
	if (t->attached)
	{
		curl_multi_remove_handle(conn->multi, t->easy);
		t->attached = false;
	}
	give_back_slot(t);
	drop_attempt(t);
	free(t->target);
	free(t->path);
	free(t->query);
	free(t->body);
	free(t->what);
	free(t->not_found_code);
	t->target = t->path = t->query = t->body = NULL;
	t->what = t->not_found_code = NULL;
	t->in_use = false;
	t->detached = false;
	t->done = false;
	t->owner = NULL;
	t->opts = NULL;
	t->stats = NULL;
	t->generation++;
}

/* Close conn's handles and forget it; it must have no users. */
static void
close_connection(BlsConnection *conn)
{
	Assert(conn->users == 0);
	for (int i = 0; i < BLS_MAX_TRANSFERS; i++)
	{
		BlsTransfer *t = &conn->xfers[i];

		release_transfer(conn, t);
		if (t->easy)
			curl_easy_cleanup(t->easy);
		free(t->buf);
	}
	curl_multi_cleanup(conn->multi);
	hash_search(ConnectionHash, &conn->key, HASH_REMOVE, NULL);
}

/*
 * Close the connections whose server or user mapping changed, except those
 * a scan still uses: they go at a later call.
 */
static void
close_invalidated(void)
{
	HASH_SEQ_STATUS scan;
	BlsConnection *conn;

	hash_seq_init(&scan, ConnectionHash);
	while ((conn = (BlsConnection *) hash_seq_search(&scan)) != NULL)
		if (conn->invalidated && conn->users == 0)
			close_connection(conn);
}

/*
 * At the end of a top-level transaction no scan is left (a WITH HOLD
 * cursor has been materialized by then): stop any request still under way,
 * so that nothing of a scan runs between transactions, and close
 * connections whose server or user mapping changed.  Scans whose memory is
 * freed after this find their handles stale, which a release ignores.
 * Detached reads (see bls_request_release()) are left to finish: they have
 * no owner, and their answer is dropped.
 */
static void
bls_xact_callback(XactEvent event, void *arg)
{
	HASH_SEQ_STATUS scan;
	BlsConnection *conn;

	if (event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT &&
		event != XACT_EVENT_COMMIT && event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_PREPARE)
		return;
	hash_seq_init(&scan, ConnectionHash);
	while ((conn = (BlsConnection *) hash_seq_search(&scan)) != NULL)
		for (int i = 0; i < BLS_MAX_TRANSFERS; i++)
		{
			if (conn->xfers[i].in_use ||
				(conn->xfers[i].attached && !conn->xfers[i].detached))
				release_transfer(conn, &conn->xfers[i]);

			/*
			 * A detached read finishes whenever this backend next moves its
			 * transfers, which an idle session never does: its budget slot
			 * goes back now, so that no session idles on one.  The rest of
			 * its answer is all it still takes from the service.
			 */
			give_back_slot(&conn->xfers[i]);
		}
	close_invalidated();
}

/*
 * A foreign server or user mapping changed or went away: its connections
 * are closed at the next use (as postgres_fdw does), so that a dropped
 * server's sockets do not linger and a changed endpoint's pool is not kept.
 * (Options and keys are read afresh by every scan: a connection holds
 * neither.)
 */
static void
bls_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	BlsConnection *conn;

	hash_seq_init(&scan, ConnectionHash);
	while ((conn = (BlsConnection *) hash_seq_search(&scan)) != NULL)
		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID && conn->server_hashvalue == hashvalue) ||
			(cacheid == USERMAPPINGOID && conn->mapping_hashvalue == hashvalue))
			conn->invalidated = true;
}

/*
 * bls_connection_acquire
 *		Return this backend's connection for the server and user of opts,
 *		creating it on first use, and count the caller as its user until
 *		bls_connection_release().  The struct and the libcurl handles live
 *		until the backend exits, bls_disconnect_all() or an invalidation
 *		closes them, never while the connection has users.
 */
BlsConnection *
bls_connection_acquire(const BlsOptions *opts)
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
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, bls_inval_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(USERMAPPINGOID, bls_inval_callback, (Datum) 0);
	}
	close_invalidated();

	key.serverid = opts->serverid;
	key.userid = opts->userid;
	conn = hash_search(ConnectionHash, &key, HASH_ENTER, &found);
	if (!found)
	{
		memset((char *) conn + sizeof(BlsConnKey), 0,
			   sizeof(BlsConnection) - sizeof(BlsConnKey));
		conn->server_hashvalue = GetSysCacheHashValue1(FOREIGNSERVEROID,
													   ObjectIdGetDatum(opts->serverid));
		conn->mapping_hashvalue = GetSysCacheHashValue1(USERMAPPINGOID,
														ObjectIdGetDatum(opts->umid));
		conn->multi = curl_multi_init();
		if (conn->multi == NULL)
		{
			hash_search(ConnectionHash, &key, HASH_REMOVE, NULL);
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("could not create a libcurl handle")));
		}
		/* keep one idle connection per transfer for the next query */
		curl_multi_setopt(conn->multi, CURLMOPT_MAXCONNECTS, (long) BLS_MAX_TRANSFERS);
	}
	conn->users++;
	return conn;
}

/*
 * bls_connection_release
 *		The caller no longer uses conn.  Never raises an error: it is called
 *		from memory context reset callbacks.
 */
void
bls_connection_release(BlsConnection *conn)
{
	Assert(conn->users > 0);
	conn->users--;
}

/*
 * bls_disconnect_all
 *		Close this backend's cached connections, except those a scan is
 *		using (an open cursor, or the query calling this): those are kept,
 *		with a warning.  Returns true if any was closed.
 */
bool
bls_disconnect_all(void)
{
	HASH_SEQ_STATUS scan;
	BlsConnection *conn;
	bool		closed = false;

	if (ConnectionHash == NULL)
		return false;
	hash_seq_init(&scan, ConnectionHash);
	while ((conn = (BlsConnection *) hash_seq_search(&scan)) != NULL)
	{
		if (conn->users > 0)
		{
			ForeignServer *server = GetForeignServerExtended(conn->key.serverid,
															 FSV_MISSING_OK);

			ereport(WARNING,
					(errmsg("cannot close the connection to BLS server \"%s\" while it is in use",
							server ? server->servername : "(dropped)"),
					 errdetail("The connection is kept.")));
			continue;
		}
		close_connection(conn);
		closed = true;
	}
	return closed;
}

static size_t
write_callback(char *data, size_t size, size_t nmemb, void *arg)
{
	BlsTransfer *t = (BlsTransfer *) arg;
	size_t		n = size * nmemb;

	if (t->detached)
	{
		/* nobody wants it: count it, to stay within the cap, and drop it */
		if (t->len + n > t->max_len)
			return 0;
		t->len += n;
		return n;
	}

	if (t->len + n > t->max_len)
	{
		t->too_large = true;
		return 0;				/* aborts the transfer */
	}
	if (t->len + n + 1 > t->cap)
	{
		size_t		newcap = t->cap ? t->cap : 64 * 1024;
		curl_off_t	expected = -1;
		char	   *p;

		while (newcap < t->len + n + 1)
			newcap *= 2;

		/*
		 * An uncompressed body announces its length: allocate just that, so
		 * that the pages read ahead do not hold twice what they need.
		 */
		if (t->len == 0 &&
			curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
							  &expected) == CURLE_OK &&
			expected > 0 && (size_t) expected >= n && (size_t) expected < t->max_len)
			newcap = Max((size_t) expected + 1, t->cap);
		p = realloc(t->buf, newcap);
		if (p == NULL)
		{
			t->out_of_memory = true;
			return 0;
		}
		t->buf = p;
		t->cap = newcap;
	}
	memcpy(t->buf + t->len, data, n);
	t->len += n;
	t->buf[t->len] = '\0';
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
	BlsTransfer *t = (BlsTransfer *) arg;
	size_t		n = size * nmemb;

	/* a new status line (after a 1xx response) starts a new header set */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
	{
		t->request_id[0] = '\0';
		t->retry_after[0] = '\0';
		t->content_type[0] = '\0';
		return n;
	}
	match_header(data, n, "x-bce-request-id", t->request_id,
				 sizeof(t->request_id));
	match_header(data, n, "retry-after", t->retry_after,
				 sizeof(t->retry_after));
	match_header(data, n, "content-type", t->content_type,
				 sizeof(t->content_type));
	return n;
}

static void
append_header(BlsTransfer *t, const char *name, const char *value)
{
	char	   *line = psprintf("%s: %s", name, value);
	struct curl_slist *l = curl_slist_append(t->headers, line);

	/* the line may hold the session token: do not leave it in palloc'd memory */
	explicit_bzero(line, strlen(line));
	pfree(line);
	if (l == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	t->headers = l;
}

/*
 * append_header() of a malloc'd value, which is freed here, on an ERROR
 * too.  Apart from send_attempt() so that no setjmp() shares a frame with
 * its locals.
 */
static void
append_header_free(BlsTransfer *t, const char *name, char *value)
{
	PG_TRY();
	{
		append_header(t, name, value);
	}
	PG_FINALLY();
	{
		free(value);
	}
	PG_END_TRY();
}

#if LIBCURL_VERSION_NUM >= 0x075000
/*
 * libcurl calls this before each time it sends a request: once per
 * attempt, unless it resends the attempt on its own on a new connection
 * because the reused one died.  For a request whose every attempt must be
 * seen, that resend is refused: the request may have reached the service
 * already.  collect_finished() turns the refusal into the failure it
 * stands for.
 */
static int
prereq_callback(void *arg, char *remote_ip, char *local_ip,
				int remote_port, int local_port)
{
	BlsTransfer *t = (BlsTransfer *) arg;

	if (t->sends++ == 0)
		return CURL_PREREQFUNC_OK;
	t->resend_stopped = true;
	return CURL_PREREQFUNC_ABORT;
}
#endif

/*
 * Sign and send one attempt of t's request; it runs in the background
 * until drive_transfers() sees it finish.  Each attempt is signed afresh,
 * so a retry never carries a stale timestamp.
 */
static void
send_attempt(BlsConnection *conn, BlsTransfer *t)
{
	const BlsOptions *opts = t->opts;
	char		timestamp[32];
	char		content_length[32];
	BceHeader	sign[5];
	int			nsign = 0;
	char	   *auth;
	char	   *url;
	CURL	   *h = t->easy;
	CURLMcode	mc;

	drop_attempt(t);
	t->max_len = (size_t) opts->max_response_bytes;
	t->too_large = false;
	t->out_of_memory = false;
	t->status = 0;
	t->result = CURLE_OK;
	t->done = false;
	t->retry_at = 0;
	t->request_id[0] = '\0';
	t->retry_after[0] = '\0';
	t->content_type[0] = '\0';
	t->errbuf[0] = '\0';

	/* the signature covers exactly the header values sent below */
	bce_format_timestamp(time(NULL), timestamp);
	sign[nsign++] = (BceHeader) {"host", opts->host_header};
	if (t->body)
	{
		snprintf(content_length, sizeof(content_length), "%zu", t->bodylen);
		sign[nsign++] = (BceHeader) {"content-type", "application/json;charset=utf-8"};
		sign[nsign++] = (BceHeader) {"content-length", content_length};
	}
	sign[nsign++] = (BceHeader) {"x-bce-date", timestamp};
	if (opts->security_token)
		sign[nsign++] = (BceHeader) {"x-bce-security-token", opts->security_token};
	auth = bce_sign(t->method, t->path, t->query, sign, nsign,
					opts->access_key_id, opts->secret_access_key,
					timestamp, 1800, NULL);
	if (auth == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not sign the request to BLS")));
	append_header_free(t, "Authorization", auth);
	for (int i = 0; i < nsign; i++)
		if (strcmp(sign[i].name, "content-length") != 0)
			append_header(t, sign[i].name, sign[i].value);
	/* no "Expect: 100-continue" round trip */
	append_header(t, "Expect", "");

	url = psprintf("%s%s", opts->endpoint, t->target);

	/* start from libcurl's defaults; the connection pool survives this */
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(h, CURLOPT_URL, url);
	/* the path is signed as given: libcurl must not squash "." or ".." in it */
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	if (t->body)
	{
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, t->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) t->bodylen);
	}
	else
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (strcmp(t->method, "GET") != 0 && strcmp(t->method, "POST") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, t->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "bls_fdw/" BLS_FDW_VERSION);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);

	/*
	 * libcurl silently resends a request on a reused connection that the
	 * server closed without answering.  A create must never go twice, and
	 * every attempt of a delete must be seen: the pre-request callback stops
	 * such a resend, and the attempt fails as a connection lost after
	 * sending (see prereq_callback()).  A create goes on a connection of its
	 * own; so does the retry of a delete, since the pool's other
	 * connections may be as stale as the one that failed.  Without the
	 * callback (libcurl before 7.80), every attempt of either does.
	 */
	t->sends = 0;
	t->resend_stopped = false;
#if LIBCURL_VERSION_NUM >= 0x075000
	if (t->not_idempotent || t->see_every_attempt)
	{
		curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, prereq_callback);
		curl_easy_setopt(h, CURLOPT_PREREQDATA, t);
	}
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT,
					 (t->not_idempotent ||
					  (t->see_every_attempt && t->attempts > 0)) ? 1L : 0L);
#else
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT,
					 (t->not_idempotent || t->see_every_attempt) ? 1L : 0L);
#endif
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long) opts->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) opts->request_timeout_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) opts->max_response_bytes);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_callback);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_callback);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(h, CURLOPT_PRIVATE, t);
	if (opts->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, opts->ca_file);
	/* libcurl's defaults, made explicit; only a superuser can turn them off */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, opts->tls_verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, opts->tls_verify ? 2L : 0L);
	pfree(url);

	mc = curl_multi_add_handle(conn->multi, h);
	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not start a request to BLS: %s",
						curl_multi_strerror(mc))));
	t->attached = true;
	t->attempts++;
	t->sent_at = GetCurrentTimestamp();
	if (t->stats)
		t->stats->requests++;
	bls_stat_add(opts->serverid, BLS_STAT_REQUESTS, 1);
}

/* Note the transfers of conn that libcurl has finished. */
static void
collect_finished(BlsConnection *conn)
{
	CURLMsg    *msg;
	int			left;

	while ((msg = curl_multi_info_read(conn->multi, &left)) != NULL)
	{
		BlsTransfer *t = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
		if (t->detached)
		{
			/* its connection, if intact, is back in the pool */
			release_transfer(conn, t);
			continue;
		}
		t->result = msg->data.result;
		if (t->resend_stopped)
		{
			/* what a connection of its own would have said: no answer */
			t->result = CURLE_GOT_NOTHING;
			strlcpy(t->errbuf, "Empty reply from server", sizeof(t->errbuf));
		}
		if (t->result == CURLE_OK)
			curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
		curl_multi_remove_handle(conn->multi, t->easy);
		t->attached = false;
		give_back_slot(t);
		t->done = true;
		curl_slist_free_all(t->headers);
		t->headers = NULL;
		if (t->opts)
		{
			bls_stat_add_time(t->opts->serverid,
							  (double) (GetCurrentTimestamp() - t->sent_at) / 1000.0);
			bls_stat_add(t->opts->serverid, BLS_STAT_BYTES, (int64) t->len);
		}
		if (t->stats)
			t->stats->bytes += t->len;
	}
}

/*
 * Wait up to timeout_ms for socket activity on conn's transfers, then let
 * libcurl move them along and note those that finished.
 */
static CURLMcode
poll_transfers(BlsConnection *conn, long timeout_ms)
{
	/* the postmaster's death wakes the poll up, as WaitLatch does */
	struct curl_waitfd pm = {postmaster_alive_fds[POSTMASTER_FD_WATCH],
	CURL_WAIT_POLLIN, 0};
	CURLMcode	mc;
	int			running;

	pgstat_report_wait_start(PG_WAIT_EXTENSION);
	mc = curl_multi_poll(conn->multi, &pm, 1, (int) timeout_ms, NULL);
	pgstat_report_wait_end();
	if (!PostmasterIsAlive())
		proc_exit(1);
	if (mc == CURLM_OK)
		mc = curl_multi_perform(conn->multi, &running);
	if (mc == CURLM_OK)
		collect_finished(conn);
	return mc;
}

/*
 * Let libcurl move every transfer of conn along until target has finished
 * or timeout_ms has passed, waiting on the sockets in between.  Interrupts
 * are checked on the way out, so a cancel lands within a poll interval.
 */
static void
drive_transfers(BlsConnection *conn, BlsTransfer *target, long timeout_ms)
{
	CURLMcode	mc;
	int			running;

	mc = curl_multi_perform(conn->multi, &running);
	if (mc == CURLM_OK)
		collect_finished(conn);
	if (mc == CURLM_OK && !target->done && timeout_ms > 0)
	{
		/*
		 * Wait on the sockets whenever any transfer is under way, also while
		 * the target waits to be retried: the pages read ahead then keep
		 * arriving as they come, not once per BLS_POLL_MS.
		 *
		 * A signal that arrives between the CHECK_FOR_INTERRUPTS() before
		 * this call and the poll below does not wake the poll (libcurl
		 * cannot wait on the latch): the cancel is then seen when the poll
		 * returns, after at most BLS_POLL_MS (100 ms).  That bound is why
		 * the poll is short, and it is well within the second a cancel must
		 * take.
		 */
		if (target->attached || running > 0)
			mc = poll_transfers(conn, timeout_ms);
		else
		{
			/* the target waits to be retried; sleep on the latch */
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 timeout_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("request to BLS failed: %s", curl_multi_strerror(mc))));
	CHECK_FOR_INTERRUPTS();
}

/*
 * bls_connection_progress
 *		Let libcurl move the transfers of conn along without waiting: a
 *		request started ahead goes out, and its answer comes in, while the
 *		caller converts rows.  Without this a transfer moves only when
 *		someone waits for a request.
 */
void
bls_connection_progress(BlsConnection *conn)
{
	int			running;

	if (curl_multi_perform(conn->multi, &running) == CURLM_OK)
		collect_finished(conn);
}

/*
 * The account's request budget (budget.c).  Every attempt of every request,
 * whoever started it (a scan, its read-ahead, a write, a function), takes
 * a slot in start_attempt() before it goes out and gives it back when it
 * ends: in collect_finished() when its answer is in, in release_transfer()
 * when it is stopped or its detached read finishes, and at the end of the
 * transaction for a detached read still under way.  A slot is never held
 * while a request waits to be retried, so a backend's slots are only ever
 * held by transfers that finish on their own (within request_timeout_ms);
 * a backend waiting for a slot moves all its transfers meanwhile, so it
 * never waits for a slot it holds itself.
 */

/* Milliseconds between two looks at the slots while waiting for one. */
#define BLS_SLOT_POLL_MIN_MS	1
#define BLS_SLOT_POLL_MAX_MS	10

typedef enum BlsSlotResult
{
	BLS_SLOT_TAKEN,
	BLS_SLOT_BUSY,				/* every slot is in use */
	BLS_SLOT_BACKOFF			/* the account backs off after a 429 */
} BlsSlotResult;

/*
 * Try to take a slot for t's next attempt, now.  *until is set to the end
 * of the account's back-off, if that is the answer.  A read-ahead (ahead)
 * takes none while another request waits for one.
 */
static BlsSlotResult
try_slot(BlsTransfer *t, bool ahead, TimestampTz *until)
{
	const BlsOptions *opts = t->opts;

	if (t->holds_slot)
		return BLS_SLOT_TAKEN;
	*until = bls_budget_backoff_until(t->budget, BLS_SHARED_BACKOFF_MAX_MS);
	if (*until > GetCurrentTimestamp())
		return BLS_SLOT_BACKOFF;
	if (opts->max_concurrent_requests == 0)
		return BLS_SLOT_TAKEN;	/* no budget */
	t->budget_slot = bls_budget_take(t->budget, opts->max_concurrent_requests,
									 ahead);
	if (t->budget_slot < 0)
		return BLS_SLOT_BUSY;
	t->holds_slot = true;
	return BLS_SLOT_TAKEN;
}

/* t met a 429: every backend of its account holds back until until (bounded). */
static void
share_backoff(BlsTransfer *t, TimestampTz until)
{
	TimestampTz limit = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													BLS_SHARED_BACKOFF_MAX_MS);

	bls_budget_backoff(t->budget, Min(until, limit));
}

/* Let libcurl move every transfer of this backend along, without waiting. */
static void
progress_all(void)
{
	HASH_SEQ_STATUS scan;
	BlsConnection *conn;

	hash_seq_init(&scan, ConnectionHash);
	while ((conn = (BlsConnection *) hash_seq_search(&scan)) != NULL)
		bls_connection_progress(conn);
}

/*
 * The loop of wait_for_slot(): until t holds a slot (or may go: no budget),
 * sleeping on the latch between looks, so that a cancel, a terminate or
 * statement_timeout (whose handlers set the latch) ends the wait at once.
 */
static void
wait_for_slot_loop(BlsTransfer *t)
{
	long		sleep_ms = BLS_SLOT_POLL_MIN_MS;
	bool		counted_busy = false;
	bool		counted_backoff = false;

	for (;;)
	{
		TimestampTz until = 0;
		BlsSlotResult r;
		long		timeout;

		/* this backend's finished transfers give their slots back first */
		progress_all();
		r = try_slot(t, false, &until);
		if (r == BLS_SLOT_TAKEN)
			return;
		if (r == BLS_SLOT_BUSY && !counted_busy)
		{
			bls_stat_add(t->opts->serverid, BLS_STAT_SLOT_WAITS, 1);
			counted_busy = true;
		}
		if (r == BLS_SLOT_BACKOFF && !counted_backoff)
		{
			bls_stat_add(t->opts->serverid, BLS_STAT_BACKOFF_WAITS, 1);
			counted_backoff = true;
		}
		if (r == BLS_SLOT_BACKOFF)
			timeout = Max(1, Min(TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
																 until),
								 BLS_POLL_MS));
		else
		{
			/* a flock cannot wake us: look again soon, then less often */
			timeout = sleep_ms;
			sleep_ms = Min(sleep_ms * 2, BLS_SLOT_POLL_MAX_MS);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, bls_budget_wait_event());
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Wait until t may send its next attempt: a slot of the account's budget
 * is free and the account does not back off.  The wait honours cancel and
 * statement_timeout, shows as a wait event, and is counted in
 * bls_fdw_stats(); the backend is announced as waiting meanwhile (see
 * budget.c), also when an ERROR ends the wait.
 */
static void
wait_for_slot(BlsTransfer *t)
{
	TimestampTz until;
	TimestampTz started;
	BlsBudget  *b = t->budget;

	if (try_slot(t, false, &until) == BLS_SLOT_TAKEN)
		return;
	started = GetCurrentTimestamp();
	bls_budget_wait_begin(b);
	PG_TRY();
	{
		wait_for_slot_loop(t);
	}
	PG_FINALLY();
	{
		bls_budget_wait_end(b);
		/* a wait that a cancel ended counts too */
		bls_stat_add_wait_time(t->opts->serverid,
							   (double) (GetCurrentTimestamp() - started) / 1000.0);
	}
	PG_END_TRY();
}

/*
 * Send t's next attempt once it holds a budget slot (see above): waiting
 * for one if wait is set, else only if one is free now.  Returns whether
 * the attempt went out.
 */
static bool
start_attempt(BlsConnection *conn, BlsTransfer *t, bool wait, bool ahead)
{
	TimestampTz until;

	if (wait)
		wait_for_slot(t);
	else if (try_slot(t, ahead, &until) != BLS_SLOT_TAKEN)
		return false;
	send_attempt(conn, t);
	return true;
}

/*
 * bls_connection_wait
 *		Wait up to timeout_ms for any transfer of conn to make progress, and
 *		move them along: for a caller with several requests under way (the
 *		time slices of a scan, see pager.c) that must notice whichever
 *		finishes first.  Interrupts are checked on the way out, as in
 *		drive_transfers().
 */
void
bls_connection_wait(BlsConnection *conn, long timeout_ms)
{
	CURLMcode	mc = poll_transfers(conn, timeout_ms);

	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("request to BLS failed: %s", curl_multi_strerror(mc))));
	CHECK_FOR_INTERRUPTS();
}

/* A malloc'd copy of s, or an ERROR. */
static char *
malloc_strdup(const char *s, size_t len)
{
	char	   *copy = malloc(len + 1);

	if (copy == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

/* The transfer h names, or an ERROR if the handle is stale. */
static BlsTransfer *
handle_transfer(BlsConnection *conn, BlsHandle h)
{
	BlsTransfer *t;

	if (h.slot < 0 || h.slot >= BLS_MAX_TRANSFERS)
		elog(ERROR, "invalid BLS request handle %d", h.slot);
	t = &conn->xfers[h.slot];
	if (!t->in_use || t->generation != h.generation)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_HANDLE),
				 errmsg("BLS request handle is no longer valid"),
				 errdetail("The request was stopped when its transaction ended.")));
	return t;
}

/* The index of a transfer of conn that is free (a detached one only when no other is), or -1. */
static int
free_slot(BlsConnection *conn)
{
	/*
	 * Detached reads whose answers have arrived finish first: their
	 * keep-alive connections then go back to the pool in time for this
	 * request, instead of it opening another while nothing drives them.
	 */
	for (int slot = 0; slot < BLS_MAX_TRANSFERS; slot++)
		if (conn->xfers[slot].detached)
		{
			bls_connection_progress(conn);
			break;
		}
	for (int slot = 0; slot < BLS_MAX_TRANSFERS; slot++)
		if (!conn->xfers[slot].in_use && !conn->xfers[slot].detached)
			return slot;
	/* else the slot of a detached transfer, if it has not finished yet */
	bls_connection_progress(conn);
	for (int slot = 0; slot < BLS_MAX_TRANSFERS; slot++)
		if (!conn->xfers[slot].in_use)
		{
			release_transfer(conn, &conn->xfers[slot]);
			return slot;
		}
	return -1;
}

/*
 * bls_request_start
 *		Start req in the background and return its handle;
 *		bls_request_wait() collects it.  The caller owns the request and
 *		must give it back with bls_request_release().
 *
 * If try is set and all of conn's transfers are busy, returns a handle
 * whose slot is -1; without try that is an ERROR.  opts and stats must stay
 * valid until the request is released.
 */
BlsHandle
bls_request_start(BlsConnection *conn, const BlsOptions *opts,
				  const BlsHttpRequest *req, BlsScanStats *stats, bool try)
{
	BlsTransfer *t;
	BlsHandle	h = {-1, 0};
	const char *q;
	size_t		pathlen;
	size_t		decoded_len;
	char	   *sent;

	h.slot = free_slot(conn);
	if (h.slot < 0)
	{
		if (try)
			return h;
		ereport(ERROR,
				(errcode(ERRCODE_FDW_TOO_MANY_HANDLES),
				 errmsg("too many concurrent requests to BLS server \"%s\"",
						opts->server_name),
				 errhint("Close cursors over its tables, or lower their readahead option.")));
	}
	t = &conn->xfers[h.slot];

	if (t->easy == NULL && (t->easy = curl_easy_init()) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));
	/* claim the slot first, so that an ERROR below frees what is copied */
	t->in_use = true;
	t->owner = NULL;
	h.generation = t->generation;
	PG_TRY();
	{
		t->method = req->method;
		q = strchr(req->target, '?');
		pathlen = q ? (size_t) (q - req->target) : strlen(req->target);
		/* the signature covers the decoded path (a uuid in it is encoded) */
		t->path = bce_percent_decode(req->target, pathlen, &decoded_len);
		if (t->path == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("out of memory")));

		/*
		 * The query goes out exactly as it is signed: every key and value
		 * re-encoded.  Left as the caller wrote it, a '+' would be a plus to
		 * the signature but a space to a form-decoding service, a space
		 * would make libcurl refuse the URL, and a '#' would cut the query
		 * short after it was signed in full.
		 */
		if (q)
		{
			t->query = bce_normalize_query(q + 1);
			if (t->query == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
						 errmsg("out of memory")));
		}
		if (t->query != NULL && t->query[0] != '\0')
			sent = psprintf("%.*s?%s", (int) pathlen, req->target, t->query);
		else
			sent = pnstrdup(req->target, pathlen);
		t->target = malloc_strdup(sent, strlen(sent));
		pfree(sent);
		if (req->body)
			t->body = malloc_strdup(req->body, req->bodylen);
		t->bodylen = req->bodylen;
		t->not_idempotent = req->not_idempotent;
		t->see_every_attempt = req->see_every_attempt;
		if (req->what)
			t->what = malloc_strdup(req->what, strlen(req->what));
		if (req->not_found_code)
			t->not_found_code = malloc_strdup(req->not_found_code,
											  strlen(req->not_found_code));
		t->opts = opts;
		t->stats = stats;
		t->attempts = 0;
		t->resigned = false;
		t->maybe_applied = false;
		t->budget = bls_budget_account(opts);
		if (!start_attempt(conn, t, false, try))
		{
			/*
			 * No budget slot now.  A read-ahead is not started (the page is
			 * read when it is needed); any other request is queued, and goes
			 * out from bls_request_wait() once it has a slot.
			 */
			if (try)
			{
				release_transfer(conn, t);
				h.slot = -1;
			}
			else
				t->retry_at = GetCurrentTimestamp();
		}
	}
	PG_CATCH();
	{
		release_transfer(conn, t);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return h;
}

/*
 * Did the service certainly not act on t's last attempt?  It did not when
 * the request never left (no connection), or when it answered with a
 * refusal: any 4xx, or 503.  A timeout, a broken connection after sending,
 * or a 500/502/504 leave it unknown.
 */
static bool
certainly_refused(const BlsTransfer *t)
{
	if (t->result != CURLE_OK)
		return t->result == CURLE_COULDNT_RESOLVE_HOST ||
			t->result == CURLE_COULDNT_CONNECT ||
			t->result == CURLE_SSL_CONNECT_ERROR ||
			t->result == CURLE_PEER_FAILED_VERIFICATION ||
			t->result == CURLE_SSL_CACERT_BADFILE;
	return (t->status >= 400 && t->status < 500) || t->status == 503;
}

/*
 * For an error while a request that must not be repeated is under way, or
 * after an answer that does not tell whether it was applied: it names what
 * may have been done, so that the user can look for it.
 */
static void
in_flight_error_callback(void *arg)
{
	BlsTransfer *t = (BlsTransfer *) arg;

	if (!t->in_use || t->what == NULL)
		return;
	if (t->attached)
		errcontext("%s may have been created: the request was under way and is not sent again", t->what);
	else if (t->done && !certainly_refused(t))
		errcontext("%s may have been created: the outcome is unknown and the request is not sent again", t->what);
}

/*
 * Read the last attempt's body as a BLS error (code, message, requestId),
 * once: whether a 404 is an answer, whether a 400 is worth re-signing and
 * how the error is reported all ask.  False if it is not a JSON object.
 */
static bool
error_body(BlsTransfer *t)
{
	if (!t->err_parsed)
	{
		t->err_is_bls = bls_parse_error_body(t->buf ? t->buf : "", t->len,
											 &t->err_code, &t->err_message,
											 &t->err_request_id);
		t->err_parsed = true;
	}
	return t->err_is_bls;
}

/* Is the last attempt's body a BLS error whose code is code? */
static bool
error_code_is(BlsTransfer *t, const char *code)
{
	return error_body(t) && t->err_code != NULL &&
		strcmp(t->err_code, code) == 0;
}

/*
 * bls_request_wait
 *		Wait for request h to succeed, retrying throttling, server errors and
 *		connection failures up to max_retries times, and return the 2xx
 *		response's body in *resp.
 *
 * Other transfers of conn progress meanwhile.  The body stays valid until
 * the request is released.  Any failure raises an ERROR; the request stays
 * its owner's to release.
 */
void
bls_request_wait(BlsConnection *conn, BlsHandle h, BlsResponse *resp)
{
	BlsTransfer *t = handle_transfer(conn, h);
	const BlsOptions *opts = t->opts;
	ErrorContextCallback errcallback;

	/* a cancel while a create is under way: say it may have happened */
	errcallback.callback = in_flight_error_callback;
	errcallback.arg = t;
	errcallback.previous = error_context_stack;
	if (t->not_idempotent)
		error_context_stack = &errcallback;

	for (;;)
	{
		bool		again;

		if (!t->done)
		{
			long		timeout = BLS_POLL_MS;

			if (t->retry_at != 0)
			{
				long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
																   t->retry_at);

				if (left <= 0)
				{
					(void) start_attempt(conn, t, true, false);
					continue;
				}
				timeout = Min(left, BLS_POLL_MS);
			}
			drive_transfers(conn, t, timeout);
			continue;
		}

		if (t->result == CURLE_OK && t->status >= 200 && t->status < 300)
			break;
		/* "no such item" is an answer when the caller said so */
		if (t->result == CURLE_OK && t->status == 404 && t->not_found_code &&
			error_code_is(t, t->not_found_code))
			break;

		if (t->not_idempotent && !certainly_refused(t))
			again = false;		/* it may have been applied: never resend */
		else if (t->result != CURLE_OK)
			again = retryable_curl_error(t->result) && !t->too_large &&
				t->attempts <= opts->max_retries;
		else if (t->status == 400 && !t->resigned &&
				 error_code_is(t, "RequestExpired"))
		{
			/* a fresh timestamp may be all it takes, once */
			t->resigned = true;
			if (t->stats)
				t->stats->retries++;
			bls_stat_add(opts->serverid, BLS_STAT_RETRIES, 1);
			(void) start_attempt(conn, t, true, false);
			t->attempts--;		/* not one of max_retries */
			continue;
		}
		else
			again = retryable_status(t->status) &&
				t->attempts <= opts->max_retries;

		if (t->result == CURLE_OK && t->status == 429)
		{
			bls_stat_add(opts->serverid, BLS_STAT_THROTTLED, 1);

			/*
			 * The account is throttled: every backend of it holds back for
			 * the Retry-After the service gave (bounded), or this request's
			 * back-off, whether or not this one is retried.  (A retry holds
			 * back for its own delay again below, with fresh jitter.)
			 */
			if (!again)
				share_backoff(t, TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
															 retry_delay_ms(t, t->attempts - 1)));
		}
		if (!again)
		{
			bls_stat_add(opts->serverid, BLS_STAT_ERRORS, 1);
			if (t->result != CURLE_OK)
				report_transport_error(t, opts, t->result, t->attempts);
			report_http_error(t, opts, t->attempts);
		}
		if (!certainly_refused(t))
			t->maybe_applied = true;
		if (t->stats)
			t->stats->retries++;
		bls_stat_add(opts->serverid, BLS_STAT_RETRIES, 1);
		t->done = false;
		t->retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  retry_delay_ms(t, t->attempts - 1));
		if (t->result == CURLE_OK && t->status == 429)
			share_backoff(t, t->retry_at);
	}

	if (t->not_idempotent)
		error_context_stack = errcallback.previous;
	resp->body = t->buf ? t->buf : "";
	resp->len = t->len;
	resp->status = t->status;
	resp->maybe_applied = t->maybe_applied;
	strlcpy(resp->request_id, t->request_id, sizeof(resp->request_id));
}

/*
 * bls_request_ready
 *		Would bls_request_wait() for request h return (or fail) without
 *		waiting for the network?  True once its latest attempt has finished,
 *		or while it waits to be retried (bls_request_wait() then resends
 *		it).  Moves conn's transfers along first; never waits.
 */
bool
bls_request_ready(BlsConnection *conn, BlsHandle h)
{
	BlsTransfer *t = handle_transfer(conn, h);

	if (t->attached)
		bls_connection_progress(conn);
	return !t->attached;
}

/*
 * bls_request_may_have_acted
 *		Whether request h, which must not be repeated, may have been applied
 *		by the service: it is under way, it succeeded, or it failed in a way
 *		that does not tell (see certainly_refused).  For a stale handle, or
 *		one never sent, false.
 */
bool
bls_request_may_have_acted(BlsConnection *conn, BlsHandle h)
{
	BlsTransfer *t;

	if (conn == NULL || h.slot < 0 || h.slot >= BLS_MAX_TRANSFERS)
		return false;
	t = &conn->xfers[h.slot];
	if (!t->in_use || t->generation != h.generation || t->attempts == 0)
		return false;
	if (t->attached || !t->done)
		return true;
	return !certainly_refused(t);
}

/*
 * bls_request_release
 *		Give back request h.  A stale handle (its request already stopped)
 *		is ignored, so that this is safe in reset callbacks; never raises an
 *		error.
 *
 * A read still under way is not stopped but detached: it finishes in the
 * background whenever the connection's transfers move, its body dropped,
 * and its keep-alive connection goes back to the pool.  Stopping it would
 * close that connection, and a scan stopped early (EXISTS, a cursor closed,
 * a LIMIT above a join) would cost the next one new connections (TCP and
 * TLS handshakes).  Its slot is taken back when needed.  A request that
 * must not be applied twice is stopped: it is its caller's to report.
 */
void
bls_request_release(BlsConnection *conn, BlsHandle h)
{
	BlsTransfer *t;

	if (h.slot < 0 || h.slot >= BLS_MAX_TRANSFERS)
		return;
	t = &conn->xfers[h.slot];
	if (!t->in_use || t->generation != h.generation)
		return;
	if (t->attached && !t->not_idempotent && !t->too_large &&
		!t->out_of_memory)
	{
		t->in_use = false;
		t->detached = true;
		t->owner = NULL;
		t->opts = NULL;
		t->stats = NULL;
		t->len = 0;
		t->generation++;
		return;
	}
	release_transfer(conn, t);
}

/*
 * A request owner: the requests one user (a pager, a write, a function
 * call) starts with bls_owner_start(), and the user's reference to their
 * connection.  It lives in a memory context of the user's, whose reset
 * callback gives back whatever is left, so that an ERROR, a cancel, a
 * closed cursor or an aborted (sub)transaction that frees that memory also
 * stops those requests; on success the user releases each request with
 * bls_request_release(), or all of them with bls_owner_release().  The
 * transfers name their owner, so the owner needs no list of its own.
 */
struct BlsRequestOwner
{
	const BlsOptions *opts;
	BlsConnection *conn;		/* acquired at the first use; NULL before */
	MemoryContextCallback cb;
};

static void
owner_reset_callback(void *arg)
{
	bls_owner_release((BlsRequestOwner *) arg);
}

/*
 * bls_owner_create
 *		A request owner for opts's server and user, in cxt, which gives its
 *		requests back when cxt is reset or deleted.  opts must outlive it.
 */
BlsRequestOwner *
bls_owner_create(MemoryContext cxt, const BlsOptions *opts)
{
	BlsRequestOwner *owner = MemoryContextAllocZero(cxt, sizeof(BlsRequestOwner));

	owner->opts = opts;
	owner->cb.func = owner_reset_callback;
	owner->cb.arg = owner;
	MemoryContextRegisterResetCallback(cxt, &owner->cb);
	return owner;
}

/*
 * bls_owner_connection
 *		The owner's connection, acquired (bls_connection_acquire()) at the
 *		first call.
 */
BlsConnection *
bls_owner_connection(BlsRequestOwner *owner)
{
	if (owner->conn == NULL)
		owner->conn = bls_connection_acquire(owner->opts);
	return owner->conn;
}

/*
 * bls_owner_start
 *		bls_request_start() on the owner's connection, the request the
 *		owner's until it is released.
 */
BlsHandle
bls_owner_start(BlsRequestOwner *owner, const BlsHttpRequest *req,
				BlsScanStats *stats, bool try)
{
	BlsConnection *conn = bls_owner_connection(owner);
	BlsHandle	h = bls_request_start(conn, owner->opts, req, stats, try);

	if (h.slot >= 0)
		conn->xfers[h.slot].owner = owner;
	return h;
}

/*
 * bls_owner_release
 *		Give back every request of the owner (bls_request_release()) and
 *		its connection.  The owner may be used again.  Never raises an
 *		error: it runs in a reset callback.
 */
void
bls_owner_release(BlsRequestOwner *owner)
{
	BlsConnection *conn = owner->conn;

	if (conn == NULL)
		return;
	for (int i = 0; i < BLS_MAX_TRANSFERS; i++)
	{
		BlsTransfer *t = &conn->xfers[i];

		if (t->in_use && t->owner == owner)
			bls_request_release(conn, (BlsHandle) {i, t->generation});
	}
	owner->conn = NULL;
	bls_connection_release(conn);
}

/*
 * Text from the service, safe to print: at most about maxlen bytes, control
 * characters and invalid UTF-8 replaced, and non-ASCII replaced unless the
 * database encoding is UTF-8 (so that reporting can never fail on a
 * conversion).  See bls_service_text().
 */
char *
bls_printable(const char *s, size_t maxlen)
{
	return bls_service_text(palloc(maxlen + 4), maxlen + 4, maxlen,
							s, strlen(s), GetDatabaseEncoding() == PG_UTF8);
}

/* Report an error response; the one place HTTP statuses map to SQLSTATEs. */
static void
report_http_error(BlsTransfer *t, const BlsOptions *opts, int attempts)
{
	char	   *pcode;
	char	   *pmessage;
	char	   *prequest;
	int			sqlstate;
	const char *hint = NULL;
	bool		is_bls = error_body(t);

	pcode = bls_printable(t->err_code ? t->err_code : "", 80);
	pmessage = bls_printable(t->err_message ? t->err_message : "", 300);
	prequest = bls_printable(t->err_request_id ? t->err_request_id :
							 t->request_id[0] ? t->request_id : "", 80);

	/*
	 * Credentials the service rejects (401, a 403 for an unknown key, a
	 * signature it computes differently) are 28000, a key without the
	 * permission is 42501: both apart from the HV00N of a network failure,
	 * so that scripts can tell "fix the mapping" from "retry later".
	 */
	switch (t->status)
	{
		case 401:
			sqlstate = ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
			hint = "Check the user mapping's access_key_id and secret_access_key (and security_token for temporary credentials), and that this server's clock is correct.";
			break;
		case 403:
			if (strcmp(pcode, "InvalidAccessKeyId") == 0 ||
				strcmp(pcode, "SignatureDoesNotMatch") == 0)
			{
				sqlstate = ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
				hint = "Check the user mapping's access_key_id and secret_access_key (and security_token for temporary credentials).";
			}
			else
			{
				sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
				hint = "Check that the access key may use this BLS call in this region.";
			}
			break;
		case 429:
			sqlstate = ERRCODE_FDW_ERROR;
			hint = "BLS is throttling requests; retry later or raise the server's max_retries.";
			break;
		default:
			sqlstate = ERRCODE_FDW_ERROR;
			if (strcmp(pcode, "RequestExpired") == 0)
				hint = "Check this server's clock: BLS rejects requests signed more than 30 minutes away from its own time.";
			else if (strcmp(pcode, "SignatureDoesNotMatch") == 0)
			{
				sqlstate = ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
				hint = "Check the user mapping's secret_access_key.";
			}
			else if (t->status >= 500 && t->not_idempotent && t->status != 503)
				hint = "Look for what may have been created before trying again.";
			else if (t->status >= 500)
				hint = "The service failed; retry later.";
			break;
	}

	ereport(ERROR,
			(errcode(sqlstate),
			 attempts > 1
			 ? errmsg("BLS request to server \"%s\" failed with HTTP status %ld after %d attempts",
					  opts->server_name, t->status, attempts)
			 : errmsg("BLS request to server \"%s\" failed with HTTP status %ld",
					  opts->server_name, t->status),
			 is_bls
			 ? errdetail("BLS error code \"%s\", message \"%s\", request id \"%s\".",
						 pcode, pmessage, prequest)
			 : errdetail("The response is not a BLS error (content type \"%s\", request id \"%s\").",
						 bls_printable(t->content_type, 80), prequest),
			 hint ? errhint("%s", hint) : 0));
}

/* Report a failure of the transport itself: connect, TLS, timeout, size. */
static void
report_transport_error(BlsTransfer *t, const BlsOptions *opts,
					   CURLcode rc, int attempts)
{
	const char *what = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
	char	   *pwhat = bls_printable(what, 300);
	char	   *after;

	/* drop libcurl's elapsed time ("... after 12 ms: ..."): it is noise */
	if ((after = strstr(pwhat, " after ")) != NULL)
	{
		char	   *p = after + 7;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p > after + 7 && strncmp(p, " ms", 3) == 0)
			memmove(after, p + 3, strlen(p + 3) + 1);
	}

	/* a cancel that arrived meanwhile is reported as a cancel */
	CHECK_FOR_INTERRUPTS();

	if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("response from BLS server \"%s\" exceeds max_response_bytes (" INT64_FORMAT " bytes)",
						opts->server_name, opts->max_response_bytes),
				 errhint("Lower the page_size option or raise the server's max_response_bytes.")));
	if (t->out_of_memory)
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
	/* a request that went out and got no answer did reach the server */
	if (t->not_idempotent && !certainly_refused(t))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("lost the connection to BLS server \"%s\" after sending the request",
						opts->server_name),
				 errdetail("%s.", pwhat)));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
			 attempts > 1
			 ? errmsg("could not reach BLS server \"%s\" after %d attempts",
					  opts->server_name, attempts)
			 : errmsg("could not reach BLS server \"%s\"", opts->server_name),
			 errdetail("%s.", pwhat)));
}
