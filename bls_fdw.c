/*-------------------------------------------------------------------------
 *
 * bls_fdw.c
 *		  Foreign data wrapper for Baidu AI Cloud Log Service (BLS): the
 *		  handler, the planner and executor callbacks, EXPLAIN and IMPORT
 *		  FOREIGN SCHEMA.
 *
 * A scan of download_tasks pages through ListDownloadTask lazily: the first
 * request is sent when the first row is wanted, the next only when the
 * current page is used up, and none after the executor stops asking.  Each
 * page is parsed into its own memory context, which holds the json-c
 * document through a reset callback; the context is reset before the page
 * after next is fetched, so memory stays flat however long the scan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "bls_fdw.h"
#include "request.h"

PG_MODULE_MAGIC;

/* Row count assumed for download_tasks until ANALYZE says otherwise. */
#define BLS_DEFAULT_ROWS		1000
/* Planner cost of one round trip to the service, in cpu_tuple_cost units. */
#define BLS_REQUEST_COST		1000.0

/*
 * Indexes of the items of ForeignScan.fdw_private.
 */
enum BlsFdwScanPrivateIndex
{
	/* Integer list of the attribute numbers the scan must fill in */
	BlsFdwScanPrivateRetrievedAttrs
};

/* Execution state of one foreign scan. */
typedef struct BlsScanState
{
	Relation	rel;
	BlsOptions *opts;
	BlsConnection *conn;		/* set up at the first fetch */

	BlsColumn  *cols;			/* the columns to fill in */
	int			ncols;

	/*
	 * Pages alternate between two contexts, so that the uuids of the
	 * previous page stay readable while the next one is checked against
	 * them (tasks inserted at the head shift old ones onto the next page).
	 */
	MemoryContext page_cxt[2];
	int			cur;			/* page_cxt holding the current page */
	BlsPage    *page;			/* current page, or NULL before the first */
	const char **prev_uuids;	/* sorted uuids of the previous page */
	int			nprev;
	int			next_task;		/* index of the next task on the page */
	int			page_no;		/* number of the current page */
	bool		last_page;		/* no page follows the current one */

	MemoryContext row_cxt;		/* reset for every row */
	BlsScanStats stats;
	int64		duplicates;		/* tasks skipped as already returned */
} BlsScanState;

PG_FUNCTION_INFO_V1(bls_fdw_handler);

static void blsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
static void blsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
							   Oid foreigntableid);
static ForeignScan *blsGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
									  Oid foreigntableid, ForeignPath *best_path,
									  List *tlist, List *scan_clauses,
									  Plan *outer_plan);
static void blsBeginForeignScan(ForeignScanState *node, int eflags);
static TupleTableSlot *blsIterateForeignScan(ForeignScanState *node);
static void blsReScanForeignScan(ForeignScanState *node);
static void blsEndForeignScan(ForeignScanState *node);
static void blsExplainForeignScan(ForeignScanState *node, ExplainState *es);
static List *blsImportForeignSchema(ImportForeignSchemaStmt *stmt,
									Oid serverOid);

Datum
bls_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = blsGetForeignRelSize;
	routine->GetForeignPaths = blsGetForeignPaths;
	routine->GetForeignPlan = blsGetForeignPlan;
	routine->BeginForeignScan = blsBeginForeignScan;
	routine->IterateForeignScan = blsIterateForeignScan;
	routine->ReScanForeignScan = blsReScanForeignScan;
	routine->EndForeignScan = blsEndForeignScan;
	routine->ExplainForeignScan = blsExplainForeignScan;
	routine->ImportForeignSchema = blsImportForeignSchema;

	PG_RETURN_POINTER(routine);
}

/*
 * blsGetForeignRelSize
 *		Estimate the number of rows; no request is sent while planning.
 */
static void
blsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	double		tuples;

	tuples = baserel->tuples > 0 ? baserel->tuples : BLS_DEFAULT_ROWS;
	baserel->rows = clamp_row_est(tuples *
								  clauselist_selectivity(root,
														 baserel->baserestrictinfo,
														 0, JOIN_INNER, NULL));
}

/*
 * blsGetForeignPaths
 *		One path: a full listing, filtered locally.  Costs count round trips
 *		of a page each, since they dominate.
 */
static void
blsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
				   Oid foreigntableid)
{
	double		tuples = baserel->tuples > 0 ? baserel->tuples : BLS_DEFAULT_ROWS;
	double		pages = ceil(tuples / BLS_DEFAULT_PAGE_SIZE);
	Cost		startup_cost = BLS_REQUEST_COST * cpu_tuple_cost;
	Cost		run_cost;

	run_cost = (pages - 1) * BLS_REQUEST_COST * cpu_tuple_cost +
		tuples * (cpu_tuple_cost + baserel->baserestrictcost.per_tuple);

	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup_cost, startup_cost + run_cost,
									 NIL, NULL, NULL, NIL));
}

/*
 * blsGetForeignPlan
 *		All quals are checked locally; fdw_private carries the attributes the
 *		scan must fill in, so unused columns cost no conversion.
 */
static ForeignScan *
blsGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
				  Oid foreigntableid, ForeignPath *best_path,
				  List *tlist, List *scan_clauses, Plan *outer_plan)
{
	Bitmapset  *attrs = NULL;
	List	   *retrieved_attrs = NIL;
	RangeTblEntry *rte = planner_rt_fetch(baserel->relid, root);
	Relation	rel;
	TupleDesc	tupdesc;
	bool		whole_row;
	ListCell   *lc;

	scan_clauses = extract_actual_clauses(scan_clauses, false);

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	foreach(lc, baserel->baserestrictinfo)
		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause,
					   baserel->relid, &attrs);
	whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs);

	rel = table_open(rte->relid, NoLock);
	tupdesc = RelationGetDescr(rel);
	for (int i = 1; i <= tupdesc->natts; i++)
	{
		if (TupleDescAttr(tupdesc, i - 1)->attisdropped)
			continue;
		if (whole_row ||
			bms_is_member(i - FirstLowInvalidHeapAttributeNumber, attrs))
			retrieved_attrs = lappend_int(retrieved_attrs, i);
	}
	table_close(rel, NoLock);

	return make_foreignscan(tlist, scan_clauses, baserel->relid,
							NIL, list_make1(retrieved_attrs),
							NIL, NIL, outer_plan);
}

static void
free_page_callback(void *arg)
{
	bls_page_free((BlsPage *) arg);
}

static void
blsBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	RangeTblEntry *rte = exec_rt_fetch(fsplan->scan.scanrelid, estate);
	Oid			userid = rte->checkAsUser ? rte->checkAsUser : GetUserId();
	List	   *retrieved_attrs;
	BlsScanState *st;
	ListCell   *lc;
	int			i = 0;

	st = palloc0(sizeof(BlsScanState));
	node->fdw_state = st;
	st->rel = node->ss.ss_currentRelation;

	/* options are checked even for EXPLAIN, so mistakes show early */
	st->opts = bls_get_options(RelationGetRelid(st->rel), userid);

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	retrieved_attrs = (List *) list_nth(fsplan->fdw_private,
										BlsFdwScanPrivateRetrievedAttrs);
	st->ncols = list_length(retrieved_attrs);
	st->cols = palloc0(sizeof(BlsColumn) * Max(st->ncols, 1));
	foreach(lc, retrieved_attrs)
		bls_init_column(&st->cols[i++], st->rel, lfirst_int(lc));

	st->page_cxt[0] = AllocSetContextCreate(estate->es_query_cxt,
											"bls_fdw page", ALLOCSET_DEFAULT_SIZES);
	st->page_cxt[1] = AllocSetContextCreate(estate->es_query_cxt,
											"bls_fdw page", ALLOCSET_DEFAULT_SIZES);
	st->row_cxt = AllocSetContextCreate(estate->es_query_cxt,
										"bls_fdw row", ALLOCSET_SMALL_SIZES);
}

static int
uuid_compare(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * Fetch the page after the current one into the other page context, which
 * is reset first: that frees the page before the current one, whose uuids
 * are no longer needed.
 */
static void
fetch_next_page(BlsScanState *st)
{
	int			next = 1 - st->cur;
	MemoryContext cxt = st->page_cxt[next];
	MemoryContext oldcxt;
	MemoryContextCallback *cb;
	BlsListRequest req = {0};
	BlsResponse resp;
	BlsParseStatus status;
	BlsPage    *page;
	char	   *body;
	size_t		bodylen;
	char	   *mbody;
	int			page_size;

	MemoryContextReset(cxt);
	oldcxt = MemoryContextSwitchTo(cxt);

	/* remember what the current page returned, to skip it if it shifts */
	st->nprev = 0;
	st->prev_uuids = NULL;
	if (st->page != NULL && st->page->ntasks > 0)
	{
		st->prev_uuids = palloc(sizeof(char *) * st->page->ntasks);
		for (int i = 0; i < st->page->ntasks; i++)
		{
			const char *u = bls_task_uuid(bls_page_task(st->page, i));

			if (u)
				st->prev_uuids[st->nprev++] = u;
		}
		qsort(st->prev_uuids, st->nprev, sizeof(char *), uuid_compare);
	}

	if (st->conn == NULL)
		st->conn = bls_get_connection(st->opts);

	req.page_no = st->page_no + 1;
	req.page_size = st->opts->page_size;
	mbody = bls_request_body(&req, &bodylen);
	if (mbody == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	body = pnstrdup(mbody, bodylen);
	free(mbody);

	bls_list_tasks(st->conn, st->opts, body, bodylen, &resp, &st->stats);

	/* the json-c document is freed when this context is reset or deleted */
	page = palloc0(sizeof(BlsPage));
	cb = palloc(sizeof(MemoryContextCallback));
	cb->func = free_page_callback;
	cb->arg = page;
	MemoryContextRegisterResetCallback(cxt, cb);

	status = bls_page_parse(resp.body, resp.len, page);
	if (status != BLS_PARSE_OK)
		bls_report_page_error(status, page, &resp, st->opts);
	if (page->page_no != 0 && page->page_no != req.page_no)
	{
		BlsPage		bad = *page;

		snprintf(bad.error, sizeof(bad.error),
				 "Page %d was requested but page %d was returned.",
				 req.page_no, page->page_no);
		bls_report_page_error(BLS_PARSE_BAD_FIELD, &bad, &resp, st->opts);
	}

	st->stats.pages++;
	st->stats.rows += page->ntasks;
	st->page_no = req.page_no;
	st->page = page;
	st->cur = next;
	st->next_task = 0;

	/* the service may serve fewer per page than asked: it says how many */
	page_size = page->page_size > 0 ? page->page_size : req.page_size;
	st->last_page = page->ntasks == 0 || page->ntasks < page_size ||
		(page->total >= 0 && (int64) st->page_no * page_size >= page->total);

	MemoryContextSwitchTo(oldcxt);
}

static TupleTableSlot *
blsIterateForeignScan(ForeignScanState *node)
{
	BlsScanState *st = (BlsScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	BlsJson    *task;
	MemoryContext oldcxt;

	ExecClearTuple(slot);
	MemoryContextReset(st->row_cxt);

	for (;;)
	{
		const char *uuid;

		if (st->page == NULL || st->next_task >= st->page->ntasks)
		{
			if (st->page != NULL && st->last_page)
				return slot;
			fetch_next_page(st);
			continue;
		}

		task = bls_page_task(st->page, st->next_task);
		uuid = bls_task_uuid(task);
		if (uuid != NULL && st->nprev > 0 &&
			bsearch(&uuid, st->prev_uuids, st->nprev, sizeof(char *),
					uuid_compare) != NULL)
		{
			st->next_task++;
			st->duplicates++;
			continue;
		}
		break;
	}

	oldcxt = MemoryContextSwitchTo(st->row_cxt);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	bls_store_task(st->cols, st->ncols, task, st->next_task, st->page_no,
				   slot->tts_values, slot->tts_isnull);
	MemoryContextSwitchTo(oldcxt);
	st->next_task++;

	ExecStoreVirtualTuple(slot);
	return slot;
}

/*
 * A re-scan lists afresh from the first page: the data may have changed and
 * parameters of later versions may differ.
 */
static void
blsReScanForeignScan(ForeignScanState *node)
{
	BlsScanState *st = (BlsScanState *) node->fdw_state;

	MemoryContextReset(st->page_cxt[0]);
	MemoryContextReset(st->page_cxt[1]);
	st->page = NULL;
	st->prev_uuids = NULL;
	st->nprev = 0;
	st->next_task = 0;
	st->page_no = 0;
	st->last_page = false;
}

static void
blsEndForeignScan(ForeignScanState *node)
{
	BlsScanState *st = (BlsScanState *) node->fdw_state;

	if (st == NULL || st->row_cxt == NULL)
		return;
	/* free the json-c documents now rather than at the end of the query */
	MemoryContextDelete(st->page_cxt[0]);
	MemoryContextDelete(st->page_cxt[1]);
	MemoryContextDelete(st->row_cxt);
	st->page = NULL;
	st->row_cxt = NULL;
}

static void
blsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	BlsScanState *st = (BlsScanState *) node->fdw_state;

	if (es->verbose)
	{
		BlsListRequest req = {0};
		char	   *body;
		size_t		len;

		req.page_no = 1;
		req.page_size = st->opts->page_size;
		body = bls_request_body(&req, &len);
		if (body)
		{
			char	   *s = psprintf("POST %s %s", BLS_LIST_PATH, body);

			free(body);
			ExplainPropertyText("BLS Request", s, es);
		}
	}
	if (es->analyze && st->row_cxt != NULL)
	{
		ExplainPropertyInteger("BLS Pages", NULL, st->stats.pages, es);
		ExplainPropertyInteger("BLS Requests", NULL, st->stats.requests, es);
		ExplainPropertyInteger("BLS Retries", NULL, st->stats.retries, es);
		ExplainPropertyInteger("BLS Rows Received", NULL, st->stats.rows, es);
		if (es->verbose)
			ExplainPropertyInteger("BLS Bytes Received", "bytes",
								   st->stats.bytes, es);
	}
}

/*
 * blsImportForeignSchema
 *		The remote schema "bls" holds one table, download_tasks.
 */
static List *
blsImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	StringInfoData buf;

	if (strcmp(stmt->remote_schema, "bls") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("schema \"%s\" is not present on BLS server \"%s\"",
						stmt->remote_schema, server->servername),
				 errhint("The only schema is \"bls\".")));

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "CREATE FOREIGN TABLE download_tasks (\n"
					 "  uuid text,\n"
					 "  name text,\n"
					 "  project text,\n"
					 "  log_store_name text,\n"
					 "  log_stream_name text,\n"
					 "  query text,\n"
					 "  query_start_time timestamptz,\n"
					 "  query_end_time timestamptz,\n"
					 "  format text,\n"
					 "  \"limit\" bigint,\n"
					 "  \"order\" text,\n"
					 "  state text,\n"
					 "  failed_code text,\n"
					 "  failed_message text,\n"
					 "  written_rows bigint,\n"
					 "  file_dir text,\n"
					 "  file_name text,\n"
					 "  exec_start_time timestamptz,\n"
					 "  exec_end_time timestamptz,\n"
					 "  created_time timestamptz,\n"
					 "  updated_time timestamptz\n"
					 ") SERVER %s",
					 quote_identifier(server->servername));
	return list_make1(buf.data);
}
