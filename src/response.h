/*-------------------------------------------------------------------------
 *
 * response.h
 *		  Parsing BLS response bodies (ListDownloadTask, ListProject,
 *		  ListLogStore, QueryLogRecord and the download-task calls) with
 *		  json_reader.c; no PostgreSQL dependency.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BLS_RESPONSE_H
#define BLS_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


/* A value of a document's tree, and the tree (json_reader.h) */
typedef struct BlsJsonNode BlsJson;
typedef struct BlsJsonTree BlsJsonTree;

/* The JSON type of a value; BLS_JSON_NULL also for a NULL pointer. */
typedef enum BlsJsonType
{
	BLS_JSON_NULL,
	BLS_JSON_BOOLEAN,
	BLS_JSON_NUMBER,
	BLS_JSON_STRING,
	BLS_JSON_OBJECT,
	BLS_JSON_ARRAY
} BlsJsonType;

/*
 * The largest "total" a page reports: a larger one is clamped to this, 2^53.
 * Callers do page arithmetic on it (total + page_size - 1, pages times a
 * cost) and turn it into a double for the planner; below 2^53 both are exact
 * and nothing overflows, and no service lists that many items.
 */
#define BLS_MAX_TOTAL	(INT64_C(1) << 53)

typedef enum BlsParseStatus
{
	BLS_PARSE_OK = 0,
	BLS_PARSE_EMPTY,			/* empty body */
	BLS_PARSE_NOT_JSON,			/* syntax error, truncated, trailing data */
	BLS_PARSE_NOT_OBJECT,		/* top level is not an object */
	BLS_PARSE_FAILURE,			/* "success" is not true (a bare answer: a
								 * "code" and no list): a service error */
	BLS_PARSE_NO_RESULT,		/* no "result" object (wrapped shapes) */
	BLS_PARSE_NO_TASKS,			/* no list array ("tasks", "projects", ...),
								 * or no single object ("task") */
	BLS_PARSE_BAD_FIELD,		/* total/pageNo/pageSize/default of the wrong
								 * type or value */
	BLS_PARSE_NOMEM
} BlsParseStatus;

/*
 * Where a list call puts its members: the envelope of one kind of page.
 *
 * A wrapped answer is {success, code, message, requestId, result: {...}}
 * with the call's members (list, total, pageNo, pageSize, default) inside
 * "result"; a bare answer has them at the top level, beside any code,
 * message and requestId.  The shape's strings must outlive every page
 * parsed with it (the bls_shape_* below are static).
 *
 * A single shape describes a call that answers with one object rather than
 * a list (DescribeDownloadTask): its page has that object as its only item,
 * and total, pageNo and pageSize are not read (total stays -1).
 */
typedef struct BlsPageShape
{
	bool		wrapped;		/* the call's members are inside "result" */
	bool		single;			/* list_key is one object, not an array */
	const char *list_key;		/* the list: "tasks", "projects", "result";
								 * the object: "task" */
	const char *total_keys[2];	/* spellings of the total, either may be
								 * present (they must agree); [1] may be NULL */
	const char *default_key;	/* an object beside the list, or NULL */
	const char *id_key;			/* its id member, copied to default_id */
	const char *item;			/* what an element is, in messages: "task" */

	/*
	 * A result set (QueryLogRecord): the list is held by an object one level
	 * further in (list_parent, "resultSet"), its elements are rows, arrays of
	 * values named by the array of strings columns_key beside the list and
	 * typed by types_key.  A row is read like an object with those names as
	 * keys.  The page after this one is named by the top-level string
	 * marker_key instead of a number, and truncated_key (a boolean) and
	 * reason_key (a string), beside the list or in the object scan_info_key
	 * of the answer, say the service cut the result.  All NULL for the other
	 * shapes.
	 */
	const char *list_parent;
	const char *columns_key;
	const char *types_key;
	const char *marker_key;
	const char *truncated_key;
	const char *reason_key;
	const char *scan_info_key;
} BlsPageShape;

/* ListDownloadTask: wrapped, "tasks", "total" */
extern const BlsPageShape bls_shape_download_tasks;

/* ListProject: wrapped, "projects", "total" or "totalCount", "default" */
extern const BlsPageShape bls_shape_projects;

/* ListLogStore: bare, "result", "totalCount" */
extern const BlsPageShape bls_shape_log_stores;

/* DescribeDownloadTask: wrapped, one object "task" */
extern const BlsPageShape bls_shape_download_task;

/* QueryLogRecord: bare, rows "resultSet"."rows" named by "columns", "nextMarker" */
extern const BlsPageShape bls_shape_log_records;

/*
 * One field of an item, as the converter sees it.  Borrowed from the page
 * until the next bls_page_read_item() on it or bls_page_free().
 */
typedef struct BlsValue
{
	bool		present;		/* (the reader's check for repeated keys) */
	BlsJsonType type;			/* BLS_JSON_NULL also when missing */
	const char *str;			/* a string's contents (not NUL-terminated) */
	size_t		len;
	bool		is_int;			/* a number held exactly in ival */
	int64_t		ival;
	bool		clamped;		/* a number outside the 64-bit range */
	BlsJson    *json;			/* its node, if read from a tree */
	const char *raw;			/* else the value's JSON text in the page */
	size_t		rawlen;
} BlsValue;

/* A buffer the reader decodes strings into; see scratch_reserve(). */
typedef struct BlsScratch
{
	char	   *data;
	size_t		len;
	size_t		cap;
} BlsScratch;

/*
 * One parsed page.  root owns the tree of the document (of all but the list
 * when the list is split off, see text); every other pointer is borrowed
 * from it and lives until bls_page_free().  The list's elements are called
 * items here, whatever they are (download tasks, projects, log stores, rows
 * of a result set).
 */
typedef struct BlsPage
{
	const BlsPageShape *shape;	/* the shape it was parsed with */
	BlsJsonTree *root;
	BlsJson    *items;			/* the list array (for a single shape, the
								 * object) */
	BlsJson   **elems;			/* its elements, when parsed whole */
	int			nitems;
	int64_t		total;			/* -1 when absent; at most BLS_MAX_TOTAL */
	int			page_no;		/* 0 when absent */
	int			page_size;		/* effective page size; 0 when absent */
	char	   *default_id;		/* malloc'd id of the shape's default
								 * object, or NULL when absent */
	BlsJson    *default_obj;	/* that object, borrowed from root */
	const char *code;			/* service code/message/requestId, or NULL */
	const char *message;
	const char *request_id;
	char		error[160];		/* what was wrong, as a sentence, for a
								 * non-OK status */

	/* a result set's (see BlsPageShape); borrowed from root */
	int			ncolumns;
	const char **columns;		/* the names; may hold a NUL, see column_lens */
	size_t	   *column_lens;
	const char **column_types;	/* each NULL when absent or not a string */
	const char *next_marker;	/* NULL when absent, null or "" */
	bool		truncated;		/* truncated_key was true, beside the list
								 * or in scan_info_key */
	const char *truncated_reason;	/* NULL when absent or not a string */
	const char *query_type;		/* "queryType" beside the list, or NULL */
	BlsValue   *row_values;		/* malloc'd, ncolumns: see BlsFields.want_row */
	char	   *row_json;		/* malloc'd: see BlsFields.want_row */

	/*
	 * Usually the items are not parsed with the rest: their text is kept and
	 * each is read when asked for, mostly without a tree (a tree is several
	 * times the text).
	 */
	char	   *text;			/* copy of the list array's text */
	size_t	   *spans;			/* start and end of each item in text */
	BlsJsonTree **parsed;		/* items' trees built so far, or NULL */

	/* what bls_page_read_item() decoded or built for the latest item */
	int			read_json;		/* 1 + the item whose tree it built, or 0 */
	BlsScratch		scratch;		/* strings with escapes, decoded */
} BlsPage;

/* Member positions of an item remembered by BlsFields (see below). */
#define BLS_FIELD_HINTS 64

/*
 * The fields a scan reads from each item, and the values the latest
 * bls_page_read_item() found for them.  The caller fills in nkeys, keys,
 * keylens and values (arrays of nkeys, keys distinct) and calls
 * bls_fields_reset() before the first item.
 */
typedef struct BlsFields
{
	int			nkeys;
	const char **keys;
	size_t	   *keylens;
	BlsValue   *values;			/* out: per key */
	BlsJsonType type;			/* out: the item's JSON type; an item that
								 * is not an object has no fields (a row of
								 * a result set counts as an object) */

	/*
	 * The key found at each member position of the previous item: items
	 * of one service list their members in one order, so this is usually
	 * the next key without a search.
	 */
	int16_t		hint[BLS_FIELD_HINTS];

	/*
	 * For a result set: if want_row, bls_page_read_item() also sets
	 * row_values to the row's value of each column (row_ncolumns of them,
	 * named by row_names, which may hold a NUL: use row_name_lens), typed
	 * by the column's type as bls_page_row_json() types it, each with its
	 * JSON text in raw; and, unless row_values_only, row_json to the row as
	 * one JSON object, {"column": value, ...} in the order of the columns.
	 * Owned by the page until the next read or bls_page_free().
	 */
	bool		want_row;
	bool		row_values_only;
	const BlsValue *row_values; /* out */
	int			row_ncolumns;	/* out */
	const char **row_names;		/* out */
	const size_t *row_name_lens;	/* out */
	const char *row_json;		/* out */
	size_t		row_json_len;	/* out */
} BlsFields;

extern BlsParseStatus bls_page_parse_shape(const char *buf, size_t len,
										   const BlsPageShape *shape,
										   BlsPage *page);
extern void bls_page_free(BlsPage *page);
extern void bls_fields_reset(BlsFields *fields);
extern bool bls_page_read_item(BlsPage *page, int i, BlsFields *fields);
extern bool bls_page_read_default(BlsPage *page, BlsFields *fields);
extern const char *bls_page_default_string(const BlsPage *page,
										   const char *key, size_t *len);
extern const char *bls_value_text(const BlsValue *v, size_t *len);
extern char *bls_page_row_json(BlsPage *page, int i, size_t *len);
extern const char *bls_json_type_name(BlsJsonType type);
extern bool bls_parse_utc_timestamp(const char *s, size_t len,
									int64_t *unix_usecs);
extern bool bls_parse_error_body(const char *buf, size_t len,
								 char **code, char **message,
								 char **request_id);

/*
 * The envelope of a download-task call's answer (CreateDownloadTask,
 * GetDownloadTaskLink, DeleteDownloadTask): malloc'd copies of its "code",
 * "message" and "requestId", each NULL where absent or not a string.  The
 * parsers below fill it whenever the body is a JSON object, whatever the
 * status, so that a BLS_PARSE_FAILURE (or a malformed result) can be
 * reported with the service's words; otherwise all three are NULL.  The
 * caller passes one (the parser initializes it) or NULL, and frees it with
 * bls_reply_free() after any call.
 */
typedef struct BlsReply
{
	char	   *code;
	char	   *message;
	char	   *request_id;
} BlsReply;

extern void bls_reply_free(BlsReply *reply);
extern BlsParseStatus bls_parse_create_result(const char *buf, size_t len,
											  char **uuid, BlsReply *reply,
											  char *error, size_t errlen);
extern BlsParseStatus bls_parse_link_result(const char *buf, size_t len,
											char **file_dir, char **file_name,
											char **link, BlsReply *reply,
											char *error, size_t errlen);
extern BlsParseStatus bls_parse_ack(const char *buf, size_t len,
									BlsReply *reply,
									char *error, size_t errlen);

#endif							/* BLS_RESPONSE_H */
