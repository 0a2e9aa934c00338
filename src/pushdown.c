/*-------------------------------------------------------------------------
 *
 * pushdown.c
 *		  Decide which conditions, orderings and limits of a query a list
 *		  request can carry.
 *
 * A resource (resource.c) can filter by some fields, exactly or by a fuzzy
 * keyword, and sort by some.  This file classifies each restriction clause
 * as
 *
 *	- exact: enforced by the request, not checked again (field = value,
 *	  field = ANY (array) for a field the service matches exactly);
 *	- a filter: the same for a field the service filters by but does not
 *	  document as exact: the values are sent, the clause is rechecked;
 *	- loose: narrows the request but is rechecked locally (a keyword field
 *	  = value, or a LIKE pattern whose literal core is sent);
 *	- a time bound: checked locally, but lets a scan in matching order stop
 *	  at the first item past the bound, or gives a window (log records):
 *	  time compared with a timestamptz, timestamp or date (= is two
 *	  bounds), and an OR whose every arm bounds the time (BETWEEN
 *	  SYMMETRIC);
 *	- local: everything else.
 *
 * Every value that leaves PostgreSQL passes one gate, pushable_value():
 * the operator is identified by its implementation function, the
 * comparison's collation is deterministic (a nondeterministic one may call
 * different strings equal, which the service cannot know), and the value
 * is computable before the scan and not volatile.  The values are
 * converted to UTF-8, the service's encoding, where requests are built
 * (scan_request.c).  Ordering by a text field is pushed only under the "C"
 * collation, the byte order the service sorts in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "bls_modules.h"
#include "pg_compat.h"

/*
 * bls_map_relation
 *		The JSON key of each column of rel, and the resource it reads.
 */
void
bls_map_relation(Relation rel, const BlsResource *res, BlsRelMap *map)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);

	map->resource = res;
	map->natts = tupdesc->natts;
	map->keys = bls_column_keys(rel, res);
}

/*
 * bls_field_attno
 *		The first column of map that reads field, or InvalidAttrNumber.
 */
AttrNumber
bls_field_attno(const BlsRelMap *map, const char *field)
{
	for (int i = 0; i < map->natts; i++)
		if (map->keys[i] && strcmp(map->keys[i], field) == 0)
			return i + 1;
	return InvalidAttrNumber;
}

/*
 * bls_var_key
 *		The JSON key of the column of relid node is a Var of (under any
 *		RelabelTypes), or NULL; its attribute number in *attno if not NULL.
 */
const char *
bls_var_key(Node *node, Index relid, const BlsRelMap *map, AttrNumber *attno)
{
	Var		   *var;

	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return NULL;
	var = (Var *) node;
	if (var->varno != relid || var->varlevelsup != 0 ||
		var->varattno <= 0 || var->varattno > map->natts)
		return NULL;
	if (attno)
		*attno = var->varattno;
	return map->keys[var->varattno - 1];
}

/* The JSON key of the column node is a Var of, or NULL. */
static const char *
var_key(Node *node, Index relid, const BlsRelMap *map)
{
	return bls_var_key(node, relid, map, NULL);
}

/* The filter the column node is a Var of allows, or NULL. */
static const BlsFilterDef *
var_filter(Node *node, Index relid, const BlsRelMap *map)
{
	const char *key = var_key(node, relid, map);

	return key ? bls_resource_filter(map->resource, key) : NULL;
}

/*
 * bls_is_filter_var
 *		Is node a Var of a column whose values the request can carry (not a
 *		fuzzy keyword)?  Such a column can take its values from the outer
 *		side of a join.
 */
bool
bls_is_filter_var(Node *node, Index relid, const BlsRelMap *map)
{
	const BlsFilterDef *def = var_filter(node, relid, map);

	return def != NULL && def->match != BLS_MATCH_FUZZY;
}

/*
 * Can the executor compute node before the scan starts?  It must not
 * depend on the scanned row, nor change during the scan.  Vars of other
 * relations are allowed: in a parameterized path they become Params.
 */
static bool
is_scan_constant(PlannerInfo *root, Node *node, Index relid)
{
	if (contain_volatile_functions(node) || contain_subplans(node) ||
		contain_agg_clause(node) || contain_window_function(node))
		return false;
	return !bms_is_member(relid, pull_varnos(root, node));
}

/*
 * pushable_value
 *		The one gate for a value sent in a request: var (a column of the
 *		scanned relation) compared with value by an operator whose
 *		implementation is func.  func must be one of the text functions the
 *		caller knows the service's meaning of; here the rest is checked: a
 *		text column, a deterministic collation, and a value computable
 *		before the scan (no volatile function, no Var of this relation, no
 *		subplan).
 */
static bool
pushable_value(PlannerInfo *root, Index relid, Node *var, Node *value,
			   Oid func, Oid inputcollid)
{
	Oid			type = exprType(var);

	if (func != F_TEXTEQ && func != F_TEXTLIKE && func != F_TEXTICLIKE)
		return false;
	if (type != TEXTOID && type != VARCHAROID)
		return false;
	if (OidIsValid(inputcollid) && !get_collation_isdeterministic(inputcollid))
		return false;
	return is_scan_constant(root, value, relid);
}

/*
 * The longest run of literal characters in a LIKE pattern (with the default
 * escape character), or NULL if it has none.  Any string matching the
 * pattern contains it.
 */
static char *
like_literal_core(const char *pattern)
{
	StringInfoData cur;
	char	   *best = NULL;
	int			bestlen = 0;
	const char *p;

	initStringInfo(&cur);
	for (p = pattern;; p++)
	{
		if (*p == '\0' || *p == '%' || *p == '_')
		{
			if (cur.len > bestlen)
			{
				best = pstrdup(cur.data);
				bestlen = cur.len;
			}
			resetStringInfo(&cur);
			if (*p == '\0')
				break;
			continue;
		}
		if (*p == '\\')
		{
			p++;
			if (*p == '\0')
				break;
		}
		appendStringInfoChar(&cur, *p);
	}
	pfree(cur.data);
	return best;
}

/* The Const under any RelabelTypes of node, or NULL. */
static Const *
strip_const(Node *node)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node && IsA(node, Const) && !((Const *) node)->constisnull
		? (Const *) node : NULL;
}

/*
 * Try to use clause as a fuzzy keyword: keyword field = 'x', or LIKE /
 * ILIKE with a constant pattern, whose literal core is sent.  The clause is
 * rechecked locally.
 */
static bool
classify_keyword(PlannerInfo *root, OpExpr *op, Index relid,
				 const BlsRelMap *map, BlsQuals *quals, RestrictInfo *rinfo)
{
	Oid			func = get_opcode(op->opno);
	Node	   *left;
	Node	   *right;
	const BlsFilterDef *def;
	Const	   *c;
	char	   *value;
	char	   *keyword;
	ListCell   *lc;

	if (list_length(op->args) != 2)
		return false;
	left = linitial(op->args);
	right = lsecond(op->args);
	if (func == F_TEXTEQ && var_filter(right, relid, map) != NULL)
	{
		Node	   *tmp = left;

		left = right;
		right = tmp;
	}
	def = var_filter(left, relid, map);
	if (def == NULL || def->match != BLS_MATCH_FUZZY ||
		!pushable_value(root, relid, left, right, func, op->inputcollid))
		return false;
	c = strip_const(right);
	if (c == NULL || (c->consttype != TEXTOID && c->consttype != VARCHAROID))
		return false;
	value = TextDatumGetCString(c->constvalue);

	keyword = func == F_TEXTEQ ? value : like_literal_core(value);
	if (keyword == NULL || keyword[0] == '\0')
		return false;

	/* one keyword per parameter: keep the longest, the most selective */
	quals->loose = lappend(quals->loose, rinfo);
	foreach(lc, quals->keywords)
	{
		BlsKeyword *k = (BlsKeyword *) lfirst(lc);

		if (k->def == def)
		{
			if (strlen(keyword) > strlen(k->value))
				k->value = keyword;
			return true;
		}
	}
	{
		BlsKeyword *k = palloc(sizeof(BlsKeyword));

		k->def = def;
		k->value = keyword;
		quals->keywords = lappend(quals->keywords, k);
	}
	return true;
}

/*
 * value, of type type, as a timestamptz expression: a date or a timestamp
 * (in the session's TimeZone) is cast as the cross-type comparison
 * operators of datetime_ops convert it.  NULL for any other type.
 */
static Expr *
as_timestamptz(Node *value, Oid type)
{
	Oid			func;

	if (type == TIMESTAMPTZOID)
		return (Expr *) value;
	if (type == DATEOID)
		func = F_TIMESTAMPTZ_DATE;
	else if (type == TIMESTAMPOID)
		func = F_TIMESTAMPTZ_TIMESTAMP;
	else
		return NULL;
	return (Expr *) makeFuncExpr(func, TIMESTAMPTZOID, list_make1(value),
								 InvalidOid, InvalidOid, COERCE_IMPLICIT_CAST);
}

static void
add_bound(BlsQuals *quals, const BlsSortDef *sort, AttrNumber attno,
		  bool lower, bool strict, bool exact, Expr *value,
		  RestrictInfo *rinfo)
{
	BlsBound   *bound = palloc(sizeof(BlsBound));

	bound->sort = sort;
	bound->attno = attno;
	bound->lower = lower;
	bound->strict = strict;
	bound->exact = exact;
	bound->value = value;
	bound->rinfo = rinfo;
	quals->bounds = lappend(quals->bounds, bound);
}

/*
 * Try to use clause as a bound on a time the service sorts by: a
 * comparison of datetime_ops (<, <=, =, >=, >) between a timestamptz column
 * and a timestamptz, timestamp or date value.  An equality is a lower and
 * an upper bound.
 */
static void
classify_bound(PlannerInfo *root, OpExpr *op, Index relid,
			   const BlsRelMap *map, BlsQuals *quals, RestrictInfo *rinfo)
{
	Oid			opfamily;
	int			strategy;
	Oid			lefttype;
	Oid			righttype;
	Node	   *var;
	Node	   *value;
	Oid			valtype;
	const char *key;
	const BlsSortDef *sort;
	Expr	   *bound;

	if (list_length(op->args) != 2)
		return;
	opfamily = get_opclass_family(GetDefaultOpClass(TIMESTAMPTZOID, BTREE_AM_OID));
	if (!op_in_opfamily(op->opno, opfamily))
		return;
	get_op_opfamily_properties(op->opno, opfamily, false, &strategy,
							   &lefttype, &righttype);

	var = linitial(op->args);
	value = lsecond(op->args);
	valtype = righttype;
	if (var_key(var, relid, map) == NULL)
	{
		/* value op column: the bound points the other way */
		var = lsecond(op->args);
		value = linitial(op->args);
		valtype = lefttype;
		strategy = BTMaxStrategyNumber + 1 - strategy;	/* commuted */
	}
	key = var_key(var, relid, map);
	sort = key ? bls_resource_sort(map->resource, key) : NULL;
	if (sort == NULL || !sort->is_time || exprType(var) != TIMESTAMPTZOID ||
		!is_scan_constant(root, value, relid))
		return;
	bound = as_timestamptz(value, valtype);
	if (bound == NULL)
		return;

	while (IsA(var, RelabelType))
		var = (Node *) ((RelabelType *) var)->arg;
	if (strategy == BTEqualStrategyNumber ||
		strategy == BTGreaterEqualStrategyNumber ||
		strategy == BTGreaterStrategyNumber)
		add_bound(quals, sort, ((Var *) var)->varattno, true,
				  strategy == BTGreaterStrategyNumber, true, bound, rinfo);
	if (strategy == BTEqualStrategyNumber ||
		strategy == BTLessEqualStrategyNumber ||
		strategy == BTLessStrategyNumber)
		add_bound(quals, sort, ((Var *) var)->varattno, false,
				  strategy == BTLessStrategyNumber, true, bound, rinfo);
}

/* LEAST or GREATEST of timestamptz expressions; the one itself if alone. */
static Expr *
min_max(List *args, MinMaxOp op)
{
	MinMaxExpr *m;

	if (list_length(args) == 1)
		return linitial(args);
	m = makeNode(MinMaxExpr);
	m->minmaxtype = TIMESTAMPTZOID;
	m->minmaxcollid = InvalidOid;
	m->inputcollid = InvalidOid;
	m->op = op;
	m->args = args;
	m->location = -1;
	return (Expr *) m;
}

/*
 * Bounds implied by an OR whose every arm bounds the same time column:
 * "time BETWEEN SYMMETRIC a AND b" is (time >= a AND time <= b) OR (time >=
 * b AND time <= a).  The bounds are inclusive and cover every arm (the
 * least of the arms' lower bounds, each arm's own the greatest of its
 * conditions'), so the clause stays local, checked exactly.  A NULL is
 * ignored by LEAST and GREATEST: an arm with a NULL bound admits nothing,
 * and a wider window is only a superset.
 */
static void
classify_or_bounds(PlannerInfo *root, BoolExpr *or, Index relid,
				   const BlsRelMap *map, BlsQuals *quals, RestrictInfo *rinfo)
{
	List	   *lowers = NIL;
	List	   *uppers = NIL;
	const BlsSortDef *sort = NULL;
	AttrNumber	attno = InvalidAttrNumber;
	bool		has_lower = true;
	bool		has_upper = true;
	ListCell   *lc;

	foreach(lc, or->args)
	{
		Node	   *arm = lfirst(lc);
		List	   *conds = is_andclause(arm) ? ((BoolExpr *) arm)->args : list_make1(arm);
		BlsQuals	q = {0};
		List	   *lo = NIL;
		List	   *hi = NIL;
		ListCell   *cc;

		foreach(cc, conds)
			if (IsA(lfirst(cc), OpExpr))
				classify_bound(root, lfirst(cc), relid, map, &q, rinfo);
		foreach(cc, q.bounds)
		{
			BlsBound   *b = (BlsBound *) lfirst(cc);

			if (attno != InvalidAttrNumber && b->attno != attno)
				return;
			attno = b->attno;
			sort = b->sort;
			if (b->lower)
				lo = lappend(lo, b->value);
			else
				hi = lappend(hi, b->value);
		}
		/* an arm without a lower (upper) bound: the OR has none */
		if (lo)
			lowers = lappend(lowers, min_max(lo, IS_GREATEST));
		else
			has_lower = false;
		if (hi)
			uppers = lappend(uppers, min_max(hi, IS_LEAST));
		else
			has_upper = false;
		if (!has_lower && !has_upper)
			return;
	}
	if (has_lower)
		add_bound(quals, sort, attno, true, false, false,
				  min_max(lowers, IS_LEAST), rinfo);
	if (has_upper)
		add_bound(quals, sort, attno, false, false, false,
				  min_max(uppers, IS_GREATEST), rinfo);
}

/*
 * Record a filter on def: var = value, or = ANY (value).  An exact match
 * enforces the clause; otherwise it stays local, rechecked.
 */
static void
add_filter(BlsQuals *quals, const BlsFilterDef *def, Node *value,
		   bool is_array, RestrictInfo *rinfo)
{
	BlsFilterQual *f = palloc(sizeof(BlsFilterQual));

	f->def = def;
	f->value = (Expr *) value;
	f->is_array = is_array;
	f->rinfo = rinfo;
	quals->filters = lappend(quals->filters, f);
	if (def->match == BLS_MATCH_EXACT)
		quals->exact = lappend(quals->exact, rinfo);
	else
	{
		quals->loose = lappend(quals->loose, rinfo);
		quals->local = lappend(quals->local, rinfo);
	}
}

/*
 * An OR whose every arm is <filter column> = <value> on the same column is
 * that column = ANY (ARRAY[values]): the filter it gives, and the array in
 * *array; NULL otherwise.
 */
static const BlsFilterDef *
or_filter(PlannerInfo *root, BoolExpr *or, Index relid, const BlsRelMap *map,
		  Expr **array)
{
	const BlsFilterDef *def = NULL;
	ArrayExpr  *arr;
	List	   *values = NIL;
	ListCell   *lc;

	foreach(lc, or->args)
	{
		OpExpr	   *op = lfirst(lc);
		Node	   *left;
		Node	   *right;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2 ||
			get_opcode(op->opno) != F_TEXTEQ)
			return NULL;
		left = linitial(op->args);
		right = lsecond(op->args);
		if (bls_is_filter_var(right, relid, map))
		{
			Node	   *tmp = left;

			left = right;
			right = tmp;
		}
		if (!bls_is_filter_var(left, relid, map) ||
			(def != NULL && var_filter(left, relid, map) != def) ||
			!pushable_value(root, relid, left, right, F_TEXTEQ, op->inputcollid))
			return NULL;
		def = var_filter(left, relid, map);
		if (exprType(right) != TEXTOID)
			right = (Node *) makeRelabelType((Expr *) right, TEXTOID, -1,
											 DEFAULT_COLLATION_OID,
											 COERCE_IMPLICIT_CAST);
		values = lappend(values, right);
	}
	if (def == NULL)
		return NULL;
	arr = makeNode(ArrayExpr);
	arr->array_typeid = TEXTARRAYOID;
	arr->array_collid = DEFAULT_COLLATION_OID;
	arr->element_typeid = TEXTOID;
	arr->elements = values;
	arr->multidims = false;
	arr->location = -1;
	*array = (Expr *) arr;
	return def;
}

/*
 * bls_classify_clause
 *		Sort one restriction clause of the scanned relation into quals.
 *
 * Every clause ends up in exactly one of quals->exact and quals->local;
 * loose clauses and time bounds are also recorded, but stay local.
 */
void
bls_classify_clause(PlannerInfo *root, Index relid, const BlsRelMap *map,
					RestrictInfo *rinfo, BlsQuals *quals)
{
	Node	   *clause = (Node *) rinfo->clause;

	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;
		Oid			func = get_opcode(op->opno);

		if (list_length(op->args) == 2 && func == F_TEXTEQ)
		{
			Node	   *left = linitial(op->args);
			Node	   *right = lsecond(op->args);
			const BlsFilterDef *def;

			if (bls_is_filter_var(right, relid, map))
			{
				Node	   *tmp = left;

				left = right;
				right = tmp;
			}
			def = var_filter(left, relid, map);
			if (def != NULL && def->match != BLS_MATCH_FUZZY &&
				pushable_value(root, relid, left, right, func, op->inputcollid))
			{
				add_filter(quals, def, right, false, rinfo);
				return;
			}
		}
		/* keywords and bounds are recorded, but the clause stays local */
		if (!classify_keyword(root, op, relid, map, quals, rinfo))
			classify_bound(root, op, relid, map, quals, rinfo);
	}
	else if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;
		Node	   *left = linitial(saop->args);
		Node	   *right = lsecond(saop->args);
		Oid			func = get_opcode(saop->opno);

		if (saop->useOr && bls_is_filter_var(left, relid, map) &&
			pushable_value(root, relid, left, right, func, saop->inputcollid) &&
			func == F_TEXTEQ)
		{
			add_filter(quals, var_filter(left, relid, map), right, true, rinfo);
			return;
		}
	}
	else if (is_orclause(clause))
	{
		Expr	   *array;
		const BlsFilterDef *def = or_filter(root, (BoolExpr *) clause, relid,
											map, &array);

		if (def)
		{
			add_filter(quals, def, (Node *) array, true, rinfo);
			return;
		}
		classify_or_bounds(root, (BoolExpr *) clause, relid, map, quals, rinfo);
	}
	quals->local = lappend(quals->local, rinfo);
}

/*
 * bls_single_sequence
 *		Will the scan send one request sequence at most?  Only a parameter
 *		whose every condition is an array may take several values (one
 *		sequence each); the service's order holds for the whole scan only
 *		when there is none.
 */
bool
bls_single_sequence(const BlsResource *res, const BlsQuals *quals)
{
	ListCell   *lc;

	foreach(lc, quals->filters)
	{
		BlsFilterQual *f = (BlsFilterQual *) lfirst(lc);
		bool		scalar = false;
		ListCell   *kc;

		/* items described one by one come in no order */
		if (res->lookup_param && strcmp(f->def->param, res->lookup_param) == 0)
			return false;
		if (!f->is_array)
			continue;
		foreach(kc, quals->filters)
		{
			BlsFilterQual *g = (BlsFilterQual *) lfirst(kc);

			if (g->def == f->def && !g->is_array)
				scalar = true;
		}
		if (!scalar)
			return false;
	}
	return true;
}

/*
 * bls_settle_lookup
 *		When the conditions give the ids of the items, the scan describes
 *		each instead of listing: the other filters cannot be sent then, so
 *		their clauses are checked locally instead.
 */
void
bls_settle_lookup(const BlsResource *res, BlsQuals *quals)
{
	List	   *filters = NIL;
	bool		lookup = false;
	ListCell   *lc;

	foreach(lc, quals->filters)
		if (res->lookup_param &&
			strcmp(((BlsFilterQual *) lfirst(lc))->def->param, res->lookup_param) == 0)
			lookup = true;
	if (!lookup)
		return;
	foreach(lc, quals->filters)
	{
		BlsFilterQual *f = (BlsFilterQual *) lfirst(lc);

		if (strcmp(f->def->param, res->lookup_param) == 0)
			filters = lappend(filters, f);
		else if (f->def->match == BLS_MATCH_EXACT)
		{
			quals->exact = list_delete_ptr(quals->exact, f->rinfo);
			quals->local = lappend(quals->local, f->rinfo);
		}
	}
	quals->filters = filters;
	quals->keywords = NIL;
	quals->loose = NIL;
}

/*
 * bls_pathkey_order
 *		If the service can produce the order of pathkey pk, set *order_by
 *		and *order and return true.
 *
 * Times sort as timestamptz, with NULLs where PostgreSQL puts them by
 * default; other fields sort by bytes, which only the "C" collation
 * matches.
 */
bool
bls_pathkey_order(PathKey *pk, Index relid, const BlsRelMap *map,
				  const char **order_by, const char **order)
{
	EquivalenceClass *ec = pk->pk_eclass;
	ListCell   *lc;
	const BlsSortDef *sort = NULL;
	Oid			type = InvalidOid;

	if (ec->ec_has_volatile)
		return false;
	foreach(lc, ec->ec_members)
	{
		EquivalenceMember *em = (EquivalenceMember *) lfirst(lc);
		const char *key;

		if (em->em_is_child)
			continue;
		key = var_key((Node *) em->em_expr, relid, map);
		if (key && (sort = bls_resource_sort(map->resource, key)) != NULL)
		{
			type = exprType((Node *) em->em_expr);
			break;
		}
	}
	if (sort == NULL)
		return false;

	if (!sort->is_time)
	{
		if (type != TEXTOID && type != VARCHAROID)
			return false;
		if (ec->ec_collation != C_COLLATION_OID &&
			ec->ec_collation != POSIX_COLLATION_OID)
			return false;
	}
	else if (type != TIMESTAMPTZOID)
		return false;
	if (pk->pk_opfamily != get_opclass_family(GetDefaultOpClass(type, BTREE_AM_OID)))
		return false;

	if (bls_pathkey_ascending(pk) && !pk->pk_nulls_first)
		*order = "asc";
	else if (bls_pathkey_descending(pk) && pk->pk_nulls_first)
		*order = "desc";
	else
		return false;
	*order_by = sort->order_by;
	return true;
}
