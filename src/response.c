/*-------------------------------------------------------------------------
 *
 * response.c
 *		  Parse BLS list response bodies (ListDownloadTask, ListProject,
 *		  ListLogStore), the result sets of QueryLogRecord, the answers of
 *		  the other download-task calls (DescribeDownloadTask,
 *		  CreateDownloadTask, GetDownloadTaskLink, DeleteDownloadTask) and
 *		  BLS error bodies.
 *
 * This file owns the shape checks of a response: a page is accepted only if
 * it is a complete JSON object laid out as its BlsPageShape says: for
 * ListDownloadTask, "success": true and a "result" holding a "tasks" array.
 * The list's elements (called items, whatever they are) are kept as text,
 * since a tree of a whole page is several times the page's size, and read
 * one at a time when asked for (bls_page_read_item); an item that is not
 * valid JSON is refused then.  json_reader.c decides what is JSON, reads
 * the items' scalar values, and builds the trees of the envelope and of
 * items holding nested values.  A result set's items are rows, arrays of
 * values named by its columns, read like objects.  Turning the fields read into column values is convert.c's job.
 * It never includes postgres.h, so it can be unit-tested, built with
 * sanitizers and fuzzed on its own; the caller turns a non-OK status into a
 * PostgreSQL error.
 *
 *-------------------------------------------------------------------------
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L		/* for strdup under -std=c99 */
#endif

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"
#include "response.h"
#include "service_text.h"
#include "testing.h"

/*
 * The tree of exactly buf[0..len): trailing garbage, truncation or an empty
 * body are errors.  Returns NULL and fills errbuf on failure.
 *
 * bls_json_check() decides whether the text is JSON, and says where it is
 * not.  A key holding an escaped NUL is refused: BLS sends none, and the
 * keys looked up are C strings.
 */
static BlsJsonTree *
parse_document(const char *buf, size_t len, BlsParseStatus *status,
			   char *errbuf, size_t errlen)
{
	BlsJsonCheck c = {NULL, NULL, NULL};
	const char *start;
	const char *end;
	const char *vend;
	BlsJsonTree *tree;

	while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\n' ||
					   buf[len - 1] == '\r' || buf[len - 1] == '\t'))
		len--;
	if (len == 0)
	{
		*status = BLS_PARSE_EMPTY;
		snprintf(errbuf, errlen, "The response body is empty.");
		return NULL;
	}
	*status = BLS_PARSE_NOT_JSON;
	if (len > (size_t) INT32_MAX)
	{
		snprintf(errbuf, errlen, "The response body is too large to parse.");
		return NULL;
	}
	end = buf + len;
	start = bls_json_skip_ws(buf, end);
	if ((vend = bls_json_check(start, end, BLS_JSON_MAX_DEPTH, &c)) == NULL)
	{
		if (c.err_at >= end)
			snprintf(errbuf, errlen,
					 "The response body ends inside a JSON value, after %zu bytes.",
					 len);
		else
			snprintf(errbuf, errlen, "The response body is not valid JSON at byte %zu: %s.",
					 (size_t) (c.err_at - buf), c.reason);
		return NULL;
	}
	if (vend != end)
	{
		snprintf(errbuf, errlen,
				 "The response body has unexpected data after the JSON value, at byte %zu.",
				 (size_t) (bls_json_skip_ws(vend, end) - buf));
		return NULL;
	}
	if (c.nul_key != NULL)
	{
		snprintf(errbuf, errlen,
				 "The response body has an object key holding an escaped NUL (\\u0000) at byte %zu, which is not supported.",
				 (size_t) (c.nul_key - buf));
		return NULL;
	}
	if (*start == 'n')
	{
		/* the whole body is the JSON literal null */
		*status = BLS_PARSE_NOT_OBJECT;
		snprintf(errbuf, errlen, "The response is a JSON null, not an object.");
		return NULL;
	}
	if ((tree = bls_json_tree(start, end - start)) == NULL)
	{
		*status = BLS_PARSE_NOMEM;
		snprintf(errbuf, errlen, "Out of memory.");
		return NULL;
	}
	*status = BLS_PARSE_OK;
	return tree;
}

/*
 * Record the elements of the array at p (a '[') as spans relative to p, and
 * return the end of the array, or NULL if it cannot be delimited.
 */
static const char *
split_array(const char *p, const char *end, BlsPage *page)
{
	const char *start = p;
	size_t		cap = 64;
	int			n = 0;

	page->spans = malloc(sizeof(size_t) * 2 * cap);
	if (page->spans == NULL)
		return NULL;
	p = bls_json_skip_ws(p + 1, end);
	if (p < end && *p == ']')
		goto done;
	for (;;)
	{
		const char *v = p;
		const char *vaft = bls_json_skip_value(v, end);

		if (vaft == NULL || vaft == v || n == INT32_MAX)
			return NULL;
		if ((size_t) n == cap)
		{
			size_t	   *more = realloc(page->spans, sizeof(size_t) * 4 * cap);

			if (more == NULL)
				return NULL;
			page->spans = more;
			cap *= 2;
		}
		page->spans[2 * n] = v - start;
		page->spans[2 * n + 1] = vaft - start;
		n++;
		p = bls_json_skip_ws(vaft, end);
		if (p < end && *p == ',')
		{
			p = bls_json_skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == ']')
			break;
		return NULL;
	}
done:
	page->parsed = calloc(n > 0 ? n : 1, sizeof(BlsJsonTree *));
	if (page->parsed == NULL)
		return NULL;
	page->nitems = n;
	return p + 1;
}

/*
 * Walk the members of the object at p, and call member() for each: it
 * returns the end of the member's value (which it may walk itself), or NULL
 * to give up.  Returns the end of the object, or NULL.
 */
typedef const char *(*member_fn) (const char *key, size_t keylen,
								  const char *value, const char *end,
								  void *arg);

static const char *
walk_object(const char *p, const char *end, member_fn member, void *arg)
{
	p = bls_json_skip_ws(p, end);
	if (p >= end || *p != '{')
		return NULL;
	p = bls_json_skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return p + 1;
	for (;;)
	{
		const char *k;
		const char *kend;
		const char *vaft;

		if (p >= end || *p != '"')
			return NULL;
		k = p + 1;
		if ((kend = bls_json_skip_string(p, end)) == NULL)
			return NULL;
		/* an escaped key might spell one we look for: leave it to the tree */
		if (memchr(k, '\\', kend - 1 - k) != NULL)
			return NULL;
		p = bls_json_skip_ws(kend, end);
		if (p >= end || *p != ':')
			return NULL;
		p = bls_json_skip_ws(p + 1, end);
		if ((vaft = member(k, kend - 1 - k, p, end, arg)) == NULL)
			return NULL;
		p = bls_json_skip_ws(vaft, end);
		if (p < end && *p == ',')
		{
			p = bls_json_skip_ws(p + 1, end);
			continue;
		}
		return (p < end && *p == '}') ? p + 1 : NULL;
	}
}

typedef struct LocateState
{
	BlsPage    *page;
	const BlsPageShape *shape;
	const char *path[2];		/* the objects around the list, outermost
								 * first: "result" of a wrapped answer, then
								 * the shape's list_parent */
	int			npath;
	int			depth;			/* how far along path the walk is */
	int			nseen[2];		/* objects of path seen at each depth */
	int			nlists;			/* list arrays seen where the shape has it */
	const char *ts;				/* the list array */
	const char *te;
} LocateState;

/* Is [key, key + keylen) the C string name? */
static bool
key_is(const char *key, size_t keylen, const char *name)
{
	return strlen(name) == keylen && memcmp(key, name, keylen) == 0;
}

/*
 * A member of an object on the way to the list.  Inside the object holding
 * the list, split the list; above it, walk into the next object of the path
 * ("result", "resultSet").  Skip the rest, so that a key spelled like the
 * list's inside another member, an element or the default object, is never
 * looked at.
 */
static const char *
locate_member(const char *key, size_t keylen, const char *value,
			  const char *end, void *arg)
{
	LocateState *ls = (LocateState *) arg;
	const char *vaft;

	if (ls->depth < ls->npath)
	{
		if (!key_is(key, keylen, ls->path[ls->depth]) || value >= end ||
			*value != '{')
			return bls_json_skip_value(value, end);
		if (ls->nseen[ls->depth]++ > 0)
			return NULL;
		ls->depth++;
		vaft = walk_object(value, end, locate_member, arg);
		ls->depth--;
		return vaft;
	}
	if (key_is(key, keylen, ls->shape->list_key) && value < end && *value == '[')
	{
		if (ls->nlists++ > 0)
			return NULL;
		ls->ts = value;
		ls->te = split_array(value, end, ls->page);
		return ls->te;
	}
	return bls_json_skip_value(value, end);
}

/*
 * Find the shape's list ("result"."tasks" in a wrapped answer, a top-level
 * member in a bare one, "resultSet"."rows" for a result set) and split it,
 * in one pass over the document: true, with the array's bounds, if it and
 * each object around it occur once (the last of repeated keys counts;
 * rather than guess, such pages are parsed whole) and the document can be
 * delimited.  The array's text is copied into page->text.
 */
static bool
locate_items(const char *buf, const char *end, const BlsPageShape *shape,
			 BlsPage *page, const char **ts, const char **te)
{
	LocateState ls;

	memset(&ls, 0, sizeof(ls));
	ls.page = page;
	ls.shape = shape;
	if (shape->wrapped)
		ls.path[ls.npath++] = "result";
	if (shape->list_parent != NULL)
		ls.path[ls.npath++] = shape->list_parent;
	if (walk_object(buf, end, locate_member, &ls) == NULL)
		return false;
	for (int d = 0; d < ls.npath; d++)
		if (ls.nseen[d] != 1)
			return false;
	if (ls.nlists != 1 || ls.te == NULL)
		return false;
	page->text = malloc(ls.te - ls.ts);
	if (page->text == NULL)
		return false;
	memcpy(page->text, ls.ts, ls.te - ls.ts);
	*ts = ls.ts;
	*te = ls.te;
	return true;
}

/* Free the tree bls_page_read_item() built for the latest item. */
static void
release_read(BlsPage *page)
{
	free(page->row_json);
	page->row_json = NULL;
	if (page->read_json > 0)
		bls_page_item_done(page, page->read_json - 1);
	page->read_json = 0;
}

/* Forget what locate_items() kept. */
static void
free_split(BlsPage *page)
{
	release_read(page);
	free(page->scratch.data);
	memset(&page->scratch, 0, sizeof(page->scratch));
	if (page->parsed)
		for (int i = 0; i < page->nitems; i++)
			bls_json_tree_free(page->parsed[i]);
	free(page->parsed);
	free(page->spans);
	free(page->text);
	page->parsed = NULL;
	page->spans = NULL;
	page->text = NULL;
}

/* v (may be NULL) is of type t */
static bool
is_type(const BlsJson *v, BlsJsonType t)
{
	return v != NULL && v->v.type == t;
}

/* The string member key of obj (a C string), or NULL */
static const char *
string_member(BlsJson *obj, const char *key)
{
	BlsJson    *v = bls_json_member(obj, key);

	return is_type(v, BLS_JSON_STRING) ? v->v.str : NULL;
}

/* Is v a number without fraction or exponent, whatever its size? */
static bool
is_integer(const BlsJson *v)
{
	if (!is_type(v, BLS_JSON_NUMBER))
		return false;
	for (size_t k = 0; k < v->v.rawlen; k++)
		if (v->v.raw[k] == '.' || v->v.raw[k] == 'e' || v->v.raw[k] == 'E')
			return false;
	return true;
}

/*
 * The name of v's type in messages: a number is an "int" or a "double", as
 * the messages have always said.
 */
static const char *
type_name(const BlsJson *v)
{
	if (is_type(v, BLS_JSON_NUMBER))
		return is_integer(v) ? "int" : "double";
	return bls_json_type_name(v ? v->v.type : BLS_JSON_NULL);
}

/*
 * Read an optional integer member; false if present but not an integer that
 * fits in [lo, hi].  One beyond the 64-bit range counts as the nearest end
 * of it.
 */
static bool
int_member(BlsJson *obj, const char *key, int64_t lo, int64_t hi,
		   int64_t *out)
{
	BlsJson    *v = bls_json_member(obj, key);
	int64_t		i;

	if (v == NULL)
		return true;
	if (!is_integer(v))
		return false;
	i = v->v.is_int ? v->v.ival : v->v.raw[0] == '-' ? INT64_MIN : INT64_MAX;
	if (i < lo || i > hi)
		return false;
	*out = i;
	return true;
}

/* The list calls bls_fdw makes */
const BlsPageShape bls_shape_download_tasks = {
	.wrapped = true,
	.list_key = "tasks",
	.total_keys = {"total", NULL},
	.item = "task"
};

/* the pages and the newer SDK spell the total "total", the older SDK "totalCount" */
const BlsPageShape bls_shape_projects = {
	.wrapped = true,
	.list_key = "projects",
	.total_keys = {"total", "totalCount"},
	.default_key = "default",
	.id_key = "uuid",
	.item = "project"
};

const BlsPageShape bls_shape_log_stores = {
	.wrapped = false,
	.list_key = "result",
	.total_keys = {"totalCount", NULL},
	.item = "log store"
};

/* DescribeDownloadTask: result.task, one object; no total, no pages */
const BlsPageShape bls_shape_download_task = {
	.wrapped = true,
	.single = true,
	.list_key = "task",
	.total_keys = {NULL, NULL},
	.item = "task"
};

/*
 * QueryLogRecord: a bare answer whose rows are resultSet.rows, named by
 * resultSet.columns; paged by nextMarker, so no total and no page numbers
 */
const BlsPageShape bls_shape_log_records = {
	.wrapped = false,
	.list_key = "rows",
	.total_keys = {NULL, NULL},
	.item = "log record",
	.list_parent = "resultSet",
	.columns_key = "columns",
	.types_key = "columnTypes",
	.marker_key = "nextMarker",
	.truncated_key = "isTruncated",
	.reason_key = "truncatedReason",
	.scan_info_key = "datasetScanInfo"
};

/* What an element of the page's list is called in messages. */
static const char *
item_name(const BlsPage *page)
{
	return page->shape != NULL && page->shape->item != NULL ?
		page->shape->item : "task";
}

/*
 * Read the total from obj into page->total under any of the shape's
 * spellings.  Absent or null: -1; clamped here, see BLS_MAX_TOTAL.  Two
 * spellings that disagree are an error rather than a guess.
 */
static BlsParseStatus
read_total(BlsJson *obj, const BlsPageShape *shape, BlsPage *page)
{
	const char *seen = NULL;
	BlsJson    *seen_obj = NULL;
	int64_t		seen_v = 0;

	for (int k = 0; k < 2 && shape->total_keys[k] != NULL; k++)
	{
		const char *key = shape->total_keys[k];
		BlsJson    *obj_v = bls_json_member(obj, key);
		int64_t		v;

		if (obj_v == NULL)
			continue;
		if (!int_member(obj, key, INT64_MIN, INT64_MAX, &v))
		{
			snprintf(page->error, sizeof(page->error),
					 "The response's \"%s\" is not an integer.", key);
			return BLS_PARSE_BAD_FIELD;
		}
		if (v < 0)
		{
			snprintf(page->error, sizeof(page->error),
					 "The response's \"%s\" is %lld, but a count of %ss cannot be negative.",
					 key, (long long) v, item_name(page));
			return BLS_PARSE_BAD_FIELD;
		}

		/* above INT64_MAX v is saturated: compare the spellings too */
		if (seen != NULL &&
			(v != seen_v || obj_v->v.rawlen != seen_obj->v.rawlen ||
			 memcmp(obj_v->v.raw, seen_obj->v.raw, obj_v->v.rawlen) != 0))
		{
			snprintf(page->error, sizeof(page->error),
					 "The response's \"%s\" (%.*s) and \"%s\" (%.*s) disagree.",
					 seen, (int) seen_obj->v.rawlen, seen_obj->v.raw,
					 key, (int) obj_v->v.rawlen, obj_v->v.raw);
			return BLS_PARSE_BAD_FIELD;
		}
		seen = key;
		seen_obj = obj_v;
		seen_v = v;
	}
	if (seen != NULL)
		page->total = seen_v > BLS_MAX_TOTAL ? BLS_MAX_TOTAL : seen_v;
	return BLS_PARSE_OK;
}

/*
 * Read the id of the shape's default object in obj into page->default_id.
 * An absent or null default is no default; one that is there must be an
 * object with a string id.
 */
static BlsParseStatus
read_default(BlsJson *obj, const BlsPageShape *shape, BlsPage *page)
{
	BlsJson    *def;
	BlsJson    *id;
	const char *s;
	size_t		len;

	if (shape->default_key == NULL ||
		(def = bls_json_member(obj, shape->default_key)) == NULL)
		return BLS_PARSE_OK;
	if (!is_type(def, BLS_JSON_OBJECT))
	{
		snprintf(page->error, sizeof(page->error),
				 "The response's \"%s\" is a JSON %s, not an object.",
				 shape->default_key, type_name(def));
		return BLS_PARSE_BAD_FIELD;
	}
	if (shape->id_key == NULL)
		return BLS_PARSE_OK;
	id = bls_json_member(def, shape->id_key);
	if (!is_type(id, BLS_JSON_STRING))
	{
		snprintf(page->error, sizeof(page->error),
				 "The response's \"%s\" has no string \"%s\".",
				 shape->default_key, shape->id_key);
		return BLS_PARSE_BAD_FIELD;
	}
	s = id->v.str;
	len = id->v.len;
	/* it becomes a C string */
	if (memchr(s, '\0', len) != NULL)
	{
		snprintf(page->error, sizeof(page->error),
				 "The response's \"%s\" has a \"%s\" holding a NUL (\\u0000).",
				 shape->default_key, shape->id_key);
		return BLS_PARSE_BAD_FIELD;
	}
	if ((page->default_id = strdup(s)) == NULL)
	{
		snprintf(page->error, sizeof(page->error), "Out of memory.");
		return BLS_PARSE_NOMEM;
	}
	page->default_obj = def;
	return BLS_PARSE_OK;
}

/*
 * Find a single shape's object in result (the object holding the call's
 * members) and make it the page's one item.  Absent or null is no object; a
 * bare answer with a top-level "code" and no object is a failure, as for
 * the lists.
 */
static BlsParseStatus
read_single(BlsJson *root, BlsJson *result,
			const BlsPageShape *shape, BlsPage *page)
{
	BlsJson    *obj = bls_json_member(result, shape->list_key);

	if (obj == NULL)
	{
		if (!shape->wrapped && bls_json_member(root, "code") != NULL)
		{
			snprintf(page->error, sizeof(page->error),
					 "The response carries an error code and no \"%s\" object.",
					 shape->list_key);
			return BLS_PARSE_FAILURE;
		}
		if (shape->wrapped)
			snprintf(page->error, sizeof(page->error),
					 "The response's result has no \"%s\" object.",
					 shape->list_key);
		else
			snprintf(page->error, sizeof(page->error),
					 "The response has no \"%s\" object.", shape->list_key);
		return BLS_PARSE_NO_TASKS;
	}
	if (!is_type(obj, BLS_JSON_OBJECT))
	{
		snprintf(page->error, sizeof(page->error),
				 "The response's \"%s\" is a JSON %s, not an object.",
				 shape->list_key, type_name(obj));
		return BLS_PARSE_BAD_FIELD;
	}
	page->items = obj;
	page->nitems = 1;
	return BLS_PARSE_OK;
}

/*
 * Each column name once: a row is read like an object keyed by the names,
 * and an object with a repeated key is ambiguous.  Sorted, so that a long
 * list of columns costs n log n, not n^2.
 */
static BlsParseStatus
check_column_names(BlsPage *page)
{
	BlsKeyRef  *names;
	char		name[64];

	if (page->ncolumns < 2)
		return BLS_PARSE_OK;
	if ((names = malloc(sizeof(BlsKeyRef) * page->ncolumns)) == NULL)
	{
		snprintf(page->error, sizeof(page->error), "Out of memory.");
		return BLS_PARSE_NOMEM;
	}
	for (int k = 0; k < page->ncolumns; k++)
	{
		names[k].key = page->columns[k];
		names[k].len = page->column_lens[k];
		names[k].pos = k;
	}
	qsort(names, page->ncolumns, sizeof(BlsKeyRef), bls_keyref_cmp);
	for (int k = 1; k < page->ncolumns; k++)
		if (names[k - 1].len == names[k].len &&
			memcmp(names[k - 1].key, names[k].key, names[k].len) == 0)
		{
			bls_service_text(name, sizeof(name), 40, names[k].key,
							 names[k].len, true);
			snprintf(page->error, sizeof(page->error),
					 "The response's \"%s\" names the column \"%s\" twice.",
					 page->shape->columns_key, name);
			free(names);
			return BLS_PARSE_BAD_FIELD;
		}
	free(names);
	return BLS_PARSE_OK;
}

/*
 * Read a result set's columns and their types from rs, the object holding
 * the rows.  The columns must be an array of distinct strings (they may be
 * missing only when there are no rows); the types, if there, an array no
 * longer than the columns, whose strings type the column at their position
 * (anything else, or a missing entry, leaves a column untyped).
 */
static BlsParseStatus
read_columns(BlsJson *rs, const BlsPageShape *shape, BlsPage *page)
{
	BlsJson    *cols = bls_json_member(rs, shape->columns_key);
	BlsJson    *types;
	BlsJson    *c = NULL;
	size_t		n = 0;

	if (cols != NULL)
	{
		if (!is_type(cols, BLS_JSON_ARRAY))
		{
			snprintf(page->error, sizeof(page->error),
					 "The response's \"%s\" is a JSON %s, not an array.",
					 shape->columns_key, type_name(cols));
			return BLS_PARSE_BAD_FIELD;
		}
		n = cols->count;
	}
	else if (page->nitems > 0)
	{
		snprintf(page->error, sizeof(page->error),
				 "The response's %s has %ss but no \"%s\" array.",
				 shape->list_parent, shape->item, shape->columns_key);
		return BLS_PARSE_BAD_FIELD;
	}
	if (n > INT32_MAX / 2)
	{
		snprintf(page->error, sizeof(page->error),
				 "The response's \"%s\" has too many columns.", shape->columns_key);
		return BLS_PARSE_BAD_FIELD;
	}
	if (n > 0 &&
		((page->columns = calloc(n, sizeof(char *))) == NULL ||
		 (page->column_lens = calloc(n, sizeof(size_t))) == NULL ||
		 (page->column_types = calloc(n, sizeof(char *))) == NULL ||
		 (page->row_values = calloc(n, sizeof(BlsValue))) == NULL))
	{
		snprintf(page->error, sizeof(page->error), "Out of memory.");
		return BLS_PARSE_NOMEM;
	}
	for (size_t k = 0; k < n; k++)
	{
		c = bls_json_next(cols, c);
		if (!is_type(c, BLS_JSON_STRING))
		{
			snprintf(page->error, sizeof(page->error),
					 "Column %zu of the response's \"%s\" is a JSON %s, not a string.",
					 k + 1, shape->columns_key, type_name(c));
			return BLS_PARSE_BAD_FIELD;
		}
		/* a name may hold a NUL: it is compared with its length */
		page->columns[k] = c->v.str;
		page->column_lens[k] = c->v.len;
	}
	page->ncolumns = (int) n;

	if (shape->types_key != NULL &&
		(types = bls_json_member(rs, shape->types_key)) != NULL)
	{
		if (!is_type(types, BLS_JSON_ARRAY))
		{
			snprintf(page->error, sizeof(page->error),
					 "The response's \"%s\" is a JSON %s, not an array.",
					 shape->types_key, type_name(types));
			return BLS_PARSE_BAD_FIELD;
		}
		if ((size_t) types->count > n)
		{
			snprintf(page->error, sizeof(page->error),
					 "The response's \"%s\" has %d types for %zu columns.",
					 shape->types_key, types->count, n);
			return BLS_PARSE_BAD_FIELD;
		}
		c = NULL;
		for (int k = 0; (c = bls_json_next(types, c)) != NULL; k++)
		{
			if (!is_type(c, BLS_JSON_STRING))
				continue;

			/* as a C string "bigint\u0000x" would pass for "bigint" */
			if (memchr(c->v.str, '\0', c->v.len) != NULL)
			{
				snprintf(page->error, sizeof(page->error),
						 "Type %d of the response's \"%s\" holds a NUL (\\u0000).",
						 k + 1, shape->types_key);
				return BLS_PARSE_BAD_FIELD;
			}
			page->column_types[k] = c->v.str;
		}
	}
	return check_column_names(page);
}

/*
 * Read a result set's paging and truncation from result (the object holding
 * the call's members) and rs (the object holding the rows).
 *
 * The marker is sent back as the next request's "marker", so it must be a
 * string without NUL; absent, null or "" means no more pages.  The service
 * says it cut the result in rs or in the scan-info object, or both: either
 * counts, and must be a boolean.  The reason is the string beside whichever
 * said so, resultSet's first, a non-empty one before an empty one.
 */
static BlsParseStatus
read_paging(BlsJson *result, BlsJson *rs, const BlsPageShape *shape,
			BlsPage *page)
{
	BlsJson    *v;
	BlsJson    *scan = NULL;
	BlsJson    *where[2];
	const char *what[2];

	if (shape->marker_key != NULL &&
		(v = bls_json_member(result, shape->marker_key)) != NULL)
	{
		if (!is_type(v, BLS_JSON_STRING))
		{
			snprintf(page->error, sizeof(page->error),
					 "The response's \"%s\" is a JSON %s, not a string.",
					 shape->marker_key, type_name(v));
			return BLS_PARSE_BAD_FIELD;
		}
		if (memchr(v->v.str, '\0', v->v.len) != NULL)
		{
			snprintf(page->error, sizeof(page->error),
					 "The response's \"%s\" holds a NUL (\\u0000).",
					 shape->marker_key);
			return BLS_PARSE_BAD_FIELD;
		}
		if (v->v.len > 0)
			page->next_marker = v->v.str;
	}

	if (shape->scan_info_key != NULL &&
		(scan = bls_json_member(result, shape->scan_info_key)) != NULL &&
		!is_type(scan, BLS_JSON_OBJECT))
	{
		snprintf(page->error, sizeof(page->error),
				 "The response's \"%s\" is a JSON %s, not an object.",
				 shape->scan_info_key, type_name(scan));
		return BLS_PARSE_BAD_FIELD;
	}
	where[0] = rs;
	what[0] = shape->list_parent;
	where[1] = scan;
	what[1] = shape->scan_info_key;
	for (int k = 0; k < 2 && shape->truncated_key != NULL; k++)
	{
		const char *reason;

		if ((v = bls_json_member(where[k], shape->truncated_key)) == NULL)
			continue;
		if (!is_type(v, BLS_JSON_BOOLEAN))
		{
			snprintf(page->error, sizeof(page->error),
					 "The response's %s has an \"%s\" that is a JSON %s, not a boolean.",
					 what[k], shape->truncated_key, type_name(v));
			return BLS_PARSE_BAD_FIELD;
		}
		if (v->v.raw[0] != 't')
			continue;
		page->truncated = true;
		if (shape->reason_key != NULL &&
			(reason = string_member(where[k], shape->reason_key)) != NULL &&
			(page->truncated_reason == NULL || page->truncated_reason[0] == '\0'))
			page->truncated_reason = reason;
	}
	page->query_type = string_member(rs, "queryType");
	return BLS_PARSE_OK;
}

/* Forget a result set's columns; the strings belong to the root's tree. */
static void
free_columns(BlsPage *page)
{
	free(page->columns);
	free(page->column_lens);
	free(page->column_types);
	free(page->row_values);
	page->row_values = NULL;
	page->columns = NULL;
	page->column_lens = NULL;
	page->column_types = NULL;
	page->ncolumns = 0;
	page->next_marker = NULL;
	page->truncated = false;
	page->truncated_reason = NULL;
	page->query_type = NULL;
}

/*
 * bls_page_parse_shape
 *		Parse a 200 response body of the list call that shape describes
 *		into *page.
 *
 * On BLS_PARSE_OK the caller owns page->root and must call bls_page_free().
 * On BLS_PARSE_FAILURE page->root is also kept, since page->code, message
 * and request_id point into it.  On other statuses nothing is kept and
 * page->error says what was wrong.
 *
 * A wrapped answer fails when "success" is not true.  A bare one has no
 * "success": a service error comes with a non-2xx status, but a body with a
 * top-level "code" and no list is taken as a failure too (only top-level
 * members count, never an element's).
 *
 * A single shape's object becomes the page's one item, read like any list
 * element.  Its document is parsed whole (one item: splitting it off would
 * save nothing), so an object that is not strict JSON fails the page.
 *
 * A result set's list is inside list_parent ("resultSet"), which must be an
 * object (else BLS_PARSE_NO_RESULT, or a failure beside a top-level "code");
 * its columns, their types, the marker of the next page and whether the
 * service cut the result are read here (read_columns, read_paging), and
 * total, pageNo and pageSize are not read: such a page is named by its
 * marker.
 */
BlsParseStatus
bls_page_parse_shape(const char *buf, size_t len, const BlsPageShape *shape,
					 BlsPage *page)
{
	BlsParseStatus status = BLS_PARSE_OK;
	BlsJsonTree *tree;
	BlsJson    *root;
	BlsJson    *success;
	BlsJson    *result;
	BlsJson    *holder;
	BlsJson    *list;
	int64_t		v;
	const char *end = buf ? buf + len : buf;
	const char *ts;
	const char *te;
	bool		split = false;

	memset(page, 0, sizeof(*page));
	page->shape = shape;
	page->total = -1;

	/*
	 * Keep the list's elements as text, parsed one by one when asked for,
	 * and parse the rest of the document with an empty array in their
	 * place.
	 */
	if (buf != NULL && !shape->single)
	{
		char	   *env = NULL;

		if (locate_items(buf, end, shape, page, &ts, &te) &&
			(env = malloc((ts - buf) + 2 + (end - te))) != NULL)
		{
			size_t		head = ts - buf;
			size_t		tail = end - te;

			memcpy(env, buf, head);
			memcpy(env + head, "[]", 2);
			memcpy(env + head + 2, te, tail);
			tree = parse_document(env, head + 2 + tail, &status,
								  page->error, sizeof(page->error));
			free(env);
			split = true;
		}
		else
		{
			free_split(page);
			page->nitems = 0;
		}
	}
	if (!split)
		tree = parse_document(buf, len, &status, page->error,
							  sizeof(page->error));
	if ((page->root = tree) == NULL)
		goto fail;
	root = tree->nodes;
	if (!is_type(root, BLS_JSON_OBJECT))
	{
		snprintf(page->error, sizeof(page->error),
				 "The response is a JSON %s, not an object.", type_name(root));
		status = BLS_PARSE_NOT_OBJECT;
		goto fail;
	}
	page->code = string_member(root, "code");
	page->message = string_member(root, "message");
	page->request_id = string_member(root, "requestId");

	if (shape->wrapped)
	{
		success = bls_json_member(root, "success");
		if (!is_type(success, BLS_JSON_BOOLEAN) || success->v.raw[0] != 't')
		{
			snprintf(page->error, sizeof(page->error),
					 "The response does not report success.");
			goto failure;
		}

		result = bls_json_member(root, "result");
		if (!is_type(result, BLS_JSON_OBJECT))
		{
			snprintf(page->error, sizeof(page->error),
					 "The response has no \"result\" object.");
			status = BLS_PARSE_NO_RESULT;
			goto fail;
		}
	}
	else
		result = root;

	/* the object holding the list: result, or an object inside it */
	holder = result;
	if (shape->list_parent != NULL &&
		!is_type(holder = bls_json_member(result, shape->list_parent),
				 BLS_JSON_OBJECT))
	{
		if (!shape->wrapped && bls_json_member(root, "code") != NULL)
		{
			snprintf(page->error, sizeof(page->error),
					 "The response carries an error code and no \"%s\" object.",
					 shape->list_parent);
			goto failure;
		}
		snprintf(page->error, sizeof(page->error),
				 shape->wrapped ? "The response's result has no \"%s\" object." :
				 "The response has no \"%s\" object.", shape->list_parent);
		status = BLS_PARSE_NO_RESULT;
		goto fail;
	}

	if (shape->single)
	{
		if ((status = read_single(root, result, shape, page)) == BLS_PARSE_OK)
			return BLS_PARSE_OK;
		if (status == BLS_PARSE_FAILURE)
			goto failure;
		goto fail;
	}

	list = bls_json_member(holder, shape->list_key);
	if (!is_type(list, BLS_JSON_ARRAY))
	{
		if (!shape->wrapped && bls_json_member(root, "code") != NULL)
		{
			snprintf(page->error, sizeof(page->error),
					 "The response carries an error code and no \"%s\" array.",
					 shape->list_key);
			goto failure;
		}
		if (shape->list_parent != NULL)
			snprintf(page->error, sizeof(page->error),
					 "The response's %s has no \"%s\" array.",
					 shape->list_parent, shape->list_key);
		else if (shape->wrapped)
			snprintf(page->error, sizeof(page->error),
					 "The response's result has no \"%s\" array.",
					 shape->list_key);
		else
			snprintf(page->error, sizeof(page->error),
					 "The response has no \"%s\" array.", shape->list_key);
		status = BLS_PARSE_NO_TASKS;
		goto fail;
	}
	page->items = list;
	if (!split && list->count > 0)
	{
		/* the items of a page parsed whole, for bls_page_item() */
		BlsJson    *e = NULL;

		if ((page->elems = malloc(sizeof(BlsJson *) * list->count)) == NULL)
		{
			snprintf(page->error, sizeof(page->error), "Out of memory.");
			status = BLS_PARSE_NOMEM;
			goto fail;
		}
		for (int k = 0; (e = bls_json_next(list, e)) != NULL; k++)
			page->elems[k] = e;
		page->nitems = list->count;
	}

	if (shape->columns_key != NULL)
	{
		if ((status = read_columns(holder, shape, page)) != BLS_PARSE_OK ||
			(status = read_paging(result, holder, shape, page)) != BLS_PARSE_OK)
			goto fail;
		return BLS_PARSE_OK;
	}

	if ((status = read_total(holder, shape, page)) != BLS_PARSE_OK)
		goto fail;
	v = 0;
	if (!int_member(holder, "pageNo", 0, INT32_MAX, &v))
	{
		snprintf(page->error, sizeof(page->error),
				 "The response's \"pageNo\" is not a valid page number.");
		status = BLS_PARSE_BAD_FIELD;
		goto fail;
	}
	page->page_no = (int) v;
	v = 0;
	if (!int_member(holder, "pageSize", 0, INT32_MAX, &v))
	{
		snprintf(page->error, sizeof(page->error),
				 "The response's \"pageSize\" is not a valid page size.");
		status = BLS_PARSE_BAD_FIELD;
		goto fail;
	}
	page->page_size = (int) v;
	if ((status = read_default(holder, shape, page)) != BLS_PARSE_OK)
		goto fail;
	return BLS_PARSE_OK;

failure:
	/* the root stays: code, message and request_id point into it */
	free_split(page);
	page->items = NULL;
	page->nitems = 0;
	return BLS_PARSE_FAILURE;

fail:
	bls_page_free(page);
	return status;
}

void
bls_page_free(BlsPage *page)
{
	free_split(page);
	free_columns(page);
	bls_json_tree_free(page->root);
	free(page->elems);
	page->elems = NULL;
	free(page->default_id);
	page->default_id = NULL;
	page->default_obj = NULL;
	page->root = NULL;
	page->items = NULL;
	page->nitems = 0;
	page->code = page->message = page->request_id = NULL;
}

/*
 * The tree of the text of item i of a split page, in *tree (NULL for a
 * JSON null); false if the item is not valid JSON, with page->error saying
 * why.
 */
static bool
parse_item(BlsPage *page, int i, BlsJsonTree **tree)
{
	BlsParseStatus status;
	char		errbuf[112];
	const char *item = item_name(page);

	*tree = parse_document(page->text + page->spans[2 * i],
						   page->spans[2 * i + 1] - page->spans[2 * i],
						   &status, errbuf, sizeof(errbuf));
	if (*tree == NULL && status != BLS_PARSE_NOT_OBJECT)
	{
		snprintf(page->error, sizeof(page->error), "%c%s %d of the page: %s",
				 toupper((unsigned char) item[0]), item + 1, i + 1, errbuf);
		return false;
	}
	return true;
}

/*
 * bls_page_item
 *		The i'th item, parsed on first use; it may be any JSON type, the
 *		caller checks.  NULL if i is out of range, if the item is JSON null,
 *		or if it is not valid JSON (page->error then says why).  The item
 *		stays valid until bls_page_item_done() or bls_page_free().
 */
BlsJson *
bls_page_item(BlsPage *page, int i)
{
	if (i < 0 || i >= page->nitems)
		return NULL;
	if (page->shape != NULL && page->shape->single)
		return page->items;		/* nitems is 1 */
	if (page->text == NULL)
		return is_type(page->elems[i], BLS_JSON_NULL) ? NULL : page->elems[i];
	if (page->parsed[i] == NULL && !parse_item(page, i, &page->parsed[i]))
		return NULL;
	/* a JSON null item stays NULL: the caller reports its type */
	return page->parsed[i] ? page->parsed[i]->nodes : NULL;
}

/* Free the i'th item once the caller is done with it. */
void
bls_page_item_done(BlsPage *page, int i)
{
	if (page->text != NULL && i >= 0 && i < page->nitems)
	{
		bls_json_tree_free(page->parsed[i]);
		page->parsed[i] = NULL;
	}
}

const char *
bls_json_type_name(BlsJsonType type)
{
	static const char *const names[] = {
		"null", "boolean", "number", "string", "object", "array"
	};

	return names[type];
}

/*
 * Reading an item's fields without a tree.  An item is usually a flat object
 * of strings, numbers and literals, so bls_page_read_item() reads those
 * straight from the page's text: a string's escapes are decoded into the
 * page's scratch buffer, a number is classified without converting it.  A
 * nested value, a repeated key, or anything that is not valid JSON has the
 * item's tree built, which then says what is wrong; so the flat reader only
 * saves work (test/fuzz checks the two against each other and json-c).
 */

/* The index of the key k[0..len), at member position m; -1 if not wanted. */
static int
find_key(BlsFields *f, int m, const char *k, size_t len)
{
	if (m < BLS_FIELD_HINTS)
	{
		int			h = f->hint[m];

		if (h >= 0 && f->keylens[h] == len && memcmp(f->keys[h], k, len) == 0)
			return h;
	}
	for (int j = 0; j < f->nkeys; j++)
		if (f->keylens[j] == len && memcmp(f->keys[j], k, len) == 0)
		{
			if (m < BLS_FIELD_HINTS)
				f->hint[m] = (int16_t) j;
			return j;
		}
	return -1;
}

/* Read the item [p, end) into f, or return false to leave it to the tree. */
static bool
read_flat(BlsPage *page, const char *p, const char *end, BlsFields *f)
{
	memset(f->values, 0, sizeof(BlsValue) * f->nkeys);
	f->type = BLS_JSON_OBJECT;
	if (!bls_scratch_reserve(&page->scratch, end - p))
		return false;
	p = bls_json_skip_ws(p, end);
	if (p >= end || *p != '{')
		return false;
	p = bls_json_skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return bls_json_skip_ws(p + 1, end) == end;
	for (int m = 0;; m++)
	{
		const char *k;
		size_t		klen;
		int			key;
		BlsValue	unwanted;
		BlsValue   *v;

		/*
		 * An escaped key is compared decoded, with its length: "name\u0000"
		 * is five bytes and does not match "name".
		 */
		if (p >= end || *p != '"' ||
			(p = bls_json_read_string(&page->scratch, p, end, &k, &klen,
							 NULL, NULL)) == NULL)
			return false;
		key = find_key(f, m, k, klen);
		v = key >= 0 ? &f->values[key] : &unwanted;
		/* the last of repeated keys counts: leave it to the tree */
		if (key >= 0 && v->present)
			return false;
		p = bls_json_skip_ws(p, end);
		if (p >= end || *p != ':')
			return false;
		p = bls_json_skip_ws(p + 1, end);
		if (p >= end || (p = bls_json_read_value(&page->scratch, p, end, v)) == NULL)
			return false;
		p = bls_json_skip_ws(p, end);
		if (p < end && *p == ',')
		{
			p = bls_json_skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return bls_json_skip_ws(p + 1, end) == end;
		return false;
	}
}


/* Make f ready for a new scan. */
void
bls_fields_reset(BlsFields *fields)
{
	for (int m = 0; m < BLS_FIELD_HINTS; m++)
		fields->hint[m] = -1;
}

/*
 * Reading the rows of a result set.
 *
 * A row is an array of values named by the page's columns; it is read like
 * an object with those names as keys, by the same reader as an item (the
 * hints are keyed by the column's position) and with the same fallback to
 * the tree, which alone decides what is wrong with a row.  The row can also
 * be had as one JSON object, {"column": value, ...}, with each value typed
 * by its column's type (append_column).
 */

/* How a column's type types its values in a row's JSON */
typedef enum ColumnKind
{
	COLUMN_ANY,					/* untyped, or a type not below */
	COLUMN_NUMBER,
	COLUMN_BOOLEAN
} ColumnKind;

/* a and b equal, ignoring ASCII case (not the locale's: "INT" in Turkish) */
static bool
ascii_case_eq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
	{
		char		x = (*a >= 'A' && *a <= 'Z') ? *a + ('a' - 'A') : *a;
		char		y = (*b >= 'A' && *b <= 'Z') ? *b + ('a' - 'A') : *b;

		if (x != y)
			return false;
	}
	return *a == *b;
}

static ColumnKind
column_kind(const BlsPage *page, int m)
{
	static const char *const numeric[] = {
		"tinyint", "smallint", "int", "integer", "bigint", "long",
		"double", "float", "real", "decimal", "numeric"
	};
	const char *type = page->column_types[m];

	if (type == NULL)
		return COLUMN_ANY;
	for (size_t k = 0; k < sizeof(numeric) / sizeof(numeric[0]); k++)
		if (ascii_case_eq(type, numeric[k]))
			return COLUMN_NUMBER;
	if (ascii_case_eq(type, "boolean"))
		return COLUMN_BOOLEAN;
	return COLUMN_ANY;
}

/* "Column "x" of log record 3 <rest>": false, with page->error set */
static bool
column_error(BlsPage *page, int i, int m, const char *rest)
{
	char		name[64];

	bls_service_text(name, sizeof(name), 40, page->columns[m],
					 page->column_lens[m], true);
	snprintf(page->error, sizeof(page->error), "Column \"%s\" of %s %d %s",
			 name, item_name(page), i + 1, rest);
	return false;
}

/* Column m of row i holds what its type does not allow */
static bool
type_error(BlsPage *page, int i, int m, const char *what)
{
	char		rest[96];

	/* the type is one column_kind() knows: short, and ASCII */
	snprintf(rest, sizeof(rest), "is typed %s but holds %s.",
			 page->column_types[m], what);
	return column_error(page, i, m, rest);
}

/*
 * Type column m of row i, the value v, into *out: the value as the row's
 * JSON has it, with out->raw its JSON text.
 *
 * A value is taken as it came, except in a column typed as a number (an
 * integer or a decimal type, see column_kind), which takes a number, or a
 * string holding exactly a JSON number, which becomes that number; and in
 * a column typed boolean, which takes true or false, or the string "true"
 * or "false", which becomes that boolean.  Null is fine in any column;
 * anything else in a typed column is an error (false, with page->error
 * set).
 *
 * The text is bls_value_text()'s: a number keeps its spelling (but for -0,
 * written 0), also beyond 64 bits; a string's text is the page's when it
 * is spelled as json-c prints one, so that a long record is copied rather
 * than printed again.
 */
static bool
type_column(BlsPage *page, int i, int m, const BlsValue *v, BlsValue *out)
{
	ColumnKind kind = column_kind(page, m);

	*out = *v;
	switch (v->type)
	{
		case BLS_JSON_NULL:
			out->raw = "null";
			out->rawlen = 4;
			return true;
		case BLS_JSON_NUMBER:
			if (kind == COLUMN_BOOLEAN)
				return type_error(page, i, m, "a JSON number");
			break;
		case BLS_JSON_STRING:
			if (kind == COLUMN_NUMBER)
			{
				/* exactly a JSON number, nothing around it, as it is spelled */
				if (v->len == 0 ||
					bls_json_read_number(v->str, v->str + v->len, out, NULL) !=
					v->str + v->len)
					return type_error(page, i, m, "a string that is not a number");
				memset(out, 0, sizeof(*out));
				out->present = true;
				out->type = BLS_JSON_NUMBER;
				out->raw = v->str;
				out->rawlen = v->len;
				return true;
			}
			if (kind == COLUMN_BOOLEAN)
			{
				if ((v->len == 4 && memcmp(v->str, "true", 4) == 0) ||
					(v->len == 5 && memcmp(v->str, "false", 5) == 0))
				{
					memset(out, 0, sizeof(*out));
					out->present = true;
					out->type = BLS_JSON_BOOLEAN;
					out->raw = v->str;
					out->rawlen = v->len;
					return true;
				}
				return type_error(page, i, m,
								  "a string other than \"true\" and \"false\"");
			}
			break;
		case BLS_JSON_BOOLEAN:
			if (kind == COLUMN_NUMBER)
				return type_error(page, i, m, "a JSON boolean");
			break;
		case BLS_JSON_OBJECT:
		case BLS_JSON_ARRAY:
			if (kind != COLUMN_ANY)
				return type_error(page, i, m, v->type == BLS_JSON_OBJECT ?
								  "a JSON object" : "a JSON array");
			break;
	}
	out->raw = bls_value_text(v, &out->rawlen);
	return out->raw != NULL ||
		column_error(page, i, m, "could not be written: out of memory.");
}

/* Append column m, typed by type_column(), to the row's JSON text b. */
static void
append_column(BlsPage *page, int m, const BlsValue *typed, BlsText *b)
{
	if (m > 0)
		bls_text_append(b, ",", 1);
	bls_text_put_string(b, page->columns[m], page->column_lens[m]);
	bls_text_append(b, ":", 1);
	bls_text_append(b, typed->raw, typed->rawlen);
}

/* "Log record 3 of the page ...": false, with page->error set */
static bool
row_error(BlsPage *page, int i, const char *what)
{
	const char *item = item_name(page);

	snprintf(page->error, sizeof(page->error), "%c%s %d of the page %s",
			 toupper((unsigned char) item[0]), item + 1, i + 1, what);
	return false;
}

/*
 * Read row i, the text [p, end), into f (if not NULL) and its JSON into b
 * (if not NULL), or return false to leave it to the tree: anything but a
 * plain array of as many plain values as there are columns, or a value its
 * column's type refuses.
 */
static bool
read_row_flat(BlsPage *page, int i, const char *p, const char *end,
			  BlsScratch *s, BlsFields *f, BlsValue *row, BlsText *b)
{
	int			m = 0;

	if (!bls_scratch_reserve(s, end - p))
		return false;

	if (f != NULL && f->nkeys > 0)
		memset(f->values, 0, sizeof(BlsValue) * f->nkeys);
	if (b != NULL)
		bls_text_append(b, "{", 1);
	p = bls_json_skip_ws(p, end);
	if (p >= end || *p != '[')
		return false;
	p = bls_json_skip_ws(p + 1, end);
	if (p < end && *p == ']')
	{
		if (page->ncolumns != 0)
			return false;
	}
	else
		for (;; m++)
		{
			BlsValue	unwanted;
			BlsValue   *v = &unwanted;
			const char *q;

			if (m >= page->ncolumns || p >= end)
				return false;
			if (f != NULL)
			{
				int			key = find_key(f, m, page->columns[m],
										   page->column_lens[m]);

				if (key >= 0)
					v = &f->values[key];
			}
			if ((q = bls_json_read_value(s, p, end, v)) == NULL)
				return false;
			if (row != NULL || b != NULL)
			{
				BlsValue	typed;
				BlsValue   *t = row != NULL ? &row[m] : &typed;

				if (!type_column(page, i, m, v, t))
					return false;
				if (b != NULL)
					append_column(page, m, t, b);
			}
			p = bls_json_skip_ws(q, end);
			if (p < end && *p == ',')
			{
				p = bls_json_skip_ws(p + 1, end);
				continue;
			}
			if (p < end && *p == ']' && m + 1 == page->ncolumns)
				break;
			return false;
		}
	if (bls_json_skip_ws(p + 1, end) != end)
		return false;
	if (b != NULL)
	{
		bls_text_append(b, "}", 1);
		if (b->nomem)
			return false;
	}
	if (f != NULL)
		f->type = BLS_JSON_OBJECT;
	return true;
}

/*
 * Read row i from its tree, into f, its typed values into row and its JSON
 * into b (each may be NULL); false if it is not an array of as many values
 * as there are columns, or a value's column refuses it, with page->error
 * saying why.
 */
static bool
read_row_tree(BlsPage *page, int i, BlsJson *tree, BlsFields *f,
			  BlsValue *row, BlsText *b)
{
	BlsJson    *e = NULL;
	char		what[96];

	if (!is_type(tree, BLS_JSON_ARRAY))
	{
		snprintf(what, sizeof(what), "is a JSON %s, not an array.",
				 bls_json_type_name(tree ? tree->v.type : BLS_JSON_NULL));
		return row_error(page, i, what);
	}
	if (tree->count != page->ncolumns)
	{
		snprintf(what, sizeof(what), "has %d value%s for %d column%s.",
				 tree->count, tree->count == 1 ? "" : "s", page->ncolumns,
				 page->ncolumns == 1 ? "" : "s");
		return row_error(page, i, what);
	}
	if (f != NULL && f->nkeys > 0)
		memset(f->values, 0, sizeof(BlsValue) * f->nkeys);
	if (b != NULL)
		bls_text_append(b, "{", 1);
	for (int m = 0; (e = bls_json_next(tree, e)) != NULL; m++)
	{
		if (f != NULL && e->v.type != BLS_JSON_NULL)
		{
			int			key = find_key(f, m, page->columns[m],
									   page->column_lens[m]);

			/* a null is left absent, as for an item's member */
			if (key >= 0)
				f->values[key] = e->v;
		}
		if (row != NULL || b != NULL)
		{
			BlsValue	typed;
			BlsValue   *t = row != NULL ? &row[m] : &typed;

			if (!type_column(page, i, m, &e->v, t))
				return false;
			if (b != NULL)
				append_column(page, m, t, b);
		}
	}
	if (b != NULL)
	{
		bls_text_append(b, "}", 1);
		if (b->nomem)
		{
			snprintf(page->error, sizeof(page->error), "Out of memory.");
			return false;
		}
	}
	if (f != NULL)
		f->type = BLS_JSON_OBJECT;
	return true;
}

/*
 * Read row i of a result set (in range) into f, its values typed by their
 * columns into row (ncolumns of them) and its JSON into b (each may be
 * NULL).  If keep, what was decoded or built for it stays with the page
 * until the next read (bls_page_read_item: f's values point into it);
 * otherwise it is freed before returning, leaving the page as it was
 * (bls_page_row_json, which must not disturb the latest read).
 */
static bool
read_row(BlsPage *page, int i, BlsFields *f, BlsValue *row, BlsText *b,
		 bool keep)
{
	BlsScratch	own_scratch = {NULL, 0, 0};
	BlsJsonTree *own = NULL;
	BlsJson    *tree;
	bool		ok;

	if (b != NULL)
	{
		/* room for the row's text and the names: usually no growing */
		size_t		need = (page->text ? page->spans[2 * i + 1] -
							page->spans[2 * i] : 0) + 2;

		for (int m = 0; m < page->ncolumns; m++)
			need += page->column_lens[m] + 4;
		(void) bls_text_reserve(b, need);
	}
	if (page->text == NULL)
		return read_row_tree(page, i, page->elems[i], f, row, b);
	ok = read_row_flat(page, i, page->text + page->spans[2 * i],
					   page->text + page->spans[2 * i + 1],
					   keep ? &page->scratch : &own_scratch, f, row, b);
	free(own_scratch.data);
	if (ok)
		return true;
	if (b != NULL)
		b->len = 0;

	/* the tree reads it, or says what is wrong with it */
	if (page->parsed[i] == NULL && !parse_item(page, i, &own))
		return false;
	tree = page->parsed[i] ? page->parsed[i]->nodes : own ? own->nodes : NULL;
	if (keep)
	{
		/* freed at the next read, see release_read() */
		if (own != NULL)
			page->parsed[i] = own;
		page->read_json = i + 1;
		own = NULL;
	}
	ok = read_row_tree(page, i, tree, f, row, b);
	bls_json_tree_free(own);
	return ok;
}

/* Read the fields of an item from its tree. */
static void
read_object(BlsJson *obj, BlsFields *fields)
{
	fields->type = obj->v.type;
	for (int k = 0; k < fields->nkeys; k++)
	{
		BlsJson    *v = bls_json_member(obj, fields->keys[k]);

		if (v != NULL)
			fields->values[k] = v->v;
		else
			memset(&fields->values[k], 0, sizeof(BlsValue));
	}
}

/*
 * bls_page_read_item
 *		Read the i'th item's fields into *fields.
 *
 * Returns false if i is out of range or the item is not valid JSON (then
 * page->error says why).  The values stay valid until the next call for
 * this page or bls_page_free().
 *
 * The item of a result set is a row: it must be an array of a value for
 * each column, else it is refused too.  Its values are read as the members
 * named by the columns (a key that names no column is absent; a column no
 * key names is skipped), and fields->type is BLS_JSON_OBJECT.  With
 * fields->want_row, the row is also written as a JSON object, as
 * bls_page_row_json() writes it, into fields->row_json (owned by the page
 * like the values); a value its column's type refuses then refuses the row.
 */
bool
bls_page_read_item(BlsPage *page, int i, BlsFields *fields)
{
	BlsJson    *item;

	release_read(page);
	if (i < 0 || i >= page->nitems)
	{
		snprintf(page->error, sizeof(page->error), "There is no %s %d on the page.",
				 item_name(page), i + 1);
		return false;
	}
	fields->row_json = NULL;
	fields->row_json_len = 0;
	fields->row_values = NULL;
	fields->row_ncolumns = 0;
	if (page->shape != NULL && page->shape->columns_key != NULL)
	{
		BlsText		b = {NULL, 0, 0, false};
		bool		text = fields->want_row && !fields->row_values_only;

		if (!read_row(page, i, fields,
					  fields->want_row ? page->row_values : NULL,
					  text ? &b : NULL, true))
		{
			free(b.data);
			return false;
		}
		if (fields->want_row)
		{
			fields->row_values = page->row_values;
			fields->row_ncolumns = page->ncolumns;
			fields->row_names = page->columns;
			fields->row_name_lens = page->column_lens;
		}
		if (text)
		{
			page->row_json = b.data;
			fields->row_json = b.data;
			fields->row_json_len = b.len;
		}
		return true;
	}
	if (page->text != NULL &&
		read_flat(page, page->text + page->spans[2 * i],
				  page->text + page->spans[2 * i + 1], fields))
		return true;

	/* the tree reads it, or says what is wrong with it */
	release_read(page);
	if ((item = bls_page_item(page, i)) == NULL)
		return false;
	if (page->text != NULL)
		page->read_json = i + 1;
	read_object(item, fields);
	return true;
}

/*
 * bls_page_read_default
 *		Read the object the page names beside its list (the default
 *		project) into fields, as bls_page_read_item() reads an item.  False
 *		if the page names none.
 */
bool
bls_page_read_default(BlsPage *page, BlsFields *fields)
{
	BlsJson    *obj = page->default_obj;

	release_read(page);
	if (obj == NULL)
		return false;
	fields->row_json = NULL;
	fields->row_json_len = 0;
	read_object(obj, fields);
	return true;
}

/*
 * bls_page_default_string
 *		The string member key of the page's default object, its length in
 *		*len; NULL if there is no such object or member, or it is not a
 *		string.  Valid until the page is freed.
 */
const char *
bls_page_default_string(const BlsPage *page, const char *key, size_t *len)
{
	BlsJson    *v = bls_json_member(page->default_obj, key);

	if (!is_type(v, BLS_JSON_STRING))
		return NULL;
	*len = v->v.len;
	return v->v.str;
}

/*
 * bls_page_row_json
 *		Row i of a result set as one JSON object, {"column": value, ...} in
 *		the order of the columns; malloc'd and NUL-terminated, its length
 *		in *len.  The caller frees it.
 *
 * Each name is written as json-c writes a string, each value as
 * append_column() types it.  NULL if i is out of range, the page is not a
 * result set, the row is not valid JSON or not an array of a value per
 * column, or a value its column's type refuses; page->error then says
 * why.  It does not disturb the values of the latest bls_page_read_item().
 */
char *
bls_page_row_json(BlsPage *page, int i, size_t *len)
{
	BlsText		b = {NULL, 0, 0, false};

	*len = 0;
	if (page->shape == NULL || page->shape->columns_key == NULL)
	{
		snprintf(page->error, sizeof(page->error),
				 "The page holds %ss, not the rows of a result set.",
				 item_name(page));
		return NULL;
	}
	if (i < 0 || i >= page->nitems)
	{
		snprintf(page->error, sizeof(page->error), "There is no %s %d on the page.",
				 item_name(page), i + 1);
		return NULL;
	}
	if (!read_row(page, i, NULL, NULL, &b, false))
	{
		free(b.data);
		return NULL;
	}
	*len = b.len;
	return b.data;
}

/*
 * A value as JSON text (a string comes back quoted), for json columns and
 * input functions, as json-c prints it (see bls_json_text); NULL if out of
 * memory.  Not NUL-terminated: use *len.
 */
const char *
bls_value_text(const BlsValue *v, size_t *len)
{
	if (v->json != NULL)
		return bls_json_text(v->json, len);
	*len = v->rawlen;
	return v->raw;
}

static int
two_digits(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/*
 * bls_parse_utc_timestamp
 *		Parse exactly "YYYY-MM-DDThh:mm:ssZ", the form BLS sends its times
 *		in, into microseconds since 1970-01-01 00:00:00 UTC.
 *
 * Returns false for anything else (fractions, offsets, leap seconds, out of
 * range fields); the caller then uses the type's input function, so this is
 * only a fast path for the common case, never a different answer.
 */
bool
bls_parse_utc_timestamp(const char *s, size_t len, int64_t *unix_usecs)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			y,
				m,
				d,
				hh,
				mi,
				ss;
	int			yh,
				yl;
	int64_t		days;
	int			era,
				yoe,
				doy,
				doe,
				ya;

	if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return false;
	yh = two_digits(s);
	yl = two_digits(s + 2);
	m = two_digits(s + 5);
	d = two_digits(s + 8);
	hh = two_digits(s + 11);
	mi = two_digits(s + 14);
	ss = two_digits(s + 17);
	if (yh < 0 || yl < 0 || m < 1 || m > 12 || d < 1 || hh < 0 || hh > 23 ||
		mi < 0 || mi > 59 || ss < 0 || ss > 59)
		return false;
	y = yh * 100 + yl;
	if (y < 1)
		return false;
	if (d > mdays[m - 1] +
		(m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return false;

	/* days from civil, proleptic Gregorian (H. Hinnant's algorithm) */
	ya = m <= 2 ? y - 1 : y;
	era = ya / 400;
	yoe = ya - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = (int64_t) era * 146097 + doe - 719468;

	*unix_usecs = ((days * 86400) + hh * 3600 + mi * 60 + ss) * INT64_C(1000000);
	return true;
}

/*
 * The download-task calls that answer with neither a list nor an item:
 * CreateDownloadTask, GetDownloadTaskLink and DeleteDownloadTask.  Their
 * bodies are small and parsed whole, with the same strict checks as a page.
 */

void
bls_reply_free(BlsReply *reply)
{
	if (reply == NULL)
		return;
	free(reply->code);
	free(reply->message);
	free(reply->request_id);
	reply->code = reply->message = reply->request_id = NULL;
}

/* Copy root's code, message and requestId into *reply; false if out of memory. */
static bool
copy_envelope(BlsJson *root, BlsReply *reply)
{
	static const char *const keys[] = {"code", "message", "requestId"};
	char	  **out[] = {&reply->code, &reply->message, &reply->request_id};

	for (int k = 0; k < 3; k++)
	{
		const char *s = string_member(root, keys[k]);

		if (s != NULL && (*out[k] = strdup(s)) == NULL)
			return false;
	}
	return true;
}

/*
 * Parse buf as a JSON object into *tree and copy its code, message and
 * requestId into *reply (if any).  Returns BLS_PARSE_OK (error then holds
 * ""), or the status of a body that is not a JSON object (error then says
 * why, and *tree is NULL).
 */
static BlsParseStatus
parse_reply(const char *buf, size_t len, BlsJsonTree **tree, BlsReply *reply,
			char *error, size_t errlen)
{
	BlsParseStatus status = BLS_PARSE_OK;

	if (errlen > 0)
		error[0] = '\0';
	if (reply != NULL)
		reply->code = reply->message = reply->request_id = NULL;
	*tree = parse_document(buf, len, &status, error, errlen);
	if (*tree == NULL)
		return status;
	if (!is_type((*tree)->nodes, BLS_JSON_OBJECT))
	{
		snprintf(error, errlen, "The response is a JSON %s, not an object.",
				 type_name((*tree)->nodes));
		status = BLS_PARSE_NOT_OBJECT;
	}
	else if (reply != NULL && !copy_envelope((*tree)->nodes, reply))
	{
		bls_reply_free(reply);
		snprintf(error, errlen, "Out of memory.");
		status = BLS_PARSE_NOMEM;
	}
	if (status != BLS_PARSE_OK)
	{
		bls_json_tree_free(*tree);
		*tree = NULL;
	}
	return status;
}

/*
 * Parse a wrapped answer, {success: true, ..., result: {...}}: *tree owns
 * the document and *result is borrowed from it.  On any status but
 * BLS_PARSE_OK, *tree is NULL.
 */
static BlsParseStatus
parse_wrapped_reply(const char *buf, size_t len, BlsJsonTree **tree,
					BlsJson **result, BlsReply *reply,
					char *error, size_t errlen)
{
	BlsParseStatus status;
	BlsJson    *success;

	if ((status = parse_reply(buf, len, tree, reply, error, errlen)) != BLS_PARSE_OK)
		return status;
	success = bls_json_member((*tree)->nodes, "success");
	*result = bls_json_member((*tree)->nodes, "result");
	if (!is_type(success, BLS_JSON_BOOLEAN) || success->v.raw[0] != 't')
	{
		snprintf(error, errlen, "The response does not report success.");
		status = BLS_PARSE_FAILURE;
	}
	else if (!is_type(*result, BLS_JSON_OBJECT))
	{
		snprintf(error, errlen, "The response has no \"result\" object.");
		status = BLS_PARSE_NO_RESULT;
	}
	if (status != BLS_PARSE_OK)
	{
		bls_json_tree_free(*tree);
		*tree = NULL;
	}
	return status;
}

/*
 * bls_parse_error_body
 *		Extract code, message and requestId from a BLS error body.
 *
 * Returns false when the body is not a JSON object (an HTML page from a
 * gateway, say).  The strings are malloc'd (or NULL where absent); the
 * caller frees them.
 */
bool
bls_parse_error_body(const char *buf, size_t len, char **code,
					 char **message, char **request_id)
{
	BlsReply	reply;
	BlsJsonTree *tree;
	char		errbuf[160];

	*code = *message = *request_id = NULL;
	if (parse_reply(buf, len, &tree, &reply, errbuf, sizeof(errbuf)) != BLS_PARSE_OK)
		return false;
	bls_json_tree_free(tree);
	*code = reply.code;
	*message = reply.message;
	*request_id = reply.request_id;
	return true;
}

/*
 * Copy result's string member key into *out (malloc'd).  Absent or null is
 * "" if optional, else an error; so are another type, an empty string if
 * !may_be_empty, and a NUL inside (it becomes a C string).
 */
static BlsParseStatus
copy_string_member(BlsJson *result, const char *key, bool optional,
				   bool may_be_empty, char **out, char *error, size_t errlen)
{
	BlsJson    *v = bls_json_member(result, key);
	const char *s = "";
	size_t		len = 0;

	if (v == NULL)
	{
		if (!optional)
		{
			snprintf(error, errlen,
					 "The response's result has no \"%s\" string.", key);
			return BLS_PARSE_BAD_FIELD;
		}
	}
	else if (!is_type(v, BLS_JSON_STRING))
	{
		snprintf(error, errlen, "The response's \"%s\" is a JSON %s, not a string.",
				 key, type_name(v));
		return BLS_PARSE_BAD_FIELD;
	}
	else
	{
		s = v->v.str;
		len = v->v.len;
	}
	if (len == 0 && !may_be_empty)
	{
		snprintf(error, errlen, "The response's \"%s\" is empty.", key);
		return BLS_PARSE_BAD_FIELD;
	}
	if (memchr(s, '\0', len) != NULL)
	{
		snprintf(error, errlen, "The response's \"%s\" holds a NUL (\\u0000).",
				 key);
		return BLS_PARSE_BAD_FIELD;
	}
	if ((*out = strdup(s)) == NULL)
	{
		snprintf(error, errlen, "Out of memory.");
		return BLS_PARSE_NOMEM;
	}
	return BLS_PARSE_OK;
}

/*
 * bls_parse_create_result
 *		Parse CreateDownloadTask's answer, {success: true, ...,
 *		result: {uuid}}, into *uuid (malloc'd; the caller frees it).
 *
 * The uuid must be a non-empty string without NUL.  On any status but
 * BLS_PARSE_OK *uuid is NULL and error says what was wrong; reply (may be
 * NULL) gets the envelope's code, message and requestId, see BlsReply.
 */
BlsParseStatus
bls_parse_create_result(const char *buf, size_t len, char **uuid,
						BlsReply *reply, char *error, size_t errlen)
{
	BlsParseStatus status;
	BlsJsonTree *tree;
	BlsJson    *result;

	*uuid = NULL;
	status = parse_wrapped_reply(buf, len, &tree, &result, reply, error, errlen);
	if (status != BLS_PARSE_OK)
		return status;
	status = copy_string_member(result, "uuid", false, false, uuid,
								error, errlen);
	bls_json_tree_free(tree);
	return status;
}

/*
 * bls_parse_link_result
 *		Parse GetDownloadTaskLink's answer, {success: true, ...,
 *		result: {fileDir, fileName, link}}, into three malloc'd strings
 *		(the caller frees them).
 *
 * fileDir and fileName may be absent or null (""; fileDir is empty for a
 * task created without one); link must be a non-empty string.  None may
 * hold a NUL.  On any status but BLS_PARSE_OK all three are NULL and error
 * says what was wrong; reply as for bls_parse_create_result.
 */
BlsParseStatus
bls_parse_link_result(const char *buf, size_t len, char **file_dir,
					  char **file_name, char **link, BlsReply *reply,
					  char *error, size_t errlen)
{
	BlsParseStatus status;
	BlsJsonTree *tree;
	BlsJson    *result;

	*file_dir = *file_name = *link = NULL;
	status = parse_wrapped_reply(buf, len, &tree, &result, reply, error, errlen);
	if (status != BLS_PARSE_OK)
		return status;
	if ((status = copy_string_member(result, "fileDir", true, true, file_dir,
									 error, errlen)) == BLS_PARSE_OK &&
		(status = copy_string_member(result, "fileName", true, true, file_name,
									 error, errlen)) == BLS_PARSE_OK)
		status = copy_string_member(result, "link", false, false, link,
									error, errlen);
	bls_json_tree_free(tree);
	if (status != BLS_PARSE_OK)
	{
		free(*file_dir);
		free(*file_name);
		free(*link);
		*file_dir = *file_name = *link = NULL;
	}
	return status;
}

/*
 * bls_parse_ack
 *		Parse the 2xx answer of a call that returns nothing
 *		(DeleteDownloadTask).
 *
 * An empty body (HTTP 204) is BLS_PARSE_OK.  So is a JSON object whose
 * "success" is true, or that has no "success" (or a null one) and no
 * "code" other than "OK": the 2xx status already says it worked, and a
 * body that does not contradict it is taken at its word.  A "success"
 * other than true, or an error code without "success", is
 * BLS_PARSE_FAILURE.  A body that is not JSON, or not an object, is
 * refused as for a page.  reply as for bls_parse_create_result.
 */
BlsParseStatus
bls_parse_ack(const char *buf, size_t len, BlsReply *reply,
			  char *error, size_t errlen)
{
	BlsParseStatus status;
	BlsJsonTree *tree;
	BlsJson    *v;

	status = parse_reply(buf, len, &tree, reply, error, errlen);
	if (status == BLS_PARSE_EMPTY)
	{
		if (errlen > 0)
			error[0] = '\0';
		return BLS_PARSE_OK;
	}
	if (status != BLS_PARSE_OK)
		return status;
	if ((v = bls_json_member(tree->nodes, "success")) != NULL)
	{
		if (!is_type(v, BLS_JSON_BOOLEAN) || v->v.raw[0] != 't')
		{
			snprintf(error, errlen, "The response does not report success.");
			status = BLS_PARSE_FAILURE;
		}
	}
	else if ((v = bls_json_member(tree->nodes, "code")) != NULL &&
			 !(is_type(v, BLS_JSON_STRING) && v->v.len == 2 &&
			   memcmp(v->v.str, "OK", 2) == 0))
	{
		snprintf(error, errlen,
				 "The response carries an error code and no \"success\".");
		status = BLS_PARSE_FAILURE;
	}
	bls_json_tree_free(tree);
	return status;
}
