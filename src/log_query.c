/*-------------------------------------------------------------------------
 *
 * log_query.c
 *		  bls_log_query(): any QueryLogRecord statement, analysis included,
 *		  as one jsonb object per result row.
 *
 * The log_records table reads search statements, whose rows it maps onto
 * fixed columns; an analysis statement ("match ... | select host, count(*)
 * group by host") returns columns of its own, so it goes through this
 * function instead.  It pages with the same pager as the table (marker
 * paging, retries, cancels, truncation), and each row becomes an object
 * keyed by column name with values typed by the answer's columnTypes
 * (bls_row_jsonb()).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "bls_modules.h"

/*
 * bls_check_search_statement
 *		Refuse an analysis statement where only a search fits (the
 *		log_records table): its rows would not be log records.
 */
void
bls_check_search_statement(const char *statement)
{
	const char *p = statement;
	bool		quoted = false;
	bool		analysis;

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	analysis = pg_strncasecmp(p, "select", 6) == 0 &&
		(p[6] == '\0' || p[6] == ' ' || p[6] == '\t' || p[6] == '\n' || p[6] == '\r');
	for (; *p && !analysis; p++)
	{
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '|' && !quoted)
			analysis = true;
	}
	if (analysis)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("log_records reads search statements, not analysis statements"),
				 errdetail("The statement is \"%s\".", bls_printable(statement, 200)),
				 errhint("Run analysis statements with bls_log_query().")));
}

/*
 * bls_check_log_store_name
 *		Refuse a log store name BLS cannot hold (bls-api.md, Identifiers):
 *		empty, "." or "..", or holding "/".  The name is a path segment: such
 *		a value would name another route, or be signed differently from how
 *		it is sent.  name is in UTF-8, as sent.
 */
void
bls_check_log_store_name(const char *name)
{
	if (name[0] != '\0' && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
		strchr(name, '/') == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid log store name \"%s\"",
					bls_printable(pg_any_to_server(name, strlen(name), PG_UTF8),
								  200)),
			 errdetail("BLS log store names are letters, digits, \"_\", \"-\" and \".\"; not empty, \".\" or \"..\", and without \"/\".")));
}

static char *
utf8_arg(FunctionCallInfo fcinfo, int n)
{
	char	   *s = text_to_cstring(PG_GETARG_TEXT_PP(n));
	char	   *u = pg_server_to_any(s, strlen(s), PG_UTF8);

	return u == s ? s : u;
}

PG_FUNCTION_INFO_V1(bls_log_query);

/*
 * bls_log_query(server_name text, log_store_name text, query text,
 *				 start_time timestamptz, end_time timestamptz,
 *				 project text DEFAULT NULL) RETURNS SETOF jsonb
 *
 * QueryLogRecord with the current user's mapping for the server, over the
 * window [start_time, end_time) in whole seconds, rounded outward (BLS takes
 * no fractions) and clamped as the table's is; a NULL end_time is the
 * statement's start, a NULL project the service's default.  A start after
 * the end is an error, even by a fraction of a second.  Every page a search statement has is read.
 */
Datum
bls_log_query(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForeignServer *server;
	BlsOptions *opts;
	const BlsResource *res = bls_resource_lookup("log_records");
	BlsParam	params[5];
	int			nparams = 0;
	TimestampTz start;
	TimestampTz end;
	char		start_buf[32];
	char		end_buf[32];
	BlsScanStats stats = {0};
	BlsPager   *pager;
	BlsFields	fields = {0};
	const char *keys[1] = {"@seq"};
	size_t		keylens[1] = {4};
	BlsValue	values[1];
	int			id_keys[2] = {0, -1};
	MemoryContext row_cxt;

	for (int i = 0; i < 4; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null",
							i == 0 ? "server_name" : i == 1 ? "log_store_name" :
							i == 2 ? "query" : "start_time")));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	server = bls_function_server(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	opts = bls_get_server_options(server->serverid, NULL, GetUserId(), true);
	/* the server's page_size, at most the service's cap, which is the default */
	opts->resource = res;
	opts->page_size = opts->page_size_set ?
		Min(opts->page_size, res->max_page_size) : res->max_page_size;

	start = PG_GETARG_TIMESTAMPTZ(3);
	end = PG_ARGISNULL(4) ? GetCurrentStatementStartTimestamp() :
		PG_GETARG_TIMESTAMPTZ(4);
	bls_check_window_order(start, end, false);

	params[nparams].key = "logStoreName";
	params[nparams++].value = utf8_arg(fcinfo, 1);
	bls_check_log_store_name(params[0].value);
	if (!bls_window_text(start, end, start_buf, end_buf))
		return (Datum) 0;		/* an empty window: nothing to ask */
	if (!PG_ARGISNULL(5))
	{
		params[nparams].key = "project";
		params[nparams++].value = utf8_arg(fcinfo, 5);
	}
	params[nparams].key = "query";
	params[nparams++].value = utf8_arg(fcinfo, 2);
	params[nparams].key = res->window_start;
	params[nparams++].value = start_buf;
	params[nparams].key = res->window_end;
	params[nparams++].value = end_buf;

	fields.nkeys = 1;
	fields.keys = keys;
	fields.keylens = keylens;
	fields.values = values;
	fields.want_row = true;
	fields.row_values_only = true;
	bls_fields_reset(&fields);

	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "bls_log_query row",
									ALLOCSET_DEFAULT_SIZES);
	pager = bls_pager_create(CurrentMemoryContext, opts, res, &stats);
	bls_pager_begin(pager, params, nparams, NULL, NULL, opts->page_size, 0,
					false);
	while (bls_pager_next(pager, &fields, id_keys))
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(row_cxt);
		Datum		value;
		bool		isnull = false;

		if (fields.row_values == NULL)
			elog(ERROR, "BLS result row without its values");
		value = bls_row_jsonb(&fields);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(row_cxt);
	}
	bls_pager_destroy(pager);
	MemoryContextDelete(row_cxt);
	return (Datum) 0;
}
