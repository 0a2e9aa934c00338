/*-------------------------------------------------------------------------
 *
 * bls_fdw.c
 *		  Foreign data wrapper for Baidu AI Cloud Log Service (BLS): the
 *		  handler, the planner and executor callbacks, EXPLAIN and IMPORT
 *		  FOREIGN SCHEMA.
 *
 * The planner side decides what the request carries (see deparse.c): the
 * project values, a logStoreName keyword, the order, a page size shrunk to
 * a pushed LIMIT, and time bounds that can end the scan early.
 *
 * A scan of download_tasks pages through ListDownloadTask lazily: the first
 * request is sent when the first row is wanted, and none after the executor
 * stops asking.  Once a page has told the total, the next few pages are
 * requested ahead (http.c runs them side by side) and consumed in order.
 * Each page lives in its own memory context, which holds the parsed page
 * (its envelope, and its tasks as text, parsed one at a time: see
 * task_json.c) through a reset callback; one page is held at a time, so
 * memory stays flat however long the scan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "commands/explain.h"
#include "common/hashfn.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/rel.h"

#include "bls_fdw.h"
#include "request.h"

PG_MODULE_MAGIC;

/* Planner cost of one round trip to the service, like postgres_fdw's fdw_startup_cost. */
#define BLS_REQUEST_COST		100.0
/* Planner cost of receiving, parsing and converting one task. */
#define BLS_ROW_COST			0.05

/*
 * Planner state of a download_tasks relation, in RelOptInfo.fdw_private.
 */
typedef struct BlsRelInfo
{
	BlsOptions *opts;
	AttrNumber	attnos[BLS_NUM_FIELDS]; /* columns of the request fields */
	BlsQuals	quals;			/* baserestrictinfo, classified */
	double		fetched;		/* tasks the requests return */
	int64		limit_hint;		/* LIMIT + OFFSET, or -1 */
} BlsRelInfo;

/*
 * Indexes of the items of ForeignScan.fdw_private.  fdw_exprs holds the
 * project value expressions, then the bound value expressions.
 */
enum BlsFdwScanPrivateIndex
{
	/* Integer list of the attribute numbers the scan must fill in */
	BlsPrivateRetrievedAttrs,
	/* List of 3 Strings: orderBy, order, logStoreName ("" when not sent) */
	BlsPrivateRequest,
	/*
	 * Integer: tasks the query needs at most (LIMIT + OFFSET), 0 if no
	 * LIMIT, -1 for a LIMIT the request cannot carry
	 */
	BlsPrivateLimit,
	/* Integer list, per project expression: 1 if it yields an array */
	BlsPrivateProjectArray,
	/* Integer list, per bound: field, lower, strict, stops the scan */
	BlsPrivateBounds,
	/* List of Strings: the rechecked conditions, for EXPLAIN */
	BlsPrivateRechecked
};

/* A bound evaluated for a scan. */
typedef struct BlsScanBound
{
	BlsField	field;
	bool		lower;
	bool		strict;
	bool		stops;			/* the request's order lets it end a sequence */
	ExprState  *expr;
	Datum		value;
	bool		isnull;
} BlsScanBound;

/* A slot of the open-addressing set of a page's uuids. */
typedef struct BlsUuidSlot
{
	const char *uuid;			/* a copy; NULL if the slot is free */
	uint32		hash;
} BlsUuidSlot;

/* Execution state of one foreign scan. */
typedef struct BlsScanState
{
	Relation	rel;
	BlsOptions *opts;
	BlsConnection *conn;		/* set up at the first fetch */

	BlsColumn  *cols;			/* the columns to fill in */
	int			ncols;
	BlsFields	fields;			/* their fields, and the current task's */
	int			uuid_key;		/* "uuid" in fields */
	AttrNumber	attnos[BLS_NUM_FIELDS];

	/* the request, from the plan */
	const char *order_by;		/* NULL: the service's default */
	const char *order;
	const char *store_keyword;
	int			page_size;		/* page_size option, or less for a LIMIT */
	List	   *project_exprs;	/* ExprStates */
	List	   *project_array;
	int			nbounds;
	BlsScanBound *bounds;

	/* values of this execution; in scan_cxt */
	MemoryContext scan_cxt;
	bool		have_values;	/* computed once: the fields below are set */
	bool		started;		/* this execution has computed its values */
	bool		filter_project; /* one sequence per value in projects */
	List	   *projects;		/* distinct project values, sorted */
	int			nsequences;
	int			seq;			/* current request sequence */

	/*
	 * Pages alternate between two contexts: the next page's context first
	 * receives a copy of the current page's uuids (tasks inserted at the
	 * head shift old ones onto the next page), then the current page's
	 * context is reset, so one page is held at a time.
	 */
	MemoryContext page_cxt[2];
	int			cur;			/* page_cxt holding the current page */
	BlsPage    *page;			/* current page, or NULL before the first */
	BlsUuidSlot *prev_uuids;	/* hash set of the previous page's uuids */
	uint32		prev_mask;		/* its size - 1; 0 when empty */
	char	  **page_uuids;		/* uuids of the current page's tasks so far */
	int			npage_uuids;
	char		page_request_id[80];	/* of the current page's response */
	int			next_task;		/* index of the next task on the page */
	int			page_no;		/* number of the current page */
	bool		last_page;		/* no page follows the current one */
	bool		finished;		/* every sequence is done */

	/*
	 * Read-ahead: once a page has told the total, the next pages are
	 * requested concurrently, up to readahead of them; pending_slot holds
	 * the transfers of pages page_no + 1 .. page_no + npending, in order.
	 */
	int			readahead;
	bool		lazy;			/* read nothing ahead (LIMIT, time bound) */
	int			limit;			/* rows the query needs at most, or 0 */
	int			pending_slot[BLS_MAX_READAHEAD];
	int			npending;

	/*
	 * Rows already returned, kept when the scan may be re-scanned with the
	 * same values (the inner side of a nested loop), so that a re-scan
	 * replays them instead of repeating requests.
	 */
	Tuplestorestate *cache;
	TupleTableSlot *cache_slot; /* to read the cache back */
	bool		replaying;

	MemoryContext row_cxt;		/* reset for every row */
	BlsScanStats stats;
	int64		sequences;		/* request sequences started */
	int64		duplicates;		/* tasks skipped as already returned */
	int64		refetched;		/* pages read ahead, dropped and asked again */
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
static void blsGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
									RelOptInfo *input_rel, RelOptInfo *output_rel,
									void *extra);
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
	routine->GetForeignUpperPaths = blsGetForeignUpperPaths;
	routine->BeginForeignScan = blsBeginForeignScan;
	routine->IterateForeignScan = blsIterateForeignScan;
	routine->ReScanForeignScan = blsReScanForeignScan;
	routine->EndForeignScan = blsEndForeignScan;
	routine->ExplainForeignScan = blsExplainForeignScan;
	routine->AnalyzeForeignTable = blsAnalyzeForeignTable;
	routine->ImportForeignSchema = blsImportForeignSchema;

	PG_RETURN_POINTER(routine);
}

/*
 * The one string value of a constant project condition, or NULL: used for
 * remote estimates and EXPLAIN before the scan has run.
 */
static char *
constant_project(const BlsQuals *quals)
{
	Node	   *expr;

	if (list_length(quals->project_exprs) != 1 ||
		linitial_int(quals->project_array) != 0)
		return NULL;
	expr = (Node *) linitial(quals->project_exprs);
	while (IsA(expr, RelabelType))
		expr = (Node *) ((RelabelType *) expr)->arg;
	if (!IsA(expr, Const) || ((Const *) expr)->constisnull)
		return NULL;
	return TextDatumGetCString(((Const *) expr)->constvalue);
}

/*
 * Ask the service how many tasks match (the "total" of a one-task page),
 * for use_remote_estimate.
 */
static double
remote_total(BlsOptions *opts, const char *project, const char *store)
{
	BlsListRequest req = {0};
	BlsPage		page;
	double		total;

	req.project = project;
	req.log_store_name = store;
	req.page_no = 1;
	req.page_size = 1;
	bls_list_page(bls_get_connection(opts), opts, &req, &page);
	total = page.total >= 0 ? (double) page.total : (double) page.ntasks;
	bls_page_free(&page);
	return total;
}

/*
 * blsGetForeignRelSize
 *		Classify the restriction clauses and estimate the number of rows.
 *		No request is sent unless use_remote_estimate is on.
 */
static void
blsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	BlsRelInfo *fpinfo = palloc0(sizeof(BlsRelInfo));
	Oid			userid = OidIsValid(baserel->userid) ? baserel->userid : GetUserId();
	Relation	rel;
	ListCell   *lc;
	double		tuples;
	Selectivity other_sel;

	baserel->fdw_private = fpinfo;
	fpinfo->limit_hint = -1;

	rel = table_open(foreigntableid, NoLock);
	bls_map_fields(rel, fpinfo->attnos);
	table_close(rel, NoLock);

	/* keys are needed only to ask the service for an estimate */
	fpinfo->opts = bls_get_options(foreigntableid, userid, false);
	if (fpinfo->opts->use_remote_estimate)
		fpinfo->opts = bls_get_options(foreigntableid, userid, true);

	foreach(lc, baserel->baserestrictinfo)
		bls_classify_clause(root, baserel->relid, fpinfo->attnos,
							lfirst_node(RestrictInfo, lc), &fpinfo->quals);

	other_sel = clauselist_selectivity(root, fpinfo->quals.local,
									   baserel->relid, JOIN_INNER, NULL);
	if (fpinfo->opts->use_remote_estimate &&
		(fpinfo->quals.project_exprs == NIL ||
		 constant_project(&fpinfo->quals) != NULL))
	{
		/* the service applies the project and returns the rest */
		fpinfo->fetched = remote_total(fpinfo->opts,
									   constant_project(&fpinfo->quals),
									   NULL);
		tuples = fpinfo->fetched;
		if (fpinfo->quals.project_exprs == NIL)
			baserel->tuples = tuples;
	}
	else
	{
		/* ANALYZE's count if there is one, else the configured guess */
		tuples = baserel->tuples >= 0 ? baserel->tuples :
			fpinfo->opts->estimated_rows;
		fpinfo->fetched = clamp_row_est(tuples *
										clauselist_selectivity(root, fpinfo->quals.exact,
															   baserel->relid,
															   JOIN_INNER, NULL));
		if (baserel->tuples < 0)
			baserel->tuples = tuples;
	}
	baserel->rows = clamp_row_est(fpinfo->fetched * other_sel);
}

/*
 * Cost of a scan that receives fetched tasks: a round trip per page (fewer
 * when a time bound ends the scan early), parsing and local conditions per
 * task.
 */
static void
estimate_costs(PlannerInfo *root, RelOptInfo *baserel, BlsRelInfo *fpinfo,
			   double fetched, List *local, Cost *startup, Cost *total)
{
	QualCost	qcost;
	double		pages;
	ListCell   *lc;

	/* a bound in the service's default order stops the scan early */
	foreach(lc, fpinfo->quals.bounds)
	{
		BlsBound   *b = (BlsBound *) lfirst(lc);

		if (b->field == BLS_FIELD_CREATED && b->lower)
		{
			fetched = clamp_row_est(fetched *
									clause_selectivity(root, (Node *) b->rinfo,
													   baserel->relid,
													   JOIN_INNER, NULL));
			break;
		}
	}
	pages = Max(1.0, ceil(fetched / fpinfo->opts->page_size));
	cost_qual_eval(&qcost, local, root);

	*startup = BLS_REQUEST_COST + qcost.startup;
	*total = *startup + (pages - 1) * BLS_REQUEST_COST +
		fetched * (BLS_ROW_COST + cpu_tuple_cost + qcost.per_tuple);
}

/* Callback for generate_implied_equalities_for_column: the project column. */
static bool
ec_member_is_project(PlannerInfo *root, RelOptInfo *rel,
					 EquivalenceClass *ec, EquivalenceMember *em, void *arg)
{
	BlsRelInfo *fpinfo = (BlsRelInfo *) arg;

	return bls_is_field_var((Node *) em->em_expr, rel->relid, fpinfo->attnos,
							BLS_FIELD_PROJECT);
}

/*
 * Parameterized paths: for a join clause project = <other relation's
 * value>, a path that sends one request sequence per outer row.  Cheap for
 * a few outer rows; the planner prefers one full scan and a hash join for
 * many.
 */
static void
add_parameterized_paths(PlannerInfo *root, RelOptInfo *baserel,
						BlsRelInfo *fpinfo)
{
	List	   *clauses = NIL;
	ListCell   *lc;

	foreach(lc, baserel->joininfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (join_clause_is_movable_to(rinfo, baserel))
			clauses = lappend(clauses, rinfo);
	}
	if (baserel->has_eclass_joins)
		clauses = list_concat(clauses,
							  generate_implied_equalities_for_column(root, baserel,
																	 ec_member_is_project,
																	 fpinfo,
																	 baserel->lateral_referencers));

	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		BlsQuals	q = {0};
		Relids		required_outer;
		ParamPathInfo *param_info;
		double		fetched;
		Cost		startup;
		Cost		total;

		bls_classify_clause(root, baserel->relid, fpinfo->attnos, rinfo, &q);
		if (q.project_exprs == NIL)
			continue;

		required_outer = bms_union(rinfo->clause_relids, baserel->lateral_relids);
		required_outer = bms_del_member(required_outer, baserel->relid);
		if (bms_is_empty(required_outer))
			continue;
		param_info = get_baserel_parampathinfo(root, baserel, required_outer);

		fetched = clamp_row_est(fpinfo->fetched *
								clauselist_selectivity(root, param_info->ppi_clauses,
													   baserel->relid,
													   JOIN_INNER, NULL));
		estimate_costs(root, baserel, fpinfo, fetched, fpinfo->quals.local,
					   &startup, &total);
		add_path(baserel, (Path *)
				 create_foreignscan_path(root, baserel, NULL,
										 param_info->ppi_rows,
										 startup, total, NIL,
										 required_outer, NULL, NIL));
	}
}

/*
 * blsGetForeignPaths
 *		A plain path, a path in the order the query asks for when the
 *		service can sort that way, and parameterized paths for joins on
 *		project.
 */
static void
blsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
				   Oid foreigntableid)
{
	BlsRelInfo *fpinfo = (BlsRelInfo *) baserel->fdw_private;
	Cost		startup;
	Cost		total;
	const char *order_by;
	const char *order;

	estimate_costs(root, baserel, fpinfo, fpinfo->fetched, fpinfo->quals.local,
				   &startup, &total);
	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup, total, NIL,
									 baserel->lateral_relids, NULL, NIL));

	/*
	 * The service sorts for free, but only within one request sequence; the
	 * first sort key is enough for an incremental sort of the rest.
	 */
	if (root->query_pathkeys != NIL && bls_single_sequence(&fpinfo->quals) &&
		bls_pathkey_order(linitial(root->query_pathkeys), baserel->relid,
						  fpinfo->attnos, &order_by, &order))
		add_path(baserel, (Path *)
				 create_foreignscan_path(root, baserel, NULL, baserel->rows,
										 startup, total,
										 list_make1(linitial(root->query_pathkeys)),
										 baserel->lateral_relids, NULL,
										 list_make2(makeString(pstrdup(order_by)),
													makeString(pstrdup(order)))));

	if (fpinfo->attnos[BLS_FIELD_PROJECT] != InvalidAttrNumber)
		add_parameterized_paths(root, baserel, fpinfo);
}

/*
 * blsGetForeignUpperPaths
 *		Note a LIMIT that sits right above this scan, so that the request
 *		asks for no more tasks than the query needs.
 *
 * The Limit node stays in the plan: the hint only shrinks pageSize, which
 * never changes the answer, just the number of requests.  GetForeignPlan
 * uses it only when every condition is enforced by the request and the
 * order, if any, is the service's.
 */
static void
blsGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
						RelOptInfo *input_rel, RelOptInfo *output_rel,
						void *extra)
{
	Query	   *parse = root->parse;
	FinalPathExtraData *fextra = (FinalPathExtraData *) extra;
	int			relid;
	RelOptInfo *baserel;
	BlsRelInfo *fpinfo;

	if (stage != UPPERREL_FINAL || !fextra->limit_needed)
		return;
	if (parse->hasAggs || parse->groupClause || parse->groupingSets ||
		root->hasHavingQual || parse->hasWindowFuncs || parse->distinctClause ||
		parse->hasTargetSRFs || parse->setOperations || parse->rowMarks ||
		parse->limitOption == LIMIT_OPTION_WITH_TIES)
		return;
	if (parse->limitCount == NULL || !IsA(parse->limitCount, Const) ||
		(parse->limitOffset && !IsA(parse->limitOffset, Const)) ||
		fextra->count_est <= 0)
		return;
	/* a single scan of one foreign table */
	if (bms_membership(root->all_baserels) != BMS_SINGLETON)
		return;
	relid = bms_singleton_member(root->all_baserels);
	baserel = find_base_rel(root, relid);
	if (baserel->reloptkind != RELOPT_BASEREL ||
		baserel->fdwroutine == NULL ||
		baserel->fdwroutine->GetForeignUpperPaths != blsGetForeignUpperPaths)
		return;

	fpinfo = (BlsRelInfo *) baserel->fdw_private;
	fpinfo->limit_hint = fextra->count_est + Max(fextra->offset_est, 0);
}

/*
 * The order of the request: the path's, or else one that lets a time bound
 * end the scan early.  NULL means the service's default, createdTime desc.
 */
static void
choose_order(ForeignPath *best_path, BlsQuals *quals,
			 const char **order_by, const char **order)
{
	ListCell   *lc;

	*order_by = NULL;
	*order = NULL;
	if (best_path->fdw_private != NIL)
	{
		*order_by = strVal(linitial(best_path->fdw_private));
		*order = strVal(lsecond(best_path->fdw_private));
		return;
	}
	/* a lower bound wants newest first, an upper bound oldest first */
	foreach(lc, quals->bounds)
	{
		BlsBound   *b = (BlsBound *) lfirst(lc);

		if (b->lower)
		{
			*order_by = bls_field_key(b->field);
			*order = "desc";
			return;
		}
	}
	foreach(lc, quals->bounds)
	{
		BlsBound   *b = (BlsBound *) lfirst(lc);

		*order_by = bls_field_key(b->field);
		*order = "asc";
		return;
	}
}

/* Deparse a clause of this relation only, for EXPLAIN. */
static char *
deparse_own_clause(RelOptInfo *baserel, Oid relid, Expr *clause)
{
	Node	   *copy = copyObject((Node *) clause);
	List	   *context;

	ChangeVarNodes(copy, baserel->relid, 1, 0);
	context = deparse_context_for(get_rel_name(relid), relid);
	return deparse_expression(copy, context, false, false);
}

/*
 * blsGetForeignPlan
 *		Build the request from the chosen path: what the request enforces
 *		leaves the local quals, everything else stays.
 */
static ForeignScan *
blsGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
				  Oid foreigntableid, ForeignPath *best_path,
				  List *tlist, List *scan_clauses, Plan *outer_plan)
{
	BlsRelInfo *fpinfo = (BlsRelInfo *) baserel->fdw_private;
	BlsQuals	q = {0};
	Bitmapset  *attrs = NULL;
	List	   *retrieved_attrs = NIL;
	List	   *local_exprs;
	List	   *fdw_exprs;
	List	   *fdw_private;
	List	   *bounds_info = NIL;
	List	   *rechecked = NIL;
	const char *order_by;
	const char *order;
	const char *effective_order_by;
	const char *effective_order;
	int64		limit = 0;
	Relation	rel;
	TupleDesc	tupdesc;
	bool		whole_row;
	ListCell   *lc;

	foreach(lc, scan_clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->pseudoconstant)
			continue;
		bls_classify_clause(root, baserel->relid, fpinfo->attnos, rinfo, &q);
	}
	local_exprs = extract_actual_clauses(q.local, false);
	foreach(lc, q.loose)
		rechecked = lappend(rechecked,
							makeString(deparse_own_clause(baserel, foreigntableid,
														  ((RestrictInfo *) lfirst(lc))->clause)));

	choose_order(best_path, &q, &order_by, &order);
	effective_order_by = order_by ? order_by : "createdTime";
	effective_order = order ? order : "desc";

	fdw_exprs = list_copy(q.project_exprs);
	foreach(lc, q.bounds)
	{
		BlsBound   *b = (BlsBound *) lfirst(lc);
		bool		stops;

		/* in this order, the first task past the bound ends the sequence */
		stops = strcmp(bls_field_key(b->field), effective_order_by) == 0 &&
			strcmp(effective_order, b->lower ? "desc" : "asc") == 0;
		fdw_exprs = lappend(fdw_exprs, b->value);
		bounds_info = lappend_int(bounds_info, b->field);
		bounds_info = lappend_int(bounds_info, b->lower);
		bounds_info = lappend_int(bounds_info, b->strict);
		bounds_info = lappend_int(bounds_info, stops);
	}

	/*
	 * A LIMIT shrinks the page only when the first rows are the answer;
	 * otherwise -1 tells the executor that few pages may be needed.
	 */
	if (fpinfo->limit_hint > 0 && q.local == NIL &&
		best_path->path.param_info == NULL &&
		(root->query_pathkeys == NIL ||
		 pathkeys_contained_in(root->query_pathkeys, best_path->path.pathkeys)))
		limit = Min(fpinfo->limit_hint, PG_INT32_MAX);
	else if (fpinfo->limit_hint > 0)
		limit = -1;

	/* fill in only the columns the query reads */
	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	pull_varattnos((Node *) local_exprs, baserel->relid, &attrs);
	whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs);
	rel = table_open(foreigntableid, NoLock);
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

	fdw_private = list_make5(retrieved_attrs,
							 list_make3(makeString(pstrdup(order_by ? order_by : "")),
										makeString(pstrdup(order ? order : "")),
										makeString(pstrdup(q.store_keyword ? q.store_keyword : ""))),
							 makeInteger((int) limit),
							 q.project_array,
							 bounds_info);
	fdw_private = lappend(fdw_private, rechecked);

	return make_foreignscan(tlist, local_exprs, baserel->relid, fdw_exprs,
							fdw_private, NIL, NIL, outer_plan);
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
	List	   *request;
	List	   *bounds_info;
	BlsScanState *st;
	ListCell   *lc;
	int			nproject;
	int			limit;
	int			i = 0;

	st = palloc0(sizeof(BlsScanState));
	node->fdw_state = st;
	st->rel = node->ss.ss_currentRelation;

	/* options are checked even for EXPLAIN, so mistakes show early */
	st->opts = bls_get_options(RelationGetRelid(st->rel), userid, true);
	bls_map_fields(st->rel, st->attnos);

	request = (List *) list_nth(fsplan->fdw_private, BlsPrivateRequest);
	st->order_by = strVal(linitial(request))[0] ? strVal(linitial(request)) : NULL;
	st->order = strVal(lsecond(request))[0] ? strVal(lsecond(request)) : NULL;
	st->store_keyword = strVal(lthird(request))[0] ? strVal(lthird(request)) : NULL;
	limit = intVal(list_nth(fsplan->fdw_private, BlsPrivateLimit));
	st->page_size = st->opts->page_size;
	if (limit > 0 && limit < st->page_size)
		st->page_size = limit;
	st->limit = Max(limit, 0);
	st->readahead = st->opts->readahead;
	/* a LIMIT above local conditions may need just one page: stay lazy */
	st->lazy = (limit < 0);

	/* fdw_exprs: the project values, then the bounds */
	st->project_array = (List *) list_nth(fsplan->fdw_private, BlsPrivateProjectArray);
	nproject = list_length(st->project_array);
	bounds_info = (List *) list_nth(fsplan->fdw_private, BlsPrivateBounds);
	st->nbounds = list_length(bounds_info) / 4;
	st->bounds = palloc0(sizeof(BlsScanBound) * Max(st->nbounds, 1));
	foreach(lc, fsplan->fdw_exprs)
	{
		ExprState  *expr = ExecInitExpr((Expr *) lfirst(lc), (PlanState *) node);
		int			idx = foreach_current_index(lc);

		if (idx < nproject)
			st->project_exprs = lappend(st->project_exprs, expr);
		else
		{
			BlsScanBound *b = &st->bounds[idx - nproject];
			int			base = (idx - nproject) * 4;

			b->field = list_nth_int(bounds_info, base);
			b->lower = list_nth_int(bounds_info, base + 1);
			b->strict = list_nth_int(bounds_info, base + 2);
			b->stops = list_nth_int(bounds_info, base + 3);
			b->expr = expr;
			/* a time bound may end the scan on any page: stay lazy */
			if (b->stops)
				st->lazy = true;
		}
	}

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	retrieved_attrs = (List *) list_nth(fsplan->fdw_private,
										BlsPrivateRetrievedAttrs);
	st->ncols = list_length(retrieved_attrs);
	st->cols = palloc0(sizeof(BlsColumn) * Max(st->ncols, 1));
	foreach(lc, retrieved_attrs)
		bls_init_column(&st->cols[i++], st->rel, lfirst_int(lc));
	st->uuid_key = bls_init_fields(&st->fields, st->cols, st->ncols);

	st->scan_cxt = AllocSetContextCreate(estate->es_query_cxt,
										 "bls_fdw scan", ALLOCSET_SMALL_SIZES);
	st->page_cxt[0] = AllocSetContextCreate(estate->es_query_cxt,
											"bls_fdw page", ALLOCSET_DEFAULT_SIZES);
	st->page_cxt[1] = AllocSetContextCreate(estate->es_query_cxt,
											"bls_fdw page", ALLOCSET_DEFAULT_SIZES);
	st->row_cxt = AllocSetContextCreate(estate->es_query_cxt,
										"bls_fdw row", ALLOCSET_SMALL_SIZES);

	/*
	 * A scan that may be re-scanned with the same values keeps its rows: the
	 * inner side of a join (parameterized or told to rewind).
	 */
	if ((eflags & EXEC_FLAG_REWIND) || fsplan->fdw_exprs != NIL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(estate->es_query_cxt);

		st->cache = tuplestore_begin_heap(false, false, work_mem);
		st->cache_slot = MakeSingleTupleTableSlot(RelationGetDescr(st->rel),
												  &TTSOpsMinimalTuple);
		MemoryContextSwitchTo(oldcxt);
	}
}

/*
 * Remember the uuids of the current page's tasks, to recognize them if they
 * shift onto the next page.  A hash set: a sorted array cost a dozen string comparisons a
 * row, measurably.
 */
static void
remember_uuids(BlsScanState *st)
{
	uint32		size = 16;

	st->prev_uuids = NULL;
	st->prev_mask = 0;
	if (st->npage_uuids == 0)
		return;
	while (size < (uint32) st->npage_uuids * 2)
		size <<= 1;
	st->prev_uuids = palloc0(sizeof(BlsUuidSlot) * size);
	st->prev_mask = size - 1;
	for (int i = 0; i < st->npage_uuids; i++)
	{
		const char *u = st->page_uuids[i];
		uint32		h = hash_bytes((const unsigned char *) u, strlen(u));
		uint32		j;

		for (j = h & st->prev_mask; st->prev_uuids[j].uuid != NULL;
			 j = (j + 1) & st->prev_mask)
			;
		st->prev_uuids[j].uuid = pstrdup(u);
		st->prev_uuids[j].hash = h;
	}
}

/* Was uuid on the previous page? */
static bool
seen_before(BlsScanState *st, const char *uuid)
{
	uint32		h;

	if (st->prev_mask == 0)
		return false;
	h = hash_bytes((const unsigned char *) uuid, strlen(uuid));
	for (uint32 j = h & st->prev_mask; st->prev_uuids[j].uuid != NULL;
		 j = (j + 1) & st->prev_mask)
		if (st->prev_uuids[j].hash == h && strcmp(st->prev_uuids[j].uuid, uuid) == 0)
			return true;
	return false;
}

static int
string_compare(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

/*
 * The set of project values one project expression allows: its value, or
 * the non-null elements of its array.  Allocated in the current context.
 */
static List *
project_values(ExprState *expr, bool is_array, ExprContext *econtext)
{
	bool		isnull;
	Datum		value = ExecEvalExpr(expr, econtext, &isnull);
	List	   *result = NIL;

	if (isnull)
		return NIL;
	if (!is_array)
		return list_make1(TextDatumGetCString(value));
	else
	{
		ArrayType  *arr = DatumGetArrayTypeP(value);
		int16		typlen;
		bool		typbyval;
		char		typalign;
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
		deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign,
						  &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
			if (!nulls[i])
				result = lappend(result, TextDatumGetCString(elems[i]));
	}
	return result;
}

/*
 * Compute this execution's request values: the project values (one request
 * sequence each; several conditions intersect, a contradiction leaves none)
 * and the bounds.  Returns true if they equal the previous execution's.
 */
static bool
compute_values(ForeignScanState *node, BlsScanState *st)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	MemoryContext oldcxt;
	List	   *projects = NIL;
	bool		filter = st->project_exprs != NIL;
	bool		same;
	ListCell   *lc;
	ListCell   *kc;

	ResetExprContext(econtext);
	oldcxt = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	forboth(lc, st->project_exprs, kc, st->project_array)
	{
		List	   *values = project_values((ExprState *) lfirst(lc),
											lfirst_int(kc) != 0, econtext);

		if (foreach_current_index(lc) == 0)
			projects = values;
		else
		{
			List	   *both = NIL;
			ListCell   *a;
			ListCell   *b;

			foreach(a, projects)
				foreach(b, values)
					if (strcmp(lfirst(a), lfirst(b)) == 0)
					{
						both = lappend(both, lfirst(a));
						break;
					}
			projects = both;
		}
	}
	list_sort(projects, string_compare);

	/* is it what the previous execution used? */
	same = st->have_values && filter == st->filter_project &&
		list_length(projects) == list_length(st->projects);
	if (same)
		forboth(lc, projects, kc, st->projects)
			if (strcmp(lfirst(lc), lfirst(kc)) != 0)
				same = false;
	for (int i = 0; i < st->nbounds; i++)
	{
		BlsScanBound *b = &st->bounds[i];
		bool		isnull;
		Datum		value = ExecEvalExpr(b->expr, econtext, &isnull);

		if (!st->have_values || isnull != b->isnull ||
			(!isnull && DatumGetTimestampTz(value) != DatumGetTimestampTz(b->value)))
			same = false;
		b->value = value;		/* timestamptz is pass-by-value */
		b->isnull = isnull;
	}
	MemoryContextSwitchTo(oldcxt);
	if (same)
		return true;

	/* keep distinct values in the scan's context */
	MemoryContextReset(st->scan_cxt);
	oldcxt = MemoryContextSwitchTo(st->scan_cxt);
	st->projects = NIL;
	foreach(lc, projects)
		if (st->projects == NIL ||
			strcmp(llast(st->projects), lfirst(lc)) != 0)
			st->projects = lappend(st->projects, pstrdup(lfirst(lc)));
	MemoryContextSwitchTo(oldcxt);
	st->filter_project = filter;
	st->nsequences = filter ? list_length(st->projects) : 1;
	st->have_values = true;
	return false;
}

/* Stop the requests read ahead. */
static void
cancel_pending(BlsScanState *st)
{
	for (int i = 0; i < st->npending; i++)
		bls_request_release(st->conn, st->pending_slot[i]);
	st->npending = 0;
}

/* Forget the current request sequence's pages. */
static void
reset_paging(BlsScanState *st)
{
	cancel_pending(st);
	MemoryContextReset(st->page_cxt[0]);
	MemoryContextReset(st->page_cxt[1]);
	st->page = NULL;
	st->prev_uuids = NULL;
	st->prev_mask = 0;
	st->page_uuids = NULL;
	st->npage_uuids = 0;
	st->next_task = 0;
	st->page_no = 0;
	st->last_page = false;
}

/* Start over: the first sequence, nothing returned yet. */
static void
restart_scan(BlsScanState *st)
{
	reset_paging(st);
	st->seq = 0;
	st->finished = st->nsequences == 0;
	if (st->nsequences > 0)
		st->sequences++;
	if (st->cache)
		tuplestore_clear(st->cache);
	st->replaying = false;
}

/* Move on to the next request sequence, if any. */
static void
next_sequence(BlsScanState *st)
{
	reset_paging(st);
	st->seq++;
	if (st->seq >= st->nsequences)
		st->finished = true;
	else
		st->sequences++;
}

/* The JSON body asking for page_no of the current sequence, palloc'd. */
static char *
request_body(BlsScanState *st, int page_no, size_t *len)
{
	BlsListRequest req = {0};

	req.project = st->filter_project ? list_nth(st->projects, st->seq) : NULL;
	req.log_store_name = st->store_keyword;
	req.order_by = st->order_by;
	req.order = st->order;
	req.page_no = page_no;
	req.page_size = st->page_size;
	return bls_list_body(&req, len);
}

/*
 * Request the pages after the current one that the scan will read: up to
 * readahead of them (fewer for pages so large that more would hold over
 * BLS_READAHEAD_BYTES), none past the last page that total implies nor past
 * what a pushed LIMIT needs.  They are collected in order by
 * fetch_next_page(), so rows still come in page order.
 */
static void
read_ahead(BlsScanState *st, int page_size, int64 total, size_t page_bytes)
{
	int64		last;
	int			window = st->readahead;

	if (st->readahead == 0 || st->lazy || total < 0)
		return;
	/* large pages: keep about BLS_READAHEAD_BYTES in flight, at least one */
	if (page_bytes > 0)
		window = Min(window, Max(1, (int) (BLS_READAHEAD_BYTES / page_bytes)));
	last = (total + page_size - 1) / page_size;
	if (st->limit > 0)
		last = Min(last, ((int64) st->limit + page_size - 1) / page_size);

	while (st->npending < window &&
		   st->page_no + st->npending + 1 <= last)
	{
		size_t		len;
		char	   *body = request_body(st, st->page_no + st->npending + 1, &len);
		int			slot = bls_request_start(st->conn, st->opts, body, len,
											 &st->stats, true);

		pfree(body);
		if (slot < 0)
			break;				/* every transfer is busy: read lazily */
		st->pending_slot[st->npending++] = slot;
	}
}

/*
 * Fetch the page after the current one into the other page context, after
 * copying the current page's uuids there and freeing the current page.
 */
static void
fetch_next_page(BlsScanState *st)
{
	int			next = 1 - st->cur;
	MemoryContext cxt = st->page_cxt[next];
	MemoryContext oldcxt;
	MemoryContextCallback *cb;
	BlsResponse resp;
	BlsParseStatus status;
	BlsPage    *page;
	char	   *body;
	size_t		bodylen;
	int			page_no;
	int			slot;
	int			page_size;
	int64		prev_total;
	bool		have_prev;

	MemoryContextReset(cxt);
	oldcxt = MemoryContextSwitchTo(cxt);

	/*
	 * Remember what the current page returned, to skip it if it shifts, and
	 * free its document now: only one page is held at a time.
	 */
	remember_uuids(st);
	prev_total = st->page ? st->page->total : -1;
	have_prev = st->page != NULL;
	st->page = NULL;
	MemoryContextReset(st->page_cxt[st->cur]);

	if (st->conn == NULL)
		st->conn = bls_get_connection(st->opts);

	/* the json-c document is freed when this context is reset or deleted */
	page = palloc0(sizeof(BlsPage));
	cb = palloc(sizeof(MemoryContextCallback));
	cb->func = free_page_callback;
	cb->arg = page;
	MemoryContextRegisterResetCallback(cxt, cb);

	page_no = st->page_no + 1;
	for (;;)
	{
		/* the page may have been requested ahead already */
		bool		ahead = st->npending > 0;

		if (ahead)
		{
			slot = st->pending_slot[0];
			st->npending--;
			memmove(&st->pending_slot[0], &st->pending_slot[1],
					sizeof(int) * st->npending);
		}
		else
		{
			body = request_body(st, page_no, &bodylen);
			slot = bls_request_start(st->conn, st->opts, body, bodylen,
									 &st->stats, false);
		}
		bls_request_wait(st->conn, slot, &resp);

		status = bls_page_parse(resp.body, resp.len, page);
		/* the document is parsed: the response buffer can go */
		bls_request_release(st->conn, slot);
		if (status != BLS_PARSE_OK)
			bls_report_page_error(status, page, &resp, st->opts);

		/*
		 * A page read ahead while the list changed (its total differs from
		 * the page before) may not line up with that page: tasks could fall
		 * between the two.  Drop what was read ahead and ask again, now; a
		 * page asked for after the one before can only repeat tasks, which
		 * are skipped.
		 */
		if (ahead && have_prev && page->total != prev_total)
		{
			cancel_pending(st);
			bls_page_free(page);
			st->refetched++;
			continue;
		}
		break;
	}
	if (page->page_no != 0 && page->page_no != page_no)
	{
		BlsPage		bad = *page;

		snprintf(bad.error, sizeof(bad.error),
				 "Page %d was requested but page %d was returned.",
				 page_no, page->page_no);
		bls_report_page_error(BLS_PARSE_BAD_FIELD, &bad, &resp, st->opts);
	}

	st->stats.pages++;
	st->stats.rows += page->ntasks;
	bls_stat_add(st->opts->serverid, BLS_STAT_PAGES, 1);
	bls_stat_add(st->opts->serverid, BLS_STAT_ROWS, page->ntasks);
	st->page_no = page_no;
	st->page = page;
	st->cur = next;
	st->next_task = 0;
	st->page_uuids = palloc(sizeof(char *) * Max(page->ntasks, 1));
	st->npage_uuids = 0;
	strlcpy(st->page_request_id, resp.request_id, sizeof(st->page_request_id));

	/* the service may serve fewer per page than asked: it says how many */
	page_size = page->page_size > 0 ? page->page_size : st->page_size;
	st->last_page = page->ntasks == 0 || page->ntasks < page_size ||
		(page->total >= 0 && (int64) st->page_no * page_size >= page->total);

	MemoryContextSwitchTo(oldcxt);

	if (!st->last_page)
		read_ahead(st, page_size, page->total, resp.len);
}

/*
 * Read the next task not returned before into st->fields; false when all
 * sequences are done.
 */
static bool
next_task(BlsScanState *st)
{
	for (;;)
	{
		const BlsValue *uuid;

		if (st->finished)
			return false;
		if (st->page == NULL || st->next_task >= st->page->ntasks)
		{
			if (st->page != NULL && st->last_page)
				next_sequence(st);
			else
				fetch_next_page(st);
			continue;
		}

		if (!bls_page_read_task(st->page, st->next_task, &st->fields))
		{
			BlsResponse resp = {0};

			strlcpy(resp.request_id, st->page_request_id, sizeof(resp.request_id));
			bls_report_page_error(BLS_PARSE_NOT_JSON, st->page, &resp, st->opts);
		}
		uuid = &st->fields.values[st->uuid_key];
		if (uuid->type == BLS_JSON_STRING)
		{
			/* as a C string: one with a NUL in it ends there */
			char	   *copy = MemoryContextAlloc(st->page_cxt[st->cur],
												  uuid->len + 1);

			memcpy(copy, uuid->str, uuid->len);
			copy[uuid->len] = '\0';
			st->page_uuids[st->npage_uuids++] = copy;
			if (seen_before(st, copy))
			{
				st->next_task++;
				st->duplicates++;
				continue;
			}
		}
		return true;
	}
}

/*
 * Is this row past a bound that the request's order makes final?  Every
 * later task of the sequence is further past it, so none can match.
 */
static bool
past_bound(BlsScanState *st, TupleTableSlot *slot)
{
	for (int i = 0; i < st->nbounds; i++)
	{
		BlsScanBound *b = &st->bounds[i];
		AttrNumber	attno = st->attnos[b->field];
		TimestampTz v;
		TimestampTz bound;

		if (!b->stops || b->isnull || slot->tts_isnull[attno - 1])
			continue;
		v = DatumGetTimestampTz(slot->tts_values[attno - 1]);
		bound = DatumGetTimestampTz(b->value);
		if (b->lower ? (b->strict ? v <= bound : v < bound)
			: (b->strict ? v >= bound : v > bound))
			return true;
	}
	return false;
}

static TupleTableSlot *
blsIterateForeignScan(ForeignScanState *node)
{
	BlsScanState *st = (BlsScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	MemoryContext oldcxt;

	if (!st->started)
	{
		/* a re-scan with the same values replays what was returned */
		if (compute_values(node, st) && st->cache)
		{
			tuplestore_rescan(st->cache);
			st->replaying = true;
		}
		else
			restart_scan(st);
		st->started = true;
	}
	if (st->replaying)
	{
		if (tuplestore_gettupleslot(st->cache, true, false, st->cache_slot))
			return ExecCopySlot(slot, st->cache_slot);
		/* then go on where the previous execution stopped */
		st->replaying = false;
	}

	for (;;)
	{
		ExecClearTuple(slot);
		MemoryContextReset(st->row_cxt);
		if (!next_task(st))
			return slot;

		oldcxt = MemoryContextSwitchTo(st->row_cxt);
		memset(slot->tts_isnull, true,
			   sizeof(bool) * slot->tts_tupleDescriptor->natts);
		bls_store_task(st->cols, st->ncols, &st->fields, st->uuid_key,
					   st->next_task, st->page_no,
					   slot->tts_values, slot->tts_isnull);
		MemoryContextSwitchTo(oldcxt);
		st->next_task++;

		if (st->nbounds > 0 && past_bound(st, slot))
		{
			next_sequence(st);
			continue;
		}
		ExecStoreVirtualTuple(slot);
		if (st->cache)
			tuplestore_puttupleslot(st->cache, slot);
		return slot;
	}
}

/*
 * A re-scan computes its values again at the first row: new values list
 * afresh, the same ones replay the rows already returned (when kept).
 */
static void
blsReScanForeignScan(ForeignScanState *node)
{
	BlsScanState *st = (BlsScanState *) node->fdw_state;

	st->started = false;
}

static void
blsEndForeignScan(ForeignScanState *node)
{
	BlsScanState *st = (BlsScanState *) node->fdw_state;

	if (st == NULL || st->row_cxt == NULL)
		return;
	/* nothing is fetched once the executor stops asking */
	cancel_pending(st);
	/* free the json-c documents now rather than at the end of the query */
	MemoryContextDelete(st->page_cxt[0]);
	MemoryContextDelete(st->page_cxt[1]);
	MemoryContextDelete(st->row_cxt);
	if (st->cache)
	{
		tuplestore_end(st->cache);
		ExecDropSingleTupleTableSlot(st->cache_slot);
	}
	st->cache = NULL;
	st->page = NULL;
	st->row_cxt = NULL;
}

static void
blsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	BlsScanState *st = (BlsScanState *) node->fdw_state;
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;

	if (es->verbose)
	{
		BlsListRequest req = {0};
		List	   *rechecked;
		char	   *body;
		size_t		len;
		ListCell   *lc;
		ListCell   *kc;
		int			nproject = list_length(st->project_array);
		StringInfoData buf;

		/* the first request, as far as it is known before the scan runs */
		if (st->started && st->filter_project && st->projects != NIL)
			req.project = linitial(st->projects);
		else if (nproject == 1 && linitial_int(st->project_array) == 0 &&
				 IsA(linitial(fsplan->fdw_exprs), Const) &&
				 !((Const *) linitial(fsplan->fdw_exprs))->constisnull)
			req.project = TextDatumGetCString(((Const *) linitial(fsplan->fdw_exprs))->constvalue);
		req.log_store_name = st->store_keyword;
		req.order_by = st->order_by;
		req.order = st->order;
		req.page_no = 1;
		req.page_size = st->page_size;
		body = bls_request_body(&req, &len);
		if (body)
		{
			char	   *s = psprintf("POST %s %s", BLS_LIST_PATH, body);

			free(body);
			ExplainPropertyText("BLS Request", s, es);
		}

		/* what the request enforces, narrows, and where it may stop */
		initStringInfo(&buf);
		forboth(lc, fsplan->fdw_exprs, kc, st->project_array)
		{
			appendStringInfo(&buf, "%s(%s = %s%s%s)", buf.len ? " AND " : "",
							 quote_identifier(get_attname(RelationGetRelid(st->rel),
														  st->attnos[BLS_FIELD_PROJECT],
														  false)),
							 lfirst_int(kc) ? "ANY (" : "",
							 deparse_expression(lfirst(lc), es->deparse_cxt, true, false),
							 lfirst_int(kc) ? ")" : "");
		}
		if (buf.len)
			ExplainPropertyText("BLS Pushed Conditions", buf.data, es);

		resetStringInfo(&buf);
		rechecked = (List *) list_nth(fsplan->fdw_private, BlsPrivateRechecked);
		foreach(lc, rechecked)
			appendStringInfo(&buf, "%s%s", buf.len ? " AND " : "", strVal(lfirst(lc)));
		if (buf.len)
			ExplainPropertyText("BLS Rechecked Conditions", buf.data, es);

		resetStringInfo(&buf);
		for (int i = 0; i < st->nbounds; i++)
		{
			BlsScanBound *b = &st->bounds[i];

			if (!b->stops)
				continue;
			appendStringInfo(&buf, "%s%s %s %s", buf.len ? ", " : "",
							 quote_identifier(get_attname(RelationGetRelid(st->rel),
														  st->attnos[b->field], false)),
							 b->lower ? (b->strict ? "<=" : "<") : (b->strict ? ">=" : ">"),
							 deparse_expression((Node *) list_nth(fsplan->fdw_exprs, nproject + i),
												es->deparse_cxt, true, false));
		}
		if (buf.len)
			ExplainPropertyText("BLS Stops At", buf.data, es);
	}
	if (es->analyze && st->row_cxt != NULL)
	{
		ExplainPropertyInteger("BLS Request Sequences", NULL, st->sequences, es);
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
