/*-------------------------------------------------------------------------
 *
 * bls_fdw.c
 *		  Foreign data wrapper for Baidu AI Cloud Log Service (BLS): the
 *		  handler, the planner and executor callbacks, EXPLAIN and IMPORT
 *		  FOREIGN SCHEMA.
 *
 * The planner decides what the request carries (pushdown.c) and writes it
 * down once, as a BlsScanRequest (scan_request.c): the filters' values,
 * fuzzy keywords, the order, a page size shrunk to a pushed LIMIT, and time
 * bounds that can end a request sequence early.
 *
 * A scan computes its filters' values at the first row, as one request
 * sequence per distinct combination, and reads each through a pager
 * (pager.c), which pages lazily, reads ahead, skips items shifted from the
 * previous page, and owns its requests: they are stopped when the scan's
 * memory goes, however it goes.  Rows are kept in a tuplestore only when a
 * re-scan with the same values can happen (EXEC_FLAG_REWIND, or values
 * that come from executor parameters); otherwise they stream.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/xact.h"
#include "commands/explain.h"
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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/rel.h"

#include "bls_modules.h"
#include "pg_compat.h"
#include "json_body.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * _PG_init
 *		The settings of the modules that have some.
 */
void
_PG_init(void)
{
	bls_pager_define_gucs();
	bls_aggregate_init();
	MarkGUCPrefixReserved("bls_fdw");
}

/* Planner cost of one round trip to the service, like postgres_fdw's fdw_startup_cost. */
#define BLS_REQUEST_COST		100.0
/* Planner cost of receiving, parsing and converting one item. */
#define BLS_ROW_COST			0.05

/*
 * Planner state of a relation, in RelOptInfo.fdw_private.
 */
typedef struct BlsRelInfo
{
	BlsOptions *opts;
	BlsRelMap	map;			/* the columns' JSON keys */
	BlsQuals	quals;			/* baserestrictinfo, classified */
	double		fetched;		/* items the requests return */
	int64		limit_hint;		/* LIMIT + OFFSET, or -1 */
	List	   *echo_joined;	/* BlsFilterDefs of the columns that show the
								 * value sent, compared in a join */
} BlsRelInfo;

/* A bound evaluated for a scan. */
typedef struct BlsScanBound
{
	BlsPlanBound *plan;
	ExprState  *expr;
	Datum		value;
	bool		isnull;
} BlsScanBound;

/* Execution state of one foreign scan. */
typedef struct BlsScanState
{
	Relation	rel;
	BlsOptions *opts;
	BlsScanRequest *req;		/* what the plan says to send */

	BlsColumn  *cols;			/* the columns to fill in */
	int			ncols;
	BlsFields	fields;			/* their fields, and the current item's */
	int			id_keys[2];		/* the resource's id fields in fields */

	List	   *filter_exprs;	/* ExprStates, one per req->filters */
	int			nbounds;
	BlsScanBound *bounds;
	int			page_size;		/* page_size option, or less for a LIMIT */
	bool		lazy;			/* read nothing ahead (LIMIT, time bound) */

	/* this execution's request sequences, in values_cxt */
	MemoryContext scan_cxt;		/* the pager's and values_cxt's parent */
	MemoryContext values_cxt;
	bool		have_values;	/* sequences and bounds are computed */
	bool		started;		/* this execution has computed them */
	List	   *sequences;		/* BlsParam arrays */
	int			nparams;
	BlsParam	window[2];		/* the time window, for a resource that has
								 * one (see compute_window()) */
	BlsParam   *params;			/* the current sequence's, with the window */
	int			seq;			/* current sequence */
	bool		in_sequence;	/* the pager reads sequence seq */
	bool		finished;		/* every sequence is done */
	BlsPager   *pager;			/* created at the first request */
	char	   *path_param;		/* the parameter the path names, or NULL */

	/*
	 * Rows already returned, kept when the scan may be re-scanned with the
	 * same values, so that a re-scan replays them instead of repeating
	 * requests.
	 */
	Tuplestorestate *cache;
	TupleTableSlot *cache_slot; /* to read the cache back */
	bool		read_all;		/* fill the cache before the first row */
	MemoryContext cache_cxt;	/* the query's: a tuple read back from disk
								 * must outlive the per-tuple context */
	bool		replaying;

	MemoryContext row_cxt;		/* reset for every row */
	MemoryContext echo_cxt;		/* the columns' echoed values, reset for
								 * every sequence (bls_echo_reset()) */
	BlsScanStats stats;
	CommandId	output_cid;		/* the statement's, if it writes: its own
								 * creates are skipped (own_create()) */
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

	routine->IsForeignRelUpdatable = blsIsForeignRelUpdatable;
	routine->AddForeignUpdateTargets = blsAddForeignUpdateTargets;
	routine->PlanForeignModify = blsPlanForeignModify;
	routine->BeginForeignModify = blsBeginForeignModify;
	routine->ExecForeignInsert = blsExecForeignInsert;
	routine->ExecForeignBatchInsert = blsExecForeignBatchInsert;
	routine->GetForeignModifyBatchSize = blsGetForeignModifyBatchSize;
	routine->ExecForeignDelete = blsExecForeignDelete;
	routine->EndForeignModify = blsEndForeignModify;
	routine->ExplainForeignModify = blsExplainForeignModify;
	routine->PlanDirectModify = blsPlanDirectModify;
	routine->BeginDirectModify = blsBeginDirectModify;
	routine->IterateDirectModify = blsIterateDirectModify;
	routine->EndDirectModify = blsEndDirectModify;
	routine->ExplainDirectModify = blsExplainDirectModify;
	routine->BeginForeignInsert = blsBeginForeignInsert;
	routine->EndForeignInsert = blsEndForeignInsert;
	routine->ImportForeignSchema = blsImportForeignSchema;

	PG_RETURN_POINTER(routine);
}

/*
 * The value set of a filter expression known before the scan runs (a
 * Const), or false: for remote estimates and EXPLAIN.
 */
static bool
const_bls_text_values(Expr *expr, bool is_array, List **values)
{
	Node	   *node = (Node *) expr;

	while (IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (!IsA(node, Const))
		return false;
	*values = bls_text_values(((Const *) node)->constvalue,
							  ((Const *) node)->constisnull, is_array,
							  ((Const *) node)->consttype);
	return true;
}

/*
 * Ask the service how many items match the planner's exact filters (the
 * "total" of a one-item page), for use_remote_estimate; -1 if the filters
 * are not all constants of one request sequence.
 */
static double
remote_total(BlsOptions *opts, const BlsRelMap *map, const BlsQuals *quals)
{
	BlsScanRequest req = {0};
	List	   *sets = NIL;
	List	   *seqs;
	ListCell   *lc;
	BlsScanStats stats = {0};
	BlsPager   *pg;
	BlsListRequest lr = {0};
	BlsPage    *page;
	volatile double total;		/* set within PG_TRY */

	req.resource = map->resource;
	if (map->resource->paging != BLS_PAGING_NUMBER)
		return -1;				/* no total to ask for */
	foreach(lc, quals->filters)
	{
		BlsFilterQual *f = (BlsFilterQual *) lfirst(lc);
		BlsPlanFilter *pf = palloc0(sizeof(BlsPlanFilter));
		List	   *values;

		if (!const_bls_text_values(f->value, f->is_array, &values))
			return -1;
		pf->param = (char *) f->def->param;
		req.filters = lappend(req.filters, pf);
		sets = lappend(sets, values);
	}
	seqs = bls_request_sequences(&req, sets, &lr.nparams);
	if (list_length(seqs) > 1)
		return -1;
	if (seqs == NIL)
		return 0;				/* a contradiction */

	lr.params = linitial(seqs);
	lr.page_no = 1;
	lr.page_size = 1;
	pg = bls_pager_create(CurrentMemoryContext, opts, map->resource, &stats);
	PG_TRY();
	{
		page = bls_pager_fetch(pg, &lr);
		total = page->total >= 0 ? (double) page->total : (double) page->nitems;
	}
	PG_FINALLY();
	{
		bls_pager_destroy(pg);
	}
	PG_END_TRY();
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
	double		remote = -1;
	Selectivity other_sel;

	baserel->fdw_private = fpinfo;
	fpinfo->limit_hint = -1;

	/* keys are needed only to ask the service for an estimate */
	fpinfo->opts = bls_get_options(foreigntableid, userid, false);
	if (fpinfo->opts->use_remote_estimate)
		fpinfo->opts = bls_get_options(foreigntableid, userid, true);

	rel = table_open(foreigntableid, NoLock);
	bls_map_relation(rel, fpinfo->opts->resource, &fpinfo->map);
	table_close(rel, NoLock);

	foreach(lc, baserel->baserestrictinfo)
		bls_classify_clause(root, baserel->relid, &fpinfo->map,
							lfirst_node(RestrictInfo, lc), &fpinfo->quals);
	bls_settle_lookup(fpinfo->map.resource, &fpinfo->quals);

	other_sel = clauselist_selectivity(root, fpinfo->quals.local,
									   baserel->relid, JOIN_INNER, NULL);
	if (fpinfo->opts->use_remote_estimate)
		remote = remote_total(fpinfo->opts, &fpinfo->map, &fpinfo->quals);
	if (remote >= 0)
	{
		/* the service applies the filters and returns the rest */
		fpinfo->fetched = remote;
		tuples = remote;
		if (fpinfo->quals.filters == NIL)
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
 * The condition a scan of res cannot do without and quals lack, as the
 * column it is on, or NULL: the value of the parameter res's path names,
 * and a lower bound on its time window.
 */
static const char *
missing_condition(const BlsResource *res, const BlsQuals *quals,
				  bool *is_bound)
{
	char	   *path_param = bls_resource_path_param(res);
	ListCell   *lc;

	*is_bound = false;
	if (path_param)
	{
		bool		found = false;

		foreach(lc, quals->filters)
			if (strcmp(((BlsFilterQual *) lfirst(lc))->def->param, path_param) == 0)
				found = true;
		if (!found)
			return path_param;
	}
	if (res->window_field)
	{
		foreach(lc, quals->bounds)
			if (((BlsBound *) lfirst(lc))->lower)
				return NULL;
		*is_bound = true;
		return res->window_field;
	}
	return NULL;
}

/*
 * Cost of a scan that receives fetched items: a round trip per page (fewer
 * when a time bound ends the scan early), parsing and local conditions per
 * item.
 */
static void
estimate_costs(PlannerInfo *root, RelOptInfo *baserel, BlsRelInfo *fpinfo,
			   double fetched, List *local, Cost *startup, Cost *total)
{
	QualCost	qcost;
	double		pages;
	ListCell   *lc;

	/* a lower bound in the service's default order stops the scan early */
	foreach(lc, fpinfo->quals.bounds)
	{
		BlsBound   *b = (BlsBound *) lfirst(lc);

		if (b->lower &&
			strcmp(b->sort->order_by, fpinfo->map.resource->default_order_by) == 0)
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

/* Callback for generate_implied_equalities_for_column: an exact filter column. */
static bool
ec_member_is_filter(PlannerInfo *root, RelOptInfo *rel,
					EquivalenceClass *ec, EquivalenceMember *em, void *arg)
{
	BlsRelInfo *fpinfo = (BlsRelInfo *) arg;

	return bls_is_filter_var((Node *) em->em_expr, rel->relid, &fpinfo->map);
}

/*
 * Add to acc (without repeating) the filters whose value the columns of
 * relid in node show as sent (BLS_ECHO_ALWAYS: project, log_store_name,
 * query of log_records).  A condition on such a column is true of the
 * items only if its values are sent; checked locally, it would compare
 * with the default the request sends instead.
 */
static List *
echo_filters(Node *node, Index relid, const BlsRelMap *map, List *acc)
{
	List	   *vars = pull_var_clause(node, PVC_RECURSE_PLACEHOLDERS);
	ListCell   *lc;

	foreach(lc, vars)
	{
		Var		   *var = (Var *) lfirst(lc);
		const BlsFilterDef *def;

		if (!IsA(var, Var) || var->varno != relid || var->varlevelsup != 0 ||
			var->varattno <= 0 || var->varattno > map->natts ||
			map->keys[var->varattno - 1] == NULL)
			continue;
		def = bls_resource_filter(map->resource, map->keys[var->varattno - 1]);
		if (def && def->echo == BLS_ECHO_ALWAYS)
			acc = list_append_unique_ptr(acc, (void *) def);
	}
	return acc;
}

/*
 * The echoed columns compared with other relations by clauses that can
 * restrict this one's rows: join clauses movable to it (not those of an
 * outer join it is the preserved side of) and equivalence classes joining
 * it to others.
 */
static List *
joined_echo_filters(PlannerInfo *root, RelOptInfo *baserel, BlsRelInfo *fpinfo)
{
	List	   *acc = NIL;
	ListCell   *lc;

	foreach(lc, baserel->joininfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (join_clause_is_movable_to(rinfo, baserel))
			acc = echo_filters((Node *) rinfo->clause, baserel->relid,
							   &fpinfo->map, acc);
	}
	foreach(lc, root->eq_classes)
	{
		EquivalenceClass *ec = (EquivalenceClass *) lfirst(lc);
		ListCell   *mc;

		if (ec->ec_has_const || ec->ec_has_volatile ||
			!bms_is_member(baserel->relid, ec->ec_relids) ||
			bms_membership(ec->ec_relids) != BMS_MULTIPLE)
			continue;
		foreach(mc, ec->ec_members)
		{
			EquivalenceMember *em = (EquivalenceMember *) lfirst(mc);

			if (!em->em_is_child)
				acc = echo_filters((Node *) em->em_expr, baserel->relid,
								   &fpinfo->map, acc);
		}
	}
	return acc;
}

/* The first filter of needed whose values quals do not send, or NULL. */
static const BlsFilterDef *
unsent_filter(List *needed, const BlsQuals *quals)
{
	ListCell   *lc;
	ListCell   *fc;

	foreach(lc, needed)
	{
		const BlsFilterDef *def = lfirst(lc);
		bool		sent = false;

		foreach(fc, quals->filters)
			if (strcmp(((BlsFilterQual *) lfirst(fc))->def->param, def->param) == 0)
				sent = true;
		if (!sent)
			return def;
	}
	return NULL;
}

/*
 * Parameterized paths: for join clauses giving a filter column's values
 * (<filter column> = <other relation's value>) or a bound on a time
 * (time >= <other relation's value>), a path per set of outer relations
 * that sends one request sequence per outer row.  Cheap for a few outer
 * rows; the planner prefers one full scan and a hash join for many, unless
 * the full scan cannot answer: it lacks a condition the request needs, or
 * it would show a default in a column a join compares.
 */
static void
add_parameterized_paths(PlannerInfo *root, RelOptInfo *baserel,
						BlsRelInfo *fpinfo)
{
	List	   *clauses = NIL;
	List	   *outers = NIL;
	Relids		all = NULL;
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
																	 ec_member_is_filter,
																	 fpinfo,
																	 baserel->lateral_referencers));

	/* the sets of outer relations that give a value or a bound */
	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		BlsQuals	q = {0};
		Relids		required_outer;
		ListCell   *oc;
		bool		known = false;

		bls_classify_clause(root, baserel->relid, &fpinfo->map, rinfo, &q);
		if (q.filters == NIL && q.bounds == NIL)
			continue;
		required_outer = bms_union(rinfo->clause_relids, baserel->lateral_relids);
		required_outer = bms_del_member(required_outer, baserel->relid);
		if (bms_is_empty(required_outer))
			continue;
		foreach(oc, outers)
			if (bms_equal(lfirst(oc), required_outer))
				known = true;
		if (!known)
			outers = lappend(outers, required_outer);
		all = bms_union(all, required_outer);
	}
	/* and all of them, for conditions given by different relations */
	if (list_length(outers) > 1)
	{
		bool		known = false;

		foreach(lc, outers)
			if (bms_equal(lfirst(lc), all))
				known = true;
		if (!known)
			outers = lappend(outers, all);
	}

	foreach(lc, outers)
	{
		Relids		required_outer = (Relids) lfirst(lc);
		ParamPathInfo *param_info;
		BlsQuals	q = fpinfo->quals;
		double		fetched;
		Cost		startup;
		Cost		total;
		bool		is_bound;
		ListCell   *pc;

		param_info = get_baserel_parampathinfo(root, baserel, required_outer);

		/* what the path sends: the relation's conditions and the join's */
		q.filters = list_copy(q.filters);
		q.keywords = list_copy(q.keywords);
		q.bounds = list_copy(q.bounds);
		q.exact = list_copy(q.exact);
		q.loose = list_copy(q.loose);
		q.local = list_copy(q.local);
		foreach(pc, param_info->ppi_clauses)
			bls_classify_clause(root, baserel->relid, &fpinfo->map,
								lfirst_node(RestrictInfo, pc), &q);

		fetched = clamp_row_est(fpinfo->fetched *
								clauselist_selectivity(root, param_info->ppi_clauses,
													   baserel->relid,
													   JOIN_INNER, NULL));
		estimate_costs(root, baserel, fpinfo, fetched, fpinfo->quals.local,
					   &startup, &total);
		if (missing_condition(fpinfo->map.resource, &q, &is_bound) ||
			unsent_filter(fpinfo->echo_joined, &q))
		{
			startup += disable_cost;
			total += disable_cost;
		}
		add_path(baserel, (Path *)
				 bls_create_foreignscan_path(root, baserel, NULL,
											 param_info->ppi_rows,
											 startup, total, NIL,
											 required_outer, NULL, NIL));
	}
}

/*
 * blsGetForeignPaths
 *		A plain path, a path in the order the query asks for when the
 *		service can sort that way, and parameterized paths for joins on
 *		filter columns.
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

	/*
	 * Without a condition the request needs, or when a join compares a
	 * column that would show a default instead of a value it sends, only a
	 * path parameterized by a join can answer: make the others the last
	 * resort (the plan then reports what is missing).
	 */
	{
		bool		is_bound;

		fpinfo->echo_joined = joined_echo_filters(root, baserel, fpinfo);
		if (missing_condition(fpinfo->map.resource, &fpinfo->quals, &is_bound) ||
			unsent_filter(fpinfo->echo_joined, &fpinfo->quals))
		{
			startup += disable_cost;
			total += disable_cost;
		}
	}
	add_path(baserel, (Path *)
			 bls_create_foreignscan_path(root, baserel, NULL, baserel->rows,
										 startup, total, NIL,
										 baserel->lateral_relids, NULL, NIL));

	/*
	 * The service sorts for free, but only within one request sequence; the
	 * first sort key is enough for an incremental sort of the rest.
	 */
	if (root->query_pathkeys != NIL &&
		bls_single_sequence(fpinfo->map.resource, &fpinfo->quals) &&
		bls_pathkey_order(linitial(root->query_pathkeys), baserel->relid,
						  &fpinfo->map, &order_by, &order))
		add_path(baserel, (Path *)
				 bls_create_foreignscan_path(root, baserel, NULL, baserel->rows,
											 startup, total,
											 list_make1(linitial(root->query_pathkeys)),
											 baserel->lateral_relids, NULL,
											 list_make2(makeString(pstrdup(order_by)),
														makeString(pstrdup(order)))));

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

	/*
	 * Aggregates the service can compute (aggregate.c).  A relation proven
	 * empty (WHERE false) was never sized: no fdw_private, nothing to send.
	 */
	if (stage == UPPERREL_GROUP_AGG)
	{
		fpinfo = (BlsRelInfo *) input_rel->fdw_private;
		if (input_rel->reloptkind == RELOPT_BASEREL && fpinfo != NULL)
			bls_add_aggregate_paths(root, input_rel, output_rel,
									(GroupPathExtraData *) extra,
									&fpinfo->map, &fpinfo->quals);
		return;
	}
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
 * end the scan early.  NULL means the service's default.
 */
static void
choose_order(const BlsResource *res, ForeignPath *best_path, BlsQuals *quals,
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
	/* a window is sent: no order makes the scan stop sooner */
	if (res->window_field)
		return;
	/* a lower bound wants newest first, an upper bound oldest first */
	foreach(lc, quals->bounds)
	{
		BlsBound   *b = (BlsBound *) lfirst(lc);

		if (b->lower)
		{
			*order_by = b->sort->order_by;
			*order = "desc";
			return;
		}
	}
	foreach(lc, quals->bounds)
	{
		BlsBound   *b = (BlsBound *) lfirst(lc);

		*order_by = b->sort->order_by;
		*order = "asc";
		return;
	}
}

/*
 * blsGetForeignPlan
 *		Write down the request of the chosen path: what the request enforces
 *		leaves the local quals, everything else stays.
 */
static ForeignScan *
blsGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
				  Oid foreigntableid, ForeignPath *best_path,
				  List *tlist, List *scan_clauses, Plan *outer_plan)
{
	BlsRelInfo *fpinfo = (BlsRelInfo *) baserel->fdw_private;
	const BlsResource *res = fpinfo->map.resource;
	BlsScanRequest req = {0};
	BlsQuals	q = {0};
	Bitmapset  *attrs = NULL;
	List	   *local_exprs;
	List	   *fdw_exprs;
	List	   *fdw_private;
	const char *order_by;
	const char *order;
	const char *effective_order_by;
	const char *effective_order;
	Relation	rel;
	TupleDesc	tupdesc;
	bool		whole_row;
	ListCell   *lc;

	/* an aggregate the service computes */
	if (IS_UPPER_REL(baserel))
		return bls_aggregate_plan(root, baserel, tlist, outer_plan);

	foreach(lc, scan_clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->pseudoconstant)
			continue;
		bls_classify_clause(root, baserel->relid, &fpinfo->map, rinfo, &q);
	}
	bls_settle_lookup(res, &q);

	/* a request without these cannot be sent */
	{
		bool		is_bound;
		const char *missing = missing_condition(res, &q, &is_bound);
		AttrNumber	attno = missing ? bls_field_attno(&fpinfo->map, missing) : 0;
		const char *column = attno ? get_attname(foreigntableid, attno, false) : missing;

		if (missing && is_bound)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a scan of foreign table \"%s\" needs a lower bound on column \"%s\"",
							get_rel_name(foreigntableid), column),
					 errdetail("BLS searches %ss in a time window, which must have a start.",
							   res->item_name),
					 errhint("Add a condition such as %s >= now() - interval '1 hour'.",
							 quote_identifier(column))));
		if (missing)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a scan of foreign table \"%s\" needs a condition %s = <value>",
							get_rel_name(foreigntableid), quote_identifier(column)),
					 errdetail("BLS reads %ss of one log store at a time; a join can supply it.",
							   res->item_name),
					 errhint("Add a condition such as %s = 'nginx-access'.",
							 quote_identifier(column))));
	}

	/*
	 * A column that shows the value sent is true of the items only if a
	 * value is sent: a condition on it (here, or in a join above) with none
	 * sent would be checked against the default instead.  The paths avoid
	 * that where a join can send the values; what is left cannot be sent.
	 */
	{
		List	   *needed = list_copy(fpinfo->echo_joined);
		const BlsFilterDef *def;

		foreach(lc, q.local)
			needed = echo_filters((Node *) lfirst_node(RestrictInfo, lc)->clause,
								  baserel->relid, &fpinfo->map, needed);
		def = unsent_filter(needed, &q);
		if (def)
		{
			AttrNumber	attno = bls_field_attno(&fpinfo->map, def->field);
			const char *column = get_attname(foreigntableid, attno, false);
			const char *dflt = bls_param_value(res, NULL, 0, def->param);

			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a condition on column \"%s\" of foreign table \"%s\" cannot be sent to BLS",
							column, get_rel_name(foreigntableid)),
					 errdetail("The column shows the value the request sends%s%s%s, so a condition checked locally would compare that instead of the records.",
							   dflt ? " (\"" : "", dflt ? dflt : "", dflt ? "\" when none is)" : ""),
					 errhint("Give the values with = or IN (...), or join on %s with =, so that each is sent.",
							 quote_identifier(column))));
		}
	}

	/*
	 * A window's bounds are sent rounded outward to whole seconds; the scan
	 * checks them exactly itself (and does not count what it drops towards
	 * a LIMIT), so they are not local conditions.
	 */
	if (res->window_field)
	{
		foreach(lc, q.bounds)
		{
			BlsBound   *b = (BlsBound *) lfirst(lc);

			if (!b->exact)
				continue;
			q.local = list_delete_ptr(q.local, b->rinfo);
			req.rechecked = list_append_unique_ptr(req.rechecked,
												   b->rinfo->clause);
		}
	}
	local_exprs = extract_actual_clauses(q.local, false);

	req.resource = res;
	foreach(lc, q.filters)
	{
		BlsFilterQual *f = (BlsFilterQual *) lfirst(lc);
		BlsPlanFilter *pf = palloc0(sizeof(BlsPlanFilter));

		pf->param = (char *) f->def->param;
		pf->attno = bls_field_attno(&fpinfo->map, f->def->field);
		pf->is_array = f->is_array;
		pf->expr = f->value;
		req.filters = lappend(req.filters, pf);
	}
	foreach(lc, q.keywords)
	{
		BlsKeyword *k = (BlsKeyword *) lfirst(lc);

		req.keywords = lappend(req.keywords, k);
		req.keyword_params = lappend(req.keyword_params,
									 makeString((char *) k->def->param));
	}
	foreach(lc, q.loose)
		req.rechecked = lappend(req.rechecked, ((RestrictInfo *) lfirst(lc))->clause);

	choose_order(res, best_path, &q, &order_by, &order);
	req.order_by = (char *) order_by;
	req.order = (char *) order;
	effective_order_by = order_by ? order_by : res->default_order_by;
	effective_order = order ? order : res->default_order;

	foreach(lc, q.bounds)
	{
		BlsBound   *b = (BlsBound *) lfirst(lc);
		BlsPlanBound *pb = palloc0(sizeof(BlsPlanBound));

		pb->field = (char *) b->sort->field;
		pb->attno = b->attno;
		pb->lower = b->lower;
		pb->strict = b->strict;
		/* in this order, the first item past the bound ends the sequence */
		pb->stops = res->window_field == NULL &&
			strcmp(b->sort->order_by, effective_order_by) == 0 &&
			strcmp(effective_order, b->lower ? "desc" : "asc") == 0;
		pb->expr = b->value;
		req.bounds = lappend(req.bounds, pb);
	}

	/*
	 * A LIMIT shrinks the page only when the first rows are the answer;
	 * otherwise -1 tells the executor that few pages may be needed.
	 */
	if (fpinfo->limit_hint > 0 && q.local == NIL &&
		best_path->path.param_info == NULL &&
		(root->query_pathkeys == NIL ||
		 pathkeys_contained_in(root->query_pathkeys, best_path->path.pathkeys)))
		req.limit = (int) Min(fpinfo->limit_hint, PG_INT32_MAX);
	else if (fpinfo->limit_hint > 0)
		req.limit = -1;

	/* fill in only the columns the query reads */
	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	pull_varattnos((Node *) local_exprs, baserel->relid, &attrs);
	/* the scan checks the bounds on the rows it converts */
	foreach(lc, q.bounds)
		pull_varattnos((Node *) ((BlsBound *) lfirst(lc))->rinfo->clause,
					   baserel->relid, &attrs);
	whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs);
	rel = table_open(foreigntableid, NoLock);
	tupdesc = RelationGetDescr(rel);
	for (int i = 1; i <= tupdesc->natts; i++)
	{
		if (TupleDescAttr(tupdesc, i - 1)->attisdropped)
			continue;
		if (whole_row ||
			bms_is_member(i - FirstLowInvalidHeapAttributeNumber, attrs))
			req.retrieved_attrs = lappend_int(req.retrieved_attrs, i);
	}
	table_close(rel, NoLock);

	fdw_private = bls_request_to_private(&req, &fdw_exprs);
	return make_foreignscan(tlist, local_exprs, baserel->relid, fdw_exprs,
							fdw_private, NIL, NIL, outer_plan);
}

/* Does node use an executor parameter (a value from a join's outer side)? */
static bool
uses_exec_param(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		return true;
	return expression_tree_walker(node, uses_exec_param, context);
}

static void
blsBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	Oid			userid = bls_scan_user(fsplan, estate, fsplan->scan.scanrelid);
	BlsScanState *st;
	ListCell   *lc;
	int			nfilters;
	int			i = 0;

	if (fsplan->scan.scanrelid == 0)
	{
		bls_aggregate_begin(node, eflags);
		return;
	}
	st = palloc0(sizeof(BlsScanState));
	node->fdw_state = st;
	st->rel = node->ss.ss_currentRelation;

	/* options are checked even for EXPLAIN, so mistakes show early */
	st->opts = bls_get_options(RelationGetRelid(st->rel), userid, true);
	st->req = bls_request_from_private(fsplan->fdw_private);

	st->page_size = st->opts->page_size;
	if (st->req->limit > 0 && st->req->limit < st->page_size)
		st->page_size = st->req->limit;
	/* a LIMIT above local conditions may need just one page: stay lazy */
	st->lazy = (st->req->limit < 0);

	/* fdw_exprs: the filters' values, then the bounds' */
	nfilters = list_length(st->req->filters);
	st->nbounds = list_length(st->req->bounds);
	st->bounds = palloc0(sizeof(BlsScanBound) * Max(st->nbounds, 1));
	foreach(lc, fsplan->fdw_exprs)
	{
		int			idx = foreach_current_index(lc);
		ExprState  *expr;

		/* the rechecked clauses that follow are for EXPLAIN only */
		if (idx >= nfilters + st->nbounds)
			break;
		expr = ExecInitExpr((Expr *) lfirst(lc), (PlanState *) node);
		if (idx < nfilters)
			st->filter_exprs = lappend(st->filter_exprs, expr);
		else
		{
			BlsScanBound *b = &st->bounds[idx - nfilters];

			b->plan = list_nth(st->req->bounds, idx - nfilters);
			b->expr = expr;
			/* a time bound may end the scan on any page: stay lazy */
			if (b->plan->stops)
				st->lazy = true;
		}
	}

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	st->path_param = bls_resource_path_param(st->req->resource);
	st->ncols = list_length(st->req->retrieved_attrs);
	st->cols = palloc0(sizeof(BlsColumn) * Max(st->ncols, 1));
	foreach(lc, st->req->retrieved_attrs)
		bls_init_column(&st->cols[i++], st->rel, lfirst_int(lc),
						st->req->resource);
	bls_init_fields(&st->fields, st->cols, st->ncols, st->req->resource,
					st->id_keys);

	/* the pager, which owns the requests, goes with scan_cxt */
	st->scan_cxt = AllocSetContextCreate(estate->es_query_cxt,
										 "bls_fdw scan", ALLOCSET_SMALL_SIZES);
	st->values_cxt = AllocSetContextCreate(st->scan_cxt,
										   "bls_fdw values", ALLOCSET_SMALL_SIZES);
	st->row_cxt = AllocSetContextCreate(estate->es_query_cxt,
										"bls_fdw row", ALLOCSET_SMALL_SIZES);
	st->echo_cxt = AllocSetContextCreate(st->scan_cxt, "bls_fdw echoed values",
										 ALLOCSET_SMALL_SIZES);

	/*
	 * Keep the rows only when a re-scan with the same values can happen:
	 * the executor asks for rewinds, or the values come from a join's outer
	 * side and may repeat.  Otherwise they stream.
	 */
	/*
	 * The rows a DELETE removes are read whole first: deleting while paging
	 * by number shifts the later pages, and items would be skipped.
	 */
	st->output_cid = estate->es_output_cid;
	st->read_all = list_member_int(estate->es_plannedstmt->resultRelations,
								   fsplan->scan.scanrelid);
	if ((eflags & EXEC_FLAG_REWIND) || st->read_all ||
		uses_exec_param((Node *) fsplan->fdw_exprs, NULL))
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(estate->es_query_cxt);

		st->cache_cxt = estate->es_query_cxt;
		st->cache = tuplestore_begin_heap(false, false, work_mem);
		st->cache_slot = MakeSingleTupleTableSlot(RelationGetDescr(st->rel),
												  &TTSOpsMinimalTuple);
		MemoryContextSwitchTo(oldcxt);
	}
}

/*
 * The time window of this execution, from the bounds just evaluated, as
 * the resource's window parameters in st->window: from the greatest lower
 * bound to the least upper bound (the instant after an inclusive one), or
 * without one the statement's start, rounded outward to whole seconds and
 * clamped to the times BLS takes (bls_window_text()).  The scan checks the
 * bounds exactly.  False if no item can match: the window is empty, or a
 * bound is NULL.
 */
static bool
compute_window(BlsScanState *st, MemoryContext cxt)
{
	const BlsResource *res = st->req->resource;
	TimestampTz start = DT_NOBEGIN;
	TimestampTz end = DT_NOEND;
	bool		have_end = false;
	char		bufs[2][32];

	for (int i = 0; i < st->nbounds; i++)
	{
		BlsScanBound *b = &st->bounds[i];
		TimestampTz v = DatumGetTimestampTz(b->value);

		if (b->isnull)
			return false;
		if (b->plan->lower)
			start = Max(start, v);
		else
		{
			/* the end is exclusive */
			if (!b->plan->strict && !TIMESTAMP_IS_NOEND(v))
				v++;
			end = Min(end, v);
			have_end = true;
		}
	}
	if (!have_end)
		end = GetCurrentStatementStartTimestamp();
	if (!bls_window_text(start, end, bufs[0], bufs[1]))
		return false;

	st->window[0].key = res->window_start;
	st->window[1].key = res->window_end;
	st->window[0].value = MemoryContextStrdup(cxt, bufs[0]);
	st->window[1].value = MemoryContextStrdup(cxt, bufs[1]);
	return true;
}

/*
 * Compute this execution's request sequences (one per distinct
 * combination of the filters' values; a contradiction leaves none) and the
 * bounds.  Returns true if they equal the previous execution's.
 */
static bool
compute_values(ForeignScanState *node, BlsScanState *st)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	MemoryContext oldcxt;
	List	   *sets = NIL;
	List	   *sequences;
	int			nparams;
	bool		same;
	ListCell   *lc;
	ListCell   *fc;

	ResetExprContext(econtext);
	oldcxt = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	forboth(lc, st->filter_exprs, fc, st->req->filters)
	{
		ExprState  *expr = (ExprState *) lfirst(lc);
		bool		isnull;
		Datum		value = ExecEvalExpr(expr, econtext, &isnull);

		sets = lappend(sets, bls_text_values(value, isnull,
											 ((BlsPlanFilter *) lfirst(fc))->is_array,
											 exprType((Node *) expr->expr)));
	}
	sequences = bls_request_sequences(st->req, sets, &nparams);

	/* is it what the previous execution used? */
	same = st->have_values && nparams == st->nparams &&
		bls_sequences_equal(sequences, st->sequences, nparams);
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

	/* keep them in the scan's values context */
	MemoryContextReset(st->values_cxt);
	oldcxt = MemoryContextSwitchTo(st->values_cxt);
	st->sequences = bls_request_sequences(st->req, sets, &st->nparams);
	/* a sequence's parameters, with the window: once, not per sequence */
	st->params = palloc(sizeof(BlsParam) * (st->nparams + 2));
	MemoryContextSwitchTo(oldcxt);
	/* the path's parameter (the log store) must be a name: check all first */
	if (st->path_param)
		foreach(lc, st->sequences)
			bls_check_log_store_name(bls_param_value(st->req->resource,
													 lfirst(lc), st->nparams,
													 st->path_param));
	if (st->req->resource->window_field &&
		!compute_window(st, st->values_cxt))
		st->sequences = NIL;	/* no item can match */
	st->have_values = true;
	return false;
}

/* Start over: the first sequence, nothing returned yet. */
static void
restart_scan(BlsScanState *st)
{
	if (st->pager)
		bls_pager_end(st->pager);
	st->seq = 0;
	st->in_sequence = false;
	st->finished = st->sequences == NIL;
	if (st->cache)
		tuplestore_clear(st->cache);
	st->replaying = false;
}

/* Move on to the next request sequence, if any. */
static void
next_sequence(BlsScanState *st)
{
	bls_pager_end(st->pager);
	st->in_sequence = false;
	if (++st->seq >= list_length(st->sequences))
		st->finished = true;
}

/*
 * Read the next item not returned before into st->fields; false when all
 * sequences are done.
 */
static bool
next_item(BlsScanState *st)
{
	while (!st->finished)
	{
		if (!st->in_sequence)
		{
			int			n = st->nparams;

			if (st->pager == NULL)
				st->pager = bls_pager_create(st->scan_cxt, st->opts,
											 st->req->resource, &st->stats);
			/* an item two sequences list is returned once */
			if (st->seq == 0)
				bls_pager_begin_scan(st->pager,
									 list_length(st->sequences) > 1);
			/* the sequence's parameters, and the window if there is one */
			memcpy(st->params, list_nth(st->sequences, st->seq),
				   sizeof(BlsParam) * n);
			if (st->req->resource->window_field)
			{
				st->params[n++] = st->window[0];
				st->params[n++] = st->window[1];
			}
			if (st->req->resource->statement_param)
				bls_check_search_statement(bls_param_value(st->req->resource,
														   st->params, n,
														   st->req->resource->statement_param));
			bls_pager_begin(st->pager, st->params, n,
							st->req->order_by, st->req->order,
							st->page_size, Max(st->req->limit, 0), st->lazy);
			/* the echoed columns show this sequence's parameters */
			MemoryContextReset(st->echo_cxt);
			bls_echo_reset(st->cols, st->ncols, st->echo_cxt);
			st->in_sequence = true;
		}
		if (bls_pager_next(st->pager, &st->fields, st->id_keys))
			return true;
		next_sequence(st);
	}
	return false;
}

/* Is the time v on the wrong side of bound b? */
static bool
beyond_bound(const BlsScanBound *b, TimestampTz v)
{
	TimestampTz bound = DatumGetTimestampTz(b->value);

	return b->plan->lower ? (b->plan->strict ? v <= bound : v < bound)
		: (b->plan->strict ? v >= bound : v > bound);
}

/*
 * Does this row meet every bound, exactly?  A row of a time window must
 * have a time: the service found it in the window by its time, so a row
 * without one is a malformed answer, not a row to drop.
 */
static bool
in_window(BlsScanState *st, TupleTableSlot *slot)
{
	for (int i = 0; i < st->nbounds; i++)
	{
		BlsScanBound *b = &st->bounds[i];
		AttrNumber	attno = b->plan->attno;

		if (slot->tts_isnull[attno - 1])
		{
			int			page_no;
			int			index;

			bls_pager_position(st->pager, &page_no, &index);
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
					 errmsg("BLS returned a %s without a time for column \"%s\"",
							st->req->resource->item_name,
							get_attname(RelationGetRelid(st->rel), attno, false)),
					 errdetail("Field \"%s\" of %s %d of page %d is missing, null or empty.",
							   st->req->resource->window_field,
							   st->req->resource->item_name, index + 1, page_no)));
		}
		if (b->isnull ||
			beyond_bound(b, DatumGetTimestampTz(slot->tts_values[attno - 1])))
			return false;
	}
	return true;
}

/*
 * Is this row past a bound that the request's order makes final?  Every
 * later item of the sequence is further past it, so none can match.
 */
static bool
past_bound(BlsScanState *st, TupleTableSlot *slot)
{
	for (int i = 0; i < st->nbounds; i++)
	{
		BlsScanBound *b = &st->bounds[i];
		AttrNumber	attno = b->plan->attno;

		if (!b->plan->stops || b->isnull || slot->tts_isnull[attno - 1])
			continue;
		if (beyond_bound(b, DatumGetTimestampTz(slot->tts_values[attno - 1])))
			return true;
	}
	return false;
}


static TupleTableSlot *next_row(BlsScanState *st, TupleTableSlot *slot);

/* Is node an aggregate the service computes (aggregate.c)? */
static bool
is_aggregate(ForeignScanState *node)
{
	return ((ForeignScan *) node->ss.ps.plan)->scan.scanrelid == 0;
}

/*
 * Did the scan's own statement create this item?  A statement never sees
 * its own creates (INSERT INTO download_tasks SELECT ... FROM
 * download_tasks would otherwise copy its copies): the ledger knows what
 * each command created.
 */
static bool
own_create(BlsScanState *st)
{
	const BlsValue *id;

	/* only tasks are created, and known by their id */
	if (st->output_cid == InvalidCommandId ||
		st->req->resource->lookup_param == NULL)
		return false;
	id = &st->fields.values[st->id_keys[0]];
	return id->type == BLS_JSON_STRING &&
		bls_ledger_created_by(st->output_cid, id->str, id->len);
}

/* Read every row into the cache, to be replayed. */
static void
read_whole_scan(BlsScanState *st, ForeignScanState *node)
{
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	while (!TupIsNull(next_row(st, slot)))
		;
	ExecClearTuple(slot);
	tuplestore_rescan(st->cache);
	st->replaying = true;
}

static TupleTableSlot *
blsIterateForeignScan(ForeignScanState *node)
{
	BlsScanState *st = (BlsScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	MemoryContext oldcxt;

	if (is_aggregate(node))
		return bls_aggregate_next(node);
	if (!st->started)
	{
		/* a re-scan with the same values replays what was returned */
		if (compute_values(node, st) && st->cache)
		{
			tuplestore_rescan(st->cache);
			st->replaying = true;
		}
		else
		{
			restart_scan(st);
			if (st->read_all)
				read_whole_scan(st, node);
		}
		st->started = true;
	}
	if (st->replaying)
	{
		bool		found;

		/*
		 * Iterate runs in the per-tuple context, which is reset before the
		 * slot lets go of a tuple read back from disk: read in the cache's.
		 */
		oldcxt = MemoryContextSwitchTo(st->cache_cxt);
		found = tuplestore_gettupleslot(st->cache, true, false, st->cache_slot);
		MemoryContextSwitchTo(oldcxt);
		if (found)
			return ExecCopySlot(slot, st->cache_slot);
		/* then go on where the previous execution stopped */
		st->replaying = false;
	}
	return next_row(st, slot);
}

/*
 * The next row of the scan into slot, kept in the cache if there is one;
 * an empty slot at the end.
 */
static TupleTableSlot *
next_row(BlsScanState *st, TupleTableSlot *slot)
{
	MemoryContext oldcxt;

	for (;;)
	{
		int			page_no;
		int			index;

		ExecClearTuple(slot);
		MemoryContextReset(st->row_cxt);
		if (!next_item(st))
			return slot;

		bls_pager_position(st->pager, &page_no, &index);
		oldcxt = MemoryContextSwitchTo(st->row_cxt);
		memset(slot->tts_isnull, true,
			   sizeof(bool) * slot->tts_tupleDescriptor->natts);
		bls_store_item(st->req->resource, st->cols, st->ncols, &st->fields,
					   st->id_keys[0], index, page_no,
					   bls_pager_default_id(st->pager), st->params,
					   st->nparams, slot->tts_values, slot->tts_isnull);
		MemoryContextSwitchTo(oldcxt);

		if (st->nbounds > 0 && st->req->resource->window_field &&
			!in_window(st, slot))
		{
			/* an item of a second the window was rounded out to */
			bls_pager_refuse(st->pager);
			continue;
		}
		if (st->nbounds > 0 && past_bound(st, slot))
		{
			next_sequence(st);
			continue;
		}
		if (own_create(st))
		{
			bls_pager_refuse(st->pager);
			continue;
		}
		ExecStoreVirtualTuple(slot);
		if (st->cache)
		{
			oldcxt = MemoryContextSwitchTo(st->cache_cxt);
			tuplestore_puttupleslot(st->cache, slot);
			MemoryContextSwitchTo(oldcxt);
		}
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

	if (is_aggregate(node))
	{
		bls_aggregate_rescan(node);
		return;
	}
	st->started = false;
}

static void
blsEndForeignScan(ForeignScanState *node)
{
	BlsScanState *st = (BlsScanState *) node->fdw_state;

	if (is_aggregate(node))
	{
		bls_aggregate_end(node);
		return;
	}
	if (st == NULL || st->scan_cxt == NULL)
		return;
	/* stop the requests and free the pages now, not at the query's end */
	MemoryContextDelete(st->scan_cxt);
	MemoryContextDelete(st->row_cxt);
	if (st->cache)
	{
		tuplestore_end(st->cache);
		ExecDropSingleTupleTableSlot(st->cache_slot);
	}
	st->cache = NULL;
	st->pager = NULL;
	st->scan_cxt = NULL;
}

/*
 * The time window for EXPLAIN: the scan's once it has run, else the
 * bounds' values if they can be computed now (constants, and stable
 * expressions such as now() - interval '1 hour').  False if unknown.
 */
static bool
explain_window(ForeignScanState *node, BlsScanState *st)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	int			nfilters = list_length(st->req->filters);
	MemoryContext oldcxt;

	if (st->started)
		return st->window[0].value != NULL;
	for (int i = 0; i < st->nbounds; i++)
		if (uses_exec_param(list_nth(fsplan->fdw_exprs, nfilters + i), NULL))
			return false;
	oldcxt = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	for (int i = 0; i < st->nbounds; i++)
		st->bounds[i].value = ExecEvalExpr(st->bounds[i].expr, econtext,
										   &st->bounds[i].isnull);
	MemoryContextSwitchTo(oldcxt);
	return compute_window(st, CurrentMemoryContext);
}

/* names with name added, once */
static List *
add_param_name(List *names, char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp(lfirst(lc), name) == 0)
			return names;
	return lappend(names, name);
}

/*
 * The first request of the scan, as far as it is known: the values of the
 * first sequence once the scan has run, else those of constant filters.
 */
static char *
explain_request(ForeignScanState *node, BlsScanState *st, ForeignScan *fsplan)
{
	BlsScanRequest known = *st->req;
	List	   *sets = NIL;
	List	   *seqs;
	BlsListRequest lr = {0};
	BlsHttpRequest hr;
	ListCell   *lc;
	ListCell   *ec;
	const char *lookup = st->req->resource->lookup_param;
	List	   *runtime = NIL;	/* parameters whose values vary */

	known.filters = NIL;
	forboth(lc, st->req->filters, ec, fsplan->fdw_exprs)
	{
		BlsPlanFilter *f = (BlsPlanFilter *) lfirst(lc);
		List	   *values;
		bool		is_lookup = lookup && strcmp(f->param, lookup) == 0;

		if (!const_bls_text_values((Expr *) lfirst(ec), f->is_array, &values) ||
			(is_lookup && list_length(values) != 1))
		{
			/* items described by ids known only at run time */
			if (is_lookup)
				return psprintf("GET %s{%s} for each value", st->req->resource->lookup_path,
								lookup);
			runtime = add_param_name(runtime, f->param);
			continue;
		}
		known.filters = lappend(known.filters, f);
		sets = lappend(sets, values);
	}
	if (st->started)
	{
		seqs = st->sequences;
		lr.nparams = st->nparams;
	}
	else
	{
		seqs = bls_request_sequences(&known, sets, &lr.nparams);
		/* several sequences: what varies is "{name}" */
		if (list_length(seqs) > 1)
		{
			BlsParam   *p = palloc(sizeof(BlsParam) * lr.nparams);

			memcpy(p, linitial(seqs), sizeof(BlsParam) * lr.nparams);
			foreach(lc, seqs)
				for (int i = 0; i < lr.nparams; i++)
					if (p[i].value &&
						strcmp(p[i].value, ((BlsParam *) lfirst(lc))[i].value) != 0)
						p[i].value = NULL;
			seqs = list_make1(p);
		}
	}
	if (seqs == NIL)
		lr.nparams = 0;
	else
		lr.params = linitial(seqs);
	/* shown as "{name}", not as the default that is not sent */
	if (runtime != NIL && !st->started)
	{
		BlsParam   *p = palloc(sizeof(BlsParam) * (lr.nparams + list_length(runtime)));

		if (lr.nparams > 0)
			memcpy(p, lr.params, sizeof(BlsParam) * lr.nparams);
		foreach(lc, runtime)
		{
			p[lr.nparams].key = lfirst(lc);
			p[lr.nparams++].value = NULL;
		}
		lr.params = p;
	}
	if (st->req->resource->window_field && explain_window(node, st))
	{
		BlsParam   *p = palloc(sizeof(BlsParam) * (lr.nparams + 2));

		if (lr.nparams > 0)		/* else lr.params may be NULL */
			memcpy(p, lr.params, sizeof(BlsParam) * lr.nparams);
		p[lr.nparams++] = st->window[0];
		p[lr.nparams++] = st->window[1];
		lr.params = p;
	}
	lr.order_by = st->req->order_by;
	lr.order = st->req->order;
	lr.page_no = 1;
	lr.page_size = st->page_size;
	bls_build_list_request(st->req->resource, &lr, &hr);
	return bls_http_request_text(&hr);
}

static void
blsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	BlsScanState *st = (BlsScanState *) node->fdw_state;
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;

	if (is_aggregate(node))
	{
		bls_aggregate_explain(node, es);
		return;
	}
	if (es->verbose)
	{
		Oid			relid = RelationGetRelid(st->rel);
		int			nfilters = list_length(st->req->filters);
		ListCell   *lc;
		ListCell   *ec;
		StringInfoData buf;

		ExplainPropertyText("BLS Request", explain_request(node, st, fsplan), es);

		/* what the request enforces, narrows, and where it may stop */
		initStringInfo(&buf);
		forboth(lc, st->req->filters, ec, fsplan->fdw_exprs)
		{
			BlsPlanFilter *f = (BlsPlanFilter *) lfirst(lc);

			appendStringInfo(&buf, "%s(%s = %s%s%s)", buf.len ? " AND " : "",
							 quote_identifier(get_attname(relid, f->attno, false)),
							 f->is_array ? "ANY (" : "",
							 deparse_expression(lfirst(ec), es->deparse_cxt, true, false),
							 f->is_array ? ")" : "");
		}
		if (buf.len)
			ExplainPropertyText("BLS Pushed Conditions", buf.data, es);

		resetStringInfo(&buf);
		for_each_from(lc, fsplan->fdw_exprs, nfilters + st->nbounds)
			appendStringInfo(&buf, "%s%s", buf.len ? " AND " : "",
							 deparse_expression(lfirst(lc), es->deparse_cxt,
												false, false));
		if (buf.len)
			ExplainPropertyText("BLS Rechecked Conditions", buf.data, es);

		resetStringInfo(&buf);
		for (int i = 0; i < st->nbounds; i++)
		{
			BlsPlanBound *b = st->bounds[i].plan;

			if (!b->stops)
				continue;
			appendStringInfo(&buf, "%s%s %s %s", buf.len ? ", " : "",
							 quote_identifier(get_attname(relid, b->attno, false)),
							 b->lower ? (b->strict ? "<=" : "<") : (b->strict ? ">=" : ">"),
							 deparse_expression((Node *) list_nth(fsplan->fdw_exprs, nfilters + i),
												es->deparse_cxt, true, false));
		}
		if (buf.len)
			ExplainPropertyText("BLS Stops At", buf.data, es);
	}
	if (es->analyze && st->scan_cxt != NULL)
	{
		ExplainPropertyInteger("BLS Request Sequences", NULL, st->stats.sequences, es);
		if (st->stats.slices > 0)
			ExplainPropertyInteger("BLS Time Slices", NULL, st->stats.slices, es);
		ExplainPropertyInteger("BLS Pages", NULL, st->stats.pages, es);
		bls_explain_requests(&st->stats, es);
	}
}

/*
 * bls_explain_requests
 *		EXPLAIN ANALYZE's count of a scan's requests, retries, items and
 *		(with VERBOSE) bytes received.
 */
void
bls_explain_requests(const BlsScanStats *stats, ExplainState *es)
{
	ExplainPropertyInteger("BLS Requests", NULL, stats->requests, es);
	ExplainPropertyInteger("BLS Retries", NULL, stats->retries, es);
	ExplainPropertyInteger("BLS Rows Received", NULL, stats->rows, es);
	if (es->verbose)
		ExplainPropertyInteger("BLS Bytes Received", "bytes", stats->bytes, es);
}

/*
 * blsImportForeignSchema
 *		The remote schema "bls" holds a table per resource; PostgreSQL
 *		applies LIMIT TO and EXCEPT to the statements returned.
 */
static List *
blsImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	List	   *commands = NIL;
	const BlsResource *res;

	if (strcmp(stmt->remote_schema, "bls") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("schema \"%s\" is not present on BLS server \"%s\"",
						stmt->remote_schema, server->servername),
				 errhint("The only schema is \"bls\".")));

	for (int i = 0; (res = bls_resource_at(i)) != NULL; i++)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		appendStringInfo(&buf, "CREATE FOREIGN TABLE %s (\n%s) SERVER %s",
						 quote_identifier(res->name), res->columns,
						 quote_identifier(server->servername));
		/* download_tasks is the default, which tables made before 1.2 use */
		if (i > 0)
			appendStringInfo(&buf, " OPTIONS (resource %s)",
							 quote_literal_cstr(res->name));
		commands = lappend(commands, buf.data);
	}
	return commands;
}
