/*-------------------------------------------------------------------------
 *
 * scan_request.c
 *		  The one description of what a scan sends: to and from
 *		  fdw_private, its request sequences, and its HTTP requests.
 *
 * The planner fills in a BlsScanRequest; bls_request_to_private() is the
 * only writer of ForeignScan.fdw_private and bls_request_from_private() its
 * only reader, so that no index arithmetic is spread around.  At execution
 * the filters' values become request sequences (bls_request_sequences()):
 * one per combination of distinct values, each a list of parameters in
 * UTF-8, the service's encoding, whatever the database's.  Every HTTP
 * request of a list call, the scan's, ANALYZE's, a remote estimate's and
 * the one EXPLAIN shows, is built by bls_build_list_request().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "bce_auth.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"

#include "bls_modules.h"

/* The items of ForeignScan.fdw_private; only the two functions below use it. */
enum BlsFdwPrivateIndex
{
	BlsPrivateRetrievedAttrs,	/* Integer list: columns to fill in */
	BlsPrivateResource,			/* String: the resource's name */
	BlsPrivateOrder,			/* List of 2 Strings: orderBy, order ("" for
								 * the service's default) */
	BlsPrivateLimit,			/* Integer: BlsScanRequest.limit */
	BlsPrivateFilters,			/* per filter: List (param, attno, is_array) */
	BlsPrivateKeywords,			/* per keyword: List (param, value) */
	BlsPrivateBounds			/* per bound: List (field, attno, lower,
								 * strict, stops) */
};

static char *
empty_to_null(char *s)
{
	return s[0] ? s : NULL;
}

/*
 * bls_request_to_private
 *		req as the fdw_private of its ForeignScan.  The filters' and the
 *		bounds' expressions, then the rechecked clauses (only for EXPLAIN),
 *		are returned in *fdw_exprs, in that order, so that setrefs.c
 *		processes them and outer Vars become the join's parameters.
 */
List *
bls_request_to_private(const BlsScanRequest *req, List **fdw_exprs)
{
	List	   *filters = NIL;
	List	   *keywords = NIL;
	List	   *bounds = NIL;
	List	   *private;
	ListCell   *lc;
	ListCell   *kc;

	*fdw_exprs = NIL;
	foreach(lc, req->filters)
	{
		BlsPlanFilter *f = (BlsPlanFilter *) lfirst(lc);

		filters = lappend(filters, list_make3(makeString(pstrdup(f->param)),
											  makeInteger(f->attno),
											  makeInteger(f->is_array)));
		*fdw_exprs = lappend(*fdw_exprs, f->expr);
	}
	forboth(lc, req->keywords, kc, req->keyword_params)
	{
		BlsKeyword *k = (BlsKeyword *) lfirst(lc);

		keywords = lappend(keywords, list_make2(makeString(pstrdup(strVal(lfirst(kc)))),
												makeString(pstrdup(k->value))));
	}
	foreach(lc, req->bounds)
	{
		BlsPlanBound *b = (BlsPlanBound *) lfirst(lc);

		bounds = lappend(bounds, list_make5(makeString(pstrdup(b->field)),
											makeInteger(b->attno),
											makeInteger(b->lower),
											makeInteger(b->strict),
											makeInteger(b->stops)));
		*fdw_exprs = lappend(*fdw_exprs, b->expr);
	}
	private = list_make5(req->retrieved_attrs,
						 makeString(pstrdup(req->resource->name)),
						 list_make2(makeString(pstrdup(req->order_by ? req->order_by : "")),
									makeString(pstrdup(req->order ? req->order : ""))),
						 makeInteger(req->limit),
						 filters);
	private = lappend(private, keywords);
	private = lappend(private, bounds);
	*fdw_exprs = list_concat(*fdw_exprs, req->rechecked);
	return private;
}

/*
 * bls_request_from_private
 *		The BlsScanRequest a ForeignScan's fdw_private describes.  The
 *		filters' and bounds' expressions are not set: they are the plan's
 *		fdw_exprs, filters first, in order.
 */
BlsScanRequest *
bls_request_from_private(List *fdw_private)
{
	BlsScanRequest *req = palloc0(sizeof(BlsScanRequest));
	List	   *order = (List *) list_nth(fdw_private, BlsPrivateOrder);
	ListCell   *lc;

	req->retrieved_attrs = (List *) list_nth(fdw_private, BlsPrivateRetrievedAttrs);
	req->resource = bls_resource_lookup(strVal(list_nth(fdw_private, BlsPrivateResource)));
	if (req->resource == NULL)
		elog(ERROR, "unknown BLS resource \"%s\" in plan",
			 strVal(list_nth(fdw_private, BlsPrivateResource)));
	req->order_by = empty_to_null(strVal(linitial(order)));
	req->order = empty_to_null(strVal(lsecond(order)));
	req->limit = intVal(list_nth(fdw_private, BlsPrivateLimit));
	foreach(lc, (List *) list_nth(fdw_private, BlsPrivateFilters))
	{
		List	   *item = (List *) lfirst(lc);
		BlsPlanFilter *f = palloc0(sizeof(BlsPlanFilter));

		f->param = strVal(linitial(item));
		f->attno = intVal(lsecond(item));
		f->is_array = intVal(lthird(item)) != 0;
		req->filters = lappend(req->filters, f);
	}
	foreach(lc, (List *) list_nth(fdw_private, BlsPrivateKeywords))
	{
		List	   *item = (List *) lfirst(lc);
		BlsKeyword *k = palloc0(sizeof(BlsKeyword));

		k->value = strVal(lsecond(item));
		req->keywords = lappend(req->keywords, k);
		req->keyword_params = lappend(req->keyword_params, linitial(item));
	}
	foreach(lc, (List *) list_nth(fdw_private, BlsPrivateBounds))
	{
		List	   *item = (List *) lfirst(lc);
		BlsPlanBound *b = palloc0(sizeof(BlsPlanBound));

		b->field = strVal(linitial(item));
		b->attno = intVal(lsecond(item));
		b->lower = intVal(lthird(item)) != 0;
		b->strict = intVal(lfourth(item)) != 0;
		b->stops = intVal(list_nth(item, 4)) != 0;
		req->bounds = lappend(req->bounds, b);
	}
	return req;
}

/*
 * bls_text_values
 *		The values a filter's expression of type typid allows, as C
 *		strings: its value, or the non-null elements of its array.  In the
 *		current context.
 */
List *
bls_text_values(Datum value, bool isnull, bool is_array, Oid typid)
{
	List	   *result = NIL;

	if (isnull)
		return NIL;
	if (!is_array)
		return list_make1(bls_datum_text(value, typid));
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
				result = lappend(result, bls_datum_text(elems[i], ARR_ELEMTYPE(arr)));
	}
	return result;
}

/*
 * bls_datum_text
 *		A value of type typid as the text a request carries, in the server
 *		encoding, palloc'd: through the type's output function, whatever
 *		the type (a hand-written table may declare uuid as uuid, name or
 *		char(n)), with the padding of a char(n) removed.
 */
char *
bls_datum_text(Datum value, Oid typid)
{
	Oid			typoutput;
	bool		isvarlena;
	char	   *s;

	getTypeOutputInfo(typid, &typoutput, &isvarlena);
	s = OidOutputFunctionCall(typoutput, value);
	if (getBaseType(typid) == BPCHAROID)
	{
		size_t		len = strlen(s);

		while (len > 0 && s[len - 1] == ' ')
			s[--len] = '\0';
	}
	return s;
}

/* s, in the server encoding, as UTF-8 for the service: a new copy. */
static char *
to_utf8(const char *s)
{
	char	   *u = pg_server_to_any(s, strlen(s), PG_UTF8);

	/* no conversion returns s itself, which the caller may free */
	return u == s ? pstrdup(s) : u;
}

static int
string_compare(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

/*
 * bls_distinct_strings
 *		The C strings of values, sorted (by strcmp) and each once: a new
 *		list in the current context; values is sorted in place.
 */
List *
bls_distinct_strings(List *values)
{
	List	   *distinct = NIL;
	ListCell   *lc;

	list_sort(values, string_compare);
	foreach(lc, values)
		if (distinct == NIL || strcmp(llast(distinct), lfirst(lc)) != 0)
			distinct = lappend(distinct, lfirst(lc));
	return distinct;
}

/* The strings in both a and b. */
static List *
intersect_strings(List *a, List *b)
{
	List	   *both = NIL;
	ListCell   *x;
	ListCell   *y;

	foreach(x, a)
		foreach(y, b)
			if (strcmp(lfirst(x), lfirst(y)) == 0)
			{
				both = lappend(both, lfirst(x));
				break;
			}
	return both;
}

/*
 * bls_request_sequences
 *		The request sequences of one execution: one per combination of the
 *		filters' distinct values, each a palloc'd array of *nparams
 *		BlsParam in UTF-8: the filters' parameters (sorted by name), then
 *		the keywords.
 *
 * filter_sets holds, per filter of req in order, the List of values (C
 * strings in the server encoding) that filter allows.  Filters on one
 * parameter intersect; an empty intersection means no sequence at all (a
 * contradiction sends nothing).  The result is allocated in the current
 * memory context.
 */
List *
bls_request_sequences(const BlsScanRequest *req, List *filter_sets,
					  int *nparams)
{
	List	   *params = NIL;	/* distinct filter parameters, sorted */
	List	   *sets = NIL;		/* their value sets, sorted, distinct */
	List	   *result = NIL;
	int			nfilters;
	int			nkeywords = list_length(req->keywords);
	int		   *pos;
	ListCell   *lc;
	ListCell   *vc;

	/* merge the filters by parameter */
	forboth(lc, req->filters, vc, filter_sets)
	{
		const char *param = ((BlsPlanFilter *) lfirst(lc))->param;
		int			i = 0;
		ListCell   *pc;
		bool		found = false;

		/* a value that cannot be an id finds nothing, and is never sent */
		if (req->resource->lookup_param &&
			strcmp(param, req->resource->lookup_param) == 0)
		{
			List	   *ids = NIL;
			ListCell   *ic;

			foreach(ic, (List *) lfirst(vc))
				if (bls_is_task_id(lfirst(ic)))
					ids = lappend(ids, lfirst(ic));
			lfirst(vc) = ids;
		}

		foreach(pc, params)
		{
			if (strcmp(lfirst(pc), param) == 0)
			{
				ListCell   *sc = list_nth_cell(sets, i);

				lfirst(sc) = intersect_strings(lfirst(sc), lfirst(vc));
				found = true;
				break;
			}
			i++;
		}
		if (!found)
		{
			params = lappend(params, (void *) param);
			sets = lappend(sets, list_copy(lfirst(vc)));
		}
	}
	nfilters = list_length(params);
	foreach(lc, sets)
	{
		List	   *distinct = bls_distinct_strings((List *) lfirst(lc));

		if (distinct == NIL)
		{
			*nparams = nfilters + nkeywords;
			return NIL;			/* a contradiction */
		}
		lfirst(lc) = distinct;
	}

	/* every combination, the first parameter varying slowest */
	pos = palloc0(sizeof(int) * Max(nfilters, 1));
	for (;;)
	{
		BlsParam   *seq = palloc(sizeof(BlsParam) * Max(nfilters + nkeywords, 1));
		int			i = 0;
		ListCell   *pc;
		ListCell   *kc;

		forboth(pc, params, lc, sets)
		{
			seq[i].key = lfirst(pc);
			seq[i].value = to_utf8(list_nth((List *) lfirst(lc), pos[i]));
			i++;
		}
		forboth(lc, req->keywords, kc, req->keyword_params)
		{
			seq[i].key = strVal(lfirst(kc));
			seq[i].value = to_utf8(((BlsKeyword *) lfirst(lc))->value);
			i++;
		}
		result = lappend(result, seq);

		/* advance the odometer */
		for (i = nfilters - 1; i >= 0; i--)
		{
			if (++pos[i] < list_length((List *) list_nth(sets, i)))
				break;
			pos[i] = 0;
		}
		if (i < 0)
			break;
	}
	*nparams = nfilters + nkeywords;
	return result;
}

/* Do two results of bls_request_sequences() ask for the same? */
bool
bls_sequences_equal(List *a, List *b, int nparams)
{
	ListCell   *x;
	ListCell   *y;

	if (list_length(a) != list_length(b))
		return false;
	forboth(x, a, y, b)
	{
		BlsParam   *p = (BlsParam *) lfirst(x);
		BlsParam   *q = (BlsParam *) lfirst(y);

		for (int i = 0; i < nparams; i++)
			if (strcmp(p[i].key, q[i].key) != 0 ||
				strcmp(p[i].value, q[i].value) != 0)
				return false;
	}
	return true;
}

/*
 * bls_check_window_order
 *		Refuse a time window whose start is after its end, compared as
 *		given: bls_window_text() rounds outward to whole seconds, which
 *		could make such a window look valid.  for_task: the window of a new
 *		download task (its query times), else bls_log_query()'s arguments.
 */
void
bls_check_window_order(TimestampTz start, TimestampTz end, bool for_task)
{
	char	   *from;
	char	   *to;

	if (start <= end)
		return;
	/* timestamptz_to_str() returns a static buffer */
	from = pstrdup(timestamptz_to_str(start));
	to = pstrdup(timestamptz_to_str(end));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 for_task ?
			 errmsg("query_start_time is after query_end_time") :
			 errmsg("start_time is after end_time"),
			 for_task ?
			 errdetail("The task would export from %s to %s.", from, to) :
			 errdetail("The window would be from %s to %s.", from, to)));
}

/*
 * bls_window_text
 *		The window [start, end) as BLS takes it, into start_buf and end_buf
 *		(32 bytes each): whole UTC seconds rounded outward, clamped to the
 *		times BLS can hold, from 1970 (nothing was logged before) to the
 *		last second of 9999, the lower end as the upper.  Infinities clamp
 *		too.  False if the window is empty, before or after clamping.  The
 *		table's window and bls_log_query()'s are both made here.
 */
bool
bls_window_text(TimestampTz start, TimestampTz end, char *start_buf,
				char *end_buf)
{
	TimestampTz lo = -((TimestampTz) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) *
					   USECS_PER_DAY);
	TimestampTz hi = (TimestampTz) (date2j(10000, 1, 1) - POSTGRES_EPOCH_JDATE) *
		USECS_PER_DAY - USECS_PER_SEC;

	if (start >= end)
		return false;
	start = Min(Max(start, lo), hi);
	end = Min(Max(end, lo), hi);
	if (start >= end)
		return false;
	if (!bls_utc_text(start, false, start_buf, 32) ||
		!bls_utc_text(end, true, end_buf, 32))
		elog(ERROR, "clamped BLS time window out of range");
	return true;
}

/* Append s, UriEncoded as bce-auth-v1 signs it, to buf. */
static void
append_encoded(StringInfo buf, const char *s)
{
	char	   *enc = bce_uri_encode(s, strlen(s), 0);

	if (enc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	appendStringInfoString(buf, enc);
	bce_free(enc);
}

/*
 * bls_build_list_request
 *		The HTTP request of one page of res: a JSON body for a POST call, a
 *		query string for a GET call.  Allocated in the current context.
 */
void
bls_build_list_request(const BlsResource *res, const BlsListRequest *lr,
					   BlsHttpRequest *out)
{
	const char *id = bls_lookup_value(res, lr->params, lr->nparams);

	memset(out, 0, sizeof(*out));
	if (id != NULL)
	{
		/* one item described by its id, which goes into the path */
		char	   *enc = bce_uri_encode(id, strlen(id), 0);

		if (enc == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		out->method = "GET";
		out->target = psprintf("%s%s", res->lookup_path, enc);
		out->not_found_code = res->lookup_not_found;
		bce_free(enc);
		return;
	}
	out->method = res->method;
	if (strcmp(res->method, "POST") == 0)
	{
		size_t		len;
		char	   *mbody = bls_list_request_body(lr, &len);

		if (mbody == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		out->body = pnstrdup(mbody, len);
		out->bodylen = len;
		free(mbody);
		out->target = res->path;
	}
	else
	{
		StringInfoData buf;
		char	   *path_param = bls_resource_path_param(res);
		char		sep = '?';

		initStringInfo(&buf);
		if (path_param)
		{
			/* the parameter the path names goes there, not in the query */
			const char *open = strchr(res->path, '{');
			const char *value = bls_param_value(res, lr->params, lr->nparams,
												path_param);

			/* a value known only at run time stays "{name}", for EXPLAIN */
			if (value == NULL)
				appendStringInfoString(&buf, res->path);
			else
			{
				appendBinaryStringInfo(&buf, res->path, open - res->path);
				append_encoded(&buf, value);
				appendStringInfoString(&buf, strchr(open, '}') + 1);
			}
		}
		else
			appendStringInfoString(&buf, res->path);
		for (int i = 0; i < lr->nparams; i++)
		{
			if (path_param && strcmp(lr->params[i].key, path_param) == 0)
				continue;
			/* a value known only at run time is "{name}", for EXPLAIN */
			if (lr->params[i].value == NULL)
				appendStringInfo(&buf, "%c%s={%s}", sep, lr->params[i].key,
								 lr->params[i].key);
			else
			{
				appendStringInfo(&buf, "%c%s=", sep, lr->params[i].key);
				append_encoded(&buf, lr->params[i].value);
			}
			sep = '&';
		}
		for (int i = 0; i < res->ndefaults; i++)
		{
			const BlsParamDefault *d = &res->defaults[i];
			bool		given = false;

			for (int j = 0; j < lr->nparams; j++)
				if (strcmp(lr->params[j].key, d->param) == 0)
					given = true;
			if (given)
				continue;
			appendStringInfo(&buf, "%c%s=", sep, d->param);
			append_encoded(&buf, d->value);
			sep = '&';
		}
		if (lr->order_by && res->order_by_param)
			appendStringInfo(&buf, "%c%s=%s", sep, res->order_by_param,
							 lr->order_by), sep = '&';
		if (lr->order)
			appendStringInfo(&buf, "%c%s=%s", sep, res->order_param,
							 lr->order), sep = '&';
		if (res->paging == BLS_PAGING_MARKER)
		{
			/* an analysis statement (page_size 0) takes no limit */
			if (lr->page_size > 0)
				appendStringInfo(&buf, "%climit=%d", sep, lr->page_size);
			if (lr->marker)
			{
				appendStringInfoString(&buf, "&marker=");
				append_encoded(&buf, lr->marker);
			}
		}
		else
			appendStringInfo(&buf, "%cpageNo=%d&pageSize=%d", sep,
							 lr->page_no, lr->page_size);
		out->target = buf.data;
		out->body = NULL;
		out->bodylen = 0;
	}
}

/*
 * bls_http_request_text
 *		"METHOD target [body]", in the server encoding, for EXPLAIN.
 */
char *
bls_http_request_text(const BlsHttpRequest *req)
{
	char	   *s = psprintf("%s %s%s%s", req->method, req->target,
							 req->body ? " " : "", req->body ? req->body : "");

	return pg_any_to_server(s, strlen(s), PG_UTF8);
}
