/*-------------------------------------------------------------------------
 *
 * fuzz_response.c
 *		  libFuzzer target for src/response.c and src/json_reader.c
 *
 * Feeds arbitrary bytes, exactly as many as libFuzzer gives (no NUL after
 * them), to bls_page_parse_shape with each page shape (ListDownloadTask,
 * ListProject, ListLogStore, DescribeDownloadTask's single task, and
 * QueryLogRecord's result set), to
 * bls_parse_error_body, and to the parsers of the other download-task
 * answers (bls_parse_create_result, bls_parse_link_result, bls_parse_ack).  On a parsed page it
 * walks every task and every field of every task through the accessors
 * convert.c uses, and checks a few invariants, aborting if one fails.
 * It also reads every task with bls_page_read_item(), asking for the keys
 * json-c found in it plus the probe keys, and checks that its reader agrees
 * with json-c's tree on the task's validity, its type and every value.
 * Last, a differential check of the whole page against json-c: when
 * bls_page_parse() accepts a page and every task in it, json-c's own parse
 * of the whole document must be valid too, with as many tasks, and each
 * task's span of text must parse to a value equal to json-c's element of
 * the shape's list (result.items, result.projects, or the top-level result
 * of a bare answer), so the splitter cut where json-c would; the total and
 * the default object's id must be json-c's too.  Hence when json-c
 * refuses a document, the page or one of its tasks is refused too.  The
 * reference parse is json-c's default mode (its strict mode differs between
 * versions) with a generous depth, so it is more lenient than response.c,
 * never less.  The other way (check_strict): when json-c accepts a document
 * and the reader (src/json_reader.c, which alone decides what is JSON)
 * refuses it, the reason it gives must be one of the ways json-c's default
 * mode is laxer than RFC 8259 (leading zeros, NaN, raw control characters,
 * lone surrogates, comments, a cut-off top-level number) or what bls_fdw
 * does not take (nesting beyond 64, an escaped NUL in a key).
 *
 * A result set's rows are read the same way, by column name, with
 * want_row, and with bls_page_row_json (check_row_reader): the reader must
 * refuse exactly the rows json-c refuses, that are not arrays of a value
 * per column, or (for the row's JSON) whose values the column types refuse,
 * read each column's value as json-c's tree has it, and write the row's
 * JSON as the reference does from json-c's tree (names as json-c prints
 * strings, values typed by their columns).  The envelope's columns, types,
 * marker and truncation must be json-c's (check_result_set), and for a
 * document json-c takes as an object the status must be the reference's
 * (ref_log_records_status).
 *
 * The single-task shape and the answer parsers parse the whole document,
 * so they must agree exactly with bls_parse_error_body on whether the body
 * is a JSON object, and, when it is, their status, strings and reply must
 * be what json-c's tree of the document says (check_single, check_replies).
 *
 * Build and run with "make -C test/fuzz run [FUZZ_SECONDS=n]".
 *
 * test/fuzz/fuzz_response.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "response.h"
#include "testing.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, \
					__LINE__); \
			abort(); \
		} \
	} while (0)

/* Fields convert.c looks up by name, plus ones that are never present */
static const char *const probe_keys[] = {
	"uuid", "name", "project", "logStoreName", "state", "fileDir",
	"queryStartTime", "createdTime", "updatedTime", "description",
	"retention", "shardCount", "tags", "index", "", "no such key"
};

static const BlsPageShape *const shapes[] = {
	&bls_shape_download_tasks, &bls_shape_projects, &bls_shape_log_stores,
	&bls_shape_download_task, &bls_shape_log_records
};

/* Touch every byte an accessor hands back, so ASan checks the extent */
static volatile unsigned char sink;

static void
touch_bytes(const char *s, size_t len)
{
	FUZZ_ASSERT(s != NULL);
	for (size_t i = 0; i < len; i++)
		sink ^= (unsigned char) s[i];
}

/* a string is NUL-terminated after len bytes too */
static void
touch(const char *s, size_t len)
{
	touch_bytes(s, len);
	FUZZ_ASSERT(s[len] == '\0');
}

/*
 * The reference: json-c's tree.  What response.c's tree says of a value,
 * json-c's says too (but for integers beyond 64 bits, which json-c
 * saturates, at INT64_MIN or UINT64_MAX).
 */
static BlsJsonType
ref_type(json_object *v)
{
	switch (json_object_get_type(v))
	{
		case json_type_boolean:
			return BLS_JSON_BOOLEAN;
		case json_type_int:
		case json_type_double:
			return BLS_JSON_NUMBER;
		case json_type_string:
			return BLS_JSON_STRING;
		case json_type_object:
			return BLS_JSON_OBJECT;
		case json_type_array:
			return BLS_JSON_ARRAY;
		case json_type_null:
			break;
	}
	return BLS_JSON_NULL;
}

static const char *
ref_text(json_object *v, size_t *len)
{
	return json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN |
											 JSON_C_TO_STRING_NOSLASHESCAPE,
											 len);
}

/* Might json-c have saturated this integer?  INT64_MIN may be either. */
static bool
ref_maybe_clamped(json_object *v)
{
	return json_object_is_type(v, json_type_int) &&
		(json_object_get_int64(v) == INT64_MIN ||
		 json_object_get_uint64(v) == UINT64_MAX);
}

/* Our tree of a value as json-c's tree, for comparing the two; NULL for null */
static json_object *
to_ref(BlsJson *v)
{
	json_object *o;
	char	   *text;

	if (v == NULL)
		return NULL;
	switch (v->v.type)
	{
		case BLS_JSON_STRING:
			return json_object_new_string_len(v->v.str, (int) v->v.len);
		case BLS_JSON_OBJECT:
		case BLS_JSON_ARRAY:
			o = v->v.type == BLS_JSON_OBJECT ? json_object_new_object() :
				json_object_new_array();
			for (BlsJson *m = bls_json_next(v, NULL); m != NULL;
				 m = bls_json_next(v, m))
			{
				json_object *e = to_ref(bls_json_value(m));

				/* a key holding a NUL is refused before a tree is built */
				FUZZ_ASSERT(v->v.type == BLS_JSON_ARRAY ||
							strlen(m->key) == m->keylen);
				if (v->v.type == BLS_JSON_OBJECT)
					json_object_object_add(o, m->key, e);
				else
					json_object_array_add(o, e);
			}
			return o;
		default:
			/* a scalar's text, as json-c reads it */
			text = strndup(v->v.raw, v->v.rawlen);
			FUZZ_ASSERT(text != NULL);
			o = json_tokener_parse(text);
			free(text);
			return o;
	}
}

/* Our tree of a value and json-c's agree */
static void
same_tree(BlsJson *v, json_object *ref)
{
	json_object *o = to_ref(v);

	FUZZ_ASSERT(json_object_equal(o, ref));
	json_object_put(o);
}

static void
visit_value(BlsJson *v)
{
	BlsJsonType type = bls_json_type(v);
	const char *s;
	size_t		len;

	FUZZ_ASSERT(type >= BLS_JSON_NULL && type <= BLS_JSON_ARRAY);
	FUZZ_ASSERT(bls_json_type_name(type) != NULL);
	FUZZ_ASSERT(v != NULL || type == BLS_JSON_NULL);
	if (type == BLS_JSON_STRING)
	{
		s = bls_json_string(v, &len);
		touch(s, len);
	}
	s = bls_json_text(v, &len);
	touch_bytes(s, len);
	FUZZ_ASSERT(len > 0);
	if (type == BLS_JSON_STRING)
		FUZZ_ASSERT(s[0] == '"' && s[len - 1] == '"');
}

static void
visit_item(BlsJson *task)
{
	size_t		i;

	visit_value(task);
	for (i = 0; i < sizeof(probe_keys) / sizeof(probe_keys[0]); i++)
	{
		BlsJson    *v = bls_item_field(task, probe_keys[i]);

		FUZZ_ASSERT(v == NULL || bls_json_type(v) != BLS_JSON_NULL);
		visit_value(v);
	}

	if (bls_json_type(task) == BLS_JSON_OBJECT)
	{
		for (BlsJson *m = bls_json_next(task, NULL); m != NULL;
			 m = bls_json_next(task, m))
		{
			BlsJson    *v = bls_item_field(task, m->key);

			/* duplicate keys: the lookup sees the last one */
			FUZZ_ASSERT(v == NULL || v == bls_json_value(m));
			visit_value(v);
		}
	}
	else
		FUZZ_ASSERT(bls_item_field(task, "uuid") == NULL);
}

#define NPROBES (sizeof(probe_keys) / sizeof(probe_keys[0]))
#define MAX_KEYS 40

static void check_result_set(json_object *doc, json_object *rs,
							 const BlsPageShape *shape, BlsPage *page);
static void same_or_null(const char *a, const char *b);

static bool ref_holds_clamped(json_object *v);

/* v, read by bls_page_read_item(), says the same as json-c's value j */
static void
same_value(const BlsValue *v, json_object *j)
{
	const char *s;
	const char *t;
	size_t		len;
	size_t		tlen;

	FUZZ_ASSERT(v->type == ref_type(j));
	if (j == NULL)
		return;
	if (v->type == BLS_JSON_STRING)
		FUZZ_ASSERT(v->len == (size_t) json_object_get_string_len(j) &&
					memcmp(v->str, json_object_get_string(j), v->len) == 0);
	s = bls_value_text(v, &len);
	FUZZ_ASSERT(s != NULL);
	if (v->type == BLS_JSON_NUMBER)
	{
		bool		integer = json_object_is_type(j, json_type_int);
		bool		in_range = integer && !ref_maybe_clamped(j) &&
			!(json_object_get_int64(j) == INT64_MAX &&
			  json_object_get_uint64(j) != (uint64_t) INT64_MAX);

		/* json-c saturates beyond 64 bits: INT64_MIN is either */
		FUZZ_ASSERT(!v->clamped || ref_maybe_clamped(j));
		if (!in_range && integer && json_object_get_int64(j) == INT64_MIN)
			FUZZ_ASSERT(v->clamped || (v->is_int && v->ival == INT64_MIN));
		else
			FUZZ_ASSERT(v->is_int == in_range &&
						(!v->is_int || v->ival == json_object_get_int64(j)));
		/* json-c prints the number it saturated; the tree keeps the spelling */
		if (v->clamped || (v->is_int && v->ival == INT64_MIN))
			return;
	}
	/* likewise inside an object or array */
	if ((v->type == BLS_JSON_OBJECT || v->type == BLS_JSON_ARRAY) &&
		ref_holds_clamped(j))
		return;
	t = ref_text(j, &tlen);
	FUZZ_ASSERT(len == tlen && memcmp(s, t, len) == 0);
}

/*
 * json-c's own parse of exactly data[0..size), or NULL; *valid says whether
 * it is JSON to json-c (the literal null is valid and NULL).
 */
static json_object *
reference_parse(const char *data, size_t size, bool *valid)
{
	json_tokener *tok = json_tokener_new_ex(8192);
	json_object *obj;
	enum json_tokener_error jerr;

	FUZZ_ASSERT(tok != NULL);
	while (size > 0 && strchr(" \t\r\n", data[size - 1]) != NULL &&
		   data[size - 1] != '\0')
		size--;
	obj = json_tokener_parse_ex(tok, data, (int) size);
	jerr = json_tokener_get_error(tok);
	if (obj == NULL && jerr == json_tokener_continue && size > 0)
	{
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		*valid = jerr == json_tokener_success;
	}
	else
		*valid = size > 0 && jerr == json_tokener_success &&
			json_tokener_get_parse_end(tok) == size;
	if (!*valid && obj != NULL)
	{
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/*
 * The reader against json-c the other way: a document json-c's lenient
 * default mode accepts and the reader refuses must be refused for one of
 * the ways that mode is laxer than RFC 8259 (or for what bls_fdw does not
 * take, nesting deeper than 64 or an escaped NUL in a key); any other
 * reason means the reader refused JSON.
 */
static void
check_strict(const uint8_t *data, size_t size)
{
	static const char *const laxer[] = {
		"number with a leading zero",
		"number without digits after its point",
		"number without digits in its exponent",
		"invalid number",
		"NaN and Infinity",
		"control character inside a string",
		"surrogate escape",
		"invalid escape",
		"invalid literal",
		"unexpected character",
		"object key expected",
		"nesting too deep",
		"escaped NUL",
	};
	char		error[200];
	bool		valid;
	json_object *doc = reference_parse((const char *) data, size, &valid);
	BlsParseStatus status;
	const char *at;
	size_t		off;

	json_object_put(doc);
	status = bls_parse_ack((const char *) data, size, NULL, error, sizeof(error));
	if (!valid || status != BLS_PARSE_NOT_JSON)
		return;
	for (size_t k = 0; k < sizeof(laxer) / sizeof(laxer[0]); k++)
		if (strstr(error, laxer[k]) != NULL)
			return;
	/* json-c takes comments, in C and C++ style */
	if ((at = strstr(error, "at byte ")) != NULL &&
		sscanf(at, "at byte %zu", &off) == 1 && off < size && data[off] == '/')
		return;
	/* json-c takes a top-level number cut off at the end ("1e", "-") */
	while (size > 0 && strchr(" \t\r\n", *data) != NULL && *data != '\0')
		data++, size--;
	if (strstr(error, "ends inside a JSON value") != NULL && size > 0 &&
		(*data == '-' || (*data >= '0' && *data <= '9')))
		return;
	fprintf(stderr, "json-c accepts what the reader refuses: %s\n", error);
	FUZZ_ASSERT(false);
}

/*
 * The object of json-c's document doc that holds shape's list (result or
 * the top level, or the shape's list_parent inside it), or NULL.
 */
static json_object *
reference_container(json_object *doc, const BlsPageShape *shape)
{
	json_object *result = doc;
	json_object *parent;

	if (shape->wrapped &&
		(!json_object_object_get_ex(doc, "result", &result) ||
		 !json_object_is_type(result, json_type_object)))
		return NULL;
	if (shape->list_parent == NULL)
		return result;
	if (!json_object_object_get_ex(result, shape->list_parent, &parent) ||
		!json_object_is_type(parent, json_type_object))
		return NULL;
	return parent;
}

/*
 * The page was accepted with every task: json-c accepts the document, and
 * agrees on the tasks and where each one's text is, on the total and on
 * the default object's id.
 */
static void
check_whole_page(const uint8_t *data, size_t size, const BlsPageShape *shape,
				 BlsPage *page)
{
	bool		valid;
	json_object *doc = reference_parse((const char *) data, size, &valid);
	json_object *container;
	json_object *tasks;
	json_object *v;
	int64_t		total = -1;

	FUZZ_ASSERT(valid && json_object_is_type(doc, json_type_object));
	container = reference_container(doc, shape);
	FUZZ_ASSERT(container != NULL);
	FUZZ_ASSERT(json_object_object_get_ex(container, shape->list_key, &tasks));
	if (shape->single)
	{
		/* the one object, and nothing else read */
		FUZZ_ASSERT(json_object_is_type(tasks, json_type_object));
		FUZZ_ASSERT(page->nitems == 1 && page->text == NULL);
		same_tree(bls_page_item(page, 0), tasks);
		FUZZ_ASSERT(page->total == -1 && page->default_id == NULL);
		json_object_put(doc);
		return;
	}
	FUZZ_ASSERT(json_object_is_type(tasks, json_type_array));
	FUZZ_ASSERT(json_object_array_length(tasks) == (size_t) page->nitems);
	for (int i = 0; i < page->nitems; i++)
	{
		json_object *want = json_object_array_get_idx(tasks, i);
		json_object *got;

		if (page->text != NULL)
		{
			size_t		s = page->spans[2 * i];
			size_t		e = page->spans[2 * i + 1];

			FUZZ_ASSERT(s < e);
			got = reference_parse(page->text + s, e - s, &valid);
			FUZZ_ASSERT(valid);
			FUZZ_ASSERT(json_object_equal(got, want));
			json_object_put(got);
		}
		else
			same_tree(bls_page_item(page, i), want);
	}

	if (shape->columns_key != NULL)
	{
		check_result_set(doc, container, shape, page);
		json_object_put(doc);
		return;
	}

	/* every spelling of the total that is there says the same */
	for (int k = 0; k < 2 && shape->total_keys[k] != NULL; k++)
		if (json_object_object_get_ex(container, shape->total_keys[k], &v) &&
			v != NULL)
		{
			FUZZ_ASSERT(json_object_is_type(v, json_type_int));
			total = json_object_get_int64(v);
			FUZZ_ASSERT(total >= 0);
			if (total > BLS_MAX_TOTAL)
				total = BLS_MAX_TOTAL;
			FUZZ_ASSERT(page->total == total);
		}
	FUZZ_ASSERT(page->total == total);

	/* the default object's id */
	if (shape->default_key != NULL &&
		json_object_object_get_ex(container, shape->default_key, &v) &&
		v != NULL)
	{
		json_object *id;

		FUZZ_ASSERT(json_object_is_type(v, json_type_object));
		FUZZ_ASSERT(json_object_object_get_ex(v, shape->id_key, &id) &&
					json_object_is_type(id, json_type_string));
		FUZZ_ASSERT(page->default_id != NULL &&
					strlen(page->default_id) == (size_t) json_object_get_string_len(id) &&
					strcmp(page->default_id, json_object_get_string(id)) == 0);
	}
	else
		FUZZ_ASSERT(page->default_id == NULL);
	json_object_put(doc);
}

/* bls_page_read_item() on task i agrees with json-c's parse of it */
static void
check_reader(BlsPage *page, int i)
{
	/* json-c's tree of our tree: the reader may free the page's parse */
	json_object *task = to_ref(bls_page_item(page, i));
	const char *keys[MAX_KEYS];
	size_t		keylens[MAX_KEYS];
	BlsValue	values[MAX_KEYS];
	BlsFields	f;
	int			n = 0;
	bool		ok;
	bool		nul_key = task == NULL && strstr(page->error, "\\u0000") != NULL;

	/* the probes, then the task's own keys, each once */
	for (size_t p = 0; p < NPROBES; p++)
		keys[n++] = probe_keys[p];
	if (ref_type(task) == BLS_JSON_OBJECT)
	{
		json_object_object_foreach(task, key, val)
		{
			int			k;

			(void) val;
			for (k = 0; k < n && strcmp(keys[k], key) != 0; k++)
				;
			if (k == n && n < MAX_KEYS)
				keys[n++] = key;
		}
	}
	for (int k = 0; k < n; k++)
		keylens[k] = strlen(keys[k]);
	f.nkeys = n;
	f.keys = keys;
	f.keylens = keylens;
	f.values = values;
	bls_fields_reset(&f);

	/* twice: the second read starts from the hints the first left */
	for (int round = 0; round < 2; round++)
	{
		ok = bls_page_read_item(page, i, &f);

		/*
		 * a tree refuses a key with an escaped NUL; the reader keeps such
		 * keys apart and may read the item (the unit tests check how)
		 */
		FUZZ_ASSERT(ok == (task != NULL) || (ok && nul_key));
		if (!ok || task == NULL)
			break;
		FUZZ_ASSERT(f.type == ref_type(task));
		for (int k = 0; k < n; k++)
		{
			json_object *v = NULL;

			if (f.type == BLS_JSON_OBJECT)
				json_object_object_get_ex(task, keys[k], &v);
			same_value(&values[k], v);
		}
	}
	bls_page_item_done(page, i);
	json_object_put(task);
}

/*
 * Result sets (QueryLogRecord): the reference's view of a row's JSON, and
 * the checks of the envelope and of every row against json-c's tree.
 */

/* The kind of a column's type, reckoned apart from response.c's */
typedef enum RefKind
{
	REF_ANY,
	REF_NUMBER,
	REF_BOOLEAN
} RefKind;

static RefKind
ref_kind(const char *type)
{
	static const char *const numeric[] = {
		"tinyint", "smallint", "int", "integer", "bigint", "long",
		"double", "float", "real", "decimal", "numeric"
	};
	char		lower[16];
	size_t		n;

	if (type == NULL || (n = strlen(type)) >= sizeof(lower))
		return REF_ANY;
	for (size_t k = 0; k <= n; k++)
		lower[k] = (type[k] >= 'A' && type[k] <= 'Z') ? type[k] + 32 : type[k];
	for (size_t k = 0; k < sizeof(numeric) / sizeof(numeric[0]); k++)
		if (strcmp(lower, numeric[k]) == 0)
			return REF_NUMBER;
	return strcmp(lower, "boolean") == 0 ? REF_BOOLEAN : REF_ANY;
}

/* RFC 8259's number grammar, exactly s[0..len) */
static bool
ref_is_number(const char *s, size_t len)
{
	size_t		i = 0;

	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && s[i] >= '1' && s[i] <= '9')
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return false;
	if (i < len && s[i] == '.')
	{
		if (++i >= len || s[i] < '0' || s[i] > '9')
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == len;
}

/* Does v hold an integer json-c may have saturated, at any depth? */
static bool
ref_holds_clamped(json_object *v)
{
	if (json_object_is_type(v, json_type_int))
		return ref_maybe_clamped(v);
	if (json_object_is_type(v, json_type_array))
	{
		for (size_t k = 0; k < json_object_array_length(v); k++)
			if (ref_holds_clamped(json_object_array_get_idx(v, k)))
				return true;
	}
	else if (json_object_is_type(v, json_type_object))
	{
		json_object_object_foreach(v, key, val)
		{
			(void) key;
			if (ref_holds_clamped(val))
				return true;
		}
	}
	return false;
}

/*
 * The end of the JSON value at s[pos] in s[0..len), which is valid JSON
 * followed by ',' or '}'
 */
static size_t
ref_value_end(const char *s, size_t len, size_t pos)
{
	int			depth = 0;
	bool		in_string = false;

	for (; pos < len; pos++)
	{
		char		c = s[pos];

		if (in_string)
		{
			if (c == '\\')
				pos++;
			else if (c == '"')
			{
				in_string = false;
				if (depth == 0)
					return pos + 1;
			}
			continue;
		}
		if (c == '"')
			in_string = true;
		else if (c == '[' || c == '{')
			depth++;
		else if (c == ']' || c == '}')
		{
			if (depth == 0)
				return pos;
			if (--depth == 0)
				return pos + 1;
		}
		else if (c == ',' && depth == 0)
			return pos;
	}
	return pos;
}

/* got[*pos..] starts with want[0..len): move past it */
static void
expect_text(const char *got, size_t gotlen, size_t *pos, const char *want,
			size_t len)
{
	FUZZ_ASSERT(gotlen - *pos >= len && memcmp(got + *pos, want, len) == 0);
	*pos += len;
}

/*
 * The row's JSON, got, is what the reference makes of json-c's row: true if
 * it would write one, false if a value's column refuses it (got must then be
 * NULL).  An integer json-c saturated keeps its spelling.
 */
static bool
check_row_json(BlsPage *page, json_object *row, const char *got,
			   size_t gotlen)
{
	size_t		pos = 0;

	for (int m = 0; m < page->ncolumns; m++)
	{
		json_object *e = json_object_array_get_idx(row, m);
		RefKind		kind = ref_kind(page->column_types[m]);
		BlsJsonType type = ref_type(e);
		json_object *name;
		const char *t;
		size_t		tlen;

		/* what a typed column refuses */
		if ((kind == REF_NUMBER &&
			 (type == BLS_JSON_BOOLEAN || type == BLS_JSON_OBJECT ||
			  type == BLS_JSON_ARRAY ||
			  (type == BLS_JSON_STRING &&
			   !ref_is_number(json_object_get_string(e),
							  json_object_get_string_len(e))))) ||
			(kind == REF_BOOLEAN && type != BLS_JSON_NULL &&
			 type != BLS_JSON_BOOLEAN &&
			 !(type == BLS_JSON_STRING &&
			   (strcmp(json_object_get_string(e), "true") == 0 ||
				strcmp(json_object_get_string(e), "false") == 0) &&
			   json_object_get_string_len(e) == (int) strlen(json_object_get_string(e)))))
		{
			FUZZ_ASSERT(got == NULL);
			return false;
		}
		if (got == NULL)
			continue;			/* only whether a column refuses its value */

		expect_text(got, gotlen, &pos, m == 0 ? "{" : ",", 1);
		name = json_object_new_string_len(page->columns[m],
										  (int) page->column_lens[m]);
		t = ref_text(name, &tlen);
		expect_text(got, gotlen, &pos, t, tlen);
		json_object_put(name);
		expect_text(got, gotlen, &pos, ":", 1);

		if (type == BLS_JSON_STRING && kind != REF_ANY)
		{
			/* the string's contents, a number or true or false */
			expect_text(got, gotlen, &pos, json_object_get_string(e),
						json_object_get_string_len(e));
		}
		else if (ref_holds_clamped(e))
		{
			/* spelled as it came: what json-c saturates the same */
			size_t		start = pos;
			bool		valid;
			json_object *n;

			pos = ref_value_end(got, gotlen, pos);
			n = reference_parse(got + start, pos - start, &valid);
			FUZZ_ASSERT(valid && json_object_equal(n, e));
			FUZZ_ASSERT(type != BLS_JSON_NUMBER ||
						ref_is_number(got + start, pos - start));
			json_object_put(n);
		}
		else if (e == NULL)
			expect_text(got, gotlen, &pos, "null", 4);
		else
		{
			t = ref_text(e, &tlen);
			expect_text(got, gotlen, &pos, t, tlen);
		}
	}
	if (got == NULL)
		return true;
	expect_text(got, gotlen, &pos, page->ncolumns == 0 ? "{}" : "}",
				page->ncolumns == 0 ? 2 : 1);
	FUZZ_ASSERT(pos == gotlen && got[gotlen] == '\0');
	return true;
}

/*
 * bls_page_read_item() and bls_page_row_json() on row i agree with json-c's
 * parse of it: the same refusals, a value for each column's name, and the
 * row's JSON the reference writes.
 */
static void
check_row_reader(BlsPage *page, int i)
{
	json_object *row;
	bool		valid_json;
	bool		shaped;
	int			nkeys = page->ncolumns + (int) NPROBES;
	const char **keys = malloc(sizeof(char *) * (nkeys + 1));
	size_t	   *keylens = malloc(sizeof(size_t) * (nkeys + 1));
	BlsValue   *values = malloc(sizeof(BlsValue) * (nkeys + 1));
	BlsFields	f;
	int			n = 0;
	char	   *json;
	size_t		jlen;
	bool		typed = true;

	FUZZ_ASSERT(keys != NULL && keylens != NULL && values != NULL);

	/*
	 * A reference of our own: the reader may free the page's parse.
	 * bls_page_item() says NULL for a JSON null row too; a refused row has
	 * said why.
	 */
	page->error[0] = '\0';
	row = to_ref(bls_page_item(page, i));
	valid_json = row != NULL || page->error[0] == '\0';
	shaped = ref_type(row) == BLS_JSON_ARRAY &&
		json_object_array_length(row) == (size_t) page->ncolumns;

	/* the columns, then the probes no column names */
	for (int m = 0; m < page->ncolumns; m++)
	{
		keys[n] = page->columns[m];
		keylens[n++] = page->column_lens[m];
	}
	for (size_t p = 0; p < NPROBES; p++)
	{
		int			m;

		for (m = 0; m < page->ncolumns; m++)
			if (page->column_lens[m] == strlen(probe_keys[p]) &&
				memcmp(page->columns[m], probe_keys[p], page->column_lens[m]) == 0)
				break;
		if (m == page->ncolumns)
		{
			keys[n] = probe_keys[p];
			keylens[n++] = strlen(probe_keys[p]);
		}
	}
	memset(&f, 0, sizeof(f));
	f.nkeys = n;
	f.keys = keys;
	f.keylens = keylens;
	f.values = values;
	bls_fields_reset(&f);

	if (valid_json && shaped)
		typed = check_row_json(page, row, NULL, 0);

	/* twice each way: the second read starts from the hints the first left */
	for (int round = 0; round < 4; round++)
	{
		bool		ok;

		f.want_row = round >= 2;
		ok = bls_page_read_item(page, i, &f);
		FUZZ_ASSERT(ok == (valid_json && shaped && (typed || !f.want_row)));
		FUZZ_ASSERT(f.row_json == NULL || (ok && f.want_row));
		if (!ok)
		{
			FUZZ_ASSERT(page->error[0] != '\0');
			if (!valid_json)
				FUZZ_ASSERT(strstr(page->error, "of the page: ") != NULL);
			else if (!shaped)
				FUZZ_ASSERT(strstr(page->error, "of the page is a JSON ") != NULL ||
							strstr(page->error, " for ") != NULL);
			else
				FUZZ_ASSERT(strncmp(page->error, "Column \"", 8) == 0);
			continue;
		}
		FUZZ_ASSERT(f.type == BLS_JSON_OBJECT);
		for (int k = 0; k < n; k++)
			same_value(&values[k], k < page->ncolumns ?
					   json_object_array_get_idx(row, k) : NULL);
		if (f.want_row)
		{
			FUZZ_ASSERT(f.row_json != NULL && f.row_json == page->row_json);
			(void) check_row_json(page, row, f.row_json, f.row_json_len);
		}
		else
			FUZZ_ASSERT(f.row_json == NULL && page->row_json == NULL);
	}

	/* bls_page_row_json: the same text, and the latest read untouched */
	json = bls_page_row_json(page, i, &jlen);
	FUZZ_ASSERT((json != NULL) == (valid_json && shaped && typed));
	if (json != NULL)
	{
		FUZZ_ASSERT(f.row_json != NULL && jlen == f.row_json_len &&
					memcmp(json, f.row_json, jlen) == 0);
		for (int k = 0; k < n; k++)
			same_value(&values[k], k < page->ncolumns ?
					   json_object_array_get_idx(row, k) : NULL);
	}
	free(json);
	bls_page_item_done(page, i);
	json_object_put(row);
	free(keys);
	free(keylens);
	free(values);
}

/*
 * A result set accepted with every row: its columns, types, marker and
 * truncation are what json-c's tree of the document says.
 */
static void
check_result_set(json_object *doc, json_object *rs, const BlsPageShape *shape,
				 BlsPage *page)
{
	json_object *v;
	json_object *scan = NULL;
	json_object *where[2];
	bool		truncated = false;
	const char *reason = NULL;

	FUZZ_ASSERT(page->total == -1 && page->page_no == 0 && page->page_size == 0);
	if (json_object_object_get_ex(rs, shape->columns_key, &v) && v != NULL)
	{
		FUZZ_ASSERT(json_object_is_type(v, json_type_array));
		FUZZ_ASSERT(json_object_array_length(v) == (size_t) page->ncolumns);
		for (int m = 0; m < page->ncolumns; m++)
		{
			json_object *c = json_object_array_get_idx(v, m);

			FUZZ_ASSERT(json_object_is_type(c, json_type_string));
			FUZZ_ASSERT(page->column_lens[m] == (size_t) json_object_get_string_len(c) &&
						memcmp(page->columns[m], json_object_get_string(c),
							   page->column_lens[m]) == 0);
			touch(page->columns[m], page->column_lens[m]);
			for (int k = 0; k < m; k++)
				FUZZ_ASSERT(page->column_lens[k] != page->column_lens[m] ||
							memcmp(page->columns[k], page->columns[m],
								   page->column_lens[m]) != 0);
		}
	}
	else
		FUZZ_ASSERT(page->ncolumns == 0 && page->nitems == 0);
	if (json_object_object_get_ex(rs, shape->types_key, &v) && v != NULL)
	{
		FUZZ_ASSERT(json_object_is_type(v, json_type_array));
		FUZZ_ASSERT(json_object_array_length(v) <= (size_t) page->ncolumns);
	}
	for (int m = 0; m < page->ncolumns; m++)
	{
		json_object *t = v != NULL && json_object_is_type(v, json_type_array) &&
			(size_t) m < json_object_array_length(v) ?
			json_object_array_get_idx(v, m) : NULL;

		if (json_object_is_type(t, json_type_string))
		{
			FUZZ_ASSERT(page->column_types[m] != NULL &&
						strlen(page->column_types[m]) == (size_t) json_object_get_string_len(t) &&
						strcmp(page->column_types[m], json_object_get_string(t)) == 0);
			touch(page->column_types[m], strlen(page->column_types[m]));
		}
		else
			FUZZ_ASSERT(page->column_types[m] == NULL);
	}

	if (json_object_object_get_ex(doc, shape->marker_key, &v) && v != NULL &&
		json_object_get_string_len(v) > 0)
	{
		FUZZ_ASSERT(json_object_is_type(v, json_type_string));
		FUZZ_ASSERT(page->next_marker != NULL &&
					strlen(page->next_marker) == (size_t) json_object_get_string_len(v) &&
					strcmp(page->next_marker, json_object_get_string(v)) == 0);
		touch(page->next_marker, strlen(page->next_marker));
	}
	else
		FUZZ_ASSERT(page->next_marker == NULL);

	if (json_object_object_get_ex(doc, shape->scan_info_key, &scan) && scan != NULL)
		FUZZ_ASSERT(json_object_is_type(scan, json_type_object));
	where[0] = rs;
	where[1] = scan;
	for (int k = 0; k < 2; k++)
	{
		if (where[k] == NULL ||
			!json_object_object_get_ex(where[k], shape->truncated_key, &v) ||
			v == NULL)
			continue;
		FUZZ_ASSERT(json_object_is_type(v, json_type_boolean));
		if (!json_object_get_boolean(v))
			continue;
		truncated = true;
		if (json_object_object_get_ex(where[k], shape->reason_key, &v) &&
			json_object_is_type(v, json_type_string) &&
			(reason == NULL || reason[0] == '\0'))
			reason = json_object_get_string(v);
	}
	FUZZ_ASSERT(page->truncated == truncated);
	same_or_null(page->truncated_reason, reason);
	if (json_object_object_get_ex(rs, "queryType", &v) &&
		json_object_is_type(v, json_type_string))
		same_or_null(page->query_type, json_object_get_string(v));
	else
		FUZZ_ASSERT(page->query_type == NULL);
}

/*
 * The status of the log records' shape for a document that is a JSON
 * object, by the reference's reading of it.
 */
static BlsParseStatus
ref_log_records_status(json_object *doc, const BlsPageShape *shape)
{
	json_object *rs;
	json_object *rows;
	json_object *cols;
	json_object *types;
	json_object *v;
	json_object *scan = NULL;
	size_t		n = 0;

	if (!json_object_object_get_ex(doc, shape->list_parent, &rs) ||
		!json_object_is_type(rs, json_type_object))
		return (json_object_object_get_ex(doc, "code", &v) && v != NULL) ?
			BLS_PARSE_FAILURE : BLS_PARSE_NO_RESULT;
	if (!json_object_object_get_ex(rs, shape->list_key, &rows) ||
		!json_object_is_type(rows, json_type_array))
		return (json_object_object_get_ex(doc, "code", &v) && v != NULL) ?
			BLS_PARSE_FAILURE : BLS_PARSE_NO_TASKS;
	if (json_object_object_get_ex(rs, shape->columns_key, &cols) && cols != NULL)
	{
		if (!json_object_is_type(cols, json_type_array))
			return BLS_PARSE_BAD_FIELD;
		n = json_object_array_length(cols);
		for (size_t m = 0; m < n; m++)
		{
			json_object *c = json_object_array_get_idx(cols, m);

			if (!json_object_is_type(c, json_type_string))
				return BLS_PARSE_BAD_FIELD;
		}
	}
	else if (json_object_array_length(rows) > 0)
		return BLS_PARSE_BAD_FIELD;
	if (json_object_object_get_ex(rs, shape->types_key, &types) && types != NULL)
	{
		if (!json_object_is_type(types, json_type_array) ||
			json_object_array_length(types) > n)
			return BLS_PARSE_BAD_FIELD;
		for (size_t m = 0; m < json_object_array_length(types); m++)
		{
			json_object *t = json_object_array_get_idx(types, m);

			if (json_object_is_type(t, json_type_string) &&
				strlen(json_object_get_string(t)) != (size_t) json_object_get_string_len(t))
				return BLS_PARSE_BAD_FIELD;
		}
	}
	/* distinct names: no NUL in json-c's keys, so compare by hand */
	for (size_t m = 0; m < n; m++)
		for (size_t k = 0; k < m; k++)
		{
			json_object *a = json_object_array_get_idx(cols, m);
			json_object *b = json_object_array_get_idx(cols, k);

			if (json_object_get_string_len(a) == json_object_get_string_len(b) &&
				memcmp(json_object_get_string(a), json_object_get_string(b),
					   json_object_get_string_len(a)) == 0)
				return BLS_PARSE_BAD_FIELD;
		}
	if (json_object_object_get_ex(doc, shape->marker_key, &v) && v != NULL &&
		(!json_object_is_type(v, json_type_string) ||
		 strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v)))
		return BLS_PARSE_BAD_FIELD;
	if (json_object_object_get_ex(doc, shape->scan_info_key, &scan) && scan != NULL &&
		!json_object_is_type(scan, json_type_object))
		return BLS_PARSE_BAD_FIELD;
	if (json_object_object_get_ex(rs, shape->truncated_key, &v) && v != NULL &&
		!json_object_is_type(v, json_type_boolean))
		return BLS_PARSE_BAD_FIELD;
	if (scan != NULL &&
		json_object_object_get_ex(scan, shape->truncated_key, &v) && v != NULL &&
		!json_object_is_type(v, json_type_boolean))
		return BLS_PARSE_BAD_FIELD;
	return BLS_PARSE_OK;
}

/* Parse the input as one shape and check the page; returns the status */
static BlsParseStatus
check_shape(const uint8_t *data, size_t size, const BlsPageShape *shape)
{
	BlsPage		page;
	BlsParseStatus status;
	int			i;

	status = bls_page_parse_shape((const char *) data, size, shape, &page);
	FUZZ_ASSERT(status >= BLS_PARSE_OK && status <= BLS_PARSE_NOMEM);
	FUZZ_ASSERT(memchr(page.error, '\0', sizeof(page.error)) != NULL);
	FUZZ_ASSERT(page.shape == shape);
	if (status == BLS_PARSE_OK)
	{
		FUZZ_ASSERT(page.root != NULL && page.items != NULL);
		FUZZ_ASSERT(page.nitems >= 0);
		FUZZ_ASSERT(page.total >= -1 && page.total <= BLS_MAX_TOTAL);
		FUZZ_ASSERT(page.page_no >= 0 && page.page_size >= 0);
		FUZZ_ASSERT(bls_json_type(page.items) ==
					(shape->single ? BLS_JSON_OBJECT : BLS_JSON_ARRAY));
		FUZZ_ASSERT(!shape->single ||
					(page.nitems == 1 && page.total == -1 &&
					 page.page_no == 0 && page.page_size == 0));
		FUZZ_ASSERT(shape->default_key != NULL || page.default_id == NULL);
		if (page.default_id)
			touch(page.default_id, strlen(page.default_id));
		FUZZ_ASSERT(page.ncolumns >= 0 &&
					(shape->columns_key != NULL ||
					 (page.ncolumns == 0 && page.next_marker == NULL &&
					  !page.truncated && page.query_type == NULL)));
		FUZZ_ASSERT((page.ncolumns > 0) == (page.columns != NULL));
		for (i = 0; i < page.ncolumns; i++)
		{
			touch(page.columns[i], page.column_lens[i]);
			if (page.column_types[i])
				touch(page.column_types[i], strlen(page.column_types[i]));
		}
		if (page.next_marker)
		{
			FUZZ_ASSERT(page.next_marker[0] != '\0');
			touch(page.next_marker, strlen(page.next_marker));
		}
		FUZZ_ASSERT(page.truncated || page.truncated_reason == NULL);
		if (page.truncated_reason)
			touch(page.truncated_reason, strlen(page.truncated_reason));
		if (page.query_type)
			touch(page.query_type, strlen(page.query_type));
		bool		all_items = true;

		for (i = 0; i < page.nitems; i++)
		{
			all_items &= bls_page_item(&page, i) != NULL;
			visit_item(bls_page_item(&page, i));
			/* the same parse, then done with it */
			if (shape->columns_key != NULL)
				check_row_reader(&page, i);
			else
				check_reader(&page, i);
		}
		FUZZ_ASSERT(bls_page_item(&page, page.nitems) == NULL);
		visit_value(page.root->nodes);
		if (all_items)
			check_whole_page(data, size, shape, &page);
	}
	else if (status == BLS_PARSE_FAILURE)
	{
		json_object *v;

		FUZZ_ASSERT(page.root != NULL && page.nitems == 0);
		FUZZ_ASSERT(page.items == NULL && page.default_id == NULL);
		/* a bare answer fails only on a top-level code without the list */
		if (!shape->wrapped)
		{
			json_object *doc = to_ref(page.root->nodes);
			json_object *holder = reference_container(doc, shape);

			FUZZ_ASSERT(json_object_object_get_ex(doc, "code", &v) &&
						v != NULL &&
						!(holder != NULL &&
						  json_object_object_get_ex(holder, shape->list_key, &v) &&
						  json_object_is_type(v, json_type_array)));
			json_object_put(doc);
		}
		if (page.code)
			touch(page.code, strlen(page.code));
		if (page.message)
			touch(page.message, strlen(page.message));
		if (page.request_id)
			touch(page.request_id, strlen(page.request_id));
	}
	else
	{
		FUZZ_ASSERT(page.root == NULL && page.nitems == 0);
		FUZZ_ASSERT(page.default_id == NULL);
		FUZZ_ASSERT(page.error[0] != '\0');
	}
	if (status != BLS_PARSE_OK)
		FUZZ_ASSERT(page.ncolumns == 0 && page.columns == NULL &&
					page.next_marker == NULL && page.row_json == NULL);
	bls_page_free(&page);
	FUZZ_ASSERT(page.root == NULL && page.default_id == NULL);
	FUZZ_ASSERT(page.columns == NULL && page.row_json == NULL);
	return status;
}

/* Is the reference's member key of obj the boolean true? */
static bool
ref_true(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) &&
		json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/*
 * The status the reference expects for a string member of result: absent
 * or null is fine when optional, else it must be a string, non-empty
 * unless may_be_empty, without NUL.
 */
static BlsParseStatus
ref_string(json_object *result, const char *key, bool optional,
		   bool may_be_empty)
{
	json_object *v;
	size_t		len;

	if (!json_object_object_get_ex(result, key, &v) || v == NULL)
		return optional ? BLS_PARSE_OK : BLS_PARSE_BAD_FIELD;
	if (!json_object_is_type(v, json_type_string))
		return BLS_PARSE_BAD_FIELD;
	len = (size_t) json_object_get_string_len(v);
	if ((len == 0 && !may_be_empty) ||
		memchr(json_object_get_string(v), '\0', len) != NULL)
		return BLS_PARSE_BAD_FIELD;
	return BLS_PARSE_OK;
}

/* got (malloc'd) is result's member key, or "" where that is absent */
static void
same_string(const char *got, json_object *result, const char *key)
{
	json_object *v;

	FUZZ_ASSERT(got != NULL);
	touch(got, strlen(got));
	if (!json_object_object_get_ex(result, key, &v) || v == NULL)
		FUZZ_ASSERT(got[0] == '\0');
	else
		FUZZ_ASSERT(strlen(got) == (size_t) json_object_get_string_len(v) &&
					strcmp(got, json_object_get_string(v)) == 0);
}

/* Both NULL, or equal strings */
static void
same_or_null(const char *a, const char *b)
{
	FUZZ_ASSERT((a == NULL) == (b == NULL));
	if (a != NULL)
	{
		touch(a, strlen(a));
		FUZZ_ASSERT(strcmp(a, b) == 0);
	}
}

/*
 * The reply of an answer parser: what bls_parse_error_body found when the
 * body is an object, else nothing
 */
static void
same_reply(const BlsReply *reply, bool is_object, const char *code,
		   const char *message, const char *request_id)
{
	if (!is_object)
		FUZZ_ASSERT(reply->code == NULL && reply->message == NULL &&
					reply->request_id == NULL);
	else
	{
		same_or_null(reply->code, code);
		same_or_null(reply->message, message);
		same_or_null(reply->request_id, request_id);
	}
}

/* The status of the wrapped envelope according to the reference */
static BlsParseStatus
ref_envelope(json_object *doc, json_object **result)
{
	if (!ref_true(doc, "success"))
		return BLS_PARSE_FAILURE;
	if (!json_object_object_get_ex(doc, "result", result) ||
		!json_object_is_type(*result, json_type_object))
		return BLS_PARSE_NO_RESULT;
	return BLS_PARSE_OK;
}

/*
 * The status of DescribeDownloadTask's shape for a body that is an object
 * is the reference's.  (check_shape has checked the page itself.)
 */
static void
check_single(const uint8_t *data, size_t size, BlsParseStatus status)
{
	BlsParseStatus want;
	json_object *doc;
	json_object *result;
	json_object *task;
	bool		valid;

	doc = reference_parse((const char *) data, size, &valid);
	FUZZ_ASSERT(valid && json_object_is_type(doc, json_type_object));
	want = ref_envelope(doc, &result);
	if (want == BLS_PARSE_OK)
	{
		if (!json_object_object_get_ex(result, "task", &task) || task == NULL)
			want = BLS_PARSE_NO_TASKS;
		else if (!json_object_is_type(task, json_type_object))
			want = BLS_PARSE_BAD_FIELD;
	}
	FUZZ_ASSERT(status == want);
	json_object_put(doc);
}

/*
 * bls_parse_create_result, bls_parse_link_result and bls_parse_ack against
 * the reference.  is_object and code/message/request_id are what
 * bls_parse_error_body made of the body; doc_status is the status of a
 * body that is not an object (EMPTY, NOT_JSON or NOT_OBJECT).
 */
static void
check_replies(const uint8_t *data, size_t size, bool is_object,
			  BlsParseStatus doc_status, const char *code,
			  const char *message, const char *request_id)
{
	const char *buf = (const char *) data;
	BlsReply	reply;
	BlsParseStatus status;
	BlsParseStatus want;
	char		error[160];
	char	   *uuid;
	char	   *dir;
	char	   *name;
	char	   *link;
	json_object *doc = NULL;
	json_object *result = NULL;
	json_object *v;
	bool		valid;

	if (is_object)
	{
		doc = reference_parse(buf, size, &valid);
		FUZZ_ASSERT(valid && json_object_is_type(doc, json_type_object));
	}

	/* CreateDownloadTask */
	memset(error, 'x', sizeof(error));
	status = bls_parse_create_result(buf, size, &uuid, &reply, error,
									 sizeof(error));
	FUZZ_ASSERT(memchr(error, '\0', sizeof(error)) != NULL);
	FUZZ_ASSERT((status == BLS_PARSE_OK) == (error[0] == '\0'));
	FUZZ_ASSERT((status == BLS_PARSE_OK) == (uuid != NULL));
	same_reply(&reply, is_object, code, message, request_id);
	if (!is_object)
		FUZZ_ASSERT(status == doc_status);
	else
	{
		if ((want = ref_envelope(doc, &result)) == BLS_PARSE_OK)
			want = ref_string(result, "uuid", false, false);
		FUZZ_ASSERT(status == want);
		if (status == BLS_PARSE_OK)
		{
			same_string(uuid, result, "uuid");
			FUZZ_ASSERT(uuid[0] != '\0');
		}
	}
	free(uuid);
	bls_reply_free(&reply);

	/* GetDownloadTaskLink */
	memset(error, 'x', sizeof(error));
	status = bls_parse_link_result(buf, size, &dir, &name, &link, &reply,
								   error, sizeof(error));
	FUZZ_ASSERT(memchr(error, '\0', sizeof(error)) != NULL);
	FUZZ_ASSERT((status == BLS_PARSE_OK) == (error[0] == '\0'));
	FUZZ_ASSERT((status == BLS_PARSE_OK) ==
				(dir != NULL && name != NULL && link != NULL));
	FUZZ_ASSERT(status == BLS_PARSE_OK ||
				(dir == NULL && name == NULL && link == NULL));
	same_reply(&reply, is_object, code, message, request_id);
	if (!is_object)
		FUZZ_ASSERT(status == doc_status);
	else
	{
		if ((want = ref_envelope(doc, &result)) == BLS_PARSE_OK &&
			(want = ref_string(result, "fileDir", true, true)) == BLS_PARSE_OK &&
			(want = ref_string(result, "fileName", true, true)) == BLS_PARSE_OK)
			want = ref_string(result, "link", false, false);
		FUZZ_ASSERT(status == want);
		if (status == BLS_PARSE_OK)
		{
			same_string(dir, result, "fileDir");
			same_string(name, result, "fileName");
			same_string(link, result, "link");
			FUZZ_ASSERT(link[0] != '\0');
		}
	}
	free(dir);
	free(name);
	free(link);
	bls_reply_free(&reply);

	/* DeleteDownloadTask: an empty body is fine */
	memset(error, 'x', sizeof(error));
	status = bls_parse_ack(buf, size, &reply, error, sizeof(error));
	FUZZ_ASSERT(memchr(error, '\0', sizeof(error)) != NULL);
	FUZZ_ASSERT((status == BLS_PARSE_OK) == (error[0] == '\0'));
	same_reply(&reply, is_object, code, message, request_id);
	if (!is_object)
		FUZZ_ASSERT(status == (doc_status == BLS_PARSE_EMPTY ?
							   BLS_PARSE_OK : doc_status));
	else
	{
		if (json_object_object_get_ex(doc, "success", &v) && v != NULL)
			want = ref_true(doc, "success") ? BLS_PARSE_OK : BLS_PARSE_FAILURE;
		else if (json_object_object_get_ex(doc, "code", &v) && v != NULL &&
				 !(json_object_is_type(v, json_type_string) &&
				   json_object_get_string_len(v) == 2 &&
				   memcmp(json_object_get_string(v), "OK", 2) == 0))
			want = BLS_PARSE_FAILURE;
		else
			want = BLS_PARSE_OK;
		FUZZ_ASSERT(status == want);
	}
	bls_reply_free(&reply);
	json_object_put(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BlsParseStatus status;
	BlsParseStatus records_status = BLS_PARSE_OK;
	BlsParseStatus doc_status;
	BlsPage		page;
	char	   *code;
	char	   *message;
	char	   *request_id;
	bool		is_object;

	/*
	 * Each shape on its own: which statuses agree across shapes depends on
	 * which array is split, since a split list's elements are checked only
	 * when read.
	 */
	status = check_shape(data, size, &bls_shape_download_tasks);
	for (size_t k = 1; k < sizeof(shapes) / sizeof(shapes[0]); k++)
	{
		BlsParseStatus s = check_shape(data, size, shapes[k]);

		if (shapes[k] == &bls_shape_log_records)
			records_status = s;
	}

	/*
	 * DescribeDownloadTask's shape parses the document whole, as
	 * bls_parse_error_body does: they agree on whether it is an object,
	 * and when it is not, its status says how it fails, as each answer
	 * parser must.
	 */
	doc_status = bls_page_parse_shape((const char *) data, size,
									  &bls_shape_download_task, &page);
	bls_page_free(&page);
	is_object = bls_parse_error_body((const char *) data, size, &code,
									 &message, &request_id);
	FUZZ_ASSERT(is_object == (doc_status != BLS_PARSE_EMPTY &&
							  doc_status != BLS_PARSE_NOT_JSON &&
							  doc_status != BLS_PARSE_NOT_OBJECT &&
							  doc_status != BLS_PARSE_NOMEM));
	check_strict(data, size);
	if (is_object)
		check_single(data, size, doc_status);
	check_replies(data, size, is_object, doc_status, code, message,
				  request_id);

	if (is_object)
	{
		bool		valid;
		json_object *doc = reference_parse((const char *) data, size, &valid);

		/* an error body is any object: a page's object is one too */
		FUZZ_ASSERT(status != BLS_PARSE_EMPTY &&
					status != BLS_PARSE_NOT_JSON &&
					status != BLS_PARSE_NOT_OBJECT);
		FUZZ_ASSERT(valid && json_object_is_type(doc, json_type_object));

		/*
		 * a result set's envelope is read from the whole document or with
		 * its rows cut out: either way, its status is the reference's
		 */
		FUZZ_ASSERT(records_status ==
					ref_log_records_status(doc, &bls_shape_log_records));
		json_object_put(doc);
		if (code)
			touch(code, strlen(code));
		if (message)
			touch(message, strlen(message));
		if (request_id)
			touch(request_id, strlen(request_id));
	}
	else
		FUZZ_ASSERT(code == NULL && message == NULL && request_id == NULL);
	free(code);
	free(message);
	free(request_id);
	return 0;
}
