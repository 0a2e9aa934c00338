/*-------------------------------------------------------------------------
 *
 * aggregate.c
 *		  Aggregates of log_records computed by BLS: GetForeignUpperPaths
 *		  for UPPERREL_GROUP_AGG, and the scan that sends the analysis.
 *
 * QueryLogRecord runs an analysis statement over the records a search
 * finds in a time window, in one request, whatever the window's size.  A
 * query such as
 *
 *		SELECT count(*) FROM log_records
 *		WHERE log_store_name = 'nginx' AND time >= a AND time < b
 *
 * becomes one request for "<search> | select count(*)" (a bare "select
 * count(*)" when the search is "match *"), and a GROUP BY of a column whose
 * field the service indexes becomes "select <field>, count(*) group by
 * <field>", the forms bls-api.md section 6 confirms; nothing else of the
 * service's dialect is used.  min(time) and max(time) are each the time of
 * the one record a search sorted by time (limit 1, sort asc or desc)
 * returns.
 *
 * The service's answer must be the one the records would give, so an
 * aggregate is pushed only when it is exact:
 *
 *	- every condition is sent and none is checked locally: the log store,
 *	  project and search statement (one value each), the stream (the
 *	  service's logStreamName names one stream), and the window;
 *	- the window's bounds are constants on whole seconds, time >= a and
 *	  time < b (or no upper bound: the scan would send the same window), so
 *	  that the service's inclusive start and exclusive end are exactly the
 *	  bounds and the scan would drop no record it receives;
 *	- each aggregate maps exactly: count(*), and count(col) of a column that
 *	  is never NULL and whose conversion cannot fail (time, and the text
 *	  columns that show what was sent), and min(time), max(time) without
 *	  GROUP BY; a grouping column is a text or
 *	  integer column of an indexed field (the key option) or
 *	  log_stream_name, under a deterministic collation, and its values are
 *	  converted as a scan converts them.
 *
 * Anything else leaves the aggregate to PostgreSQL over the ordinary scan,
 * with the same answer.  HAVING is checked locally on the service's
 * answer; ORDER BY and LIMIT above the aggregate run as usual.  A result
 * the service says it cut is an error whatever on_truncation says: an
 * aggregate is never partial.  The setting bls_fdw.aggregate_pushdown
 * turns it all off.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/timestamp.h"

#include "bls_modules.h"
#include "pg_compat.h"

/* One round trip, as bls_fdw.c costs a page (BLS_REQUEST_COST). */
#define BLS_AGG_REQUEST_COST	100.0

/* bls_fdw.aggregate_pushdown */
bool		bls_aggregate_pushdown = true;

/* What an output column of the pushed aggregate is. */
typedef enum BlsAggKind
{
	BLS_AGG_GROUP,				/* the grouping column */
	BLS_AGG_COUNT,				/* count(*), or count(col) of a column never
								 * NULL */
	BLS_AGG_MIN_TIME,			/* min(time): the first record's, sorted */
	BLS_AGG_MAX_TIME			/* max(time): the last record's */
} BlsAggKind;

/* The items of a pushed aggregate's fdw_private. */
enum BlsAggPrivateIndex
{
	BlsAggPrivateFilters,		/* per filter: List (param, attno) */
	BlsAggPrivateBounds,		/* Integers: lower bounds, upper bounds */
	BlsAggPrivateGroup,			/* List (attno, field), or NIL */
	BlsAggPrivateKinds,			/* Integers: BlsAggKind per output column */
	BlsAggPrivateTime			/* Integer: the time column of min/max, or 0 */
};

/* Planner state of a grouped relation whose aggregate is pushed. */
typedef struct BlsAggInfo
{
	List	   *tlist;			/* the fdw_scan_tlist */
	List	   *kinds;			/* Integers, per tlist entry */
	List	   *local_conds;	/* HAVING conditions, checked on the result */
	List	   *filters;		/* BlsFilterQual * */
	List	   *lowers;			/* timestamptz exprs of time >= a */
	List	   *uppers;			/* of time < b */
	AttrNumber	group_attno;	/* 0 if not grouped */
	char	   *group_field;
	AttrNumber	time_attno;		/* the column of min(time), max(time) */
} BlsAggInfo;

/* Execution state of a pushed aggregate. */
typedef struct BlsAggState
{
	Relation	rel;
	BlsOptions *opts;
	BlsScanRequest req;			/* resource and filters, for the sequences */
	List	   *filter_exprs;	/* ExprStates */
	List	   *lower_exprs;
	List	   *upper_exprs;
	AttrNumber	group_attno;
	char	   *group_field;
	BlsColumn	group_col;
	AttrNumber	time_attno;
	BlsColumn	time_col;
	int		   *kinds;
	int			nkinds;

	MemoryContext scan_cxt;		/* the pager and the result */
	MemoryContext result_cxt;	/* reset by a re-scan */
	BlsPager   *pager;
	bool		done;			/* the result is computed */
	char	   *statement;		/* the analysis sent last, for EXPLAIN */
	int			ngroups;
	Datum	   *keys;			/* per group */
	bool	   *key_nulls;
	int64	   *counts;
	Datum		times[2];		/* min(time), max(time) */
	bool		time_nulls[2];
	int			next;			/* next group to return */
	BlsScanStats stats;
} BlsAggState;

/*
 * bls_aggregate_init
 *		Define bls_fdw.aggregate_pushdown; from _PG_init().
 */
void
bls_aggregate_init(void)
{
	DefineCustomBoolVariable("bls_fdw.aggregate_pushdown",
							 "Lets BLS compute aggregates of log_records.",
							 "count(*) and GROUP BY over conditions that are all sent become one analysis request.",
							 &bls_aggregate_pushdown,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/*
 * Is the constant bound value (timestamptz, or the timestamp or date that
 * pushdown.c wraps in a cast) on a whole second?  It then is one in every
 * time zone, zone offsets being whole seconds.  False for anything but a
 * constant.
 */
static bool
whole_second_const(Expr *value)
{
	Node	   *node = (Node *) value;
	Const	   *c;

	if (IsA(node, FuncExpr) && list_length(((FuncExpr *) node)->args) == 1)
		node = linitial(((FuncExpr *) node)->args);
	if (!IsA(node, Const))
		return false;
	c = (Const *) node;
	if (c->constisnull || c->consttype == DATEOID)
		return true;			/* NULL sends nothing; a date is a midnight */
	if (c->consttype != TIMESTAMPTZOID && c->consttype != TIMESTAMPOID)
		return false;
	return DatumGetInt64(c->constvalue) % USECS_PER_SEC == 0;
}

/*
 * Are the relation's conditions all sent, exactly?  Collects the filters
 * and the window's bounds into agg.
 */
static bool
conditions_exact(RelOptInfo *rel, const BlsRelMap *map, const BlsQuals *quals,
				 BlsAggInfo *agg)
{
	const BlsResource *res = map->resource;
	char	   *path_param = bls_resource_path_param(res);
	bool		have_path = false;
	ListCell   *lc;

	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		bool		covered = list_member_ptr(quals->exact, rinfo);
		ListCell   *qc;

		foreach(qc, quals->filters)
		{
			BlsFilterQual *f = (BlsFilterQual *) lfirst(qc);

			/* the stream: a name the service filters by exactly */
			if (f->rinfo == rinfo && f->def->match == BLS_MATCH_FILTER &&
				f->def->echo == BLS_ECHO_FALLBACK)
				covered = true;
		}
		foreach(qc, quals->bounds)
		{
			BlsBound   *b = (BlsBound *) lfirst(qc);

			if (b->rinfo != rinfo)
				continue;
			/* >= a is the inclusive start, < b the exclusive end */
			if (!b->exact || b->lower == b->strict ||
				strcmp(b->sort->field, res->window_field) != 0 ||
				!whole_second_const(b->value))
				return false;
			if (b->lower)
				agg->lowers = lappend(agg->lowers, b->value);
			else
				agg->uppers = lappend(agg->uppers, b->value);
			covered = true;
		}
		if (!covered)
			return false;
	}
	/* one request: one value per parameter */
	foreach(lc, quals->filters)
	{
		BlsFilterQual *f = (BlsFilterQual *) lfirst(lc);

		if (f->is_array)
			return false;
		if (path_param && strcmp(f->def->param, path_param) == 0)
			have_path = true;
		agg->filters = lappend(agg->filters, f);
	}
	return quals->keywords == NIL && agg->lowers != NIL &&
		(path_param == NULL || have_path);
}

/*
 * Can the service count the column of key (type typid)?  Only one that is
 * never NULL and whose conversion cannot fail: the record's time (a record
 * without one is an error), and a text column showing a value the request
 * sends.
 */
static bool
never_null_column(const BlsResource *res, const char *key, Oid typid)
{
	const BlsFilterDef *def = bls_resource_filter(res, key);

	if (res->window_field && strcmp(key, res->window_field) == 0)
		return typid == TIMESTAMPTZOID;
	return def && def->echo == BLS_ECHO_ALWAYS &&
		(typid == TEXTOID || typid == VARCHAROID);
}

/*
 * The kind of output column aggref is, or -1 if the service cannot compute
 * it.  min(time) and max(time) are the time of the first record in the
 * service's time order and in the reverse, a search for one record each
 * (not grouped: that would take a search per group).
 */
static int
aggref_kind(Aggref *aggref, Index relid, const BlsRelMap *map,
			BlsAggInfo *agg)
{
	if (aggref->aggfilter || aggref->aggdistinct || aggref->aggorder ||
		aggref->agglevelsup != 0 || aggref->aggsplit != AGGSPLIT_SIMPLE ||
		aggref->aggvariadic)
		return -1;
	if (aggref->aggfnoid == F_COUNT_)
		return BLS_AGG_COUNT;
	if (aggref->aggfnoid == F_COUNT_ANY && list_length(aggref->args) == 1)
	{
		Expr	   *arg = linitial_node(TargetEntry, aggref->args)->expr;
		const char *key = bls_var_key((Node *) arg, relid, map, NULL);

		if (key && never_null_column(map->resource, key, exprType((Node *) arg)))
			return BLS_AGG_COUNT;
	}
	if ((aggref->aggfnoid == F_MIN_TIMESTAMPTZ ||
		 aggref->aggfnoid == F_MAX_TIMESTAMPTZ) &&
		agg->group_attno == 0 && list_length(aggref->args) == 1)
	{
		Expr	   *arg = linitial_node(TargetEntry, aggref->args)->expr;
		AttrNumber	attno;
		const char *key = bls_var_key((Node *) arg, relid, map, &attno);

		if (key && map->resource->window_field &&
			strcmp(key, map->resource->window_field) == 0 &&
			exprType((Node *) arg) == TIMESTAMPTZOID)
		{
			agg->time_attno = attno;
			return aggref->aggfnoid == F_MIN_TIMESTAMPTZ ?
				BLS_AGG_MIN_TIME : BLS_AGG_MAX_TIME;
		}
	}
	return -1;
}

/*
 * A field name the analysis statement can carry unquoted (the service's
 * identifier quoting is not confirmed): letters, digits and "_", not
 * starting with a digit, or "@" and such a name (a system field).
 */
static bool
plain_field_name(const char *s)
{
	if (*s == '@')
		s++;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!bls_ascii_isalnum(*s) && *s != '_')
			return false;
	return true;
}

/*
 * Is expr, a grouping expression, a column the service can group by
 * exactly?  A record field (a column with the key option) or the stream,
 * of a type whose values have one text form (text, integers), under a
 * deterministic collation.
 */
static bool
grouping_column_ok(Expr *expr, Index relid, const BlsRelMap *map,
				   BlsAggInfo *agg)
{
	const BlsResource *res = map->resource;
	AttrNumber	attno;
	const char *key = bls_var_key((Node *) expr, relid, map, &attno);
	const BlsFilterDef *def;
	Oid			type = exprType((Node *) expr);
	Oid			coll = exprCollation((Node *) expr);

	if (key == NULL || !plain_field_name(key))
		return false;
	def = bls_resource_filter(res, key);
	/* the echoed columns are one value; the others are not fields */
	if (def ? def->echo != BLS_ECHO_FALLBACK : bls_resource_has_field(res, key))
		return false;
	if (type != TEXTOID && type != VARCHAROID && type != INT2OID &&
		type != INT4OID && type != INT8OID)
		return false;
	if (OidIsValid(coll) && !get_collation_isdeterministic(coll))
		return false;
	agg->group_attno = attno;
	agg->group_field = pstrdup(key);
	return true;
}

/*
 * Add what expr needs from the service to agg's target list: the grouping
 * column and the aggregates in it.  False if something is neither.
 */
static bool
add_needed(Node *expr, Index relid, const BlsRelMap *map, BlsAggInfo *agg)
{
	List	   *needed = pull_var_clause(expr, PVC_INCLUDE_AGGREGATES);
	ListCell   *lc;

	foreach(lc, needed)
	{
		Node	   *n = lfirst(lc);
		int			kind;

		if (IsA(n, Var))
		{
			AttrNumber	attno;

			if (bls_var_key(n, relid, map, &attno) == NULL ||
				attno != agg->group_attno)
				return false;
			kind = BLS_AGG_GROUP;
		}
		else if (IsA(n, Aggref))
		{
			kind = aggref_kind((Aggref *) n, relid, map, agg);
			if (kind < 0)
				return false;
		}
		else
			return false;
		if (!tlist_member((Expr *) n, agg->tlist))
		{
			agg->tlist = add_to_flat_tlist(agg->tlist, list_make1(n));
			agg->kinds = lappend_int(agg->kinds, kind);
		}
	}
	return true;
}

/*
 * bls_add_aggregate_paths
 *		Add a path computing the grouped relation by one analysis request,
 *		if its aggregates and the input's conditions allow it exactly (see
 *		the header comment).  input_rel is a base relation of this FDW;
 *		map and quals are its columns' keys and classified conditions.
 */
void
bls_add_aggregate_paths(PlannerInfo *root, RelOptInfo *input_rel,
						RelOptInfo *grouped_rel, GroupPathExtraData *extra,
						const BlsRelMap *map, const BlsQuals *quals)
{
	Query	   *parse = root->parse;
	PathTarget *target = grouped_rel->reltarget;
	BlsAggInfo *agg;
	Index		relid = input_rel->relid;
	double		rows;
	Cost		cost;
	ListCell   *lc;
	int			i = 0;

	if (!bls_aggregate_pushdown || !map->resource->analysis ||
		grouped_rel->fdw_private != NULL ||
		input_rel->reloptkind != RELOPT_BASEREL ||
		extra->patype != PARTITIONWISE_AGGREGATE_NONE ||
		parse->groupingSets != NIL || list_length(parse->groupClause) > 1 ||
		root->hasPseudoConstantQuals)
		return;

	agg = palloc0(sizeof(BlsAggInfo));
	if (!conditions_exact(input_rel, map, quals, agg))
		return;

	/* the grouping column first, then what the target and HAVING need */
	foreach(lc, target->exprs)
	{
		Expr	   *expr = (Expr *) lfirst(lc);
		Index		sgref = get_pathtarget_sortgroupref(target, i);

		i++;
		if (sgref == 0 || !get_sortgroupref_clause_noerr(sgref, parse->groupClause))
			continue;
		if (!grouping_column_ok(expr, relid, map, agg))
			return;
		agg->tlist = add_to_flat_tlist(agg->tlist, list_make1(expr));
		agg->kinds = lappend_int(agg->kinds, BLS_AGG_GROUP);
	}
	if (parse->groupClause != NIL && agg->group_attno == 0)
		return;
	foreach(lc, target->exprs)
		if (!add_needed(lfirst(lc), relid, map, agg))
			return;
	if (extra->havingQual)
	{
		if (!add_needed(extra->havingQual, relid, map, agg))
			return;
		agg->local_conds = (List *) extra->havingQual;
	}

	/*
	 * One request instead of every page of the window, whose size the
	 * planner does not know: costed at half a request, so that it wins
	 * over any scan (a request at least) beyond the planner's fuzz, also
	 * against a sorted scan's useful order.  The groups of a GROUP BY are
	 * estimated as PostgreSQL would.
	 */
	if (agg->group_attno != 0)
		rows = estimate_num_groups(root, get_sortgrouplist_exprs(parse->groupClause,
																 parse->targetList),
								   input_rel->rows, NULL, NULL);
	else
		rows = 1;
	cost = BLS_AGG_REQUEST_COST / 2 + rows * cpu_tuple_cost;

	grouped_rel->fdw_private = agg;
	add_path(grouped_rel, (Path *)
			 bls_create_foreign_upper_path(root, grouped_rel, target, rows,
										   cost, cost, NIL, NIL));
}

/*
 * bls_aggregate_plan
 *		The ForeignScan of a pushed aggregate: no relation scanned
 *		(scanrelid 0), the grouping column and aggregates as its scan
 *		tuple, HAVING as its qual.
 */
ForeignScan *
bls_aggregate_plan(PlannerInfo *root, RelOptInfo *grouped_rel,
				   List *tlist, Plan *outer_plan)
{
	BlsAggInfo *agg = (BlsAggInfo *) grouped_rel->fdw_private;
	List	   *fdw_exprs = NIL;
	List	   *filters = NIL;
	List	   *private;
	ListCell   *lc;

	foreach(lc, agg->filters)
	{
		BlsFilterQual *f = (BlsFilterQual *) lfirst(lc);
		AttrNumber	attno = InvalidAttrNumber;

		filters = lappend(filters, list_make2(makeString(pstrdup(f->def->param)),
											  makeInteger(attno)));
		fdw_exprs = lappend(fdw_exprs, f->value);
	}
	fdw_exprs = list_concat(fdw_exprs, agg->lowers);
	fdw_exprs = list_concat(fdw_exprs, agg->uppers);

	private = list_make5(filters,
						 list_make2(makeInteger(list_length(agg->lowers)),
									makeInteger(list_length(agg->uppers))),
						 agg->group_attno ?
						 list_make2(makeInteger(agg->group_attno),
									makeString(agg->group_field)) : NIL,
						 agg->kinds,
						 makeInteger(agg->time_attno));
	return make_foreignscan(tlist, agg->local_conds, 0, fdw_exprs, private,
							agg->tlist, NIL, outer_plan);
}

/*
 * bls_aggregate_begin
 *		Read the plan back; the request is sent at the first row.
 */
void
bls_aggregate_begin(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	List	   *private = fsplan->fdw_private;
	/* the RT index planning knew is offset in a flattened subquery */
	Index		rtindex = bms_singleton_member(bls_scan_base_relids(fsplan));
	List	   *nbounds = list_nth(private, BlsAggPrivateBounds);
	List	   *group = list_nth(private, BlsAggPrivateGroup);
	List	   *kinds = list_nth(private, BlsAggPrivateKinds);
	int			nfilters;
	int			nlowers = intVal(linitial(nbounds));
	BlsAggState *st = palloc0(sizeof(BlsAggState));
	ListCell   *lc;

	node->fdw_state = st;
	st->rel = ExecOpenScanRelation(estate, rtindex, eflags);
	st->opts = bls_get_options(RelationGetRelid(st->rel),
							   bls_scan_user(fsplan, estate, rtindex), true);
	st->opts->whole_result = true;
	st->req.resource = st->opts->resource;
	foreach(lc, (List *) list_nth(private, BlsAggPrivateFilters))
	{
		BlsPlanFilter *f = palloc0(sizeof(BlsPlanFilter));

		f->param = strVal(linitial((List *) lfirst(lc)));
		st->req.filters = lappend(st->req.filters, f);
	}
	nfilters = list_length(st->req.filters);
	foreach(lc, fsplan->fdw_exprs)
	{
		int			idx = foreach_current_index(lc);
		ExprState  *expr = ExecInitExpr((Expr *) lfirst(lc), (PlanState *) node);

		if (idx < nfilters)
			st->filter_exprs = lappend(st->filter_exprs, expr);
		else if (idx < nfilters + nlowers)
			st->lower_exprs = lappend(st->lower_exprs, expr);
		else
			st->upper_exprs = lappend(st->upper_exprs, expr);
	}
	if (group != NIL)
	{
		st->group_attno = intVal(linitial(group));
		st->group_field = strVal(lsecond(group));
	}
	st->time_attno = intVal(list_nth(private, BlsAggPrivateTime));
	st->nkinds = list_length(kinds);
	st->kinds = palloc(sizeof(int) * Max(st->nkinds, 1));
	foreach(lc, kinds)
		st->kinds[foreach_current_index(lc)] = lfirst_int(lc);

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	if (st->group_attno)
		bls_init_column(&st->group_col, st->rel, st->group_attno,
						st->req.resource);
	if (st->time_attno)
		bls_init_column(&st->time_col, st->rel, st->time_attno,
						st->req.resource);
	st->scan_cxt = AllocSetContextCreate(estate->es_query_cxt,
										 "bls_fdw aggregate", ALLOCSET_SMALL_SIZES);
	st->result_cxt = AllocSetContextCreate(st->scan_cxt,
										   "bls_fdw aggregate result",
										   ALLOCSET_DEFAULT_SIZES);
}

/*
 * The analysis statement for the search statement search: "select
 * count(*)" when it is "match *" (every record), else the search with
 * "| select count(*)" appended; grouped, "select <field>, count(*) group by
 * <field>" in the same way.
 */
static char *
analysis_statement(const char *search, const char *group_field)
{
	char	   *select = group_field ?
		psprintf("select %s, count(*) group by %s", group_field, group_field) :
		pstrdup("select count(*)");

	if (strcmp(search, "match *") == 0)
		return select;
	return psprintf("%s | %s", search, select);
}

/*
 * Narrow *bound to the greatest (lower) or least value of the bounds'
 * expressions; false if one is NULL (nothing can match).
 */
static bool
tightest_bound(List *exprs, ExprContext *econtext, bool lower,
			   TimestampTz *bound)
{
	ListCell   *lc;

	foreach(lc, exprs)
	{
		bool		isnull;
		TimestampTz v = DatumGetTimestampTz(ExecEvalExpr(lfirst(lc), econtext,
														 &isnull));

		if (isnull)
			return false;
		*bound = lower ? Max(*bound, v) : Min(*bound, v);
	}
	return true;
}

/*
 * The parameters of this execution's search, or false if nothing can match
 * (a contradiction, a NULL bound, an empty window): the filters' values,
 * the search statement (params[*stmt]) and the window, in the current
 * context.  Reports a value that cannot be sent.
 */
static bool
request_params(ForeignScanState *node, BlsAggState *st, BlsParam **params,
			   int *nparams, int *stmt)
{
	const BlsResource *res = st->req.resource;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	List	   *sets = NIL;
	List	   *seqs;
	int			n;
	TimestampTz start = DT_NOBEGIN;
	TimestampTz end = DT_NOEND;
	char		start_buf[32];
	char		end_buf[32];
	BlsParam   *p;
	int			np = 0;
	const char *search;
	ListCell   *lc;

	foreach(lc, st->filter_exprs)
	{
		bool		isnull;
		Datum		value = ExecEvalExpr(lfirst(lc), econtext, &isnull);

		sets = lappend(sets, bls_text_values(value, isnull, false,
											 exprType((Node *) ((ExprState *) lfirst(lc))->expr)));
	}
	seqs = bls_request_sequences(&st->req, sets, &n);
	/* without an end the scan's window ends at the statement's start */
	if (!tightest_bound(st->lower_exprs, econtext, true, &start))
		return false;
	if (st->upper_exprs == NIL)
		end = GetCurrentStatementStartTimestamp();
	else if (!tightest_bound(st->upper_exprs, econtext, false, &end))
		return false;
	if (seqs == NIL || !bls_window_text(start, end, start_buf, end_buf))
		return false;
	Assert(list_length(seqs) == 1);

	p = palloc(sizeof(BlsParam) * (n + 3));
	for (int i = 0; i < n; i++)
	{
		BlsParam   *q = &((BlsParam *) linitial(seqs))[i];

		if (strcmp(q->key, res->statement_param) != 0)
			p[np++] = *q;
	}
	search = bls_param_value(res, linitial(seqs), n, res->statement_param);
	bls_check_search_statement(search);
	bls_check_log_store_name(bls_param_value(res, linitial(seqs), n,
											 bls_resource_path_param(res)));
	*stmt = np;
	p[np].key = res->statement_param;
	p[np++].value = search;
	p[np].key = res->window_start;
	p[np++].value = pstrdup(start_buf);
	p[np].key = res->window_end;
	p[np++].value = pstrdup(end_buf);
	*params = p;
	*nparams = np;
	return true;
}

/* The analysis answer is not what was asked: an ERROR. */
static void
report_bad_answer(BlsAggState *st, const char *detail, const BlsPage *page)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
			 errmsg("invalid analysis result from BLS server \"%s\"",
					st->opts->server_name),
			 errdetail("%s Request id \"%s\".", detail,
					   bls_printable(page->request_id ? page->request_id :
									 bls_pager_request_id(st->pager), 80)),
			 errhint("The statement was \"%s\".",
					 bls_printable(st->statement, 200))));
}

/* A count the service gave: a non-negative integer, or such a string. */
static int64
answer_count(BlsAggState *st, const BlsValue *v, const BlsPage *page)
{
	int64		n = 0;

	if (v->type == BLS_JSON_NUMBER && v->is_int && !v->clamped && v->ival >= 0)
		return v->ival;
	if (v->type == BLS_JSON_STRING && v->len > 0 && v->len <= 18)
	{
		for (size_t i = 0; i < v->len; i++)
		{
			if (v->str[i] < '0' || v->str[i] > '9')
				report_bad_answer(st, "A count is not a non-negative integer.", page);
			n = n * 10 + (v->str[i] - '0');
		}
		return n;
	}
	report_bad_answer(st, "A count is not a non-negative integer.", page);
	return 0;					/* keep the compiler quiet */
}

/* Compare two group keys' texts (NULL first), for finding a repeated group. */
static int
key_text_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *) a;
	const char *y = *(const char *const *) b;

	if (x == NULL || y == NULL)
		return (x != NULL) - (y != NULL);
	return strcmp(x, y);
}

/* Is there a count or a group to ask the analysis for? */
static bool
needs_analysis(BlsAggState *st)
{
	for (int k = 0; k < st->nkinds; k++)
		if (st->kinds[k] == BLS_AGG_GROUP || st->kinds[k] == BLS_AGG_COUNT)
			return true;
	return false;
}

/*
 * min(time) (first) or max(time): the time of the one record a search in
 * ascending (descending) time order returns first, or NULL if there is
 * none, converted as the scan converts it.  A record without a time is an
 * error, as in the scan.
 */
static void
fetch_time(BlsAggState *st, const BlsParam *params, int nparams, bool first)
{
	const BlsResource *res = st->req.resource;
	BlsListRequest lr = {0};
	BlsPage    *page;
	BlsFields	fields = {0};
	int			id_keys[2];
	int			natts = RelationGetDescr(st->rel)->natts;
	Datum	   *values = palloc(sizeof(Datum) * natts);
	bool	   *nulls = palloc(sizeof(bool) * natts);
	AttrNumber	a = st->time_attno - 1;

	lr.params = params;
	lr.nparams = nparams;
	lr.order = first ? "asc" : "desc";
	lr.page_size = 1;
	page = bls_pager_fetch(st->pager, &lr);
	if (page->nitems == 0)
		return;
	bls_init_fields(&fields, &st->time_col, 1, res, id_keys);
	bls_pager_read_item(st->pager, page, 0, &fields);
	nulls[a] = true;
	bls_store_item(res, &st->time_col, 1, &fields, id_keys[0], 0, 1, NULL,
				   params, nparams, values, nulls);
	if (nulls[a])
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("BLS returned a %s without a time for column \"%s\"",
						res->item_name, st->time_col.attname),
				 errdetail("Field \"%s\" of the first %s in %s time order is missing, null or empty; request id \"%s\".",
						   res->window_field, res->item_name,
						   first ? "ascending" : "descending",
						   bls_printable(bls_pager_request_id(st->pager), 80))));
	st->times[first ? 0 : 1] = values[a];
	st->time_nulls[first ? 0 : 1] = false;
}

/*
 * Send the analysis and read its answer into st's groups (one, not
 * grouped).  A cut answer is an error (opts->whole_result); so is one
 * whose columns or rows are not what the statement asks for, and a group
 * given twice.
 */
static void
compute_result(ForeignScanState *node, BlsAggState *st)
{
	const BlsResource *res = st->req.resource;
	MemoryContext oldcxt;
	BlsParam   *params;
	int			nparams;
	int			stmt;
	BlsListRequest lr = {0};
	BlsPage    *page;
	BlsFields	fields = {0};
	int			ncols = st->group_attno ? 2 : 1;
	const char *keys[2];
	size_t		keylens[2];
	BlsValue	values[2];
	Datum	   *row_values;
	bool	   *row_nulls;
	char	  **texts;
	Oid			outfunc = InvalidOid;
	bool		isvarlena;

	MemoryContextReset(st->result_cxt);
	st->ngroups = 0;
	st->next = 0;
	st->time_nulls[0] = st->time_nulls[1] = true;
	oldcxt = MemoryContextSwitchTo(st->result_cxt);
	ResetExprContext(node->ss.ps.ps_ExprContext);
	if (!request_params(node, st, &params, &nparams, &stmt))
	{
		/* nothing can match: no groups, or a count of 0 (and NULL times) */
		if (!st->group_attno)
		{
			st->ngroups = 1;
			st->counts = palloc0(sizeof(int64));
		}
		MemoryContextSwitchTo(oldcxt);
		return;
	}
	if (st->pager == NULL)
		st->pager = bls_pager_create(st->scan_cxt, st->opts, res, &st->stats);
	st->stats.sequences++;
	for (int k = 0; k < st->nkinds; k++)
		if (st->kinds[k] == BLS_AGG_MIN_TIME || st->kinds[k] == BLS_AGG_MAX_TIME)
			fetch_time(st, params, nparams, st->kinds[k] == BLS_AGG_MIN_TIME);
	if (!needs_analysis(st))
	{
		st->ngroups = 1;
		MemoryContextSwitchTo(oldcxt);
		return;
	}

	/* the analysis: the search with "| select ..." */
	params[stmt].value = analysis_statement(params[stmt].value, st->group_field);
	st->statement = MemoryContextStrdup(st->scan_cxt, params[stmt].value);
	lr.params = params;
	lr.nparams = nparams;
	lr.page_size = 0;			/* an analysis takes no limit */
	page = bls_pager_fetch(st->pager, &lr);

	if (page->query_type && strcmp(page->query_type, "sql") != 0)
		report_bad_answer(st, psprintf("The answer's queryType is \"%s\", not \"sql\".",
									   bls_printable(page->query_type, 40)), page);
	if (page->ncolumns != ncols)
		report_bad_answer(st, psprintf("The answer has %d columns, not %d.",
									   page->ncolumns, ncols), page);
	if (!st->group_attno && page->nitems != 1)
		report_bad_answer(st, psprintf("The answer has %d rows, not 1.",
									   page->nitems), page);
	for (int k = 0; k < ncols; k++)
	{
		keys[k] = page->columns[k];
		keylens[k] = page->column_lens[k];
	}
	/* the group's column comes first, by its name: never a count taken for it */
	if (ncols == 2 && (keylens[0] != strlen(st->group_field) ||
					   memcmp(keys[0], st->group_field, keylens[0]) != 0))
		report_bad_answer(st, psprintf("The answer's first column is \"%s\", not \"%s\".",
									   bls_printable(pnstrdup(keys[0], keylens[0]), 100),
									   st->group_field), page);
	if (ncols == 2 && keylens[0] == keylens[1] &&
		memcmp(keys[0], keys[1], keylens[0]) == 0)
		report_bad_answer(st, "The answer's two columns have the same name.", page);
	fields.nkeys = ncols;
	fields.keys = keys;
	fields.keylens = keylens;
	fields.values = values;
	bls_fields_reset(&fields);

	st->counts = palloc(sizeof(int64) * Max(page->nitems, 1));
	st->keys = palloc(sizeof(Datum) * Max(page->nitems, 1));
	st->key_nulls = palloc(sizeof(bool) * Max(page->nitems, 1));
	texts = palloc(sizeof(char *) * Max(page->nitems, 1));
	row_values = palloc(sizeof(Datum) * RelationGetDescr(st->rel)->natts);
	row_nulls = palloc(sizeof(bool) * RelationGetDescr(st->rel)->natts);
	if (st->group_attno)
		getTypeOutputInfo(st->group_col.typid, &outfunc, &isvarlena);
	for (int i = 0; i < page->nitems; i++)
	{
		CHECK_FOR_INTERRUPTS();
		bls_pager_read_item(st->pager, page, i, &fields);
		if (fields.type != BLS_JSON_OBJECT)
			report_bad_answer(st, psprintf("Row %d is not an array of the columns.", i + 1),
							  page);
		st->counts[i] = answer_count(st, &values[ncols - 1], page);
		if (st->group_attno)
		{
			/* the group's value, converted as a scan converts a record's */
			AttrNumber	a = st->group_attno - 1;

			st->group_col.field = 0;
			bls_store_item(res, &st->group_col, 1, &fields, 0, i, 1, NULL,
						   params, nparams, row_values, row_nulls);
			st->keys[i] = row_values[a];
			st->key_nulls[i] = row_nulls[a];
			texts[i] = row_nulls[a] ? NULL :
				OidOutputFunctionCall(outfunc, row_values[a]);
		}
	}
	st->ngroups = page->nitems;

	/* two groups with one value would be two rows for one group */
	if (st->group_attno && st->ngroups > 1)
	{
		qsort(texts, st->ngroups, sizeof(char *), key_text_cmp);
		for (int i = 1; i < st->ngroups; i++)
			if (key_text_cmp(&texts[i - 1], &texts[i]) == 0)
				report_bad_answer(st, psprintf("Group \"%s\" is given twice.",
											   texts[i] ? bls_printable(texts[i], 100) : "NULL"),
								  page);
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * bls_aggregate_next
 *		The next group of the service's answer, computed at the first call.
 */
TupleTableSlot *
bls_aggregate_next(ForeignScanState *node)
{
	BlsAggState *st = (BlsAggState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	if (!st->done)
	{
		compute_result(node, st);
		st->done = true;
	}
	ExecClearTuple(slot);
	if (st->next >= st->ngroups)
		return slot;
	for (int k = 0; k < st->nkinds; k++)
	{
		if (st->kinds[k] == BLS_AGG_GROUP)
		{
			slot->tts_values[k] = st->keys[st->next];
			slot->tts_isnull[k] = st->key_nulls[st->next];
		}
		else if (st->kinds[k] == BLS_AGG_MIN_TIME || st->kinds[k] == BLS_AGG_MAX_TIME)
		{
			int			i = st->kinds[k] == BLS_AGG_MIN_TIME ? 0 : 1;

			slot->tts_values[k] = st->times[i];
			slot->tts_isnull[k] = st->time_nulls[i];
		}
		else
		{
			slot->tts_values[k] = Int64GetDatum(st->counts[st->next]);
			slot->tts_isnull[k] = false;
		}
	}
	st->next++;
	return ExecStoreVirtualTuple(slot);
}

/* bls_aggregate_rescan: ask again, with the values of the new execution. */
void
bls_aggregate_rescan(ForeignScanState *node)
{
	((BlsAggState *) node->fdw_state)->done = false;
}

/* bls_aggregate_end: stop the request and free the answer. */
void
bls_aggregate_end(ForeignScanState *node)
{
	BlsAggState *st = (BlsAggState *) node->fdw_state;

	if (st == NULL || st->scan_cxt == NULL)
		return;
	MemoryContextDelete(st->scan_cxt);
	st->scan_cxt = NULL;
	st->pager = NULL;
}

/* Show the request of params (a search of limit items, or an analysis). */
static void
explain_request(ExplainState *es, const char *label, BlsAggState *st,
				const BlsParam *params, int nparams, const char *order,
				int limit)
{
	BlsListRequest lr = {0};
	BlsHttpRequest hr;

	lr.params = params;
	lr.nparams = nparams;
	lr.order = order;
	lr.page_size = limit;
	bls_build_list_request(st->req.resource, &lr, &hr);
	ExplainPropertyText(label, bls_http_request_text(&hr), es);
}

/*
 * bls_aggregate_explain
 *		What is aggregated; with VERBOSE the request (the analysis statement
 *		and the window, as far as known); with ANALYZE its requests.
 */
void
bls_aggregate_explain(ForeignScanState *node, ExplainState *es)
{
	BlsAggState *st = (BlsAggState *) node->fdw_state;

	ExplainPropertyText("Relations",
						psprintf("Aggregate on %s",
								 quote_identifier(RelationGetRelationName(st->rel))),
						es);
	if (es->verbose)
	{
		BlsParam   *params;
		int			nparams;
		int			stmt;
		ListCell   *lc;
		bool		constant = true;

		/* the values are known before the scan when they are constants */
		foreach(lc, st->filter_exprs)
			if (!IsA(((ExprState *) lfirst(lc))->expr, Const) &&
				!(IsA(((ExprState *) lfirst(lc))->expr, RelabelType) &&
				  IsA(((RelabelType *) ((ExprState *) lfirst(lc))->expr)->arg, Const)))
				constant = false;
		if (!constant || !request_params(node, st, &params, &nparams, &stmt))
		{
			ExplainPropertyText("BLS Request",
								psprintf("GET %s, values known at run time",
										 st->req.resource->path), es);
			return;
		}
		/* the searches of min(time) and max(time), then the analysis */
		for (int k = 0; k < st->nkinds; k++)
			if (st->kinds[k] == BLS_AGG_MIN_TIME || st->kinds[k] == BLS_AGG_MAX_TIME)
				explain_request(es, st->kinds[k] == BLS_AGG_MIN_TIME ?
								"BLS Request min(time)" : "BLS Request max(time)",
								st, params, nparams,
								st->kinds[k] == BLS_AGG_MIN_TIME ? "asc" : "desc", 1);
		if (needs_analysis(st))
		{
			params[stmt].value = analysis_statement(params[stmt].value,
													st->group_field);
			explain_request(es, "BLS Request", st, params, nparams, NULL, 0);
		}
	}
	if (es->analyze && st->scan_cxt != NULL)
		bls_explain_requests(&st->stats, es);
}
