/*-------------------------------------------------------------------------
 *
 * resource.c
 *		  The list calls of BLS that foreign tables read, as descriptions.
 *
 * A resource says where its list call is (method and path), which fields it
 * can filter by (exactly, or as a fuzzy keyword that is rechecked), which
 * it can sort by, and how its items are identified.  The planner
 * (pushdown.c), the request builder (scan_request.c) and the pager read
 * only these descriptions, so a new list call is a new entry here rather
 * than a copy of the scan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "bls_fdw.h"

/* ListDownloadTask: bls-api.md section 2 */
static const BlsFilterDef task_filters[] = {
	{"project", "project", true},
	/* "fuzzy" and undocumented: treated as a superset, always rechecked */
	{"logStoreName", "logStoreName", false},
};

static const BlsSortDef task_sorts[] = {
	{"createdTime", "createdTime", true},
	{"updatedTime", "updatedTime", true},
	{"name", "name", false},
};

static const BlsResource resources[] = {
	{
		.name = "download_tasks",
		.method = "POST",
		.path = "/v2/logstore/download/list",
		.id_field = "uuid",
		.filters = task_filters,
		.nfilters = lengthof(task_filters),
		.sorts = task_sorts,
		.nsorts = lengthof(task_sorts),
		.default_order_by = "createdTime",
		.default_order = "desc",
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
