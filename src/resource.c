/*-------------------------------------------------------------------------
 *
 * resource.c
 *		  The list calls of BLS that foreign tables read, as descriptions.
 *
 * A resource says where its list call is (method and path), how its answer
 * is wrapped, which fields its items have and which identify one, which
 * fields it can filter by (exactly, as a filter whose result is rechecked,
 * or as a fuzzy keyword) and sort by.  The planner (pushdown.c), the
 * request builder (scan_request.c), the pager and ANALYZE read only these
 * descriptions, so a new list call is a new entry here rather than a copy
 * of the scan.  The facts are those of bls-api.md, sections 2 and 6.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "bls_modules.h"

/* ListDownloadTask: POST /v2/logstore/download/list, a JSON body */
static const char *const task_fields[] = {
	"uuid", "name", "project", "logStoreName", "logStreamName", "query",
	"queryStartTime", "queryEndTime", "format", "limit", "order", "state",
	"failedCode", "failedMessage", "writtenRows", "fileDir", "fileName",
	"execStartTime", "execEndTime", "createdTime", "updatedTime", NULL
};

static const BlsFilterDef task_filters[] = {
	/* a uuid is described (DescribeDownloadTask), not listed */
	{"uuid", "uuid", BLS_MATCH_EXACT},
	{"project", "project", BLS_MATCH_EXACT},
	/* "fuzzy" and undocumented: treated as a superset, always rechecked */
	{"logStoreName", "logStoreName", BLS_MATCH_FUZZY},
};

static const BlsSortDef task_sorts[] = {
	{"createdTime", "createdTime", true},
	{"updatedTime", "updatedTime", true},
	{"name", "name", false},
};

/* ListProject: POST /v1/project/list, a JSON body */
static const char *const project_fields[] = {
	"uuid", "name", "description", "top", "logStoreCount", "createdTime",
	"updatedTime", NULL
};

static const BlsFilterDef project_filters[] = {
	{"name", "name", BLS_MATCH_FUZZY},
	{"description", "description", BLS_MATCH_FUZZY},
};

/* the sort values say createdAt where the fields say createdTime */
static const BlsSortDef project_sorts[] = {
	{"createdTime", "createdAt", true},
	{"updatedTime", "updatedAt", true},
	{"name", "name", false},
};

/* ListLogStore: GET /v1/logstore, a query string, a bare answer */
static const char *const log_store_fields[] = {
	"project", "logStoreName", "retention", "creationDateTime",
	"lastModifiedTime", "shardCount", "enableHotRetention", "hotRetention",
	"tags", "index", NULL
};

static const BlsFilterDef log_store_filters[] = {
	/* documented as a "filter keyword": sent, and rechecked */
	{"project", "project", BLS_MATCH_FILTER},
	{"logStoreName", "namePattern", BLS_MATCH_FUZZY},
};

static const BlsSortDef log_store_sorts[] = {
	{"creationDateTime", "creationDateTime", true},
	{"lastModifiedTime", "lastModifiedTime", true},
	{"logStoreName", "name", false},
};

/* the columns IMPORT FOREIGN SCHEMA names after the times of the others */
static const BlsColumnAlias log_store_aliases[] = {
	{"created_time", "creationDateTime"},
	{"updated_time", "lastModifiedTime"},
};

/*
 * QueryLogRecord: GET /v1/logstore/{logStoreName}/logrecord, a query
 * string, a bare answer of rows named by columns.  Search results name the
 * system columns @timestamp (epoch ms), @seq, @stream and @raw; the other
 * columns are the record's fields.  Those names are not confirmed
 * (bls-api.md), so columns are found by name and may be missing.
 */
static const char *const log_record_fields[] = {
	"project", "logStoreName", "query", "@stream", "@timestamp", "@seq",
	"@raw", "*", NULL
};

/* the records do not say the project, store and statement asked for */
static const BlsFilterDef log_record_filters[] = {
	{"project", "project", BLS_MATCH_EXACT, BLS_ECHO_ALWAYS},
	/* the path segment; required */
	{"logStoreName", "logStoreName", BLS_MATCH_EXACT, BLS_ECHO_ALWAYS},
	/* the column reads @stream where the service returns it: rechecked */
	{"@stream", "logStreamName", BLS_MATCH_FILTER, BLS_ECHO_FALLBACK},
	{"query", "query", BLS_MATCH_EXACT, BLS_ECHO_ALWAYS},
};

static const BlsSortDef log_record_sorts[] = {
	{"@timestamp", "@timestamp", true},
};

static const BlsColumnAlias log_record_aliases[] = {
	{"log_stream_name", "@stream"},
	{"time", "@timestamp"},
	{"seq", "@seq"},
	{"message", "@raw"},
	{"fields", "*"},
};

/* sent explicitly, so that the columns that echo them are right */
static const BlsParamDefault log_record_defaults[] = {
	{"project", "default"},
	{"query", "match *"},
};

static const BlsResource resources[] = {
	{
		.name = "download_tasks",
		.item_name = "download task",
		.method = "POST",
		.path = "/v2/logstore/download/list",
		.shape = &bls_shape_download_tasks,
		.id_fields = {"uuid", NULL},
		.fields = task_fields,
		.filters = task_filters,
		.nfilters = lengthof(task_filters),
		.sorts = task_sorts,
		.nsorts = lengthof(task_sorts),
		.lookup_param = "uuid",
		.lookup_path = "/v2/logstore/download/",
		.lookup_shape = &bls_shape_download_task,
		.lookup_not_found = "DownloadTaskNotFound",
		.default_order_by = "createdTime",
		.default_order = "desc",
		.order_by_param = "orderBy",
		.order_param = "order",
		.columns =
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
		"  updated_time timestamptz\n",
	},
	{
		.name = "projects",
		.item_name = "project",
		.method = "POST",
		.path = "/v1/project/list",
		.shape = &bls_shape_projects,
		.id_fields = {"uuid", NULL},
		.fields = project_fields,
		.default_flag = "isDefault",
		.filters = project_filters,
		.nfilters = lengthof(project_filters),
		.sorts = project_sorts,
		.nsorts = lengthof(project_sorts),
		.default_order_by = "createdAt",
		.default_order = "desc",
		.order_by_param = "orderBy",
		.order_param = "order",
		.columns =
		"  uuid text,\n"
		"  name text,\n"
		"  description text,\n"
		"  top boolean,\n"
		"  log_store_count integer,\n"
		"  created_time timestamptz,\n"
		"  updated_time timestamptz,\n"
		"  is_default boolean\n",
	},
	{
		.name = "log_stores",
		.item_name = "log store",
		.method = "GET",
		.path = "/v1/logstore",
		.shape = &bls_shape_log_stores,
		/* names repeat across projects */
		.id_fields = {"project", "logStoreName"},
		.fields = log_store_fields,
		.aliases = log_store_aliases,
		.naliases = lengthof(log_store_aliases),
		.filters = log_store_filters,
		.nfilters = lengthof(log_store_filters),
		.sorts = log_store_sorts,
		.nsorts = lengthof(log_store_sorts),
		.default_order_by = "creationDateTime",
		.default_order = "desc",
		.order_by_param = "orderBy",
		.order_param = "order",
		.columns =
		"  project text,\n"
		"  log_store_name text,\n"
		"  retention integer,\n"
		"  created_time timestamptz,\n"
		"  updated_time timestamptz,\n"
		"  shard_count integer,\n"
		"  enable_hot_retention boolean,\n"
		"  hot_retention integer,\n"
		"  tags jsonb\n",
	},
	{
		.name = "log_records",
		.item_name = "log record",
		.method = "GET",
		.path = "/v1/logstore/{logStoreName}/logrecord",
		.paging = BLS_PAGING_MARKER,
		/* 1000 records per search request (bls-api.md) */
		.max_page_size = 1000,
		.shape = &bls_shape_log_records,
		/* a number: nothing to de-duplicate by, which marker paging needs not */
		.id_fields = {"@seq", NULL},
		.fields = log_record_fields,
		.aliases = log_record_aliases,
		.naliases = lengthof(log_record_aliases),
		.filters = log_record_filters,
		.nfilters = lengthof(log_record_filters),
		.sorts = log_record_sorts,
		.nsorts = lengthof(log_record_sorts),
		.default_order_by = "@timestamp",
		.default_order = "desc",
		.order_param = "sort",
		.window_field = "@timestamp",
		.window_start = "startDateTime",
		.window_end = "endDateTime",
		.epoch_ms_field = "@timestamp",
		.statement_param = "query",
		.analysis = true,
		.row_field = "*",
		.defaults = log_record_defaults,
		.ndefaults = lengthof(log_record_defaults),
		.columns =
		"  project text,\n"
		"  log_store_name text,\n"
		"  log_stream_name text,\n"
		"  query text,\n"
		"  \"time\" timestamptz(3),\n"
		"  seq bigint,\n"
		"  message text,\n"
		"  fields jsonb\n",
	},
};

/* The resource named name, or NULL. */
const BlsResource *
bls_resource_lookup(const char *name)
{
	for (int i = 0; i < lengthof(resources); i++)
		if (strcmp(resources[i].name, name) == 0)
			return &resources[i];
	return NULL;
}

/* The i-th resource (0-based), or NULL past the last: for listing them. */
const BlsResource *
bls_resource_at(int i)
{
	return i >= 0 && i < lengthof(resources) ? &resources[i] : NULL;
}

/* How res filters by field, or NULL if it cannot. */
const BlsFilterDef *
bls_resource_filter(const BlsResource *res, const char *field)
{
	for (int i = 0; i < res->nfilters; i++)
		if (strcmp(res->filters[i].field, field) == 0)
			return &res->filters[i];
	return NULL;
}

/* How res sorts by field, or NULL if it cannot. */
const BlsSortDef *
bls_resource_sort(const BlsResource *res, const char *field)
{
	for (int i = 0; i < res->nsorts; i++)
		if (strcmp(res->sorts[i].field, field) == 0)
			return &res->sorts[i];
	return NULL;
}

/* Does an item of res have field (or is it res's computed flag)? */
bool
bls_resource_has_field(const BlsResource *res, const char *field)
{
	if (res->default_flag && strcmp(res->default_flag, field) == 0)
		return true;
	for (int i = 0; res->fields[i]; i++)
		if (strcmp(res->fields[i], field) == 0)
			return true;
	return false;
}

/*
 * The id a request with these parameters describes instead of listing, or
 * NULL for a list request.
 */
const char *
bls_lookup_value(const BlsResource *res, const BlsParam *params, int nparams)
{
	if (res->lookup_param == NULL)
		return NULL;
	for (int i = 0; i < nparams; i++)
		if (strcmp(params[i].key, res->lookup_param) == 0)
			return params[i].value;
	return NULL;
}

/* The field res names a column after, or NULL: see log_store_aliases. */
const char *
bls_resource_alias(const BlsResource *res, const char *column)
{
	for (int i = 0; i < res->naliases; i++)
		if (strcmp(res->aliases[i].column, column) == 0)
			return res->aliases[i].field;
	return NULL;
}

/*
 * bls_is_task_id
 *		Can id be a download task's uuid?  Only the canonical text of a
 *		UUID is: 36 characters, hex digits (either case) in groups of 8, 4,
 *		4, 4 and 12 separated by hyphens, as the service gives them.
 *		Anything else ('', "list", "..", "link/x") would name another route
 *		or a dot segment if it went into a path, so such a value is no task
 *		and no request is sent for it.  This is the one check of an id
 *		before it becomes a path.
 */
bool
bls_is_task_id(const char *id)
{
	int			i;

	for (i = 0; id[i] != '\0'; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (id[i] != '-')
				return false;
		}
		else if (!((id[i] >= '0' && id[i] <= '9') ||
				   (id[i] >= 'a' && id[i] <= 'f') ||
				   (id[i] >= 'A' && id[i] <= 'F')))
			return false;
	}
	return i == 36;
}

/*
 * The parameter res's path names ("{logStoreName}"), palloc'd, or NULL.
 */
char *
bls_resource_path_param(const BlsResource *res)
{
	const char *open = strchr(res->path, '{');
	const char *close = open ? strchr(open, '}') : NULL;

	return close ? pnstrdup(open + 1, close - open - 1) : NULL;
}

/*
 * The value a request with these parameters sends for param: its own, or
 * res's default; NULL if none.
 */
const char *
bls_param_value(const BlsResource *res, const BlsParam *params, int nparams,
				const char *param)
{
	for (int i = 0; i < nparams; i++)
		if (strcmp(params[i].key, param) == 0 && params[i].value)
			return params[i].value;
	for (int i = 0; i < res->ndefaults; i++)
		if (strcmp(res->defaults[i].param, param) == 0)
			return res->defaults[i].value;
	return NULL;
}
