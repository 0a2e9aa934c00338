/*-------------------------------------------------------------------------
 *
 * bls_fdw.h
 *		  Shared declarations of the BLS foreign data wrapper.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BLS_FDW_H
#define BLS_FDW_H

#include "fmgr.h"
#include "foreign/fdwapi.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

#include "request.h"
#include "task_json.h"

/* The extension's version, as bls_fdw_version() reports it. */
#define BLS_FDW_VERSION "1.1"

/*
 * Everything a scan needs to talk to BLS: the server's options, the table's
 * overrides and the user mapping's credentials, resolved once per scan.
 */
typedef struct BlsOptions
{
	Oid			serverid;
	Oid			userid;			/* the user whose mapping supplies the keys */
	char	   *server_name;

	/* server */
	char	   *endpoint;		/* normalized "scheme://host[:port]" */
	char	   *host_header;	/* "host[:port]", exactly as sent and signed */
	int			page_size;
	int			connect_timeout_ms;
	int			request_timeout_ms;
	int			max_retries;
	char	   *ca_file;
	bool		tls_verify;		/* verify the server's certificate and name */
	int64		max_response_bytes;

	/* planner (server, overridden by the table) */
	double		estimated_rows;
	bool		use_remote_estimate;
	int			readahead;		/* pages requested ahead of the reader */

	/* ANALYZE (server, overridden by the table) */
	int			analyze_max_pages;	/* pages ANALYZE may request */

	/* user mapping; never printed */
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *security_token;
} BlsOptions;

/* Defaults, documented in README.md. */
#define BLS_DEFAULT_PAGE_SIZE			100
#define BLS_MAX_PAGE_SIZE				10000
#define BLS_DEFAULT_CONNECT_TIMEOUT_MS	5000
#define BLS_DEFAULT_REQUEST_TIMEOUT_MS	30000
#define BLS_DEFAULT_MAX_RETRIES			3
#define BLS_MAX_RETRIES_LIMIT			10
#define BLS_DEFAULT_MAX_RESPONSE_BYTES	(64 * 1024 * 1024)
#define BLS_DEFAULT_ESTIMATED_ROWS		1000
#define BLS_DEFAULT_READAHEAD			4
#define BLS_MAX_READAHEAD				16
#define BLS_READAHEAD_BYTES				(2 * 1024 * 1024)
#define BLS_DEFAULT_ANALYZE_MAX_PAGES	10
#define BLS_MAX_ANALYZE_MAX_PAGES		100000

/* Per-scan counters, shown by EXPLAIN ANALYZE. */
typedef struct BlsScanStats
{
	int64		pages;			/* pages parsed */
	int64		requests;		/* HTTP requests sent, retries included */
	int64		retries;
	int64		rows;			/* tasks received */
	int64		bytes;			/* response body bytes */
} BlsScanStats;

/* A successful response body: the connection's buffer, valid until its next request. */
typedef struct BlsResponse
{
	const char *body;
	size_t		len;
	char		request_id[80];
} BlsResponse;

/* The task fields a request can filter or sort by. */
typedef enum BlsField
{
	BLS_FIELD_PROJECT,
	BLS_FIELD_LOGSTORE,
	BLS_FIELD_NAME,
	BLS_FIELD_CREATED,
	BLS_FIELD_UPDATED,
	BLS_NUM_FIELDS
} BlsField;

/* A bound on createdTime or updatedTime: field >[=] value or field <[=] value */
typedef struct BlsBound
{
	BlsField	field;
	bool		lower;			/* a lower bound (>, >=) */
	bool		strict;			/* > or <, not >= or <= */
	Expr	   *value;
	RestrictInfo *rinfo;
} BlsBound;

/* Restriction clauses sorted by what a request can do with them. */
typedef struct BlsQuals
{
	List	   *project_exprs;	/* values: project = expr, or = ANY (expr) */
	List	   *project_array;	/* int per project_exprs item: 1 if an array */
	char	   *store_keyword;	/* logStoreName to send, or NULL */
	List	   *bounds;			/* BlsBound *, checked locally as well */
	List	   *exact;			/* RestrictInfos the request enforces */
	List	   *loose;			/* RestrictInfos the request narrows */
	List	   *local;			/* RestrictInfos checked locally */
} BlsQuals;

/* in deparse.c */
extern const char *bls_field_key(BlsField f);
extern void bls_map_fields(Relation rel, AttrNumber *attnos);
extern void bls_classify_clause(PlannerInfo *root, Index relid,
								const AttrNumber *attnos, RestrictInfo *rinfo,
								BlsQuals *quals);
extern bool bls_is_field_var(Node *node, Index relid, const AttrNumber *attnos,
							 BlsField field);
extern bool bls_single_sequence(const BlsQuals *quals);
extern bool bls_pathkey_order(PathKey *pk, Index relid, const AttrNumber *attnos,
							  const char **order_by, const char **order);

/* in option.c */
extern BlsOptions *bls_get_options(Oid foreigntableid, Oid userid,
								   bool need_keys);
extern bool bls_parse_endpoint(const char *value, char **url, char **host);

/* in http.c */
typedef struct BlsConnection BlsConnection;
extern bool bls_disconnect_all(void);
extern BlsConnection *bls_get_connection(const BlsOptions *opts);
extern int	bls_request_start(BlsConnection *conn, const BlsOptions *opts,
							  const char *body, size_t bodylen,
							  BlsScanStats *stats, bool try);
extern void bls_request_wait(BlsConnection *conn, int slot, BlsResponse *resp);
extern void bls_request_release(BlsConnection *conn, int slot);
extern void bls_list_tasks(BlsConnection *conn, const BlsOptions *opts,
						   const char *body, size_t bodylen,
						   BlsResponse *resp, BlsScanStats *stats);
extern char *bls_list_body(const BlsListRequest *req, size_t *len);
extern void bls_list_page(BlsConnection *conn, const BlsOptions *opts,
						  const BlsListRequest *req, BlsPage *page);
extern void bls_report_page_error(BlsParseStatus status, const BlsPage *page,
								  const BlsResponse *resp,
								  const BlsOptions *opts);

/* in convert.c */
typedef struct BlsColumn
{
	AttrNumber	attnum;
	char	   *attname;
	char	   *key;			/* the task's JSON field */
	Oid			typid;
	int32		typmod;
	Oid			typioparam;
	FmgrInfo	infunc;
	int			kind;			/* BlsColumnKind, see convert.c */
	bool		empty_is_null;	/* time field or date/time type */
	int			field;			/* its key in the scan's BlsFields */
} BlsColumn;

extern char *bls_column_key(Relation rel, AttrNumber attnum);
extern void bls_init_column(BlsColumn *col, Relation rel, AttrNumber attnum);
extern int	bls_init_fields(BlsFields *f, BlsColumn *cols, int ncols);
extern void bls_store_task(BlsColumn *cols, int ncols, const BlsFields *f,
						   int uuid_key, int task_index, int page_no,
						   Datum *values, bool *nulls);

/* in analyze.c */
extern bool blsAnalyzeForeignTable(Relation relation,
								   AcquireSampleRowsFunc *func,
								   BlockNumber *totalpages);

/* in stats.c */
typedef enum BlsStatKind
{
	BLS_STAT_REQUESTS,			/* HTTP requests sent, retries included */
	BLS_STAT_PAGES,				/* pages parsed */
	BLS_STAT_ROWS,				/* tasks received */
	BLS_STAT_BYTES,				/* response body bytes */
	BLS_STAT_RETRIES,			/* requests repeated after a failure */
	BLS_STAT_THROTTLED,			/* waits after an HTTP 429 */
	BLS_STAT_ERRORS,			/* requests that ended in an error */
	BLS_NUM_STATS
} BlsStatKind;

extern void bls_stat_add(Oid serverid, BlsStatKind kind, int64 n);
extern void bls_stat_add_time(Oid serverid, double ms);

#endif							/* BLS_FDW_H */
