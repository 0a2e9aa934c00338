/*-------------------------------------------------------------------------
 *
 * deparse.c
 *		  Decide which conditions, orderings and limits of a query a
 *		  ListDownloadTask request can carry.
 *
 * The request can filter by project (exact match), by logstore keyword
 * (a fuzzy match), and sort by createdTime, updatedTime or name.  This file
 * classifies each restriction clause as
 *
 *	- exact: enforced by the request, not checked again (project = value,
 *	  project = ANY (array));
 *	- loose: narrows the request but is rechecked locally (a logstore name
 *	  or LIKE pattern whose literal core is sent as logStoreName);
 *	- a time bound: checked locally, but lets a scan in matching order stop
 *	  at the first task past the bound;
 *	- local: everything else.
 *
 * Only what provably gives PostgreSQL's answer is pushed: operators are
 * identified by their implementation function, collations must be
 * deterministic, and ordering by name only under the "C" collation, the
 * byte order the service sorts in.
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

#include "bls_fdw.h"

/* The task fields a request can filter or sort by, by their JSON key. */
static const char *const field_keys[BLS_NUM_FIELDS] = {
	"project", "logStoreName", "name", "createdTime", "updatedTime"
};

/* The value of BlsField f as it appears in a request's orderBy. */
const char *
bls_field_key(BlsField f)
{
	return field_keys[f];
}

/*
 * bls_map_fields
 *		Find the columns that hold the fields requests can use; a field no
 *		column maps to is InvalidAttrNumber.
 */
void
bls_map_fields(Relation rel, AttrNumber *attnos)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);

	for (int f = 0; f < BLS_NUM_FIELDS; f++)
		attnos[f] = InvalidAttrNumber;
	for (int i = 1; i <= tupdesc->natts; i++)
	{
		char	   *key;

		if (TupleDescAttr(tupdesc, i - 1)->attisdropped)
			continue;
		key = bls_column_key(rel, i);
		for (int f = 0; f < BLS_NUM_FIELDS; f++)
			if (attnos[f] == InvalidAttrNumber && strcmp(key, field_keys[f]) == 0)
				attnos[f] = i;
		pfree(key);
	}
}

/* The field whose column node is a Var of, or -1. */
static int
var_field(Node *node, Index relid, const AttrNumber *attnos)
{
	Var		   *var;

	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return -1;
	var = (Var *) node;
	if (var->varno != relid || var->varlevelsup != 0 || var->varattno <= 0)
		return -1;
	for (int f = 0; f < BLS_NUM_FIELDS; f++)
		if (attnos[f] == var->varattno)
			return f;
	return -1;
}

/* Is node a Var of the column that holds field? */
bool
bls_is_field_var(Node *node, Index relid, const AttrNumber *attnos,
				 BlsField field)
{
	return var_field(node, relid, attnos) == (int) field;
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

/* Is this a text column, compared with a deterministic collation? */
static bool
text_var_with_collation(Node *var, Oid inputcollid)
{
	return exprType(var) == TEXTOID || exprType(var) == VARCHAROID
		? (!OidIsValid(inputcollid) || get_collation_isdeterministic(inputcollid))
		: false;
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

/*
 * Try to use clause as a logStoreName keyword: log_store_name = 'x', or
 * LIKE / ILIKE with a constant pattern.
 */
static bool
classify_logstore(OpExpr *op, Index relid, const AttrNumber *attnos,
				  BlsQuals *quals, RestrictInfo *rinfo)
{
	Oid			func = get_opcode(op->opno);
	Node	   *left;
	Node	   *right;
	Const	   *c;
	char	   *value;
	char	   *keyword;

	if (list_length(op->args) != 2)
		return false;
	left = linitial(op->args);
	right = lsecond(op->args);
	if (func == F_TEXTEQ && var_field(right, relid, attnos) == BLS_FIELD_LOGSTORE)
	{
		Node	   *tmp = left;

		left = right;
		right = tmp;
	}
	if (var_field(left, relid, attnos) != BLS_FIELD_LOGSTORE)
		return false;
	while (right && IsA(right, RelabelType))
		right = (Node *) ((RelabelType *) right)->arg;
	if (!IsA(right, Const) || ((Const *) right)->constisnull)
		return false;
	c = (Const *) right;
	if (c->consttype != TEXTOID && c->consttype != VARCHAROID)
		return false;
	value = TextDatumGetCString(c->constvalue);

	if (func == F_TEXTEQ)
		keyword = value;
	else if (func == F_TEXTLIKE || func == F_TEXTICLIKE)
		keyword = like_literal_core(value);
	else
		return false;
	if (keyword == NULL || keyword[0] == '\0')
		return false;

	/* one keyword per request: keep the longest, the most selective */
	if (quals->store_keyword == NULL ||
		strlen(keyword) > strlen(quals->store_keyword))
		quals->store_keyword = keyword;
	quals->loose = lappend(quals->loose, rinfo);
	return true;
}

/* Try to use clause as a bound on createdTime or updatedTime. */
static bool
classify_bound(PlannerInfo *root, OpExpr *op, Index relid,
			   const AttrNumber *attnos, BlsQuals *quals, RestrictInfo *rinfo)
{
	Oid			func = get_opcode(op->opno);
	int			f;
	Node	   *value;
	bool		lower;
	bool		strict;
	BlsBound   *bound;

	if (list_length(op->args) != 2)
		return false;
	if (func != F_TIMESTAMPTZ_GE && func != F_TIMESTAMPTZ_GT &&
		func != F_TIMESTAMPTZ_LE && func != F_TIMESTAMPTZ_LT)
		return false;
	lower = (func == F_TIMESTAMPTZ_GE || func == F_TIMESTAMPTZ_GT);
	strict = (func == F_TIMESTAMPTZ_GT || func == F_TIMESTAMPTZ_LT);

	f = var_field(linitial(op->args), relid, attnos);
	value = lsecond(op->args);
	if (f < 0)
	{
		/* value op column: the bound points the other way */
		f = var_field(lsecond(op->args), relid, attnos);
		value = linitial(op->args);
		lower = !lower;
	}
	if ((f != BLS_FIELD_CREATED && f != BLS_FIELD_UPDATED) ||
		!is_scan_constant(root, value, relid))
		return false;

	bound = palloc(sizeof(BlsBound));
	bound->field = f;
	bound->lower = lower;
	bound->strict = strict;
	bound->value = (Expr *) value;
	bound->rinfo = rinfo;
	quals->bounds = lappend(quals->bounds, bound);
	return false;				/* still checked locally */
}

/*
 * bls_classify_clause
 *		Sort one restriction clause of the scanned relation into quals.
 *
 * Every clause ends up in exactly one of quals->exact and quals->local;
 * loose clauses and time bounds are also recorded, but stay local.
 */
void
bls_classify_clause(PlannerInfo *root, Index relid, const AttrNumber *attnos,
					RestrictInfo *rinfo, BlsQuals *quals)
{
	Node	   *clause = (Node *) rinfo->clause;

	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;

		if (list_length(op->args) == 2 && get_opcode(op->opno) == F_TEXTEQ)
		{
			Node	   *left = linitial(op->args);
			Node	   *right = lsecond(op->args);

			if (var_field(right, relid, attnos) == BLS_FIELD_PROJECT)
			{
				Node	   *tmp = left;

				left = right;
				right = tmp;
			}
			if (var_field(left, relid, attnos) == BLS_FIELD_PROJECT &&
				text_var_with_collation(left, op->inputcollid) &&
				is_scan_constant(root, right, relid))
			{
				quals->project_exprs = lappend(quals->project_exprs, right);
				quals->project_array = lappend_int(quals->project_array, 0);
				quals->exact = lappend(quals->exact, rinfo);
				return;
			}
		}
		if (!classify_logstore(op, relid, attnos, quals, rinfo))
			(void) classify_bound(root, op, relid, attnos, quals, rinfo);
	}
	else if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;
		Node	   *left = linitial(saop->args);
		Node	   *right = lsecond(saop->args);

		if (saop->useOr && get_opcode(saop->opno) == F_TEXTEQ &&
			var_field(left, relid, attnos) == BLS_FIELD_PROJECT &&
			text_var_with_collation(left, saop->inputcollid) &&
			is_scan_constant(root, right, relid))
		{
			quals->project_exprs = lappend(quals->project_exprs, right);
			quals->project_array = lappend_int(quals->project_array, 1);
			quals->exact = lappend(quals->exact, rinfo);
			return;
		}
	}
	quals->local = lappend(quals->local, rinfo);
}

/*
 * bls_single_sequence
 *		Will the scan send one request sequence at most?  True unless the
 *		project comes only from arrays, which may hold several values; only
 *		then does the service's order hold for the whole scan.
 */
bool
bls_single_sequence(const BlsQuals *quals)
{
	ListCell   *lc;

	if (quals->project_array == NIL)
		return true;
	foreach(lc, quals->project_array)
		if (lfirst_int(lc) == 0)
			return true;
	return false;
}

/*
 * bls_pathkey_order
 *		If the service can produce the order of pathkey pk, set *order_by
 *		and *order and return true.
 *
 * createdTime and updatedTime sort as timestamptz, with NULLs where
 * PostgreSQL puts them by default; name sorts by bytes, which only the "C"
 * collation matches.
 */
bool
bls_pathkey_order(PathKey *pk, Index relid, const AttrNumber *attnos,
				  const char **order_by, const char **order)
{
	EquivalenceClass *ec = pk->pk_eclass;
	ListCell   *lc;
	int			field = -1;
	Oid			type = InvalidOid;

	if (ec->ec_has_volatile)
		return false;
	foreach(lc, ec->ec_members)
	{
		EquivalenceMember *em = (EquivalenceMember *) lfirst(lc);
		int			f;

		if (em->em_is_child)
			continue;
		f = var_field((Node *) em->em_expr, relid, attnos);
		if (f == BLS_FIELD_CREATED || f == BLS_FIELD_UPDATED ||
			f == BLS_FIELD_NAME)
		{
			field = f;
			type = exprType((Node *) em->em_expr);
			break;
		}
	}
	if (field < 0)
		return false;

	if (field == BLS_FIELD_NAME)
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

	if (pk->pk_strategy == BTLessStrategyNumber && !pk->pk_nulls_first)
		*order = "asc";
	else if (pk->pk_strategy == BTGreaterStrategyNumber && pk->pk_nulls_first)
		*order = "desc";
	else
		return false;
	*order_by = field_keys[field];
	return true;
}
