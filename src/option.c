/*-------------------------------------------------------------------------
 *
 * option.c
 *		  Option validation for bls_fdw, and resolving a scan's options.
 *
 * The validator checks names and values as they are written, so a mistake
 * shows up at CREATE/ALTER time rather than at the first query.  Secrets are
 * validated without ever being echoed back.
 *
 * The options that decide which TLS certificates are trusted (ca_file, and
 * tls_verify turned off) are superuser-only, like postgres_fdw's
 * password_required: only a superuser may create or alter a server that has
 * them.  This is checked at CREATE/ALTER time only, so such a server keeps
 * working if its owner later stops being a superuser.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "catalog/pg_attribute.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "bls_modules.h"
#include "pg_compat.h"

typedef struct BlsOptionDef
{
	const char *name;
	Oid			context;		/* catalog the option may appear in */
	bool		secret;			/* never echo the value */
} BlsOptionDef;

static const BlsOptionDef valid_options[] = {
	{"endpoint", ForeignServerRelationId, false},
	{"page_size", ForeignServerRelationId, false},
	{"connect_timeout_ms", ForeignServerRelationId, false},
	{"request_timeout_ms", ForeignServerRelationId, false},
	{"max_retries", ForeignServerRelationId, false},
	{"max_response_bytes", ForeignServerRelationId, false},
	{"ca_file", ForeignServerRelationId, false},
	{"tls_verify", ForeignServerRelationId, false},
	{"max_concurrent_requests", ForeignServerRelationId, false},
	{"access_key_id", UserMappingRelationId, false},
	{"secret_access_key", UserMappingRelationId, true},
	{"security_token", UserMappingRelationId, true},
	{"estimated_rows", ForeignServerRelationId, false},
	{"use_remote_estimate", ForeignServerRelationId, false},
	{"analyze_max_pages", ForeignServerRelationId, false},
	{"readahead", ForeignServerRelationId, false},
	{"batch_size", ForeignServerRelationId, false},
	{"on_truncation", ForeignServerRelationId, false},
	{"slices", ForeignServerRelationId, false},
	{"resource", ForeignTableRelationId, false},
	{"page_size", ForeignTableRelationId, false},
	{"estimated_rows", ForeignTableRelationId, false},
	{"use_remote_estimate", ForeignTableRelationId, false},
	{"analyze_max_pages", ForeignTableRelationId, false},
	{"readahead", ForeignTableRelationId, false},
	{"batch_size", ForeignTableRelationId, false},
	{"on_truncation", ForeignTableRelationId, false},
	{"slices", ForeignTableRelationId, false},
	{"key", AttributeRelationId, false},
	{NULL, InvalidOid, false}
};

PG_FUNCTION_INFO_V1(bls_fdw_validator);

static const BlsOptionDef *
find_option(const char *name, Oid context)
{
	const BlsOptionDef *opt;

	for (opt = valid_options; opt->name; opt++)
		if (opt->context == context && strcmp(opt->name, name) == 0)
			return opt;
	return NULL;
}

/*
 * Parse an integer option value in [min, max], or raise an error naming the
 * option.
 */
static int64
parse_int_option(const char *name, const char *value, int64 min, int64 max)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(value, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
				 errdetail("The value must be an integer from " INT64_FORMAT " to " INT64_FORMAT ".",
						   min, max)));
	return (int64) v;
}

/*
 * bls_parse_endpoint
 *		Split an endpoint option into the URL prefix to request and the Host
 *		header to send and sign.
 *
 * Accepts "https://host[:port]", "http://host[:port]" and a bare host
 * (meaning https), with at most a trailing slash: anything else (a path,
 * user info, a query, another scheme) is refused, since it would either be
 * ignored or change where the signature goes.  Returns false if invalid;
 * the results are palloc'd in the current context.
 */
bool
bls_parse_endpoint(const char *value, char **url, char **host)
{
	const char *p = value;
	const char *scheme = "https";
	const char *hoststart;
	const char *hostend;
	const char *portstr = NULL;
	int			port = 0;
	int			default_port;
	StringInfoData h;

	if (pg_strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else if (pg_strncasecmp(p, "http://", 7) == 0)
	{
		scheme = "http";
		p += 7;
	}
	else if (strstr(p, "://") != NULL)
		return false;
	default_port = strcmp(scheme, "https") == 0 ? 443 : 80;

	hoststart = p;
	if (*p == '[')
	{
		/* IPv6 literal */
		p++;
		while (*p && (strchr("0123456789abcdefABCDEF:.", *p) != NULL))
			p++;
		if (*p != ']' || p == hoststart + 1)
			return false;
		p++;
	}
	else
	{
		while (*p && (bls_ascii_isalnum(*p) || *p == '-' || *p == '.'))
			p++;
		if (p == hoststart)
			return false;
	}
	hostend = p;

	if (*p == ':')
	{
		char	   *end;
		long		v;

		portstr = ++p;
		errno = 0;
		v = strtol(portstr, &end, 10);
		if (errno != 0 || end == portstr || v < 1 || v > 65535 ||
			!(*portstr >= '0' && *portstr <= '9'))
			return false;
		port = (int) v;
		p = end;
	}
	if (*p == '/')
		p++;
	if (*p != '\0')
		return false;

	initStringInfo(&h);
	appendBinaryStringInfo(&h, hoststart, hostend - hoststart);
	for (char *c = h.data; *c; c++)
		*c = bls_ascii_lower(*c);
	if (port != 0 && port != default_port)
		appendStringInfo(&h, ":%d", port);

	*host = h.data;
	*url = psprintf("%s://%s", scheme, h.data);
	return true;
}

static void
validate_option(const BlsOptionDef *opt, DefElem *def)
{
	const char *name = def->defname;
	const char *value = defGetString(def);

	if (strcmp(name, "endpoint") == 0)
	{
		char	   *url;
		char	   *host;

		if (!bls_parse_endpoint(value, &url, &host))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"endpoint\": \"%s\"", value),
					 errhint("Use \"https://host[:port]\", \"http://host[:port]\" or a bare host name such as \"bls-log.bj.baidubce.com\".")));
	}
	else if (strcmp(name, "page_size") == 0)
		(void) parse_int_option(name, value, 1, BLS_MAX_PAGE_SIZE);
	else if (strcmp(name, "resource") == 0)
	{
		if (bls_resource_lookup(value) == NULL)
		{
			StringInfoData buf;
			const BlsResource *res;

			initStringInfo(&buf);
			for (int i = 0; (res = bls_resource_at(i)) != NULL; i++)
				appendStringInfo(&buf, "%s\"%s\"", i ? ", " : "", res->name);
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"resource\": \"%s\"", value),
					 errhint("Valid resources are %s.", buf.data)));
		}
	}
	else if (strcmp(name, "connect_timeout_ms") == 0 ||
			 strcmp(name, "request_timeout_ms") == 0)
		(void) parse_int_option(name, value, 1, INT_MAX);
	else if (strcmp(name, "max_retries") == 0)
		(void) parse_int_option(name, value, 0, BLS_MAX_RETRIES_LIMIT);
	else if (strcmp(name, "max_response_bytes") == 0)
		(void) parse_int_option(name, value, 1024, (int64) 1024 * 1024 * 1024);
	else if (strcmp(name, "max_concurrent_requests") == 0)
		(void) parse_int_option(name, value, 0, BLS_MAX_CONCURRENT_REQUESTS);
	else if (strcmp(name, "estimated_rows") == 0)
		(void) parse_int_option(name, value, 0, PG_INT64_MAX);
	else if (strcmp(name, "readahead") == 0)
		(void) parse_int_option(name, value, 0, BLS_MAX_READAHEAD);
	else if (strcmp(name, "batch_size") == 0)
		(void) parse_int_option(name, value, 1, BLS_MAX_BATCH_SIZE);
	else if (strcmp(name, "analyze_max_pages") == 0)
		(void) parse_int_option(name, value, 1, BLS_MAX_ANALYZE_MAX_PAGES);
	else if (strcmp(name, "slices") == 0)
		(void) parse_int_option(name, value, 1, BLS_MAX_SLICES);
	else if (strcmp(name, "on_truncation") == 0)
	{
		if (strcmp(value, "error") != 0 && strcmp(value, "notice") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"on_truncation\": \"%s\"", value),
					 errhint("Valid values are \"error\" and \"notice\".")));
	}
	else if (strcmp(name, "tls_verify") == 0 ||
			 strcmp(name, "use_remote_estimate") == 0)
	{
		bool		b;

		if (!parse_bool(value, &b))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
					 errdetail("The value must be a Boolean, such as \"true\" or \"false\".")));
	}
	else if (value[0] == '\0')
	{
		/* every remaining option is a string that must not be empty */
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("option \"%s\" must not be empty", name)));
	}
	(void) opt;
}

/*
 * Validate the generic options given to a FOREIGN DATA WRAPPER, SERVER,
 * USER MAPPING or FOREIGN TABLE (or one of its columns) that uses bls_fdw.
 */
Datum
bls_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options_list = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	bool		have_endpoint = false;
	ListCell   *cell;

	foreach(cell, options_list)
	{
		DefElem    *def = (DefElem *) lfirst(cell);
		const BlsOptionDef *opt = find_option(def->defname, catalog);

		if (opt == NULL)
		{
			const BlsOptionDef *o;
			StringInfoData buf;

			initStringInfo(&buf);
			for (o = valid_options; o->name; o++)
				if (o->context == catalog)
					appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
									 o->name);
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 buf.len > 0
					 ? errhint("Valid options in this context are: %s.",
							   buf.data)
					 : errhint("There are no valid options in this context.")));
		}
		validate_option(opt, def);
		if (strcmp(def->defname, "endpoint") == 0)
			have_endpoint = true;

		/* which certificates to trust is the superuser's decision */
		if (catalog == ForeignServerRelationId && !superuser())
		{
			bool		verify = true;

			if (strcmp(def->defname, "ca_file") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("must be superuser to set option \"ca_file\""),
						 errdetail("A server that sets ca_file or turns tls_verify off can only be created or altered by a superuser.")));
			if (strcmp(def->defname, "tls_verify") == 0 &&
				parse_bool(defGetString(def), &verify) && !verify)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("must be superuser to turn option \"tls_verify\" off"),
						 errdetail("A server that sets ca_file or turns tls_verify off can only be created or altered by a superuser.")));
		}
	}

	/* only download_tasks is written to: a batch size elsewhere is a mistake */
	if (catalog == ForeignTableRelationId)
	{
		const char *resource = "download_tasks";
		bool		batch = false;

		foreach(cell, options_list)
		{
			DefElem    *def = (DefElem *) lfirst(cell);

			if (strcmp(def->defname, "resource") == 0)
				resource = defGetString(def);
			else if (strcmp(def->defname, "batch_size") == 0)
				batch = true;
		}
		if (batch && strcmp(resource, "download_tasks") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("option \"batch_size\" is not valid for BLS resource \"%s\"",
							resource),
					 errdetail("Only download_tasks takes INSERT; resource \"%s\" is read-only.",
							   resource)));
	}

	if (catalog == ForeignServerRelationId && !have_endpoint)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("option \"endpoint\" is required for a bls_fdw server"),
				 errhint("For example: OPTIONS (endpoint 'https://bls-log.bj.baidubce.com').")));

	PG_RETURN_VOID();
}

/* Options that both a server and a table may set (besides page_size). */
static void
apply_planner_option(BlsOptions *opts, DefElem *def)
{
	const char *value = defGetString(def);

	if (strcmp(def->defname, "estimated_rows") == 0)
		opts->estimated_rows = (double) parse_int_option(def->defname, value,
														 0, PG_INT64_MAX);
	else if (strcmp(def->defname, "use_remote_estimate") == 0)
	{
		if (!parse_bool(value, &opts->use_remote_estimate))
			elog(ERROR, "invalid use_remote_estimate \"%s\"", value);
	}
	else if (strcmp(def->defname, "readahead") == 0)
		opts->readahead = (int) parse_int_option(def->defname, value, 0,
												 BLS_MAX_READAHEAD);
	else if (strcmp(def->defname, "batch_size") == 0)
		opts->batch_size = (int) parse_int_option(def->defname, value, 1,
												  BLS_MAX_BATCH_SIZE);
	else if (strcmp(def->defname, "analyze_max_pages") == 0)
		opts->analyze_max_pages = (int) parse_int_option(def->defname, value, 1,
														 BLS_MAX_ANALYZE_MAX_PAGES);
	else if (strcmp(def->defname, "on_truncation") == 0)
		opts->truncation_is_error = strcmp(value, "notice") != 0;
	else if (strcmp(def->defname, "slices") == 0)
		opts->slices = (int) parse_int_option(def->defname, value, 1,
											  BLS_MAX_SLICES);
}

/*
 * bls_function_server
 *		The bls_fdw server a function such as bls_log_query() is called
 *		with, by name, once the current user is checked for USAGE on it.
 */
ForeignServer *
bls_function_server(const char *server_name)
{
	ForeignServer *server = GetForeignServerByName(server_name, false);
	AclResult	aclresult;

	aclresult = bls_server_aclcheck(server->serverid, GetUserId(), ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, server->servername);
	if (server->fdwid != GetForeignDataWrapperByName("bls_fdw", false)->fdwid)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" is not a bls_fdw server", server->servername),
				 errdetail("It uses foreign-data wrapper \"%s\".",
						   GetForeignDataWrapper(server->fdwid)->fdwname)));
	return server;
}

/*
 * bls_get_options
 *		Resolve the options of a scan of foreigntableid on behalf of userid.
 *
 * The result is palloc'd in the current memory context.  Raises an error if
 * the user mapping lacks keys, so a scan never sends an unsigned request.
 */
BlsOptions *
bls_get_options(Oid foreigntableid, Oid userid, bool need_keys)
{
	ForeignTable *table = GetForeignTable(foreigntableid);

	return bls_get_server_options(table->serverid, table, userid, need_keys);
}

/*
 * bls_get_server_options
 *		The same for a server, with table's overrides if table is not NULL
 *		(a function such as bls_download_link() has no table).
 */
BlsOptions *
bls_get_server_options(Oid serverid, ForeignTable *table, Oid userid,
					   bool need_keys)
{
	ForeignServer *server = GetForeignServer(serverid);
	UserMapping *um = need_keys ? GetUserMapping(userid, server->serverid) : NULL;
	BlsOptions *opts = palloc0(sizeof(BlsOptions));
	ListCell   *lc;

	opts->serverid = server->serverid;
	opts->resource = bls_resource_lookup("download_tasks");
	opts->userid = userid;
	opts->umid = um ? um->umid : InvalidOid;
	opts->server_name = pstrdup(server->servername);
	opts->page_size = BLS_DEFAULT_PAGE_SIZE;
	opts->connect_timeout_ms = BLS_DEFAULT_CONNECT_TIMEOUT_MS;
	opts->request_timeout_ms = BLS_DEFAULT_REQUEST_TIMEOUT_MS;
	opts->max_retries = BLS_DEFAULT_MAX_RETRIES;
	opts->max_response_bytes = BLS_DEFAULT_MAX_RESPONSE_BYTES;
	opts->max_concurrent_requests = BLS_DEFAULT_MAX_CONCURRENT_REQUESTS;
	opts->tls_verify = true;
	opts->estimated_rows = BLS_DEFAULT_ESTIMATED_ROWS;
	opts->readahead = BLS_DEFAULT_READAHEAD;
	opts->batch_size = BLS_DEFAULT_BATCH_SIZE;
	opts->analyze_max_pages = BLS_DEFAULT_ANALYZE_MAX_PAGES;
	opts->truncation_is_error = true;
	opts->slices = BLS_DEFAULT_SLICES;

	foreach(lc, server->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *value = defGetString(def);

		if (strcmp(def->defname, "endpoint") == 0)
		{
			if (!bls_parse_endpoint(value, &opts->endpoint, &opts->host_header))
				elog(ERROR, "invalid endpoint \"%s\"", value);
		}
		else if (strcmp(def->defname, "page_size") == 0)
		{
			opts->page_size = parse_int_option(def->defname, value, 1, BLS_MAX_PAGE_SIZE);
			opts->page_size_set = true;
		}
		else if (strcmp(def->defname, "connect_timeout_ms") == 0)
			opts->connect_timeout_ms = parse_int_option(def->defname, value, 1, INT_MAX);
		else if (strcmp(def->defname, "request_timeout_ms") == 0)
			opts->request_timeout_ms = parse_int_option(def->defname, value, 1, INT_MAX);
		else if (strcmp(def->defname, "max_retries") == 0)
			opts->max_retries = parse_int_option(def->defname, value, 0, BLS_MAX_RETRIES_LIMIT);
		else if (strcmp(def->defname, "max_response_bytes") == 0)
			opts->max_response_bytes = parse_int_option(def->defname, value, 1024, (int64) 1024 * 1024 * 1024);
		else if (strcmp(def->defname, "max_concurrent_requests") == 0)
			opts->max_concurrent_requests = parse_int_option(def->defname, value, 0,
															 BLS_MAX_CONCURRENT_REQUESTS);
		else if (strcmp(def->defname, "ca_file") == 0)
			opts->ca_file = pstrdup(value);
		else if (strcmp(def->defname, "tls_verify") == 0)
		{
			if (!parse_bool(value, &opts->tls_verify))
				elog(ERROR, "invalid tls_verify \"%s\"", value);
		}
		else
			apply_planner_option(opts, def);
	}
	/* the table's options override the server's */
	foreach(lc, table ? table->options : NIL)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "page_size") == 0)
		{
			opts->page_size = parse_int_option(def->defname, defGetString(def),
											   1, BLS_MAX_PAGE_SIZE);
			opts->page_size_set = true;
		}
		else if (strcmp(def->defname, "resource") == 0)
		{
			opts->resource = bls_resource_lookup(defGetString(def));
			if (opts->resource == NULL)
				elog(ERROR, "invalid resource \"%s\"", defGetString(def));
		}
		else
			apply_planner_option(opts, def);
	}
	foreach(lc, um ? um->options : NIL)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "access_key_id") == 0)
			opts->access_key_id = pstrdup(defGetString(def));
		else if (strcmp(def->defname, "secret_access_key") == 0)
			opts->secret_access_key = pstrdup(defGetString(def));
		else if (strcmp(def->defname, "security_token") == 0)
			opts->security_token = pstrdup(defGetString(def));
	}

	/* a resource may page by less than the option allows, and default to more */
	if (opts->resource->max_page_size > 0)
	{
		if (!opts->page_size_set)
			opts->page_size = opts->resource->max_page_size;
		opts->page_size = Min(opts->page_size, opts->resource->max_page_size);
	}

	if (opts->endpoint == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("server \"%s\" has no endpoint", server->servername)));
	if (need_keys &&
		(opts->access_key_id == NULL || opts->secret_access_key == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("user mapping for server \"%s\" lacks %s",
						server->servername,
						opts->access_key_id == NULL ? "access_key_id" : "secret_access_key"),
				 errhint("Set both access_key_id and secret_access_key with ALTER USER MAPPING.")));
	return opts;
}
