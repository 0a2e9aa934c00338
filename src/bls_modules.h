/*-------------------------------------------------------------------------
 *
 * bls_modules.h
 *		  What the modules of bls_fdw that run in the backend share: the
 *		  options, resources, requests, pager, row store, writes, request
 *		  budget and counters, and the functions between them.  The modules
 *		  free of postgres.h have their own headers (json_body.h,
 *		  response.h, json_reader.h, bce_auth.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef BLS_MODULES_H
#define BLS_MODULES_H

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

#include "json_body.h"
#include "response.h"

/* The extension's version, as bls_fdw_version() reports it. */
#define BLS_FDW_VERSION "1.4"

/*
 * Everything a scan needs to talk to BLS: the server's options, the table's
 * overrides and the user mapping's credentials, resolved once per scan.
 */
typedef struct BlsOptions
{
	Oid			serverid;
	const struct BlsResource *resource; /* what the table reads */
	Oid			userid;			/* the user whose mapping supplies the keys */
	Oid			umid;			/* that mapping (maybe PUBLIC's), if read */
	char	   *server_name;

	/* server */
	char	   *endpoint;		/* normalized "scheme://host[:port]" */
	char	   *host_header;	/* "host[:port]", exactly as sent and signed */
	int			page_size;		/* at most the resource's max_page_size */
	bool		page_size_set;	/* by an option, not the default */
	int			connect_timeout_ms;
	int			request_timeout_ms;
	int			max_retries;
	char	   *ca_file;
	bool		tls_verify;		/* verify the server's certificate and name */
	int64		max_response_bytes;
	int			max_concurrent_requests;	/* the account's budget; 0: none */

	/* planner (server, overridden by the table) */
	double		estimated_rows;
	bool		use_remote_estimate;
	int			readahead;		/* pages requested ahead of the reader */
	int			batch_size;		/* creates an INSERT sends side by side */
	bool		truncation_is_error;	/* on_truncation: a result the service
										 * cut is an ERROR, else a NOTICE */
	bool		whole_result;	/* a pushed aggregate: a result the service
								 * cut is an ERROR whatever on_truncation
								 * says */
	int			slices;			/* time slices a long log_records window
								 * is read in side by side; 1: none */

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
#define BLS_DEFAULT_SLICES				4
#define BLS_MAX_SLICES					16

/*
 * Creates in flight at once: BLS allows 15 to 50 concurrent queries per
 * account (bls-api.md, Limits) and answers 429 beyond; 10 leaves room for
 * the account's other users.  16 is what a connection can run beside a
 * scan's read-ahead.
 */
#define BLS_DEFAULT_BATCH_SIZE			10
#define BLS_MAX_BATCH_SIZE				16

/*
 * Requests in flight at once across the cluster for one endpoint and
 * access key (budget.c): BLS's query concurrency per account is 15.
 */
#define BLS_DEFAULT_MAX_CONCURRENT_REQUESTS	15
#define BLS_MAX_CONCURRENT_REQUESTS		100
#define BLS_MAX_ANALYZE_MAX_PAGES		100000

/* Per-scan counters, shown by EXPLAIN ANALYZE. */
typedef struct BlsScanStats
{
	int64		pages;			/* pages parsed */
	int64		requests;		/* HTTP requests sent, retries included */
	int64		retries;
	int64		rows;			/* items received */
	int64		bytes;			/* response body bytes */
	int64		sequences;		/* request sequences started */
	int64		duplicates;		/* tasks skipped as already returned */
	int64		refetched;		/* pages read ahead, dropped and asked again */
	int64		slices;			/* time slices of windows read side by side */
} BlsScanStats;

/* ASCII-only case mapping: names and options must not depend on the locale. */
#define bls_ascii_upper(c) ((c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 'A' : (c))
#define bls_ascii_lower(c) ((c) >= 'A' && (c) <= 'Z' ? (c) - 'A' + 'a' : (c))
#define bls_ascii_isalnum(c) \
	(((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))

/*
 * A request sequence reads at most bls_max_pages_per_request pages (the GUC
 * bls_fdw.max_pages_per_request, at most this): a service that ignores
 * pageNo must not page forever.
 */
#define BLS_MAX_PAGES_PER_SEQUENCE		1000000

/* in option.c */
extern BlsOptions *bls_get_options(Oid foreigntableid, Oid userid,
								   bool need_keys);
extern BlsOptions *bls_get_server_options(Oid serverid,
										  ForeignTable *table,
										  Oid userid, bool need_keys);
extern bool bls_parse_endpoint(const char *value, char **url, char **host);
extern ForeignServer *bls_function_server(const char *server_name);

/* in resource.c */

/* How the service matches a filter parameter. */
typedef enum BlsMatch
{
	BLS_MATCH_EXACT,			/* exactly: enforced, not rechecked */
	BLS_MATCH_FILTER,			/* a value (or one sequence per value of a
								 * list) is sent, and the condition rechecked */
	BLS_MATCH_FUZZY				/* a keyword that narrows the list: the literal
								 * core of =, LIKE or ILIKE, rechecked */
} BlsMatch;

/*
 * Whether a field's value is the request's: the parameter that filters it
 * (or its default, see BlsParamDefault), so that the item need not carry it.
 */
typedef enum BlsEcho
{
	BLS_ECHO_NONE,				/* the item's own value */
	BLS_ECHO_ALWAYS,			/* the parameter's value */
	BLS_ECHO_FALLBACK			/* the item's, or the parameter's when the
								 * item has none */
} BlsEcho;

/* A field a list call can filter by. */
typedef struct BlsFilterDef
{
	const char *field;			/* the item's JSON key, e.g. "project" */
	const char *param;			/* the request parameter that filters it */
	BlsMatch	match;
	BlsEcho		echo;
} BlsFilterDef;

/* A column named other than its field's camelCase. */
typedef struct BlsColumnAlias
{
	const char *column;
	const char *field;
} BlsColumnAlias;

/* A request parameter sent when no condition gives it. */
typedef struct BlsParamDefault
{
	const char *param;
	const char *value;
} BlsParamDefault;

/* How a list call pages. */
typedef enum BlsPaging
{
	BLS_PAGING_NUMBER,			/* pageNo and pageSize; a total */
	BLS_PAGING_MARKER			/* limit, and the marker the page before named */
} BlsPaging;

/* A field a list call can sort by. */
typedef struct BlsSortDef
{
	const char *field;			/* the item's JSON key */
	const char *order_by;		/* its orderBy value */
	bool		is_time;		/* a time: a bound on it can end a sequence */
} BlsSortDef;

/*
 * What a list call of the service looks like.  A new resource is a new
 * description; the planner, the pager and ANALYZE read only this.
 */
typedef struct BlsResource
{
	const char *name;			/* the table option "resource" */
	const char *item_name;		/* what an item is called, in messages */
	const char *method;			/* POST: parameters in a JSON body; GET: in
								 * the query string */
	const char *path;			/* may name a parameter, "{logStoreName}":
								 * the request then needs one value of it,
								 * which goes there, encoded */
	BlsPaging	paging;
	int			max_page_size;	/* items a request may ask for (and the
								 * default page size), or 0: the option's */
	const BlsPageShape *shape;	/* how the answer holds the list */
	const char *id_fields[2];	/* what identifies an item, for
								 * de-duplication; the second may be NULL */
	const char *const *fields;	/* an item's fields, NULL-terminated */
	const char *default_flag;	/* a computed field: is the item the one the
								 * page names beside the list?  Or NULL */
	const BlsColumnAlias *aliases;
	int			naliases;
	const BlsFilterDef *filters;
	int			nfilters;
	const BlsSortDef *sorts;
	int			nsorts;
	/*
	 * A call that describes one item by its id, used instead of the list
	 * when a condition gives the ids (uuid = ..., IN, a join): GET
	 * lookup_path followed by the encoded id; a 404 with code
	 * lookup_not_found is no row.  NULL if the resource has none.
	 */
	const char *lookup_param;	/* the filter parameter that holds the id */
	const char *lookup_path;
	const BlsPageShape *lookup_shape;
	const char *lookup_not_found;
	const char *default_order_by;	/* the service's order when none is sent */
	const char *default_order;
	const char *order_by_param; /* "orderBy", or NULL: the one sort field is
								 * implied */
	const char *order_param;	/* "order", "sort" */

	/*
	 * A time window the request must carry (QueryLogRecord): bounds on
	 * window_field become window_start (inclusive) and window_end
	 * (exclusive), whole UTC seconds rounded outward; a lower bound is
	 * required, and the end defaults to the statement's start.
	 */
	const char *window_field;
	const char *window_start;
	const char *window_end;
	const char *epoch_ms_field; /* a time sent as milliseconds since 1970 */
	const char *statement_param;	/* a search statement: not an analysis */
	bool		analysis;		/* statement_param may end in an analysis
								 * ("| select count(*)"): aggregates can be
								 * pushed (aggregate.c) */
	const char *row_field;		/* a pseudo-field: the item as a JSON object */
	const BlsParamDefault *defaults;
	int			ndefaults;
	const char *columns;		/* column definitions, for IMPORT FOREIGN SCHEMA */
} BlsResource;

extern const BlsResource *bls_resource_lookup(const char *name);
extern const BlsResource *bls_resource_at(int i);
extern const BlsFilterDef *bls_resource_filter(const BlsResource *res,
											   const char *field);
extern const BlsSortDef *bls_resource_sort(const BlsResource *res,
										   const char *field);
extern bool bls_resource_has_field(const BlsResource *res, const char *field);
extern const char *bls_resource_alias(const BlsResource *res,
									  const char *column);
extern const char *bls_lookup_value(const BlsResource *res,
									const BlsParam *params, int nparams);
extern char *bls_resource_path_param(const BlsResource *res);
extern bool bls_is_task_id(const char *id);
extern const char *bls_param_value(const BlsResource *res,
								   const BlsParam *params, int nparams,
								   const char *param);

/* in connection.c */
typedef struct BlsConnection BlsConnection;

/* An HTTP request to send; strings are copied by bls_request_start(). */
typedef struct BlsHttpRequest
{
	const char *method;			/* a string constant: GET, POST, DELETE */
	const char *target;			/* path and query string, encoded as sent */
	const char *body;			/* NULL for none */
	size_t		bodylen;

	/*
	 * A request that must not be applied twice (a create): it is resent
	 * only when the service certainly refused it, and an error whose outcome
	 * is unknown says that what names may have been done.
	 */
	bool		not_idempotent;
	const char *what;			/* e.g. "download task \"x\" (project ...)" */
	const char *not_found_code; /* a 404 with this BLS code is an answer
								 * (status 404), not an error */

	/*
	 * Every attempt must be seen (a delete, whose retry's 404 means "done"
	 * only if an earlier attempt may have been applied): libcurl may not
	 * resend it unseen, and a retry goes on a new connection.
	 */
	bool		see_every_attempt;
} BlsHttpRequest;

/*
 * A request under way: a slot of its connection and the slot's generation
 * when the request started, so that a handle that outlives its request is
 * recognized (see connection.c).
 */
typedef struct BlsHandle
{
	int			slot;			/* -1: none */
	uint32		generation;
} BlsHandle;

/* A successful response body: valid until its request is released. */
typedef struct BlsResponse
{
	const char *body;
	size_t		len;
	long		status;
	bool		maybe_applied;	/* an earlier attempt, retried, may have
								 * been applied: a 404 then may be our own */
	char		request_id[80];
} BlsResponse;

extern BlsConnection *bls_connection_acquire(const BlsOptions *opts);
extern void bls_connection_release(BlsConnection *conn);
extern bool bls_disconnect_all(void);
extern BlsHandle bls_request_start(BlsConnection *conn, const BlsOptions *opts,
								   const BlsHttpRequest *req,
								   BlsScanStats *stats, bool try);
extern void bls_request_wait(BlsConnection *conn, BlsHandle h,
							 BlsResponse *resp);
extern void bls_request_release(BlsConnection *conn, BlsHandle h);
extern bool bls_request_may_have_acted(BlsConnection *conn, BlsHandle h);
extern void bls_connection_progress(BlsConnection *conn);
extern bool bls_request_ready(BlsConnection *conn, BlsHandle h);
extern void bls_connection_wait(BlsConnection *conn, long timeout_ms);
extern char *bls_printable(const char *s, size_t maxlen);

/*
 * Who gives requests back (see connection.c): the requests of one user and
 * its reference to their connection, released when the memory context the
 * owner lives in is reset or deleted, on an ERROR too.
 */
typedef struct BlsRequestOwner BlsRequestOwner;

extern BlsRequestOwner *bls_owner_create(MemoryContext cxt,
										 const BlsOptions *opts);
extern BlsConnection *bls_owner_connection(BlsRequestOwner *owner);
extern BlsHandle bls_owner_start(BlsRequestOwner *owner,
								 const BlsHttpRequest *req,
								 BlsScanStats *stats, bool try);
extern void bls_owner_release(BlsRequestOwner *owner);

/* in pushdown.c */

/* The JSON key of each column of a relation, and the resource it reads. */
typedef struct BlsRelMap
{
	const BlsResource *resource;
	int			natts;
	char	  **keys;			/* per attribute number - 1; NULL if dropped */
} BlsRelMap;

/* field = value or field = ANY (array value), enforced by the request */
typedef struct BlsFilterQual
{
	const BlsFilterDef *def;
	Expr	   *value;
	bool		is_array;
	RestrictInfo *rinfo;
} BlsFilterQual;

/* a fuzzy keyword sent for a condition that is rechecked */
typedef struct BlsKeyword
{
	const BlsFilterDef *def;
	char	   *value;			/* in the server encoding */
} BlsKeyword;

/* A bound on a time the service sorts by: field >[=] value or <[=] value */
typedef struct BlsBound
{
	const BlsSortDef *sort;
	AttrNumber	attno;
	bool		lower;			/* a lower bound (>, >=) */
	bool		strict;			/* > or <, not >= or <= */
	bool		exact;			/* the bound is all its clause says (not one
								 * implied by an OR) */
	Expr	   *value;			/* timestamptz */
	RestrictInfo *rinfo;
} BlsBound;

/* Restriction clauses sorted by what a request can do with them. */
typedef struct BlsQuals
{
	List	   *filters;		/* BlsFilterQual * */
	List	   *keywords;		/* BlsKeyword *, one per parameter */
	List	   *bounds;			/* BlsBound *, checked locally as well */
	List	   *exact;			/* RestrictInfos the request enforces */
	List	   *loose;			/* RestrictInfos the request narrows */
	List	   *local;			/* RestrictInfos checked locally */
} BlsQuals;

extern void bls_map_relation(Relation rel, const BlsResource *res,
							 BlsRelMap *map);
extern AttrNumber bls_field_attno(const BlsRelMap *map, const char *field);
extern void bls_classify_clause(PlannerInfo *root, Index relid,
								const BlsRelMap *map, RestrictInfo *rinfo,
								BlsQuals *quals);
extern const char *bls_var_key(Node *node, Index relid, const BlsRelMap *map,
							   AttrNumber *attno);
extern bool bls_is_filter_var(Node *node, Index relid, const BlsRelMap *map);
extern bool bls_single_sequence(const BlsResource *res,
								const BlsQuals *quals);
extern void bls_settle_lookup(const BlsResource *res, BlsQuals *quals);
extern bool bls_pathkey_order(PathKey *pk, Index relid, const BlsRelMap *map,
							  const char **order_by, const char **order);

/* in scan_request.c */

/* A filter the request carries: its values come from fdw_exprs. */
typedef struct BlsPlanFilter
{
	char	   *param;
	AttrNumber	attno;			/* its column, for EXPLAIN */
	bool		is_array;
	Expr	   *expr;			/* planner only; the executor uses the index */
} BlsPlanFilter;

/* A time bound: checked locally, and may end a request sequence. */
typedef struct BlsPlanBound
{
	char	   *field;
	AttrNumber	attno;
	bool		lower;
	bool		strict;
	bool		stops;			/* the request's order makes it final */
	Expr	   *expr;			/* planner only */
} BlsPlanBound;

/*
 * What a scan sends: the one description of a request, written to
 * fdw_private by bls_request_to_private() and read back by
 * bls_request_from_private().  EXPLAIN, the scan, ANALYZE and remote
 * estimates all build their HTTP requests from it.
 */
typedef struct BlsScanRequest
{
	const BlsResource *resource;
	List	   *retrieved_attrs;	/* integers: columns to fill in */
	List	   *filters;		/* BlsPlanFilter *; their exprs are the first
								 * fdw_exprs */
	List	   *keywords;		/* BlsKeyword * (def NULL after reading back:
								 * see param) */
	List	   *keyword_params; /* Strings: each keyword's parameter */
	char	   *order_by;		/* NULL: the service's default */
	char	   *order;
	int			limit;			/* > 0: items the query needs at most; -1: a
								 * LIMIT the request cannot carry; 0: none */
	List	   *bounds;			/* BlsPlanBound *; exprs follow the filters' */
	List	   *rechecked;		/* planner only: the clauses rechecked, for
								 * EXPLAIN; their exprs are the last fdw_exprs */
} BlsScanRequest;

extern List *bls_request_to_private(const BlsScanRequest *req, List **fdw_exprs);
extern BlsScanRequest *bls_request_from_private(List *fdw_private);
extern List *bls_request_sequences(const BlsScanRequest *req, List *filter_sets,
								   int *nparams);
extern bool bls_sequences_equal(List *a, List *b, int nparams);
extern List *bls_text_values(Datum value, bool isnull, bool is_array,
							 Oid typid);
extern List *bls_distinct_strings(List *values);
extern char *bls_datum_text(Datum value, Oid typid);
extern void bls_build_list_request(const BlsResource *res,
								   const BlsListRequest *lr,
								   BlsHttpRequest *out);
extern char *bls_http_request_text(const BlsHttpRequest *req);
extern void bls_check_window_order(TimestampTz start, TimestampTz end,
								   bool for_task);
extern bool bls_window_text(TimestampTz start, TimestampTz end,
							char *start_buf, char *end_buf);

/* in pager.c */

/*
 * Paging through one list call: request sequences of numbered pages, read
 * ahead, de-duplicated and stopped early.  Owns its requests, its pages and
 * a reference to the connection, all released when its memory context
 * goes (see pager.c).
 */
typedef struct BlsPager BlsPager;

extern BlsPager *bls_pager_create(MemoryContext parent, const BlsOptions *opts,
								  const BlsResource *res, BlsScanStats *stats);
extern void bls_pager_begin_scan(BlsPager *pg, bool several);
extern void bls_pager_begin(BlsPager *pg, const BlsParam *params, int nparams,
							const char *order_by, const char *order,
							int page_size, int64 limit, bool lazy);
extern bool bls_pager_next(BlsPager *pg, BlsFields *fields,
						   const int id_keys[2]);
extern const char *bls_pager_default_id(const BlsPager *pg);
extern void bls_pager_end(BlsPager *pg);
extern void bls_pager_position(const BlsPager *pg, int *page_no, int *index);
extern BlsPage *bls_pager_fetch(BlsPager *pg, const BlsListRequest *lr);
extern void bls_pager_read_item(BlsPager *pg, BlsPage *page, int i,
								BlsFields *fields);
extern int	bls_page_effective_size(const BlsPage *page, int asked);
extern bool bls_page_is_last(const BlsPage *page, int page_no, int asked);
extern void bls_pager_destroy(BlsPager *pg);
extern PGDLLIMPORT int bls_max_pages_per_request;
extern void bls_pager_define_gucs(void);
extern void bls_pager_refuse(BlsPager *pg);
extern const char *bls_pager_request_id(const BlsPager *pg);
extern void bls_report_truncation(const BlsOptions *opts, const BlsPage *page,
								  const char *request_id, bool *told);

/* in log_query.c */
extern void bls_check_search_statement(const char *statement);
extern void bls_check_log_store_name(const char *name);

/* in aggregate.c */
extern bool bls_aggregate_pushdown;
extern void bls_aggregate_init(void);
extern void bls_add_aggregate_paths(PlannerInfo *root, RelOptInfo *input_rel,
									RelOptInfo *grouped_rel,
									GroupPathExtraData *extra,
									const BlsRelMap *map,
									const BlsQuals *quals);
extern ForeignScan *bls_aggregate_plan(PlannerInfo *root,
									   RelOptInfo *grouped_rel, List *tlist,
									   Plan *outer_plan);
extern void bls_aggregate_begin(ForeignScanState *node, int eflags);
extern TupleTableSlot *bls_aggregate_next(ForeignScanState *node);
extern void bls_aggregate_rescan(ForeignScanState *node);
extern void bls_aggregate_end(ForeignScanState *node);
extern void bls_aggregate_explain(ForeignScanState *node,
								  struct ExplainState *es);
/* in bls_fdw.c */
extern void bls_explain_requests(const BlsScanStats *stats,
								 struct ExplainState *es);

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
	bool		epoch_ms;		/* a time sent as milliseconds since 1970 */
	const BlsFilterDef *echo;	/* a filter whose value the column may be
								 * (see BlsEcho), or NULL */
	int			field;			/* its key in the scan's BlsFields */

	/* the echoed value, converted once per sequence (bls_echo_reset()) */
	MemoryContext echo_cxt;		/* NULL: converted for every row */
	bool		echo_ready;
	bool		echo_isnull;
	Datum		echo_value;
} BlsColumn;

extern char **bls_column_keys(Relation rel, const BlsResource *res);
extern char *bls_column_key(Relation rel, AttrNumber attnum,
							const BlsResource *res);
extern void bls_init_column(BlsColumn *col, Relation rel, AttrNumber attnum,
							const BlsResource *res);
extern void bls_init_fields(BlsFields *f, BlsColumn *cols, int ncols,
							const BlsResource *res, int id_keys[2]);
extern void bls_store_item(const BlsResource *res, BlsColumn *cols, int ncols,
						   const BlsFields *f, int uuid_key, int item_index,
						   int page_no, const char *default_id,
						   const BlsParam *params, int nparams,
						   Datum *values, bool *nulls);
extern void bls_echo_reset(BlsColumn *cols, int ncols, MemoryContext cxt);
extern Datum bls_row_jsonb(const BlsFields *f);
extern bool bls_utc_text(TimestampTz ts, bool round_up, char *buf,
						 size_t buflen);

/* in modify.c */
extern int	blsIsForeignRelUpdatable(Relation rel);
extern void blsAddForeignUpdateTargets(PlannerInfo *root, Index rtindex,
									   RangeTblEntry *target_rte,
									   Relation target_relation);
extern List *blsPlanForeignModify(PlannerInfo *root, ModifyTable *plan,
								  Index resultRelation, int subplan_index);
extern void blsBeginForeignModify(ModifyTableState *mtstate,
								  ResultRelInfo *rinfo, List *fdw_private,
								  int subplan_index, int eflags);
extern TupleTableSlot *blsExecForeignInsert(EState *estate, ResultRelInfo *rinfo,
											TupleTableSlot *slot,
											TupleTableSlot *planSlot);
extern TupleTableSlot **blsExecForeignBatchInsert(EState *estate,
												  ResultRelInfo *rinfo,
												  TupleTableSlot **slots,
												  TupleTableSlot **planSlots,
												  int *numSlots);
extern int	blsGetForeignModifyBatchSize(ResultRelInfo *rinfo);
extern TupleTableSlot *blsExecForeignDelete(EState *estate, ResultRelInfo *rinfo,
											TupleTableSlot *slot,
											TupleTableSlot *planSlot);
extern void blsEndForeignModify(EState *estate, ResultRelInfo *rinfo);
extern void blsExplainForeignModify(ModifyTableState *mtstate,
									ResultRelInfo *rinfo, List *fdw_private,
									int subplan_index, struct ExplainState *es);
extern bool blsPlanDirectModify(PlannerInfo *root, ModifyTable *plan,
								Index resultRelation, int subplan_index);
extern void blsBeginDirectModify(ForeignScanState *node, int eflags);
extern TupleTableSlot *blsIterateDirectModify(ForeignScanState *node);
extern void blsEndDirectModify(ForeignScanState *node);
extern void blsExplainDirectModify(ForeignScanState *node,
								   struct ExplainState *es);
extern void blsBeginForeignInsert(ModifyTableState *mtstate,
								  ResultRelInfo *rinfo);
extern void blsEndForeignInsert(EState *estate, ResultRelInfo *rinfo);

/* in ledger.c */
typedef enum BlsLedgerKind
{
	BLS_LEDGER_CREATED,			/* a task created */
	BLS_LEDGER_MAYBE_CREATED,	/* a create whose outcome is unknown */
	BLS_LEDGER_DELETED			/* a task deleted */
} BlsLedgerKind;

extern void bls_ledger_add(BlsLedgerKind kind, const char *uuid,
						   const char *name, CommandId cid);
extern bool bls_ledger_created_by(CommandId cid, const char *uuid,
								  size_t len);

/* in analyze.c */
extern bool blsAnalyzeForeignTable(Relation relation,
								   AcquireSampleRowsFunc *func,
								   BlockNumber *totalpages);

/* in stats.c */
typedef enum BlsStatKind
{
	BLS_STAT_REQUESTS,			/* HTTP requests sent, retries included */
	BLS_STAT_PAGES,				/* pages parsed */
	BLS_STAT_ROWS,				/* items received */
	BLS_STAT_BYTES,				/* response body bytes */
	BLS_STAT_RETRIES,			/* requests repeated after a failure */
	BLS_STAT_THROTTLED,			/* waits after an HTTP 429 */
	BLS_STAT_ERRORS,			/* requests that ended in an error */
	BLS_STAT_SLOT_WAITS,		/* attempts that waited for a budget slot */
	BLS_STAT_BACKOFF_WAITS,		/* attempts held back by an account's 429 */
	BLS_NUM_STATS
} BlsStatKind;

/* One server's counters in this backend (stats.c) */
typedef struct BlsServerStats
{
	Oid			serverid;		/* hash key; must be first */
	int64		counts[BLS_NUM_STATS];
	double		time_ms;		/* time spent in requests */
	double		wait_ms;		/* time waiting for a budget slot or a
								 * back-off */
} BlsServerStats;

extern void bls_stat_add(Oid serverid, BlsStatKind kind, int64 n);
extern void bls_stat_add_time(Oid serverid, double ms);
extern void bls_stat_add_wait_time(Oid serverid, double ms);
extern struct HTAB *bls_stat_table(void);

/* in budget.c */
typedef struct BlsBudget BlsBudget;

extern BlsBudget *bls_budget_account(const BlsOptions *opts);
extern int	bls_budget_take(BlsBudget *b, int limit, bool ahead);
extern void bls_budget_release(BlsBudget *b, int slot);
extern void bls_budget_wait_begin(BlsBudget *b);
extern void bls_budget_wait_end(BlsBudget *b);
extern TimestampTz bls_budget_backoff_until(BlsBudget *b, long max_ms);
extern void bls_budget_backoff(BlsBudget *b, TimestampTz until);

#endif							/* BLS_MODULES_H */
