/*-------------------------------------------------------------------------
 *
 * test_response.c
 *		  Unit tests for src/response.c (BLS list response parsing)
 *
 * Covers a valid page and the field accessors, every non-OK status of
 * bls_page_parse, bodies that are not NUL-terminated, deep nesting, bytes
 * that are not UTF-8, bls_parse_error_body, and bls_page_read_item (the
 * reader of plain tasks and its json-c fallbacks), and the page shapes of
 * ListProject and ListLogStore beside ListDownloadTask's, DescribeDownloadTask's
 * single task, and the answers of CreateDownloadTask, GetDownloadTaskLink and
 * DeleteDownloadTask (bls_parse_create_result, bls_parse_link_result,
 * bls_parse_ack), and QueryLogRecord's result set (its envelope, its rows
 * read by column name, and each row as JSON typed by its columns' types,
 * bls_page_row_json).  Every body is
 * copied into a malloc'd buffer of exactly its length before parsing and
 * freed right after, so under ASan an over-read of the input, or a pointer
 * kept into it, is caught.  Plain C with no framework: it prints TAP ("ok N - ...",
 * then a "1..N" plan) and exits non-zero if any check failed.  Built and run
 * by test/unit/Makefile, also under ASan/UBSan with leak detection.
 *
 * test/unit/test_response.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "response.h"
#include "testing.h"
#include "tap.h"

/* A task's uuid if it is a string, else NULL */
static const char *
task_uuid(BlsJson *task)
{
	BlsJson    *uuid = bls_item_field(task, "uuid");
	size_t		len;

	if (bls_json_type(uuid) != BLS_JSON_STRING)
		return NULL;
	return bls_json_string(uuid, &len);
}

/* Compare a counted byte string with an expected one */
static void
check_bytes(const char *got, size_t gotlen, const char *want, size_t wantlen,
			const char *desc)
{
	int			ok = got != NULL && gotlen == wantlen &&
		memcmp(got, want, wantlen) == 0;

	check(ok, desc, NULL);
	if (!ok)
		printf("#   got:  \"%.*s\" (%zu bytes)\n#   want: \"%.*s\" (%zu bytes)\n",
			   got ? (int) gotlen : 6, got ? got : "(null)", gotlen,
			   (int) wantlen, want, wantlen);
}

/* Check a parse status, printing the page's error text on mismatch */
static void
check_status(BlsParseStatus got, BlsParseStatus want, const BlsPage *page,
			 const char *desc)
{
	int			ok = got == want;

	check(ok, desc, NULL);
	if (!ok)
		printf("#   got status %d, want %d; error: \"%s\"\n",
			   (int) got, (int) want, page->error);
}

/*
 * Copy len bytes into a malloc'd buffer of exactly len bytes (no NUL after
 * them) and parse that.  The copy is freed before returning: the page must
 * not point into the input.  (calloc: an empty copy is still initialized,
 * which gcc 16 checks.)
 */
static BlsParseStatus
parse_exact(const char *body, size_t len, BlsPage *page)
{
	char	   *copy = calloc(len > 0 ? len : 1, 1);
	BlsParseStatus status;

	if (copy == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memcpy(copy, body, len);
	status = bls_page_parse(copy, len, page);
	free(copy);
	return status;
}

/* Parse a string literal (which may hold NULs) */
#define PARSE(lit, page) parse_exact((lit), sizeof(lit) - 1, (page))

/* Same for bls_parse_error_body */
static bool
error_body_exact(const char *body, size_t len, char **code, char **message,
				 char **request_id)
{
	char	   *copy = calloc(len > 0 ? len : 1, 1);
	bool		result;

	if (copy == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memcpy(copy, body, len);
	result = bls_parse_error_body(copy, len, code, message, request_id);
	free(copy);
	return result;
}

#define ERROR_BODY(lit, c, m, r) \
	error_body_exact((lit), sizeof(lit) - 1, (c), (m), (r))

/* True if the page's error text contains word, ignoring ASCII case */
static int
error_mentions(const BlsPage *page, const char *word)
{
	size_t		n = strlen(word);
	const char *p;

	for (p = page->error; *p != '\0'; p++)
	{
		size_t		i;

		for (i = 0; i < n && p[i] != '\0'; i++)
		{
			char		a = p[i];
			char		b = word[i];

			if (a >= 'A' && a <= 'Z')
				a += 'a' - 'A';
			if (b >= 'A' && b <= 'Z')
				b += 'a' - 'A';
			if (a != b)
				break;
		}
		if (i == n)
			return 1;
	}
	return 0;
}

/* True if the page holds nothing after a non-OK, non-FAILURE status */
static int
page_is_empty(const BlsPage *page)
{
	return page->root == NULL && page->items == NULL && page->nitems == 0 &&
		page->code == NULL && page->message == NULL &&
		page->request_id == NULL && page->error[0] != '\0';
}

static const char valid_page[] =
"{\"success\":true,\"code\":\"OK\",\"message\":\"fine\",\"requestId\":\"req-1\","
"\"newTopLevel\":[1,{\"x\":null}],"
"\"result\":{\"total\":7,\"pageNo\":2,\"pageSize\":3,\"cursor\":\"ignored\","
"\"tasks\":["
"{\"uuid\":\"u-1\",\"name\":\"t1\",\"size\":1.50,\"count\":12,"
"\"note\":\"a\\u0000b\",\"dir\":\"x/y\",\"fileDir\":null,\"done\":true,"
"\"tags\":[\"k\"],\"meta\":{\"deep\":[false]},\"futureField\":{}},"
"{\"uuid\":42,\"name\":\"t2\"},"
"\"not an object\""
"]}}";

static void
test_valid_page(void)
{
	BlsPage		page;
	BlsParseStatus status;
	BlsJson    *t0;
	BlsJson    *t1;
	BlsJson    *t2;
	BlsJson    *v;
	const char *s;
	size_t		len;

	status = PARSE(valid_page, &page);
	check_status(status, BLS_PARSE_OK, &page, "valid page parses");
	if (status != BLS_PARSE_OK)
	{
		bls_page_free(&page);
		return;
	}
	CHECK(page.nitems == 3, "valid page: nitems");
	CHECK(page.total == 7, "valid page: total");
	CHECK(page.page_no == 2, "valid page: page_no");
	CHECK(page.page_size == 3, "valid page: page_size");
	check_str(page.code, "OK", "valid page: code");
	check_str(page.message, "fine", "valid page: message");
	check_str(page.request_id, "req-1", "valid page: request_id");
	CHECK(page.root != NULL && page.items != NULL,
		  "valid page: root and tasks set");

	t0 = bls_page_item(&page, 0);
	t1 = bls_page_item(&page, 1);
	t2 = bls_page_item(&page, 2);
	CHECK(t0 != NULL && bls_json_type(t0) == BLS_JSON_OBJECT,
		  "task 0 is an object");
	CHECK(bls_page_item(&page, 3) == NULL, "task past the end is NULL");
	CHECK(bls_page_item(&page, -1) == NULL, "task -1 is NULL");

	/* uuid */
	check_str(task_uuid(t0), "u-1", "bls_task_uuid of a string uuid");
	CHECK(task_uuid(t1) == NULL, "bls_task_uuid of a numeric uuid is NULL");
	CHECK(task_uuid(t2) == NULL, "bls_task_uuid of a non-object task is NULL");
	CHECK(task_uuid(NULL) == NULL, "task_uuid(NULL) is NULL");

	/* a plain string */
	v = bls_item_field(t0, "name");
	CHECK(bls_json_type(v) == BLS_JSON_STRING, "name is a string");
	s = bls_json_string(v, &len);
	check_bytes(s, len, "t1", 2, "bls_json_string of name");
	s = bls_json_text(v, &len);
	check_bytes(s, len, "\"t1\"", 4, "bls_json_text of a string is quoted");

	/* a string with an embedded NUL */
	v = bls_item_field(t0, "note");
	CHECK(bls_json_type(v) == BLS_JSON_STRING, "note is a string");
	s = bls_json_string(v, &len);
	check_bytes(s, len, "a\0b", 3, "bls_json_string keeps an embedded \\u0000");
	CHECK(len == 3, "bls_json_string length counts past the NUL");
	s = bls_json_text(v, &len);
	check_bytes(s, len, "\"a\\u0000b\"", 10,
				"bls_json_text re-escapes the NUL");

	/* '/' is not escaped by bls_json_text */
	v = bls_item_field(t0, "dir");
	s = bls_json_text(v, &len);
	check_bytes(s, len, "\"x/y\"", 5, "bls_json_text does not escape '/'");

	/* numbers keep their spelling */
	v = bls_item_field(t0, "size");
	CHECK(bls_json_type(v) == BLS_JSON_NUMBER, "size (1.50) is a number");
	s = bls_json_text(v, &len);
	check_bytes(s, len, "1.50", 4, "bls_json_text keeps the spelling 1.50");
	v = bls_item_field(t0, "count");
	CHECK(bls_json_type(v) == BLS_JSON_NUMBER, "count (12) is a number");
	s = bls_json_text(v, &len);
	check_bytes(s, len, "12", 2, "bls_json_text of an integer");

	/* other types */
	v = bls_item_field(t0, "done");
	CHECK(bls_json_type(v) == BLS_JSON_BOOLEAN, "done is a boolean");
	s = bls_json_text(v, &len);
	check_bytes(s, len, "true", 4, "bls_json_text of true");
	v = bls_item_field(t0, "tags");
	CHECK(bls_json_type(v) == BLS_JSON_ARRAY, "tags is an array");
	s = bls_json_text(v, &len);
	check_bytes(s, len, "[\"k\"]", 5, "bls_json_text of an array");
	v = bls_item_field(t0, "meta");
	CHECK(bls_json_type(v) == BLS_JSON_OBJECT, "meta is an object");
	s = bls_json_text(v, &len);
	check_bytes(s, len, "{\"deep\":[false]}", 16, "bls_json_text of an object");

	/* null, missing and non-object lookups */
	CHECK(bls_item_field(t0, "fileDir") == NULL,
		  "bls_item_field of a JSON null is NULL");
	CHECK(bls_item_field(t0, "nosuch") == NULL,
		  "bls_item_field of a missing field is NULL");
	CHECK(bls_item_field(t2, "uuid") == NULL,
		  "bls_item_field on a string task is NULL");
	CHECK(bls_item_field(NULL, "uuid") == NULL,
		  "bls_item_field on NULL is NULL");
	CHECK(bls_json_type(NULL) == BLS_JSON_NULL, "bls_json_type(NULL) is null");
	CHECK(bls_json_type(t2) == BLS_JSON_STRING, "task 2 is a string");
	s = bls_json_string(bls_item_field(t1, "name"), &len);
	check_bytes(s, len, "t2", 2, "task 1 name");

	/* type names */
	check_str(bls_json_type_name(BLS_JSON_NULL), "null", "type name null");
	check_str(bls_json_type_name(BLS_JSON_BOOLEAN), "boolean",
			  "type name boolean");
	check_str(bls_json_type_name(BLS_JSON_NUMBER), "number", "type name number");
	check_str(bls_json_type_name(BLS_JSON_STRING), "string", "type name string");
	check_str(bls_json_type_name(BLS_JSON_OBJECT), "object", "type name object");
	check_str(bls_json_type_name(BLS_JSON_ARRAY), "array", "type name array");

	bls_page_free(&page);
	CHECK(page.root == NULL && page.items == NULL && page.nitems == 0 &&
		  page.code == NULL && page.request_id == NULL,
		  "bls_page_free clears the page");
	bls_page_free(&page);
	CHECK(page.root == NULL, "bls_page_free twice is harmless");
}

static void
test_optional_fields(void)
{
	BlsPage		page;
	BlsParseStatus status;

	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[]}}", &page);
	check_status(status, BLS_PARSE_OK, &page, "minimal page parses");
	CHECK(page.nitems == 0, "minimal page: no tasks");
	CHECK(page.total == -1, "minimal page: total -1 when absent");
	CHECK(page.page_no == 0, "minimal page: page_no 0 when absent");
	CHECK(page.page_size == 0, "minimal page: page_size 0 when absent");
	CHECK(page.code == NULL && page.message == NULL &&
		  page.request_id == NULL, "minimal page: no code/message/requestId");
	bls_page_free(&page);

	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[],"
				   "\"total\":null,\"pageNo\":null,\"pageSize\":null}}", &page);
	check_status(status, BLS_PARSE_OK, &page, "null total/pageNo/pageSize parse");
	CHECK(page.total == -1 && page.page_no == 0 && page.page_size == 0,
		  "null total/pageNo/pageSize count as absent");
	bls_page_free(&page);

	status = PARSE("  \r\n\t{\"success\":true,\"result\":{\"tasks\":[{}],"
				   "\"total\":0}} \r\n\t ", &page);
	check_status(status, BLS_PARSE_OK, &page,
				 "surrounding whitespace is accepted");
	CHECK(page.nitems == 1 && page.total == 0, "whitespace page: fields");
	bls_page_free(&page);

	status = PARSE("{\"result\":{\"tasks\":[],\"total\":9223372036854775807},"
				   "\"success\":true}", &page);
	check_status(status, BLS_PARSE_OK, &page, "success after result parses");
	CHECK(page.total == BLS_MAX_TOTAL, "total INT64_MAX is clamped to 2^53");
	bls_page_free(&page);
}

static void
test_syntax_errors(void)
{
	BlsPage		page;
	BlsParseStatus status;

	status = parse_exact("", 0, &page);
	check_status(status, BLS_PARSE_EMPTY, &page, "empty body: EMPTY");
	CHECK(page_is_empty(&page), "empty body: page empty, error set");
	bls_page_free(&page);

	status = bls_page_parse(NULL, 0, &page);
	check_status(status, BLS_PARSE_EMPTY, &page, "NULL, 0: EMPTY");
	bls_page_free(&page);

	status = PARSE(" \r\n\t \n", &page);
	check_status(status, BLS_PARSE_EMPTY, &page, "whitespace-only body: EMPTY");
	CHECK(page_is_empty(&page), "whitespace-only body: page empty");
	bls_page_free(&page);

	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[{\"uuid\":\"u",
				   &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page, "truncated body: NOT_JSON");
	CHECK(error_mentions(&page, "end"),
		  "truncated body: error mentions the end");
	CHECK(page_is_empty(&page), "truncated body: page empty");
	bls_page_free(&page);

	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[],\"total\":12",
				   &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page,
				 "body truncated after a number: NOT_JSON");
	CHECK(error_mentions(&page, "end"),
		  "body truncated after a number: error mentions the end");
	bls_page_free(&page);

	status = PARSE("{\"success\":tr", &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page,
				 "body truncated inside a literal: NOT_JSON");
	bls_page_free(&page);

	status = PARSE("{\"success\":true,,\"result\":{}}", &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page, "syntax error: NOT_JSON");
	CHECK(error_mentions(&page, "JSON"),
		  "syntax error: error mentions JSON");
	CHECK(page_is_empty(&page), "syntax error: page empty");
	bls_page_free(&page);

	status = PARSE("{\"a\":1,}", &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page,
				 "trailing comma: NOT_JSON");
	bls_page_free(&page);

	status = PARSE("{\"a\":01}", &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page,
				 "leading zero: NOT_JSON (strict)");
	bls_page_free(&page);

	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[]}} x", &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page,
				 "trailing garbage: NOT_JSON");
	CHECK(page_is_empty(&page), "trailing garbage: page empty, no leak");
	bls_page_free(&page);

	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[]}}{}", &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page,
				 "two objects: NOT_JSON");
	bls_page_free(&page);

	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[]}}\0", &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page,
				 "a NUL byte after the object: NOT_JSON");
	bls_page_free(&page);

	/* a task is checked when it is asked for */
	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[\"a\0b\",{\"ok\":1}]}}",
				   &page);
	check_status(status, BLS_PARSE_OK, &page,
				 "a raw NUL byte inside a task: the page parses");
	CHECK(bls_page_item(&page, 0) == NULL && error_mentions(&page, "task 1"),
		  "a raw NUL byte inside a task: that task is refused");
	CHECK(bls_json_type(bls_page_item(&page, 1)) == BLS_JSON_OBJECT,
		  "a raw NUL byte inside a task: the next task still reads");
	bls_page_free(&page);
}

static void
test_not_object(void)
{
	static const char *const bodies[] = {
		"[{\"success\":true}]", "\"a string\"", "123", "-1.5e3", "true",
		"false", "null", " [] "
	};
	BlsPage		page;
	BlsParseStatus status;
	char		desc[80];
	size_t		i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
	{
		status = parse_exact(bodies[i], strlen(bodies[i]), &page);
		snprintf(desc, sizeof(desc), "top level %s: NOT_OBJECT", bodies[i]);
		check_status(status, BLS_PARSE_NOT_OBJECT, &page, desc);
		snprintf(desc, sizeof(desc), "top level %s: page empty", bodies[i]);
		CHECK(page_is_empty(&page) && error_mentions(&page, "not an object"),
			  desc);
		bls_page_free(&page);
	}
}

static void
test_failure(void)
{
	BlsPage		page;
	BlsParseStatus status;

	status = PARSE("{\"success\":false,\"code\":\"InvalidParameter\","
				   "\"message\":\"bad \\\"pageSize\\\"\",\"requestId\":\"r-42\"}",
				   &page);
	check_status(status, BLS_PARSE_FAILURE, &page, "success false: FAILURE");
	CHECK(page.root != NULL, "success false: root kept");
	check_str(page.code, "InvalidParameter", "success false: code");
	check_str(page.message, "bad \"pageSize\"", "success false: message");
	check_str(page.request_id, "r-42", "success false: request_id");
	CHECK(page.nitems == 0 && page.items == NULL, "success false: no tasks");
	bls_page_free(&page);
	CHECK(page.root == NULL && page.code == NULL && page.message == NULL &&
		  page.request_id == NULL, "success false: bls_page_free clears");

	status = PARSE("{\"code\":\"Internal\",\"message\":\"oops\","
				   "\"result\":{\"tasks\":[]}}", &page);
	check_status(status, BLS_PARSE_FAILURE, &page, "success missing: FAILURE");
	check_str(page.code, "Internal", "success missing: code");
	check_str(page.message, "oops", "success missing: message");
	CHECK(page.request_id == NULL, "success missing: request_id NULL");
	bls_page_free(&page);

	status = PARSE("{\"success\":\"true\",\"code\":7,\"result\":{\"tasks\":[]}}",
				   &page);
	check_status(status, BLS_PARSE_FAILURE, &page,
				 "success as a string: FAILURE");
	CHECK(page.code == NULL, "numeric code is not a string: NULL");
	bls_page_free(&page);

	status = PARSE("{\"success\":1,\"result\":{\"tasks\":[]}}", &page);
	check_status(status, BLS_PARSE_FAILURE, &page, "success 1: FAILURE");
	bls_page_free(&page);

	status = PARSE("{\"success\":null}", &page);
	check_status(status, BLS_PARSE_FAILURE, &page, "success null: FAILURE");
	bls_page_free(&page);
}

static void
test_shape_errors(void)
{
	static const struct
	{
		const char *body;
		BlsParseStatus want;
		const char *desc;
	}			cases[] = {
		{"{\"success\":true}", BLS_PARSE_NO_RESULT, "missing result"},
		{"{\"success\":true,\"result\":null}", BLS_PARSE_NO_RESULT,
		"result null"},
		{"{\"success\":true,\"result\":[]}", BLS_PARSE_NO_RESULT,
		"result an array"},
		{"{\"success\":true,\"result\":\"x\"}", BLS_PARSE_NO_RESULT,
		"result a string"},
		{"{\"success\":true,\"result\":{}}", BLS_PARSE_NO_TASKS,
		"missing tasks"},
		{"{\"success\":true,\"result\":{\"tasks\":null}}", BLS_PARSE_NO_TASKS,
		"tasks null"},
		{"{\"success\":true,\"result\":{\"tasks\":{}}}", BLS_PARSE_NO_TASKS,
		"tasks an object"},
		{"{\"success\":true,\"result\":{\"tasks\":\"[]\"}}", BLS_PARSE_NO_TASKS,
		"tasks a string"},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"total\":-1}}",
		BLS_PARSE_BAD_FIELD, "total negative"},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"total\":\"3\"}}",
		BLS_PARSE_BAD_FIELD, "total a string"},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"total\":3.0}}",
		BLS_PARSE_BAD_FIELD, "total a non-integer number"},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"total\":true}}",
		BLS_PARSE_BAD_FIELD, "total a boolean"},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"pageNo\":\"1\"}}",
		BLS_PARSE_BAD_FIELD, "pageNo a string"},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"pageNo\":-2}}",
		BLS_PARSE_BAD_FIELD, "pageNo negative"},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"pageNo\":2147483648}}",
		BLS_PARSE_BAD_FIELD, "pageNo above INT32_MAX"},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"pageSize\":\"100\"}}",
		BLS_PARSE_BAD_FIELD, "pageSize a string"},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"pageSize\":[100]}}",
		BLS_PARSE_BAD_FIELD, "pageSize an array"},
	};
	BlsPage		page;
	BlsParseStatus status;
	char		desc[96];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		status = parse_exact(cases[i].body, strlen(cases[i].body), &page);
		snprintf(desc, sizeof(desc), "%s: status %d", cases[i].desc,
				 (int) cases[i].want);
		check_status(status, cases[i].want, &page, desc);
		snprintf(desc, sizeof(desc), "%s: page empty, error set",
				 cases[i].desc);
		CHECK(page_is_empty(&page), desc);
		bls_page_free(&page);
	}

	/* the error names the offending field */
	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[],"
				   "\"pageSize\":\"100\"}}", &page);
	CHECK(status == BLS_PARSE_BAD_FIELD &&
		  error_mentions(&page, "pageSize"),
		  "pageSize error names pageSize");
	bls_page_free(&page);
	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[],"
				   "\"total\":-5}}", &page);
	CHECK(status == BLS_PARSE_BAD_FIELD &&
		  error_mentions(&page, "total"), "total error names total");
	bls_page_free(&page);
}

/* The valid page from a buffer with no NUL after it, and prefixes of it */
static void
test_not_nul_terminated(void)
{
	size_t		len = sizeof(valid_page) - 1;
	size_t		cut;
	BlsPage		page;
	BlsParseStatus status;
	int			all_not_json = 1;

	status = parse_exact(valid_page, len, &page);
	check_status(status, BLS_PARSE_OK, &page,
				 "unterminated buffer of exactly len bytes parses");
	CHECK(page.nitems == 3, "unterminated buffer: nitems");
	check_str(task_uuid(bls_page_item(&page, 0)), "u-1",
			  "unterminated buffer: uuid readable after the input is freed");
	bls_page_free(&page);

	/* len shorter than the data: only len bytes count */
	status = bls_page_parse(valid_page, len - 1, &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page,
				 "len one short of the object: NOT_JSON");
	bls_page_free(&page);

	/* every proper prefix is a truncated document (none ends in ws) */
	for (cut = 1; cut < len; cut++)
	{
		status = parse_exact(valid_page, cut, &page);
		if (status != BLS_PARSE_NOT_JSON)
		{
			all_not_json = 0;
			printf("# prefix of %zu bytes: status %d (%s)\n", cut,
				   (int) status, page.error);
		}
		bls_page_free(&page);
	}
	CHECK(all_not_json, "every proper prefix of a page is NOT_JSON");

	/* a top-level number ending exactly at len */
	status = parse_exact("12345", 5, &page);
	check_status(status, BLS_PARSE_NOT_OBJECT, &page,
				 "unterminated top-level number: NOT_OBJECT");
	bls_page_free(&page);
}

/* A page whose one task is nested depth more arrays deep */
static BlsParseStatus
parse_nested(size_t depth, BlsPage *page)
{
	static const char pre[] = "{\"success\":true,\"result\":{\"tasks\":[";
	static const char post[] = "]}}";
	size_t		len = sizeof(pre) - 1 + 2 * depth + sizeof(post) - 1;
	char	   *buf = malloc(len);
	char	   *p = buf;
	BlsParseStatus status;

	if (buf == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memcpy(p, pre, sizeof(pre) - 1);
	p += sizeof(pre) - 1;
	memset(p, '[', depth);
	p += depth;
	memset(p, ']', depth);
	p += depth;
	memcpy(p, post, sizeof(post) - 1);
	status = bls_page_parse(buf, len, page);
	free(buf);
	return status;
}

static void
test_nesting(void)
{
	BlsPage		page;
	BlsParseStatus status;

	/* object, result, tasks: 3 levels, plus 61 arrays = 64 */
	status = parse_nested(61, &page);
	check_status(status, BLS_PARSE_OK, &page, "64 levels of nesting parse");
	CHECK(page.nitems == 1 &&
		  bls_json_type(bls_page_item(&page, 0)) == BLS_JSON_ARRAY,
		  "64 levels: the task is an array");
	bls_page_free(&page);

	/* tasks are parsed on their own: the limit applies within a task */
	status = parse_nested(62, &page);
	check_status(status, BLS_PARSE_OK, &page,
				 "a task 62 levels deep (65 in all) parses");
	CHECK(bls_json_type(bls_page_item(&page, 0)) == BLS_JSON_ARRAY,
		  "62 levels: the task is an array");
	bls_page_free(&page);

	status = parse_nested(65, &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page,
				 "a task 65 levels deep: NOT_JSON");
	CHECK(error_mentions(&page, "nesting"),
		  "65 levels: error mentions nesting");
	bls_page_free(&page);

	status = parse_nested(1000000, &page);
	check_status(status, BLS_PARSE_NOT_JSON, &page,
				 "a million levels of nesting: NOT_JSON, no crash");
	bls_page_free(&page);
}

static void
test_invalid_utf8(void)
{
	BlsPage		page;
	BlsParseStatus status;
	const char *s;
	size_t		len;

	status = PARSE("{\"success\":true,\"result\":{\"tasks\":["
				   "{\"uuid\":\"\xff\xfe\",\"name\":\"\xc3\x28\xed\xa0\x80\","
				   "\"ok\":\"\xe6\x95\xb0\xe6\x8d\xae\"}]}}", &page);
	check_status(status, BLS_PARSE_OK, &page,
				 "invalid UTF-8 inside strings is accepted");
	if (status == BLS_PARSE_OK)
	{
		BlsJson    *t = bls_page_item(&page, 0);

		check_str(task_uuid(t), "\xff\xfe",
				  "invalid UTF-8 uuid passed through");
		s = bls_json_string(bls_item_field(t, "name"), &len);
		check_bytes(s, len, "\xc3\x28\xed\xa0\x80", 5,
					"invalid UTF-8 sequence passed through unchanged");
		s = bls_json_string(bls_item_field(t, "ok"), &len);
		check_bytes(s, len, "\xe6\x95\xb0\xe6\x8d\xae", 6,
					"valid UTF-8 passed through unchanged");
	}
	bls_page_free(&page);
}

static void
test_error_body(void)
{
	char	   *code;
	char	   *message;
	char	   *request_id;
	bool		ok;

	ok = ERROR_BODY("{\"code\":\"AccessDenied\",\"message\":\"Signature "
					"mismatch\",\"requestId\":\"9f1c-77\"}\n",
					&code, &message, &request_id);
	CHECK(ok, "error body parses");
	check_str(code, "AccessDenied", "error body: code");
	check_str(message, "Signature mismatch", "error body: message");
	check_str(request_id, "9f1c-77", "error body: requestId");
	free(code);
	free(message);
	free(request_id);

	ok = ERROR_BODY("<html><head><title>502 Bad Gateway</title></head></html>",
					&code, &message, &request_id);
	CHECK(!ok, "HTML body: false");
	CHECK(code == NULL && message == NULL && request_id == NULL,
		  "HTML body: outputs NULL");

	code = message = request_id = (char *) "junk";
	ok = error_body_exact("", 0, &code, &message, &request_id);
	CHECK(!ok, "empty error body: false");
	CHECK(code == NULL && message == NULL && request_id == NULL,
		  "empty error body: outputs reset to NULL");

	ok = ERROR_BODY("  \r\n", &code, &message, &request_id);
	CHECK(!ok, "whitespace error body: false");

	ok = ERROR_BODY("[\"code\"]", &code, &message, &request_id);
	CHECK(!ok && code == NULL, "array error body: false");

	ok = ERROR_BODY("{\"code\":\"X\",\"message\":", &code, &message,
					&request_id);
	CHECK(!ok && code == NULL, "truncated error body: false");

	ok = ERROR_BODY("{\"code\":\"OnlyCode\"}", &code, &message, &request_id);
	CHECK(ok, "error body with only code parses");
	check_str(code, "OnlyCode", "only code: code");
	CHECK(message == NULL && request_id == NULL,
		  "only code: message and requestId NULL");
	free(code);
	free(message);
	free(request_id);

	ok = ERROR_BODY("{\"code\":404,\"message\":null,\"requestId\":[\"r\"]}",
					&code, &message, &request_id);
	CHECK(ok, "error body with non-string fields parses");
	CHECK(code == NULL && message == NULL && request_id == NULL,
		  "non-string fields: outputs NULL");

	ok = ERROR_BODY("{}", &code, &message, &request_id);
	CHECK(ok && code == NULL && message == NULL && request_id == NULL,
		  "empty object: true, outputs NULL");

	ok = ERROR_BODY("{\"message\":\"m\\u00e9\"}", &code, &message,
					&request_id);
	check_str(ok ? message : NULL, "m\xc3\xa9",
			  "error body message is unescaped");
	free(code);
	free(message);
	free(request_id);
}

/* Tasks are kept as text and parsed on demand; delimiting must not be fooled. */
static void
test_lazy_items(void)
{
	BlsPage		page;
	BlsJson    *t;
	size_t		len;

	CHECK(PARSE("{\"success\":true,\"result\":{\"total\":3,\"tasks\":["
				"{\"uuid\":\"a\",\"name\":\"x]},\\\"[{\"}, "
				"{\"uuid\":\"b\",\"n\":[1,{\"k\":\"}\"}]},\n"
				"{\"uuid\":\"c\"}]},\"code\":\"OK\"}", &page) == BLS_PARSE_OK,
		  "lazy: brackets and escaped quotes inside strings");
	CHECK(page.nitems == 3 && page.total == 3, "lazy: three tasks, total 3");
	t = bls_page_item(&page, 0);
	CHECK(t != NULL && strcmp(bls_json_string(bls_item_field(t, "name"), &len), "x]},\"[{") == 0,
		  "lazy: the string with brackets reads back");
	check_str(task_uuid(bls_page_item(&page, 2)), "c", "lazy: third task");
	bls_page_item_done(&page, 0);
	check_str(task_uuid(bls_page_item(&page, 0)), "a",
			  "lazy: a task done with is parsed again when asked for");
	check_str(page.code, "OK", "lazy: members after the tasks are read");
	bls_page_free(&page);

	/* a repeated "tasks" key: json-c keeps the last; so must we */
	CHECK(PARSE("{\"success\":true,\"result\":{\"tasks\":[{\"uuid\":\"first\"}],"
				"\"tasks\":[{\"uuid\":\"second\"},{\"uuid\":\"third\"}]}}", &page) == BLS_PARSE_OK,
		  "lazy: repeated tasks key parses");
	CHECK(page.nitems == 2, "lazy: repeated tasks key: the last array counts");
	check_str(task_uuid(bls_page_item(&page, 0)), "second",
			  "lazy: repeated tasks key: its first task");
	bls_page_free(&page);

	/* an escaped key is not recognized, so the page is parsed whole */
	CHECK(PARSE("{\"success\":true,\"result\":{\"t\\u0061sks\":[{\"uuid\":\"e\"}]}}",
				&page) == BLS_PARSE_OK && page.nitems == 1,
		  "lazy: an escaped key falls back to a whole parse");
	check_str(task_uuid(bls_page_item(&page, 0)), "e", "lazy: escaped key: the task");
	bls_page_free(&page);

	/* a task that is not valid JSON is refused when asked for */
	CHECK(PARSE("{\"success\":true,\"result\":{\"tasks\":[{\"uuid\":\"ok\"},{\"a\":tru},"
				"{\"uuid\":\"z\"}]}}", &page) == BLS_PARSE_OK && page.nitems == 3,
		  "lazy: a bad task does not fail the page");
	CHECK(bls_page_item(&page, 1) == NULL && error_mentions(&page, "task 2"),
		  "lazy: the bad task is refused, naming it");
	check_str(task_uuid(bls_page_item(&page, 2)), "z", "lazy: the task after it reads");
	bls_page_free(&page);
}

/* BLS's UTC timestamps, and only them, take the fast path. */
static void
test_utc_timestamps(void)
{
	int64_t		us = -1;

#define TS(lit) bls_parse_utc_timestamp((lit), strlen(lit), &us)
	CHECK(TS("1970-01-01T00:00:00Z") && us == 0, "ts: the Unix epoch");
	CHECK(TS("2024-11-05T07:37:12Z") && us == INT64_C(1730792232000000),
		  "ts: a BLS creation time");
	CHECK(TS("2000-02-29T23:59:59Z") && us == INT64_C(951868799000000),
		  "ts: a leap day in a 400-year leap year");
	CHECK(TS("1969-12-31T23:59:59Z") && us == -INT64_C(1000000),
		  "ts: before the epoch");
	CHECK(TS("0001-01-01T00:00:00Z") && us == -INT64_C(62135596800000000),
		  "ts: year 1");
	CHECK(!TS("1900-02-29T00:00:00Z"), "ts: no leap day in 1900");
	CHECK(!TS("2024-11-31T00:00:00Z"), "ts: November has 30 days");
	CHECK(!TS("2024-13-01T00:00:00Z"), "ts: month 13");
	CHECK(!TS("2024-11-05T24:00:00Z"), "ts: hour 24 goes to the input function");
	CHECK(!TS("2024-11-05T07:37:60Z"), "ts: leap second goes to the input function");
	CHECK(!TS("2024-11-05T07:37:12.5Z"), "ts: fractions go to the input function");
	CHECK(!TS("2024-11-05T07:37:12+08:00"), "ts: offsets go to the input function");
	CHECK(!TS("2024-11-05 07:37:12Z"), "ts: a space instead of T");
	CHECK(!TS("0000-01-01T00:00:00Z"), "ts: year 0");
	CHECK(!TS("2024-1a-05T07:37:12Z"), "ts: a letter in a field");
	CHECK(!TS(""), "ts: empty");
#undef TS
}

/* Integers are exact in the int64 range, and out of range beyond it. */
static void
test_int64(void)
{
	BlsPage		page;
	int64_t		i = 0;

	CHECK(PARSE("{\"success\":true,\"result\":{\"tasks\":[{\"a\":42,\"b\":-9223372036854775808,"
				"\"c\":-9223372036854775809,\"d\":18446744073709551615,\"e\":1.5,\"f\":\"7\"}]}}",
				&page) == BLS_PARSE_OK, "int64: page parses");
	CHECK(bls_json_int64(bls_item_field(bls_page_item(&page, 0), "a"), &i) && i == 42,
		  "int64: 42");
	CHECK(bls_json_int64(bls_item_field(bls_page_item(&page, 0), "b"), &i) &&
		  i == INT64_MIN,
		  "int64: INT64_MIN is exact beside an integer below it");
	CHECK(bls_json_number_clamped(bls_item_field(bls_page_item(&page, 0), "c")),
		  "int64: below INT64_MIN is out of range");
	CHECK(bls_json_number_clamped(bls_item_field(bls_page_item(&page, 0), "d")),
		  "int64: UINT64_MAX is out of range");
	CHECK(!bls_json_int64(bls_item_field(bls_page_item(&page, 0), "e"), &i),
		  "int64: a fraction is not an integer");
	CHECK(!bls_json_int64(bls_item_field(bls_page_item(&page, 0), "f"), &i),
		  "int64: a string is not an integer");
	bls_page_free(&page);
}

/* A field set over the given keys, in the caller's arrays */
static void
fields_over(BlsFields *f, const char **keys, size_t *keylens, BlsValue *values,
			int nkeys)
{
	memset(f, 0, sizeof(*f));
	for (int k = 0; k < nkeys; k++)
		keylens[k] = strlen(keys[k]);
	f->nkeys = nkeys;
	f->keys = keys;
	f->keylens = keylens;
	f->values = values;
	bls_fields_reset(f);
}

static void
check_text(const BlsValue *v, const char *want, const char *desc)
{
	size_t		len;
	const char *s = bls_value_text(v, &len);

	check_bytes(s, len, want, strlen(want), desc);
}

/* bls_page_read_item: the reader of plain tasks and its json-c fallbacks */
static void
test_read_item(void)
{
	static const char body[] =
		"{\"success\":true,\"result\":{\"total\":6,\"tasks\":["
		"{\"uuid\":\"u-1\", \"name\" : \"plain\",\"limit\":100,\"neg\":-7,"
		"\"done\":true,\"off\":false,\"dir\":null,\"at\":\"2024-11-05T08:00:00Z\"},"
		"{\"name\":\"q\\\"x\\u00e9\",\"uuid\":\"u-2\",\"limit\":1.50,\"neg\":-0,"
		"\"big\":12345678901234567890,\"huge\":123456789012345678901234,"
		"\"min\":-9223372036854775808},"
		"{\"uuid\":\"u-3\",\"name\":{\"deep\":[false]}},"
		"{\"uuid\":\"u-4\",\"name\":\"a\",\"name\":\"b\"},"
		"{\"na\\u006de\":\"escaped key\"},"
		"{\"uuid\":\"u-6\",\"name\":\"cut\",\"limit\":01},"
		"\"not an object\""
		"]}}";
	const char *keys[] = {"uuid", "name", "limit", "neg", "done", "off", "dir",
	"at", "big", "huge", "absent", "min"};
	size_t		keylens[12];
	BlsValue	v[12];
	BlsFields	f;
	BlsPage		page;

	fields_over(&f, keys, keylens, v, 12);
	CHECK(PARSE(body, &page) == BLS_PARSE_OK && page.nitems == 7,
		  "reader: page parses");

	/* a flat task is read from the page's text */
	CHECK(bls_page_read_item(&page, 0, &f) && f.type == BLS_JSON_OBJECT,
		  "reader: task 1 reads");
	CHECK(page.read_json == 0 && v[0].json == NULL, "reader: task 1 without json-c");
	check_bytes(v[0].str, v[0].len, "u-1", 3, "reader: uuid");
	check_bytes(v[1].str, v[1].len, "plain", 5, "reader: spaces around ':'");
	check_text(&v[1], "\"plain\"", "reader: a string's text is quoted");
	CHECK(v[2].type == BLS_JSON_NUMBER && v[2].is_int && v[2].ival == 100,
		  "reader: an integer");
	CHECK(v[3].is_int && v[3].ival == -7, "reader: a negative integer");
	check_text(&v[3], "-7", "reader: an integer's text");
	CHECK(v[4].type == BLS_JSON_BOOLEAN && v[5].type == BLS_JSON_BOOLEAN,
		  "reader: booleans");
	check_text(&v[5], "false", "reader: false's text");
	CHECK(v[6].type == BLS_JSON_NULL && v[10].type == BLS_JSON_NULL,
		  "reader: null and missing fields are null");
	check_bytes(v[7].str, v[7].len, "2024-11-05T08:00:00Z", 20, "reader: a time");

	/* escapes and numbers that are not small integers: read from the text too */
	CHECK(bls_page_read_item(&page, 1, &f), "reader: task 2 reads");
	CHECK(page.read_json == 0 && v[1].json == NULL && v[2].json == NULL &&
		  v[9].json == NULL,
		  "reader: escaped strings and general numbers need no json-c");
	check_bytes(v[1].str, v[1].len, "q\"x\xc3\xa9", 5, "reader: escapes decoded");
	check_text(&v[1], "\"q\\\"x\xc3\xa9\"", "reader: escaped string's text");
	CHECK(v[2].type == BLS_JSON_NUMBER && !v[2].is_int,
		  "reader: a fraction is a number, not an integer");
	check_text(&v[2], "1.50", "reader: a fraction keeps its spelling");
	CHECK(v[3].is_int && v[3].ival == 0, "reader: -0 is the integer 0");
	CHECK(!v[8].is_int && !v[8].clamped && v[8].type == BLS_JSON_NUMBER,
		  "reader: above INT64_MAX but in uint64: for the input function");
	CHECK(v[9].clamped, "reader: beyond 64 bits is out of range");
	CHECK(v[11].is_int && !v[11].clamped && v[11].ival == INT64_MIN,
		  "reader: INT64_MIN is read exactly");
	check_bytes(v[0].str, v[0].len, "u-2", 3, "reader: task 2 uuid, second in order");

	/* nested values and repeated keys: the whole task goes to json-c */
	CHECK(bls_page_read_item(&page, 2, &f) && page.read_json == 3,
		  "reader: a nested value has json-c parse the task");
	CHECK(v[1].type == BLS_JSON_OBJECT, "reader: the nested value is an object");
	check_text(&v[1], "{\"deep\":[false]}", "reader: the object's text");
	CHECK(bls_page_read_item(&page, 3, &f) && page.read_json == 4,
		  "reader: a repeated key has json-c parse the task");
	check_bytes(v[1].str, v[1].len, "b", 1, "reader: the last of a repeated key wins");
	CHECK(bls_page_read_item(&page, 4, &f) && page.read_json == 0,
		  "reader: an escaped key is decoded, the task read from the text");
	check_bytes(v[1].str, v[1].len, "escaped key", 11, "reader: the escaped key is matched");

	/* what json-c refuses is refused */
	CHECK(!bls_page_read_item(&page, 5, &f) && error_mentions(&page, "task 6"),
		  "reader: a number with a leading zero is refused");
	CHECK(bls_page_read_item(&page, 6, &f) && f.type == BLS_JSON_STRING,
		  "reader: a task that is a string reads as such");
	CHECK(!bls_page_read_item(&page, 7, &f) && !bls_page_read_item(&page, -1, &f),
		  "reader: tasks out of range are refused");

	/* the hints follow a change of member order */
	CHECK(bls_page_read_item(&page, 1, &f) && bls_page_read_item(&page, 0, &f) &&
		  v[0].len == 3 && memcmp(v[0].str, "u-1", 3) == 0 &&
		  v[1].len == 5 && memcmp(v[1].str, "plain", 5) == 0,
		  "reader: members in another order than the last task's");
	bls_page_free(&page);

	/*
	 * a task json-c refused half-way through a surrogate pair must not
	 * change how the next task's escapes decode (json-c's tokener keeps
	 * that state across a reset)
	 */
	CHECK(PARSE("{\"success\":true,\"result\":{\"tasks\":["
				"{\"\\ud83d\\u\"},{\"\\u00e9\":\"x\"},{\"n\":\"\\ud83d\\u\"},"
				"{\"name\":\"\\u00e9\"}]}}", &page) == BLS_PARSE_OK,
		  "reader: page with a cut surrogate pair parses");
	CHECK(bls_page_item(&page, 0) == NULL &&
		  bls_item_field(bls_page_item(&page, 1), "\xc3\xa9") != NULL,
		  "reader: a task parsed after a refused one reads the same");
	CHECK(!bls_page_read_item(&page, 2, &f) && bls_page_read_item(&page, 3, &f),
		  "reader: a refused value, then an escaped one");
	check_bytes(v[1].str, v[1].len, "\xc3\xa9", 2,
				"reader: the escape after a refused surrogate pair");
	bls_page_free(&page);

	/* a page parsed whole (repeated "tasks") is read through json-c */
	CHECK(PARSE("{\"success\":true,\"result\":{\"tasks\":[],"
				"\"tasks\":[{\"uuid\":\"w\",\"limit\":5}]}}", &page) == BLS_PARSE_OK &&
		  page.text == NULL, "reader: a page parsed whole");
	CHECK(bls_page_read_item(&page, 0, &f) && v[0].json != NULL &&
		  v[0].len == 1 && v[0].str[0] == 'w' && v[2].is_int && v[2].ival == 5,
		  "reader: a task of a page parsed whole");
	bls_page_free(&page);
}

/* A body's status, and whether the page's error text mentions word */
static bool
page_refused(const char *body, BlsParseStatus want, const char *word)
{
	BlsPage		page;
	BlsParseStatus status = parse_exact(body, strlen(body), &page);
	bool		ok = status == want && (word == NULL || error_mentions(&page, word));

	if (!ok)
		printf("#   status %d, error \"%s\"\n", (int) status, page.error);
	bls_page_free(&page);
	return ok;
}

/*
 * The one task of a page with tasks [task] parses with the page, but is
 * refused both by the reader and by bls_page_item.
 */
static bool
item_refused(const char *task, const char *word)
{
	char		body[512];
	const char *keys[] = {"a", "s", "n"};
	size_t		keylens[3];
	BlsValue	v[3];
	BlsFields	f;
	BlsPage		page;
	bool		ok;

	fields_over(&f, keys, keylens, v, 3);
	snprintf(body, sizeof(body),
			 "{\"success\":true,\"result\":{\"tasks\":[%s,{\"a\":1}]}}", task);
	if (parse_exact(body, strlen(body), &page) != BLS_PARSE_OK)
	{
		printf("#   the page did not parse: %s\n", page.error);
		bls_page_free(&page);
		return false;
	}
	ok = !bls_page_read_item(&page, 0, &f) &&
		(word == NULL || error_mentions(&page, word));
	if (!ok)
		printf("#   reader: error \"%s\"\n", page.error);
	ok = ok && bls_page_item(&page, 0) == NULL;
	/* the next task is not affected */
	ok = ok && bls_page_read_item(&page, 1, &f) && v[0].is_int && v[0].ival == 1;
	bls_page_free(&page);
	return ok;
}

/*
 * What is not JSON is refused on every path, although json-c (even in
 * strict mode) takes it: leading zeros, raw control characters in strings,
 * lone surrogate escapes, NaN/Infinity and "1.".
 */
static void
test_strict_json(void)
{
	static const char *const bad_items[] = {
		/* read from the text, the fast path */
		"{\"a\":00}", "{\"a\":-01}", "{\"a\":007}", "{\"a\":01.5}",
		"{\"s\":\"a\tb\"}", "{\"s\":\"a\x01z\"}", "{\"s\":\"\x1f\"}",
		"{\"s\":\"\\ud800\"}", "{\"s\":\"\\ud800x\"}", "{\"s\":\"\\udc00\"}",
		"{\"s\":\"\\ud800\\u0041\"}", "{\"s\":\"\\udc00\\ud800\"}",
		"{\"a\":NaN}", "{\"a\":-Infinity}", "{\"a\":1.}",
		/* a nested value has json-c parse the whole task */
		"{\"n\":[1],\"a\":00}", "{\"n\":[1],\"a\":-01}",
		"{\"n\":[1],\"s\":\"a\tb\"}", "{\"n\":[\"\x01\"]}",
		"{\"n\":[1],\"s\":\"\\ud800\"}", "{\"n\":{\"\\udc00\":1}}",
		"{\"n\":[NaN]}",
		/* tasks that are not objects */
		"007", "-01", "\"\t\"", "\"\\ud800\"", "[00]",
		/* a key */
		"{\"\\ud800\":1}", "{\"k\tey\":1}"
	};
	static const char *const bad_pages[] = {
		/* the envelope around the tasks */
		"{\"success\":true,\"result\":{\"tasks\":[],\"total\":00}}",
		"{\"success\":true,\"result\":{\"tasks\":[],\"pageNo\":-01}}",
		"{\"success\":true,\"result\":{\"tasks\":[],\"pageSize\":007}}",
		"{\"success\":true,\"code\":\"a\tb\",\"result\":{\"tasks\":[]}}",
		"{\"success\":true,\"message\":\"\\ud800\",\"result\":{\"tasks\":[]}}",
		"{\"success\":true,\"requestId\":\"\\udc00\",\"result\":{\"tasks\":[]}}",
		"{\"success\":true,\"x\":NaN,\"result\":{\"tasks\":[]}}",
		/* a page parsed whole: "tasks" twice */
		"{\"success\":true,\"result\":{\"tasks\":[],\"tasks\":[{\"a\":00}]}}",
		"{\"success\":true,\"result\":{\"tasks\":[],\"tasks\":[{\"s\":\"\t\"}]}}",
		"{\"success\":true,\"result\":{\"tasks\":[],\"tasks\":[\"\\ud800\"]}}",
		/* a top-level number json-c takes */
		"00", "-01"
	};
	char		desc[128];
	char	   *code;
	char	   *message;
	char	   *request_id;
	BlsPage		page;
	const char *keys[] = {"s", "a"};
	size_t		keylens[2];
	BlsValue	v[2];
	BlsFields	f;

	for (size_t i = 0; i < sizeof(bad_items) / sizeof(bad_items[0]); i++)
	{
		snprintf(desc, sizeof(desc), "strict: task %zu (%.40s) is refused",
				 i + 1, bad_items[i]);
		CHECK(item_refused(bad_items[i], "task 1"), desc);
	}
	for (size_t i = 0; i < sizeof(bad_pages) / sizeof(bad_pages[0]); i++)
	{
		snprintf(desc, sizeof(desc), "strict: page %zu (%.50s) is NOT_JSON",
				 i + 1, bad_pages[i]);
		CHECK(page_refused(bad_pages[i], BLS_PARSE_NOT_JSON, "JSON"), desc);
	}
	CHECK(item_refused("{\"a\":00}", "leading zero"),
		  "strict: the error names a leading zero");
	CHECK(item_refused("{\"s\":\"a\tb\"}", "control character"),
		  "strict: the error names a control character");
	CHECK(item_refused("{\"s\":\"\\ud800\"}", "surrogate"),
		  "strict: the error names a lone surrogate");

	CHECK(!ERROR_BODY("{\"code\":\"a\tb\"}", &code, &message, &request_id) &&
		  !ERROR_BODY("{\"code\":\"\\ud800\"}", &code, &message, &request_id) &&
		  !ERROR_BODY("{\"code\":\"x\",\"n\":00}", &code, &message, &request_id),
		  "strict: an error body that is not JSON is refused");

	/* what JSON allows still reads, on both paths */
	fields_over(&f, keys, keylens, v, 2);
	CHECK(PARSE("{\"success\":true,\"result\":{\"tasks\":["
				"{\"s\":\"\\ud83d\\ude00\\u0000\\/\",\"a\":-0.0e-0},"
				"{\"n\":[0e0,0E+1,1e-0,-0,0.5],\"s\":\"\\uDBFF\\uDFFF\",\"a\":0}"
				"]}}", &page) == BLS_PARSE_OK, "strict: valid JSON edge cases parse");
	CHECK(bls_page_read_item(&page, 0, &f) &&
		  v[0].len == 6 && memcmp(v[0].str, "\xf0\x9f\x98\x80\0/", 6) == 0 &&
		  v[1].type == BLS_JSON_NUMBER,
		  "strict: a surrogate pair, an escaped NUL, -0.0e-0 read");
	CHECK(bls_page_read_item(&page, 1, &f) && page.read_json == 2 &&
		  v[0].len == 4 && memcmp(v[0].str, "\xf4\x8f\xbf\xbf", 4) == 0 &&
		  v[1].is_int && v[1].ival == 0,
		  "strict: exponents and U+10FFFF read through json-c");
	bls_page_free(&page);
}

/*
 * A key spelled with an escaped NUL is not the key without it: json-c
 * looks keys up by C string, the reader compares them with their lengths.
 */
static void
test_nul_keys(void)
{
	const char *keys[] = {"name", "uuid"};
	size_t		keylens[2];
	BlsValue	v[2];
	BlsFields	f;
	BlsPage		page;

	fields_over(&f, keys, keylens, v, 2);
	CHECK(PARSE("{\"success\":true,\"result\":{\"tasks\":["
				"{\"uuid\":\"u1\",\"name\\u0000\":\"x\"},"
				"{\"name\":\"a\",\"name\\u0000\":\"b\"},"
				"{\"name\\u0000\":\"b\",\"name\":\"a\"},"
				"{\"na\\u006de\":\"c\",\"\\u0000name\":\"d\"}"
				"]}}", &page) == BLS_PARSE_OK, "nul keys: page parses");
	CHECK(bls_page_read_item(&page, 0, &f) && v[0].type == BLS_JSON_NULL &&
		  v[1].len == 2, "nul keys: \"name\\u0000\" is not name");
	CHECK(bls_page_read_item(&page, 1, &f) && v[0].type == BLS_JSON_STRING &&
		  v[0].len == 1 && v[0].str[0] == 'a',
		  "nul keys: name, then \"name\\u0000\": name is the first");
	CHECK(bls_page_read_item(&page, 2, &f) && v[0].type == BLS_JSON_STRING &&
		  v[0].len == 1 && v[0].str[0] == 'a',
		  "nul keys: \"name\\u0000\", then name: name is the second");
	CHECK(bls_page_read_item(&page, 3, &f) && v[0].len == 1 && v[0].str[0] == 'c',
		  "nul keys: an escaped name still matches, \"\\u0000name\" does not");

	/* json-c's tree cannot keep them apart: it refuses rather than mixes */
	CHECK(bls_page_item(&page, 1) == NULL && error_mentions(&page, "\\u0000"),
		  "nul keys: json-c's tree of such a task is refused");
	bls_page_free(&page);

	CHECK(PARSE("{\"success\":true,\"result\":{\"tasks\":["
				"{\"n\":[1],\"name\\u0000\":\"x\"}]}}", &page) == BLS_PARSE_OK &&
		  !bls_page_read_item(&page, 0, &f) && error_mentions(&page, "\\u0000"),
		  "nul keys: a task json-c must parse whole is refused, not misread");
	bls_page_free(&page);

	CHECK(page_refused("{\"success\":false,\"success\\u0000\":true,"
					   "\"result\":{\"tasks\":[]}}", BLS_PARSE_NOT_JSON, "\\u0000"),
		  "nul keys: \"success\\u0000\" in the envelope is refused");
	CHECK(page_refused("{\"success\":true,\"result\":{\"tasks\":[],"
					   "\"tasks\\u0000\":[{\"name\":\"x\"}]}}", BLS_PARSE_NOT_JSON, "\\u0000"),
		  "nul keys: \"tasks\\u0000\" in the envelope is refused");
}

/* -9223372036854775808 is a bigint: exact on the reader and through json-c */
static void
test_int64_min(void)
{
	const char *keys[] = {"w", "x"};
	size_t		keylens[2];
	BlsValue	v[2];
	BlsFields	f;
	BlsPage		page;
	size_t		len;
	const char *s;

	fields_over(&f, keys, keylens, v, 2);
	CHECK(PARSE("{\"success\":true,\"result\":{\"tasks\":["
				"{\"w\":-9223372036854775808,\"x\":9223372036854775807},"
				"{\"n\":[1],\"w\":-9223372036854775808,\"x\":9223372036854775807},"
				"{\"w\":-9223372036854775809,\"x\":-99999999999999999999},"
				"{\"n\":[1],\"w\":-9223372036854775809}"
				"]}}", &page) == BLS_PARSE_OK, "int64 min: page parses");

	CHECK(bls_page_read_item(&page, 0, &f) && page.read_json == 0 &&
		  v[0].is_int && !v[0].clamped && v[0].ival == INT64_MIN,
		  "int64 min: read exactly from the text");
	s = bls_value_text(&v[0], &len);
	check_bytes(s, len, "-9223372036854775808", 20, "int64 min: its text");
	CHECK(v[1].is_int && v[1].ival == INT64_MAX, "int64 max: read exactly from the text");

	CHECK(bls_page_read_item(&page, 1, &f) && page.read_json == 2 &&
		  v[0].is_int && !v[0].clamped && v[0].ival == INT64_MIN,
		  "int64 min: read exactly through json-c");
	CHECK(v[1].is_int && v[1].ival == INT64_MAX, "int64 max: read exactly through json-c");

	/* below it json-c saturates: still out of range */
	CHECK(bls_page_read_item(&page, 2, &f) && v[0].clamped && !v[0].is_int &&
		  v[1].clamped, "int64 min: one below is out of range on the reader");
	CHECK(bls_page_read_item(&page, 3, &f) && page.read_json == 4 &&
		  v[0].clamped && !v[0].is_int,
		  "int64 min: one below is out of range through json-c");
	bls_page_free(&page);
}

/* "total" is clamped where it is parsed; a negative one is an error */
static void
test_total(void)
{
	static const struct
	{
		const char *total;
		int64_t		want;
	}			cases[] = {
		{"0", 0}, {"7", 7}, {"null", -1},
		{"9007199254740992", BLS_MAX_TOTAL},
		{"9007199254740993", BLS_MAX_TOTAL},
		{"9223372036854775807", BLS_MAX_TOTAL},
		{"18446744073709551615", BLS_MAX_TOTAL},
		{"123456789012345678901234567890", BLS_MAX_TOTAL},
	};
	static const char *const negative[] = {
		"-1", "-5", "-9223372036854775808", "-99999999999999999999"
	};
	char		body[160];
	char		desc[96];
	BlsPage		page;
	BlsParseStatus status;

	CHECK(BLS_MAX_TOTAL == INT64_C(9007199254740992), "total: BLS_MAX_TOTAL is 2^53");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		snprintf(body, sizeof(body),
				 "{\"success\":true,\"result\":{\"tasks\":[],\"total\":%s}}",
				 cases[i].total);
		status = parse_exact(body, strlen(body), &page);
		snprintf(desc, sizeof(desc), "total: %s reads as %lld", cases[i].total,
				 (long long) cases[i].want);
		CHECK(status == BLS_PARSE_OK && page.total == cases[i].want, desc);
		bls_page_free(&page);
	}
	for (size_t i = 0; i < sizeof(negative) / sizeof(negative[0]); i++)
	{
		snprintf(body, sizeof(body),
				 "{\"success\":true,\"result\":{\"tasks\":[],\"total\":%s}}",
				 negative[i]);
		snprintf(desc, sizeof(desc), "total: %s is BAD_FIELD, said negative",
				 negative[i]);
		CHECK(page_refused(body, BLS_PARSE_BAD_FIELD, "cannot be negative"), desc);
	}
}

/*
 * Page shapes: ListProject and ListLogStore beside ListDownloadTask
 */

/* Parse a string literal as the given shape (a copy of exactly its length) */
static BlsParseStatus
parse_shape_exact(const char *body, size_t len, const BlsPageShape *shape,
				  BlsPage *page)
{
	char	   *copy = calloc(len > 0 ? len : 1, 1);
	BlsParseStatus status;

	if (copy == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memcpy(copy, body, len);
	status = bls_page_parse_shape(copy, len, shape, page);
	free(copy);
	return status;
}

#define PARSE_SHAPE(lit, shape, page) \
	parse_shape_exact((lit), sizeof(lit) - 1, (shape), (page))

/*
 * body, parsed as shape, has status want and exactly the error text
 * error (NULL: any); the page is freed
 */
static bool
shape_error_is(const char *body, const BlsPageShape *shape,
			   BlsParseStatus want, const char *error)
{
	BlsPage		page;
	BlsParseStatus status = parse_shape_exact(body, strlen(body), shape, &page);
	bool		ok = status == want &&
		(error == NULL || strcmp(page.error, error) == 0);

	if (status != BLS_PARSE_OK && status != BLS_PARSE_FAILURE)
		ok = ok && page_is_empty(&page) && page.default_id == NULL;
	if (!ok)
		printf("#   status %d (want %d), error \"%s\"\n#   want error \"%s\"\n",
			   (int) status, (int) want, page.error, error ? error : "(any)");
	bls_page_free(&page);
	return ok;
}

/* The uuid (or other string field key) of element i, read by the reader */
static bool
element_field_is(BlsPage *page, int i, const char *key, const char *want)
{
	const char *keys[1] = {key};
	size_t		keylens[1] = {strlen(key)};
	BlsValue	values[1];
	BlsFields	f;

	memset(&f, 0, sizeof(f));
	f.nkeys = 1;
	f.keys = keys;
	f.keylens = keylens;
	f.values = values;
	bls_fields_reset(&f);
	if (!bls_page_read_item(page, i, &f))
		return false;
	return values[0].type == BLS_JSON_STRING &&
		values[0].len == strlen(want) &&
		memcmp(values[0].str, want, values[0].len) == 0;
}

/* bls_page_parse() is the download-task shape; its messages, byte for byte */
static void
test_download_shape(void)
{
	static const struct
	{
		const char *body;
		BlsParseStatus want;
		const char *error;
	}			cases[] = {
		{"{\"success\":false}", BLS_PARSE_FAILURE,
		"The response does not report success."},
		{"{\"success\":true,\"result\":[]}", BLS_PARSE_NO_RESULT,
		"The response has no \"result\" object."},
		{"{\"success\":true,\"result\":{\"projects\":[]}}", BLS_PARSE_NO_TASKS,
		"The response's result has no \"tasks\" array."},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"total\":\"3\"}}",
		BLS_PARSE_BAD_FIELD, "The response's \"total\" is not an integer."},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"total\":-5}}",
			BLS_PARSE_BAD_FIELD,
		"The response's \"total\" is -5, but a count of tasks cannot be negative."},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"pageNo\":-1}}",
			BLS_PARSE_BAD_FIELD,
		"The response's \"pageNo\" is not a valid page number."},
		{"{\"success\":true,\"result\":{\"tasks\":[],\"pageSize\":[]}}",
			BLS_PARSE_BAD_FIELD,
		"The response's \"pageSize\" is not a valid page size."},
		/* a top-level list, as in a bare answer, is not the tasks */
		{"{\"success\":true,\"tasks\":[],\"result\":{}}", BLS_PARSE_NO_TASKS,
		"The response's result has no \"tasks\" array."},
	};
	BlsPage		page;
	BlsParseStatus status;
	char		desc[120];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		snprintf(desc, sizeof(desc), "download shape: exact message: %s",
				 cases[i].error);
		CHECK(shape_error_is(cases[i].body, &bls_shape_download_tasks,
							 cases[i].want, cases[i].error), desc);
	}

	/* totalCount and default mean nothing to ListDownloadTask */
	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[{\"uuid\":\"a\"}],"
				   "\"totalCount\":-4,\"default\":7}}", &page);
	check_status(status, BLS_PARSE_OK, &page,
				 "download shape: totalCount and default are ignored");
	CHECK(page.total == -1 && page.default_id == NULL && page.nitems == 1 &&
		  page.text != NULL,
		  "download shape: no total, no default id, the tasks split");
	CHECK(page.shape == &bls_shape_download_tasks,
		  "download shape: bls_page_parse() uses bls_shape_download_tasks");
	CHECK(bls_page_item(&page, 1) == NULL && !bls_page_read_item(&page, 3, NULL) &&
		  strcmp(page.error, "There is no task 4 on the page.") == 0,
		  "download shape: \"There is no task 4 on the page.\"");
	bls_page_free(&page);

	status = PARSE("{\"success\":true,\"result\":{\"tasks\":[1,{\"a\":tru}]}}", &page);
	CHECK(status == BLS_PARSE_OK && bls_page_item(&page, 1) == NULL &&
		  strncmp(page.error, "Task 2 of the page: ", 20) == 0,
		  "download shape: \"Task 2 of the page: ...\"");
	bls_page_free(&page);
}

/* ListProject: wrapped, "projects", total or totalCount, "default" */
static void
test_project_shape(void)
{
	static const char projects_page[] =
		"{\"success\":true,\"code\":\"OK\",\"message\":\"\",\"requestId\":\"r-p\","
		"\"result\":{\"order\":\"desc\",\"orderBy\":\"createdAt\",\"pageNo\":1,"
		"\"pageSize\":2,\"total\":5,"
		"\"default\":{\"uuid\":\"0b3c0f8e-0000-4000-8000-00000000d3f1\","
		"\"name\":\"default\",\"description\":\"\",\"top\":false,"
		"\"logStoreCount\":6,\"createdTime\":\"2023-03-14T02:00:00Z\","
		"\"updatedTime\":\"2023-03-14T02:00:00Z\",\"projects\":[{\"uuid\":\"decoy\"}]},"
		"\"projects\":["
		"{\"uuid\":\"0b3c0f8e-0000-4000-8000-00000000d3f1\",\"name\":\"default\","
		"\"description\":\"\",\"top\":false,\"logStoreCount\":6,"
		"\"createdTime\":\"2023-03-14T02:00:00Z\",\"updatedTime\":\"2023-03-14T02:00:00Z\"},"
		"{\"uuid\":\"p-2\",\"name\":\"\xe6\x95\xb0\xe6\x8d\xae\",\"description\":\"a \\\"quoted\\\" one\","
		"\"top\":true,\"projects\":[1,2,3],\"result\":{\"projects\":[]}}"
		"]}}";
	static const struct
	{
		const char *body;
		BlsParseStatus want;
		const char *error;
		const char *desc;
	}			bad[] = {
		{"{\"success\":true,\"result\":{\"projects\":[],\"total\":3,\"totalCount\":4}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"total\" (3) and \"totalCount\" (4) disagree.",
		"total and totalCount differ"},
		{"{\"success\":true,\"result\":{\"totalCount\":9223372036854775807,\"projects\":[],"
			"\"total\":18446744073709551615}}", BLS_PARSE_BAD_FIELD, NULL,
		"total and totalCount differ above INT64_MAX"},
		{"{\"success\":true,\"result\":{\"projects\":[],\"totalCount\":\"4\"}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"totalCount\" is not an integer.",
		"totalCount a string"},
		{"{\"success\":true,\"result\":{\"projects\":[],\"totalCount\":-2}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"totalCount\" is -2, but a count of projects cannot be negative.",
		"totalCount negative"},
		{"{\"success\":true,\"result\":{\"projects\":[],\"total\":-1,\"totalCount\":-1}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"total\" is -1, but a count of projects cannot be negative.",
		"both negative"},
		{"{\"success\":true,\"result\":{\"projects\":[],\"default\":[]}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"default\" is a JSON array, not an object.",
		"default an array"},
		{"{\"success\":true,\"result\":{\"projects\":[],\"default\":\"p-1\"}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"default\" is a JSON string, not an object.",
		"default a string"},
		{"{\"success\":true,\"result\":{\"projects\":[],\"default\":{\"name\":\"d\"}}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"default\" has no string \"uuid\".",
		"default without uuid"},
		{"{\"success\":true,\"result\":{\"projects\":[],\"default\":{\"uuid\":42}}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"default\" has no string \"uuid\".",
		"default uuid a number"},
		{"{\"success\":true,\"result\":{\"projects\":[],\"default\":{\"uuid\":null}}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"default\" has no string \"uuid\".",
		"default uuid null"},
		{"{\"success\":true,\"result\":{\"projects\":[],\"default\":{\"uuid\":\"a\\u0000b\"}}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"default\" has a \"uuid\" holding a NUL (\\u0000).",
		"default uuid with a NUL"},
		{"{\"success\":true,\"result\":{\"tasks\":[]}}", BLS_PARSE_NO_TASKS,
			"The response's result has no \"projects\" array.",
		"tasks instead of projects"},
		{"{\"success\":true,\"result\":{\"projects\":{}}}", BLS_PARSE_NO_TASKS,
			"The response's result has no \"projects\" array.",
		"projects an object"},
		{"{\"success\":true,\"result\":{\"default\":{\"uuid\":\"d\",\"projects\":[1,2]}}}",
			BLS_PARSE_NO_TASKS,
			"The response's result has no \"projects\" array.",
		"projects only inside default"},
		{"{\"success\":true,\"projects\":[1,2],\"result\":{}}", BLS_PARSE_NO_TASKS,
			"The response's result has no \"projects\" array.",
		"projects only at the top level"},
		{"{\"success\":true,\"projects\":[]}", BLS_PARSE_NO_RESULT,
			"The response has no \"result\" object.",
		"no result"},
		{"{\"success\":false,\"code\":\"X\",\"result\":{\"projects\":[]}}",
			BLS_PARSE_FAILURE, "The response does not report success.",
		"success false"},
		{"{\"code\":\"X\",\"result\":{\"projects\":[]}}",
			BLS_PARSE_FAILURE, "The response does not report success.",
		"success missing"},
	};
	BlsPage		page;
	BlsParseStatus status;
	BlsJson    *t;
	size_t		len;
	char		desc[120];

	status = PARSE_SHAPE(projects_page, &bls_shape_projects, &page);
	check_status(status, BLS_PARSE_OK, &page, "projects: a page parses");
	CHECK(page.nitems == 2 && page.total == 5 && page.page_no == 1 &&
		  page.page_size == 2, "projects: two projects, total, pageNo, pageSize");
	CHECK(page.text != NULL, "projects: the list is split, not parsed whole");
	check_str(page.default_id, "0b3c0f8e-0000-4000-8000-00000000d3f1",
			  "projects: default_id is the default's uuid");
	check_str(page.code, "OK", "projects: code");
	check_str(page.request_id, "r-p", "projects: requestId");
	CHECK(element_field_is(&page, 0, "uuid", "0b3c0f8e-0000-4000-8000-00000000d3f1"),
		  "projects: the first project's uuid");
	CHECK(element_field_is(&page, 1, "uuid", "p-2"),
		  "projects: the second project's uuid (its own \"projects\" is a field)");
	t = bls_page_item(&page, 1);
	CHECK(bls_json_type(bls_item_field(t, "projects")) == BLS_JSON_ARRAY &&
		  strcmp(bls_json_string(bls_item_field(t, "description"), &len),
				 "a \"quoted\" one") == 0,
		  "projects: the second project read by json-c");
	CHECK(!bls_page_read_item(&page, 2, NULL) &&
		  strcmp(page.error, "There is no project 3 on the page.") == 0,
		  "projects: \"There is no project 3 on the page.\"");
	bls_page_free(&page);
	CHECK(page.default_id == NULL && page.root == NULL,
		  "projects: bls_page_free frees default_id");

	/* total and totalCount: either, both equal, null */
	status = PARSE_SHAPE("{\"success\":true,\"result\":{\"projects\":[],\"totalCount\":4}}",
						 &bls_shape_projects, &page);
	CHECK(status == BLS_PARSE_OK && page.total == 4 && page.nitems == 0 &&
		  page.default_id == NULL,
		  "projects: totalCount alone; empty list; no default");
	bls_page_free(&page);
	status = PARSE_SHAPE("{\"success\":true,\"result\":{\"total\":4,\"projects\":[],\"totalCount\":4}}",
						 &bls_shape_projects, &page);
	CHECK(status == BLS_PARSE_OK && page.total == 4,
		  "projects: total and totalCount that agree");
	bls_page_free(&page);
	status = PARSE_SHAPE("{\"success\":true,\"result\":{\"total\":null,\"projects\":[],\"totalCount\":6}}",
						 &bls_shape_projects, &page);
	CHECK(status == BLS_PARSE_OK && page.total == 6,
		  "projects: a null total leaves totalCount");
	bls_page_free(&page);
	status = PARSE_SHAPE("{\"success\":true,\"result\":{\"projects\":[],\"default\":null}}",
						 &bls_shape_projects, &page);
	CHECK(status == BLS_PARSE_OK && page.total == -1 && page.default_id == NULL,
		  "projects: no total is -1, a null default is no default");
	bls_page_free(&page);
	status = PARSE_SHAPE("{\"success\":true,\"result\":{\"projects\":[],"
						 "\"totalCount\":123456789012345678901234567890,"
						 "\"total\":123456789012345678901234567890}}",
						 &bls_shape_projects, &page);
	CHECK(status == BLS_PARSE_OK && page.total == BLS_MAX_TOTAL,
		  "projects: a huge totalCount is clamped");
	bls_page_free(&page);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		snprintf(desc, sizeof(desc), "projects: %s: status %d%s", bad[i].desc,
				 (int) bad[i].want, bad[i].error ? ", exact message" : "");
		CHECK(shape_error_is(bad[i].body, &bls_shape_projects, bad[i].want,
							 bad[i].error), desc);
	}

	/* a failure keeps the service's words */
	status = PARSE_SHAPE("{\"success\":false,\"code\":\"ProjectNotFound\","
						 "\"message\":\"m\",\"requestId\":\"r\"}",
						 &bls_shape_projects, &page);
	CHECK(status == BLS_PARSE_FAILURE && page.root != NULL &&
		  page.items == NULL && page.default_id == NULL,
		  "projects: success false keeps the root");
	check_str(page.code, "ProjectNotFound", "projects: failure code");
	bls_page_free(&page);

	/* a bad project is named as a project */
	status = PARSE_SHAPE("{\"success\":true,\"result\":{\"projects\":[{},{\"a\":01}]}}",
						 &bls_shape_projects, &page);
	CHECK(status == BLS_PARSE_OK && bls_page_item(&page, 1) == NULL &&
		  strncmp(page.error, "Project 2 of the page: ", 23) == 0,
		  "projects: \"Project 2 of the page: ...\"");
	bls_page_free(&page);
}

/* ListLogStore: a bare object, the list is the top-level "result" */
static void
test_log_store_shape(void)
{
	static const char stores_page[] =
		"{\"order\":\"desc\",\"orderBy\":\"creationDateTime\",\"pageNo\":2,"
		"\"pageSize\":2,\"totalCount\":6,\"result\":["
		"{\"project\":\"default\",\"logStoreName\":\"nginx-access\",\"retention\":30,"
		"\"creationDateTime\":\"2023-03-14T02:10:00Z\","
		"\"lastModifiedTime\":\"2024-09-01T08:00:00Z\",\"shardCount\":4,"
		"\"enableHotRetention\":true,\"hotRetention\":7,"
		"\"tags\":[{\"tagKey\":\"code\",\"tagValue\":\"result\"}],"
		"\"index\":{\"result\":[1,2],\"code\":\"x\",\"fields\":{}}},"
		"{\"project\":\"default\",\"logStoreName\":\"\xe5\xae\xa1\xe8\xae\xa1\",\"retention\":180,"
		"\"shardCount\":1,\"enableHotRetention\":false,\"hotRetention\":0}"
		"]}";
	static const struct
	{
		const char *body;
		BlsParseStatus want;
		const char *error;
		const char *desc;
	}			bad[] = {
		{"{\"pageNo\":1,\"totalCount\":0}", BLS_PARSE_NO_TASKS,
			"The response has no \"result\" array.",
		"no list"},
		{"{\"result\":{\"result\":[]}}", BLS_PARSE_NO_TASKS,
			"The response has no \"result\" array.",
		"result an object holding a result"},
		{"{\"meta\":{\"result\":[1,2,3]},\"items\":[{\"result\":[]}]}",
			BLS_PARSE_NO_TASKS,
			"The response has no \"result\" array.",
		"result arrays only below the top level"},
		{"{\"items\":[{\"code\":\"X\"}],\"meta\":{\"code\":\"Y\"}}", BLS_PARSE_NO_TASKS,
			"The response has no \"result\" array.",
		"no list, codes only below the top level: not a failure"},
		{"{\"code\":null,\"message\":\"m\"}", BLS_PARSE_NO_TASKS,
			"The response has no \"result\" array.",
		"no list, a null code: not a failure"},
		{"{\"result\":[],\"totalCount\":-3}", BLS_PARSE_BAD_FIELD,
			"The response's \"totalCount\" is -3, but a count of log stores cannot be negative.",
		"totalCount negative"},
		{"{\"result\":[],\"totalCount\":1.5}", BLS_PARSE_BAD_FIELD,
			"The response's \"totalCount\" is not an integer.",
		"totalCount not an integer"},
		{"{\"result\":[],\"pageSize\":\"10\"}", BLS_PARSE_BAD_FIELD,
			"The response's \"pageSize\" is not a valid page size.",
		"pageSize a string"},
		{"[{\"result\":[]}]", BLS_PARSE_NOT_OBJECT,
			"The response is a JSON array, not an object.",
		"an array"},
		{"{\"result\":[1,2]", BLS_PARSE_NOT_JSON, NULL, "truncated"},
	};
	BlsPage		page;
	BlsParseStatus status;
	char		desc[120];

	status = PARSE_SHAPE(stores_page, &bls_shape_log_stores, &page);
	check_status(status, BLS_PARSE_OK, &page, "log stores: a page parses");
	CHECK(page.nitems == 2 && page.total == 6 && page.page_no == 2 &&
		  page.page_size == 2, "log stores: two stores, totalCount, pageNo, pageSize");
	CHECK(page.text != NULL, "log stores: the list is split, not parsed whole");
	CHECK(page.code == NULL && page.default_id == NULL,
		  "log stores: the code inside an element is not the page's");
	CHECK(bls_json_type(page.items) == BLS_JSON_ARRAY,
		  "log stores: page.items is the result array");
	CHECK(element_field_is(&page, 0, "logStoreName", "nginx-access"),
		  "log stores: the first store's name");
	CHECK(element_field_is(&page, 1, "logStoreName", "\xe5\xae\xa1\xe8\xae\xa1"),
		  "log stores: the second store's name");
	CHECK(bls_json_type(bls_item_field(bls_page_item(&page, 0), "index")) == BLS_JSON_OBJECT,
		  "log stores: a nested index object reads");
	CHECK(!bls_page_read_item(&page, 2, NULL) &&
		  strcmp(page.error, "There is no log store 3 on the page.") == 0,
		  "log stores: \"There is no log store 3 on the page.\"");
	bls_page_free(&page);

	status = PARSE_SHAPE("{\"result\":[]}", &bls_shape_log_stores, &page);
	CHECK(status == BLS_PARSE_OK && page.nitems == 0 && page.total == -1 &&
		  page.page_no == 0 && page.page_size == 0,
		  "log stores: an empty list, nothing else");
	bls_page_free(&page);

	/* "total" is no spelling of ListLogStore's count */
	status = PARSE_SHAPE("{\"result\":[],\"total\":-8}", &bls_shape_log_stores, &page);
	CHECK(status == BLS_PARSE_OK && page.total == -1,
		  "log stores: \"total\" is not read");
	bls_page_free(&page);

	/* a "success" means nothing in a bare answer; a code beside a list neither */
	status = PARSE_SHAPE("{\"success\":false,\"code\":\"OK\",\"result\":[{}],"
						 "\"totalCount\":1}", &bls_shape_log_stores, &page);
	CHECK(status == BLS_PARSE_OK && page.nitems == 1 && page.total == 1,
		  "log stores: success false and a code beside the list: a page");
	check_str(page.code, "OK", "log stores: the top-level code is kept");
	bls_page_free(&page);

	/* json-c keeps the last of repeated keys */
	status = PARSE_SHAPE("{\"result\":[1],\"result\":[2,3]}",
						 &bls_shape_log_stores, &page);
	CHECK(status == BLS_PARSE_OK && page.nitems == 2 &&
		  bls_json_text(bls_page_item(&page, 0), &(size_t) {0})[0] == '2',
		  "log stores: a repeated result: the last one");
	bls_page_free(&page);

	/* a code and no list: a failure, with the service's words */
	status = PARSE_SHAPE("{\"code\":\"LogStoreNotFound\",\"message\":\"no such store\","
						 "\"requestId\":\"r-9\"}", &bls_shape_log_stores, &page);
	check_status(status, BLS_PARSE_FAILURE, &page,
				 "log stores: a code and no list: FAILURE");
	CHECK(page.root != NULL && page.items == NULL && page.nitems == 0,
		  "log stores: the failure keeps the root");
	check_str(page.code, "LogStoreNotFound", "log stores: failure code");
	check_str(page.message, "no such store", "log stores: failure message");
	check_str(page.request_id, "r-9", "log stores: failure requestId");
	check_str(page.error, "The response carries an error code and no \"result\" array.",
			  "log stores: failure sentence");
	bls_page_free(&page);
	CHECK(page.root == NULL && page.code == NULL,
		  "log stores: bls_page_free clears the failure");

	status = PARSE_SHAPE("{\"code\":7,\"result\":{\"x\":1}}",
						 &bls_shape_log_stores, &page);
	CHECK(status == BLS_PARSE_FAILURE && page.code == NULL,
		  "log stores: a numeric code and a result object: FAILURE");
	bls_page_free(&page);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		snprintf(desc, sizeof(desc), "log stores: %s: status %d%s", bad[i].desc,
				 (int) bad[i].want, bad[i].error ? ", exact message" : "");
		CHECK(shape_error_is(bad[i].body, &bls_shape_log_stores, bad[i].want,
							 bad[i].error), desc);
	}

	/* a bad store is named as a log store */
	status = PARSE_SHAPE("{\"result\":[{\"a\":tru}]}", &bls_shape_log_stores, &page);
	CHECK(status == BLS_PARSE_OK && bls_page_item(&page, 0) == NULL &&
		  strncmp(page.error, "Log store 1 of the page: ", 25) == 0,
		  "log stores: \"Log store 1 of the page: ...\"");
	bls_page_free(&page);

	/* each shape reads its own list out of one document */
	{
		static const char both[] =
			"{\"success\":true,\"result\":{\"tasks\":[1],\"projects\":[1,2],"
			"\"result\":[1,2,3]}}";
		int			n[3];
		const BlsPageShape *shapes[3] = {&bls_shape_download_tasks,
		&bls_shape_projects, &bls_shape_log_stores};

		for (int k = 0; k < 3; k++)
		{
			status = PARSE_SHAPE(both, shapes[k], &page);
			n[k] = status == BLS_PARSE_OK ? page.nitems : -(int) status;
			bls_page_free(&page);
		}
		CHECK(n[0] == 1 && n[1] == 2 && n[2] == -BLS_PARSE_NO_TASKS,
			  "shapes: tasks, projects, and no top-level result array");
	}
}

/*
 * DescribeDownloadTask: result.task, one object, read like a list element
 */
static void
test_describe_shape(void)
{
	static const char describe[] =
		"{\"success\":true,\"code\":\"OK\",\"message\":\"\",\"requestId\":\"r-d\","
		"\"result\":{\"task\":{\"uuid\":\"u-9\",\"name\":\"n\",\"project\":\"default\","
		"\"logStoreName\":\"ls\",\"logStreamName\":\"\",\"query\":\"match *\","
		"\"queryStartTime\":\"2024-11-05T07:37:12Z\","
		"\"queryEndTime\":\"2024-11-05T08:37:12Z\",\"format\":\"json\","
		"\"limit\":1000000,\"order\":\"desc\",\"state\":\"RUNNING\","
		"\"failedCode\":\"\",\"failedMessage\":\"\",\"writtenRows\":12,"
		"\"fileDir\":\"\",\"fileName\":\"\",\"execStartTime\":\"2024-11-05T07:37:13Z\","
		"\"execEndTime\":\"\",\"createdTime\":\"2024-11-05T07:37:12Z\","
		"\"updatedTime\":\"2024-11-05T07:37:13Z\",\"note\":\"a\\u00e9\"},"
		"\"total\":\"ignored\",\"pageNo\":-3}}";
	static const struct
	{
		const char *body;
		BlsParseStatus want;
		const char *error;
	}			cases[] = {
		{"{\"success\":false,\"code\":\"DownloadTaskNotFound\"}", BLS_PARSE_FAILURE,
		"The response does not report success."},
		{"{\"result\":{\"task\":{}}}", BLS_PARSE_FAILURE,
		"The response does not report success."},
		{"{\"success\":true,\"result\":[]}", BLS_PARSE_NO_RESULT,
		"The response has no \"result\" object."},
		{"{\"success\":true,\"result\":{}}", BLS_PARSE_NO_TASKS,
		"The response's result has no \"task\" object."},
		{"{\"success\":true,\"result\":{\"task\":null}}", BLS_PARSE_NO_TASKS,
		"The response's result has no \"task\" object."},
		{"{\"success\":true,\"result\":{\"task\":[{\"uuid\":\"a\"}]}}",
			BLS_PARSE_BAD_FIELD,
		"The response's \"task\" is a JSON array, not an object."},
		{"{\"success\":true,\"result\":{\"task\":\"u-1\"}}", BLS_PARSE_BAD_FIELD,
		"The response's \"task\" is a JSON string, not an object."},
		{"{\"success\":true,\"result\":{\"task\":7}}", BLS_PARSE_BAD_FIELD,
		"The response's \"task\" is a JSON int, not an object."},
		/* a list under "tasks" is not the task */
		{"{\"success\":true,\"result\":{\"tasks\":[{}]}}", BLS_PARSE_NO_TASKS,
		"The response's result has no \"task\" object."},
		/* the object is checked with the document: strict JSON */
		{"{\"success\":true,\"result\":{\"task\":{\"limit\":01}}}",
			BLS_PARSE_NOT_JSON, NULL},
		{"{\"success\":true,\"result\":{\"task\":{\"n\":\"a\x01\"}}}",
			BLS_PARSE_NOT_JSON, NULL},
		{"{\"success\":true,\"result\":{\"task\":{\"n\":\"\\udc00\"}}}",
			BLS_PARSE_NOT_JSON, NULL},
		{"{\"success\":true,\"result\":{\"task\":{\"n\\u0000\":1}}}",
			BLS_PARSE_NOT_JSON, NULL},
		{"[]", BLS_PARSE_NOT_OBJECT, "The response is a JSON array, not an object."},
		{"", BLS_PARSE_EMPTY, "The response body is empty."},
	};
	const char *keys[] = {"uuid", "state", "writtenRows", "fileDir",
	"execEndTime", "note", "nosuch"};
	size_t		keylens[7];
	BlsValue	values[7];
	BlsFields	f;
	BlsPage		page;
	BlsParseStatus status;
	char		desc[160];
	size_t		len;
	const char *s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		snprintf(desc, sizeof(desc), "describe shape: %s -> %s",
				 cases[i].body, cases[i].error ? cases[i].error : "not JSON");
		CHECK(shape_error_is(cases[i].body, &bls_shape_download_task,
							 cases[i].want, cases[i].error), desc);
	}

	status = PARSE_SHAPE(describe, &bls_shape_download_task, &page);
	check_status(status, BLS_PARSE_OK, &page, "describe shape: a task parses");
	if (status != BLS_PARSE_OK)
	{
		bls_page_free(&page);
		return;
	}
	CHECK(page.nitems == 1 && page.total == -1 && page.page_no == 0 &&
		  page.page_size == 0 && page.default_id == NULL,
		  "describe shape: one task, total -1, no paging read");
	CHECK(page.shape == &bls_shape_download_task,
		  "describe shape: the page keeps its shape");
	check_str(page.code, "OK", "describe shape: code");
	check_str(page.request_id, "r-d", "describe shape: request_id");
	CHECK(bls_json_type(bls_page_item(&page, 0)) == BLS_JSON_OBJECT &&
		  bls_page_item(&page, 0) == page.items,
		  "describe shape: task 0 is the object");
	check_str(task_uuid(bls_page_item(&page, 0)), "u-9",
			  "describe shape: bls_page_item sees the uuid");
	CHECK(bls_page_item(&page, 1) == NULL && bls_page_item(&page, -1) == NULL,
		  "describe shape: there is no task 2 or 0");

	fields_over(&f, keys, keylens, values, 7);
	for (int round = 0; round < 2; round++)
	{
		CHECK(bls_page_read_item(&page, 0, &f),
			  "describe shape: bls_page_read_item reads the task");
		CHECK(f.type == BLS_JSON_OBJECT, "describe shape: read an object");
		check_bytes(values[0].str, values[0].len, "u-9", 3,
					"describe shape: read uuid");
		check_bytes(values[1].str, values[1].len, "RUNNING", 7,
					"describe shape: read state");
		CHECK(values[2].type == BLS_JSON_NUMBER && values[2].is_int &&
			  values[2].ival == 12, "describe shape: read writtenRows");
		CHECK(values[3].type == BLS_JSON_STRING && values[3].len == 0 &&
			  values[4].type == BLS_JSON_STRING && values[4].len == 0,
			  "describe shape: read empty strings");
		check_bytes(values[5].str, values[5].len, "a\xc3\xa9", 3,
					"describe shape: read an escaped string");
		s = bls_value_text(&values[5], &len);
		check_bytes(s, len, "\"a\xc3\xa9\"", 5,
					"describe shape: the escaped string's text");
		CHECK(!values[6].present && values[6].type == BLS_JSON_NULL,
			  "describe shape: a missing field");
	}
	CHECK(!bls_page_read_item(&page, 1, &f) &&
		  strcmp(page.error, "There is no task 2 on the page.") == 0,
		  "describe shape: \"There is no task 2 on the page.\"");
	bls_page_item_done(&page, 0);
	CHECK(bls_page_item(&page, 0) == page.items,
		  "describe shape: bls_page_item_done leaves the one task");
	bls_page_free(&page);
	CHECK(page.root == NULL && page.items == NULL && page.nitems == 0,
		  "describe shape: bls_page_free clears the page");

	/* failure keeps the service's words, as for the lists */
	status = PARSE_SHAPE("{\"success\":false,\"code\":\"DownloadTaskNotFound\","
						 "\"message\":\"no such task\",\"requestId\":\"r-x\","
						 "\"result\":{\"task\":{}}}",
						 &bls_shape_download_task, &page);
	CHECK(status == BLS_PARSE_FAILURE && page.nitems == 0 &&
		  page.items == NULL && page.root != NULL,
		  "describe shape: success false keeps the root, no task");
	check_str(page.code, "DownloadTaskNotFound", "describe shape: failure code");
	check_str(page.message, "no such task", "describe shape: failure message");
	check_str(page.request_id, "r-x", "describe shape: failure request_id");
	bls_page_free(&page);

	/* a repeated "task": json-c keeps the last */
	status = PARSE_SHAPE("{\"success\":true,\"result\":{\"task\":{\"uuid\":\"a\"},"
						 "\"task\":{\"uuid\":\"b\"}}}",
						 &bls_shape_download_task, &page);
	CHECK(status == BLS_PARSE_OK && element_field_is(&page, 0, "uuid", "b"),
		  "describe shape: of repeated tasks the last counts");
	bls_page_free(&page);

	/* the list shapes are unchanged by the single one */
	status = PARSE_SHAPE("{\"success\":true,\"result\":{\"task\":{\"uuid\":\"a\"},"
						 "\"tasks\":[{\"uuid\":\"b\"},{\"uuid\":\"c\"}]}}",
						 &bls_shape_download_tasks, &page);
	CHECK(status == BLS_PARSE_OK && page.nitems == 2 && page.text != NULL &&
		  element_field_is(&page, 1, "uuid", "c"),
		  "describe shape: the list shape still reads the tasks array");
	bls_page_free(&page);
}

/*
 * The answers of CreateDownloadTask, GetDownloadTaskLink and
 * DeleteDownloadTask, each parsed from an exact-length copy
 */

typedef enum ReplyKind
{
	REPLY_CREATE,
	REPLY_LINK,
	REPLY_ACK
} ReplyKind;

/* What a reply parser gave back */
typedef struct ReplyOut
{
	BlsParseStatus status;
	char	   *s[3];			/* uuid; fileDir, fileName, link */
	BlsReply	reply;
	char		error[160];
} ReplyOut;

static void
reply_parse(ReplyKind kind, const char *body, size_t len, ReplyOut *out)
{
	char	   *copy = calloc(len > 0 ? len : 1, 1);

	if (copy == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memcpy(copy, body, len);
	memset(out, 0x7f, sizeof(*out));	/* the parsers set everything */
	out->s[0] = out->s[1] = out->s[2] = NULL;
	switch (kind)
	{
		case REPLY_CREATE:
			out->status = bls_parse_create_result(copy, len, &out->s[0],
												  &out->reply, out->error,
												  sizeof(out->error));
			break;
		case REPLY_LINK:
			out->status = bls_parse_link_result(copy, len, &out->s[0],
												&out->s[1], &out->s[2],
												&out->reply, out->error,
												sizeof(out->error));
			break;
		case REPLY_ACK:
			out->status = bls_parse_ack(copy, len, &out->reply, out->error,
										sizeof(out->error));
			break;
	}
	free(copy);
}

static void
reply_free(ReplyOut *out)
{
	for (int i = 0; i < 3; i++)
		free(out->s[i]);
	bls_reply_free(&out->reply);
}

/*
 * body has status want and exactly the error text error (NULL: any); on
 * any status but OK no string is returned
 */
static bool
reply_error_is(ReplyKind kind, const char *body, size_t len,
			   BlsParseStatus want, const char *error)
{
	ReplyOut	out;
	bool		ok;

	reply_parse(kind, body, len, &out);
	ok = out.status == want &&
		(error == NULL ? out.error[0] != '\0' : strcmp(out.error, error) == 0) &&
		memchr(out.error, '\0', sizeof(out.error)) != NULL;
	if (want != BLS_PARSE_OK)
		ok = ok && out.s[0] == NULL && out.s[1] == NULL && out.s[2] == NULL;
	if (!ok)
		printf("#   status %d (want %d), error \"%s\"\n#   want error \"%s\"\n",
			   (int) out.status, (int) want, out.error, error ? error : "(any)");
	reply_free(&out);
	return ok;
}

#define REPLY_ERROR_IS(kind, lit, want, error) \
	reply_error_is((kind), (lit), sizeof(lit) - 1, (want), (error))

/* The refusals every reply parser shares with the pages, byte for byte */
static void
test_reply_common(void)
{
	static const struct
	{
		const char *body;
		BlsParseStatus want;
		const char *error;
	}			cases[] = {
		{"[]", BLS_PARSE_NOT_OBJECT, "The response is a JSON array, not an object."},
		{"null", BLS_PARSE_NOT_OBJECT, "The response is a JSON null, not an object."},
		{"<html>502</html>", BLS_PARSE_NOT_JSON, NULL},
		{"{\"success\":true", BLS_PARSE_NOT_JSON,
		"The response body ends inside a JSON value, after 15 bytes."},
		{"{\"success\":true}{}", BLS_PARSE_NOT_JSON,
		"The response body has unexpected data after the JSON value, at byte 16."},
		/* what json-c takes but is not JSON */
		{"{\"success\":true,\"n\":00}", BLS_PARSE_NOT_JSON,
		"The response body is not valid JSON at byte 20: number with a leading zero."},
		{"{\"success\":true,\"n\":\"\t\"}", BLS_PARSE_NOT_JSON,
		"The response body is not valid JSON at byte 21: control character inside a string."},
		{"{\"success\":true,\"n\":\"\\ud800\"}", BLS_PARSE_NOT_JSON,
		"The response body is not valid JSON at byte 21: lone high surrogate escape in a string."},
		{"{\"success\":true,\"n\":\"\\udfff\"}", BLS_PARSE_NOT_JSON,
		"The response body is not valid JSON at byte 21: lone low surrogate escape in a string."},
		{"{\"success\":true,\"n\":NaN}", BLS_PARSE_NOT_JSON, NULL},
		{"{\"success\":true,\"k\\u0000\":1}", BLS_PARSE_NOT_JSON,
		"The response body has an object key holding an escaped NUL (\\u0000) at byte 16, which is not supported."},
	};
	static const char *const kind_names[] = {"create", "link", "ack"};
	char		desc[200];

	for (int k = REPLY_CREATE; k <= REPLY_ACK; k++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		{
			snprintf(desc, sizeof(desc), "%s: %s -> %s", kind_names[k],
					 cases[i].body, cases[i].error ? cases[i].error : "not JSON");
			CHECK(reply_error_is((ReplyKind) k, cases[i].body,
								 strlen(cases[i].body), cases[i].want,
								 cases[i].error), desc);
		}
	CHECK(REPLY_ERROR_IS(REPLY_CREATE, "", BLS_PARSE_EMPTY,
						 "The response body is empty.") &&
		  REPLY_ERROR_IS(REPLY_LINK, " \r\n", BLS_PARSE_EMPTY,
						 "The response body is empty."),
		  "create, link: an empty body is BLS_PARSE_EMPTY");
	for (int k = REPLY_CREATE; k <= REPLY_LINK; k++)
	{
		snprintf(desc, sizeof(desc), "%s: the envelope's refusals",
				 kind_names[k]);
		CHECK(REPLY_ERROR_IS((ReplyKind) k, "{\"success\":false,\"result\":{\"uuid\":\"u\"}}",
							 BLS_PARSE_FAILURE, "The response does not report success.") &&
			  REPLY_ERROR_IS((ReplyKind) k, "{\"result\":{\"uuid\":\"u\"}}",
							 BLS_PARSE_FAILURE, "The response does not report success.") &&
			  REPLY_ERROR_IS((ReplyKind) k, "{\"success\":\"true\",\"result\":{}}",
							 BLS_PARSE_FAILURE, "The response does not report success.") &&
			  REPLY_ERROR_IS((ReplyKind) k, "{\"success\":true}",
							 BLS_PARSE_NO_RESULT, "The response has no \"result\" object.") &&
			  REPLY_ERROR_IS((ReplyKind) k, "{\"success\":true,\"result\":null}",
							 BLS_PARSE_NO_RESULT, "The response has no \"result\" object."),
			  desc);
	}
}

static void
test_create_result(void)
{
	static const char ok_body[] =
		"{\"success\":true,\"code\":\"OK\",\"message\":\"\",\"requestId\":\"r-c\","
		"\"result\":{\"uuid\":\"a0d1c9e2-7f00-4c3b-9a55-0e1f2a3b4c5d\"}}";
	static const struct
	{
		const char *body;
		const char *error;
	}			bad[] = {
		{"{\"success\":true,\"result\":{}}",
		"The response's result has no \"uuid\" string."},
		{"{\"success\":true,\"result\":{\"uuid\":null}}",
		"The response's result has no \"uuid\" string."},
		{"{\"success\":true,\"result\":{\"uuid\":42}}",
		"The response's \"uuid\" is a JSON int, not a string."},
		{"{\"success\":true,\"result\":{\"uuid\":[\"u\"]}}",
		"The response's \"uuid\" is a JSON array, not a string."},
		{"{\"success\":true,\"result\":{\"uuid\":\"\"}}",
		"The response's \"uuid\" is empty."},
		{"{\"success\":true,\"result\":{\"uuid\":\"u\\u0000v\"}}",
		"The response's \"uuid\" holds a NUL (\\u0000)."},
		/* only result's uuid counts */
		{"{\"success\":true,\"uuid\":\"u\",\"result\":{\"task\":{\"uuid\":\"u\"}}}",
		"The response's result has no \"uuid\" string."},
	};
	ReplyOut	out;
	char		desc[200];
	char	   *uuid;
	char		tiny[8];

	reply_parse(REPLY_CREATE, ok_body, sizeof(ok_body) - 1, &out);
	CHECK(out.status == BLS_PARSE_OK && out.error[0] == '\0',
		  "create: a uuid parses, error empty");
	check_str(out.s[0], "a0d1c9e2-7f00-4c3b-9a55-0e1f2a3b4c5d", "create: the uuid");
	check_str(out.reply.code, "OK", "create: reply code");
	check_str(out.reply.message, "", "create: reply message");
	check_str(out.reply.request_id, "r-c", "create: reply request id");
	reply_free(&out);
	CHECK(out.reply.code == NULL && out.reply.request_id == NULL,
		  "create: bls_reply_free clears the reply");
	bls_reply_free(&out.reply);
	bls_reply_free(NULL);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		snprintf(desc, sizeof(desc), "create: %s -> %s", bad[i].body,
				 bad[i].error);
		CHECK(reply_error_is(REPLY_CREATE, bad[i].body, strlen(bad[i].body),
							 BLS_PARSE_BAD_FIELD, bad[i].error), desc);
	}

	/* a failure keeps the service's words */
	reply_parse(REPLY_CREATE,
				"{\"success\":false,\"code\":\"InvalidParameter\","
				"\"message\":\"queryStartTime\",\"requestId\":\"r-f\"}",
				strlen("{\"success\":false,\"code\":\"InvalidParameter\","
					   "\"message\":\"queryStartTime\",\"requestId\":\"r-f\"}"),
				&out);
	CHECK(out.status == BLS_PARSE_FAILURE && out.s[0] == NULL,
		  "create: success false is a failure");
	check_str(out.reply.code, "InvalidParameter", "create: failure code");
	check_str(out.reply.message, "queryStartTime", "create: failure message");
	check_str(out.reply.request_id, "r-f", "create: failure request id");
	reply_free(&out);

	/* and a malformed result too; a code that is no string is left out */
	reply_parse(REPLY_CREATE,
				"{\"success\":true,\"code\":7,\"requestId\":\"r-b\",\"result\":{}}",
				strlen("{\"success\":true,\"code\":7,\"requestId\":\"r-b\",\"result\":{}}"),
				&out);
	CHECK(out.status == BLS_PARSE_BAD_FIELD && out.reply.code == NULL &&
		  out.reply.message == NULL,
		  "create: a bad field keeps the reply; a numeric code is NULL");
	check_str(out.reply.request_id, "r-b", "create: bad field request id");
	reply_free(&out);

	/* not an object: no reply */
	reply_parse(REPLY_CREATE, "[1]", 3, &out);
	CHECK(out.status == BLS_PARSE_NOT_OBJECT && out.reply.code == NULL &&
		  out.reply.message == NULL && out.reply.request_id == NULL,
		  "create: no reply from an array");
	reply_free(&out);

	/* reply may be NULL; a short error buffer is cut, not overrun */
	CHECK(bls_parse_create_result(ok_body, sizeof(ok_body) - 1, &uuid, NULL,
								  tiny, sizeof(tiny)) == BLS_PARSE_OK &&
		  uuid != NULL && strlen(uuid) == 36,
		  "create: reply NULL is fine");
	free(uuid);
	CHECK(bls_parse_create_result("{}", 2, &uuid, NULL, tiny, sizeof(tiny)) ==
		  BLS_PARSE_FAILURE && uuid == NULL && strcmp(tiny, "The res") == 0,
		  "create: the error is cut to its buffer");
	CHECK(bls_parse_create_result("{}", 2, &uuid, NULL, NULL, 0) ==
		  BLS_PARSE_FAILURE && uuid == NULL,
		  "create: no error buffer at all");
}

static void
test_link_result(void)
{
	static const char ok_body[] =
		"{\"success\":true,\"code\":\"OK\",\"message\":\"\",\"requestId\":\"r-l\","
		"\"result\":{\"fileDir\":\"bos://b/dir\",\"fileName\":\"t.json.gz\","
		"\"link\":\"https://bj.bcebos.com/b/dir/t.json.gz?auth=x\\u0026y\"}}";
	static const struct
	{
		const char *body;
		const char *error;
	}			bad[] = {
		{"{\"success\":true,\"result\":{\"fileDir\":\"d\"}}",
		"The response's result has no \"link\" string."},
		{"{\"success\":true,\"result\":{\"link\":null}}",
		"The response's result has no \"link\" string."},
		{"{\"success\":true,\"result\":{\"link\":\"\"}}",
		"The response's \"link\" is empty."},
		{"{\"success\":true,\"result\":{\"link\":{}}}",
		"The response's \"link\" is a JSON object, not a string."},
		{"{\"success\":true,\"result\":{\"link\":\"h\\u0000\"}}",
		"The response's \"link\" holds a NUL (\\u0000)."},
		{"{\"success\":true,\"result\":{\"fileDir\":1,\"link\":\"h\"}}",
		"The response's \"fileDir\" is a JSON int, not a string."},
		{"{\"success\":true,\"result\":{\"fileDir\":\"d\\u0000\",\"link\":\"h\"}}",
		"The response's \"fileDir\" holds a NUL (\\u0000)."},
		{"{\"success\":true,\"result\":{\"fileName\":false,\"link\":\"h\"}}",
		"The response's \"fileName\" is a JSON boolean, not a string."},
		/* the first bad member is the one reported */
		{"{\"success\":true,\"result\":{\"link\":5,\"fileDir\":5}}",
		"The response's \"fileDir\" is a JSON int, not a string."},
	};
	ReplyOut	out;
	char		desc[200];

	reply_parse(REPLY_LINK, ok_body, sizeof(ok_body) - 1, &out);
	CHECK(out.status == BLS_PARSE_OK && out.error[0] == '\0',
		  "link: a link parses, error empty");
	check_str(out.s[0], "bos://b/dir", "link: fileDir");
	check_str(out.s[1], "t.json.gz", "link: fileName");
	check_str(out.s[2], "https://bj.bcebos.com/b/dir/t.json.gz?auth=x&y",
			  "link: link, escapes decoded");
	check_str(out.reply.request_id, "r-l", "link: reply request id");
	reply_free(&out);

#define LINK_ONLY "{\"success\":true,\"result\":{\"link\":\"h\"}}"
	reply_parse(REPLY_LINK, LINK_ONLY, strlen(LINK_ONLY), &out);
	CHECK(out.status == BLS_PARSE_OK && out.reply.code == NULL,
		  "link: fileDir and fileName may be absent");
	check_str(out.s[0], "", "link: an absent fileDir is \"\"");
	check_str(out.s[1], "", "link: an absent fileName is \"\"");
	check_str(out.s[2], "h", "link: the link alone");
	reply_free(&out);

#define LINK_EMPTY_DIR "{\"success\":true,\"result\":{\"fileDir\":\"\",\"fileName\":null,\"link\":\"h\"}}"
	reply_parse(REPLY_LINK, LINK_EMPTY_DIR, strlen(LINK_EMPTY_DIR), &out);
	CHECK(out.status == BLS_PARSE_OK && out.s[0] != NULL && out.s[0][0] == '\0' &&
		  out.s[1] != NULL && out.s[1][0] == '\0',
		  "link: an empty fileDir and a null fileName are \"\"");
	reply_free(&out);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		snprintf(desc, sizeof(desc), "link: %s -> %s", bad[i].body,
				 bad[i].error);
		CHECK(reply_error_is(REPLY_LINK, bad[i].body, strlen(bad[i].body),
							 BLS_PARSE_BAD_FIELD, bad[i].error), desc);
	}

#define LINK_FAILED "{\"success\":false,\"code\":\"TaskNotFinished\",\"message\":\"m\",\"requestId\":\"r-n\",\"result\":{\"link\":\"h\"}}"
	reply_parse(REPLY_LINK, LINK_FAILED, strlen(LINK_FAILED), &out);
	CHECK(out.status == BLS_PARSE_FAILURE && out.s[0] == NULL &&
		  out.s[1] == NULL && out.s[2] == NULL,
		  "link: success false is a failure, no strings");
	check_str(out.reply.code, "TaskNotFinished", "link: failure code");
	check_str(out.reply.request_id, "r-n", "link: failure request id");
	reply_free(&out);
}

static void
test_ack(void)
{
	static const struct
	{
		const char *body;
		BlsParseStatus want;
		const char *error;
	}			cases[] = {
		{"{\"success\":true,\"code\":\"OK\",\"message\":\"\"}", BLS_PARSE_OK, ""},
		{"{\"success\":true,\"code\":\"Whatever\"}", BLS_PARSE_OK, ""},
		{"{\"code\":\"OK\",\"message\":\"\"}", BLS_PARSE_OK, ""},
		{"{\"success\":null,\"code\":\"OK\"}", BLS_PARSE_OK, ""},
		{"{}", BLS_PARSE_OK, ""},
		{"{\"code\":null,\"requestId\":\"r\"}", BLS_PARSE_OK, ""},
		{"{\"success\":false,\"code\":\"OK\"}", BLS_PARSE_FAILURE,
		"The response does not report success."},
		{"{\"success\":\"true\"}", BLS_PARSE_FAILURE,
		"The response does not report success."},
		{"{\"success\":1}", BLS_PARSE_FAILURE,
		"The response does not report success."},
		{"{\"code\":\"DownloadTaskNotFound\"}", BLS_PARSE_FAILURE,
		"The response carries an error code and no \"success\"."},
		{"{\"code\":\"ok\"}", BLS_PARSE_FAILURE,
		"The response carries an error code and no \"success\"."},
		{"{\"code\":\"OK\\u0000x\"}", BLS_PARSE_FAILURE,
		"The response carries an error code and no \"success\"."},
		{"{\"code\":0}", BLS_PARSE_FAILURE,
		"The response carries an error code and no \"success\"."},
		{"\"OK\"", BLS_PARSE_NOT_OBJECT, "The response is a JSON string, not an object."},
		{"true", BLS_PARSE_NOT_OBJECT, "The response is a JSON boolean, not an object."},
		{"OK", BLS_PARSE_NOT_JSON, NULL},
	};
	ReplyOut	out;
	char		desc[200];
	char		err[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		snprintf(desc, sizeof(desc), "ack: %s -> %d %s", cases[i].body,
				 (int) cases[i].want, cases[i].error ? cases[i].error : "(any)");
		CHECK(reply_error_is(REPLY_ACK, cases[i].body, strlen(cases[i].body),
							 cases[i].want, cases[i].error), desc);
	}

	/* an HTTP 204: no body at all, or only whitespace */
	CHECK(REPLY_ERROR_IS(REPLY_ACK, "", BLS_PARSE_OK, "") &&
		  REPLY_ERROR_IS(REPLY_ACK, " \r\n\t", BLS_PARSE_OK, ""),
		  "ack: an empty body is OK, error empty");
	reply_parse(REPLY_ACK, "", 0, &out);
	CHECK(out.status == BLS_PARSE_OK && out.reply.code == NULL &&
		  out.reply.message == NULL && out.reply.request_id == NULL,
		  "ack: an empty body has no reply");
	reply_free(&out);
	CHECK(bls_parse_ack(NULL, 0, NULL, err, sizeof(err)) == BLS_PARSE_OK &&
		  err[0] == '\0', "ack: a NULL body of length 0 is OK");

#define ACK_FAILED "{\"success\":false,\"code\":\"AccessDenied\",\"message\":\"no\",\"requestId\":\"r-a\"}"
	reply_parse(REPLY_ACK, ACK_FAILED, strlen(ACK_FAILED), &out);
	CHECK(out.status == BLS_PARSE_FAILURE, "ack: a failure");
	check_str(out.reply.code, "AccessDenied", "ack: failure code");
	check_str(out.reply.message, "no", "ack: failure message");
	check_str(out.reply.request_id, "r-a", "ack: failure request id");
	reply_free(&out);
}

/*
 * QueryLogRecord: a bare answer, rows in "resultSet" named by its columns
 */

static const char log_records_page[] =
"{\"resultSet\":{\"queryType\":\"match\","
"\"columns\":[\"@timestamp\",\"@seq\",\"@stream\",\"@raw\",\"status\"],"
"\"columnTypes\":[\"bigint\",\"bigint\",\"varchar\",\"varchar\",\"bigint\"],"
"\"rows\":[[1700000000123,5,\"nginx-01\",\"{\\\"status\\\":500}\",500],"
"[1700000000124, 6 ,\"nginx-02\",\"{\\\"status\\\":200}\",200]],"
"\"isTruncated\":false,\"truncatedReason\":\"\"},"
"\"datasetScanInfo\":{\"isTruncated\":false,\"truncatedReason\":\"\","
"\"statistics\":{\"executionTimeInMs\":3,\"scanCount\":2,\"rows\":[1]}},"
"\"rows\":[[\"decoy\"]],\"nextMarker\":\"v1.5.abcd\"}";

/* A string value's bytes are want */
static bool
value_is(const BlsValue *v, const char *want, size_t len)
{
	return v->type == BLS_JSON_STRING && v->len == len &&
		memcmp(v->str, want, len) == 0;
}

/* bls_page_row_json(page, i) is exactly want (NULL: it fails) */
static bool
row_json_is(BlsPage *page, int i, const char *want)
{
	size_t		len;
	char	   *got = bls_page_row_json(page, i, &len);
	bool		ok;

	if (got == NULL || want == NULL)
		ok = got == NULL && want == NULL;
	else
		ok = len == strlen(want) && memcmp(got, want, len) == 0 &&
			got[len] == '\0';
	if (!ok)
		printf("#   got:  %s\n#   want: %s\n#   error: %s\n",
			   got ? got : "(null)", want ? want : "(null)", page->error);
	free(got);
	return ok;
}

/* The page's error is exactly want */
static bool
error_is(const BlsPage *page, const char *want)
{
	bool		ok = strcmp(page->error, want) == 0;

	if (!ok)
		printf("#   error: \"%s\"\n#   want:  \"%s\"\n", page->error, want);
	return ok;
}

static void
test_log_records_page(void)
{
	const char *keys[] = {"status", "@stream", "absent", "@timestamp"};
	size_t		keylens[4];
	BlsValue	v[4];
	BlsFields	f;
	BlsPage		page;
	BlsParseStatus status;

	status = PARSE_SHAPE(log_records_page, &bls_shape_log_records, &page);
	check_status(status, BLS_PARSE_OK, &page, "log records: a page parses");
	CHECK(page.shape == &bls_shape_log_records && page.nitems == 2 &&
		  page.text != NULL,
		  "log records: two rows, split from resultSet, not the decoys");
	CHECK(page.total == -1 && page.page_no == 0 && page.page_size == 0 &&
		  page.default_id == NULL && page.code == NULL,
		  "log records: no total, no page numbers");
	CHECK(page.ncolumns == 5 && page.column_lens[0] == 10 &&
		  strcmp(page.columns[0], "@timestamp") == 0 &&
		  strcmp(page.columns[4], "status") == 0,
		  "log records: the columns");
	CHECK(strcmp(page.column_types[0], "bigint") == 0 &&
		  strcmp(page.column_types[3], "varchar") == 0,
		  "log records: the column types");
	check_str(page.next_marker, "v1.5.abcd", "log records: nextMarker");
	check_str(page.query_type, "match", "log records: queryType");
	CHECK(!page.truncated && page.truncated_reason == NULL,
		  "log records: not truncated, no reason");
	CHECK(bls_json_type(page.items) == BLS_JSON_ARRAY,
		  "log records: page.items is the rows array");

	fields_over(&f, keys, keylens, v, 4);
	f.want_row = true;
	CHECK(bls_page_read_item(&page, 0, &f) && f.type == BLS_JSON_OBJECT,
		  "log records: row 1 reads as an object");
	CHECK(page.read_json == 0 && page.scratch.len > 0,
		  "log records: row 1 from the text, the escaped @raw decoded by the reader");
	CHECK(v[0].type == BLS_JSON_NUMBER && v[0].is_int && v[0].ival == 500,
		  "log records: status by name");
	CHECK(value_is(&v[1], "nginx-01", 8), "log records: @stream by name");
	CHECK(v[2].type == BLS_JSON_NULL && !v[2].present,
		  "log records: a key that names no column is absent");
	CHECK(v[3].is_int && v[3].ival == INT64_C(1700000000123),
		  "log records: @timestamp, last of the keys, first of the columns");
	check_bytes(f.row_json, f.row_json_len,
				"{\"@timestamp\":1700000000123,\"@seq\":5,\"@stream\":\"nginx-01\","
				"\"@raw\":\"{\\\"status\\\":500}\",\"status\":500}",
				strlen("{\"@timestamp\":1700000000123,\"@seq\":5,\"@stream\":\"nginx-01\","
					   "\"@raw\":\"{\\\"status\\\":500}\",\"status\":500}"),
				"log records: row 1 as JSON, exactly");
	CHECK(f.row_json == page.row_json && f.row_json[f.row_json_len] == '\0',
		  "log records: the row's JSON is the page's, NUL-terminated");

	/* row_json of another row leaves the latest read alone */
	CHECK(row_json_is(&page, 1,
					  "{\"@timestamp\":1700000000124,\"@seq\":6,\"@stream\":\"nginx-02\","
					  "\"@raw\":\"{\\\"status\\\":200}\",\"status\":200}"),
		  "log records: bls_page_row_json of row 2, spaces gone");
	CHECK(value_is(&v[1], "nginx-01", 8) && v[0].ival == 500 &&
		  f.row_json == page.row_json,
		  "log records: bls_page_row_json keeps the latest read's values");

	/* the row alone: no keys, no values */
	{
		BlsFields	none;

		memset(&none, 0, sizeof(none));
		none.want_row = true;
		bls_fields_reset(&none);
		CHECK(bls_page_read_item(&page, 1, &none) && none.row_json != NULL &&
			  strncmp(none.row_json, "{\"@timestamp\":1700000000124,", 28) == 0 &&
			  none.type == BLS_JSON_OBJECT,
			  "log records: a read for the row alone, without keys");
	}

	/* the hints, then a read without the row */
	f.want_row = false;
	CHECK(bls_page_read_item(&page, 1, &f) && v[0].ival == 200 &&
		  value_is(&v[1], "nginx-02", 8) && v[3].ival == INT64_C(1700000000124),
		  "log records: row 2 reads");
	CHECK(f.row_json == NULL && f.row_json_len == 0 && page.row_json == NULL,
		  "log records: no row JSON unless asked for");
	CHECK(!bls_page_read_item(&page, 2, &f) &&
		  error_is(&page, "There is no log record 3 on the page."),
		  "log records: \"There is no log record 3 on the page.\"");
	CHECK(row_json_is(&page, -1, NULL) &&
		  error_is(&page, "There is no log record 0 on the page."),
		  "log records: bls_page_row_json out of range");
	bls_page_free(&page);
	CHECK(page.ncolumns == 0 && page.columns == NULL && page.next_marker == NULL &&
		  page.query_type == NULL && page.row_json == NULL,
		  "log records: bls_page_free clears the result set");

	/* not a result set */
	status = PARSE_SHAPE("{\"result\":[[1]]}", &bls_shape_log_stores, &page);
	CHECK(status == BLS_PARSE_OK && row_json_is(&page, 0, NULL) &&
		  error_is(&page, "The page holds log stores, not the rows of a result set."),
		  "log records: bls_page_row_json of a page of log stores");
	bls_page_free(&page);
}

/* The envelope: what a result set must have, byte for byte */
static void
test_log_records_envelope(void)
{
	static const struct
	{
		const char *body;
		BlsParseStatus want;
		const char *error;
		const char *desc;
	}			bad[] = {
		{"{}", BLS_PARSE_NO_RESULT,
			"The response has no \"resultSet\" object.", "empty object"},
		{"{\"resultSet\":[[1]],\"rows\":[[1]]}", BLS_PARSE_NO_RESULT,
			"The response has no \"resultSet\" object.", "resultSet an array"},
		{"{\"resultSet\":null}", BLS_PARSE_NO_RESULT,
			"The response has no \"resultSet\" object.", "resultSet null"},
		{"{\"resultSet\":{\"columns\":[]},\"rows\":[]}", BLS_PARSE_NO_TASKS,
			"The response's resultSet has no \"rows\" array.", "no rows"},
		{"{\"resultSet\":{\"columns\":[],\"rows\":\"not an array\"}}",
			BLS_PARSE_NO_TASKS,
			"The response's resultSet has no \"rows\" array.", "rows a string"},
		{"{\"code\":\"LogStoreNotFound\",\"resultSet\":{\"rows\":{}}}",
			BLS_PARSE_FAILURE,
			"The response carries an error code and no \"rows\" array.",
		"a code and rows not an array: a failure"},
		{"{\"resultSet\":{\"rows\":[[1]]}}", BLS_PARSE_BAD_FIELD,
			"The response's resultSet has log records but no \"columns\" array.",
		"rows without columns"},
		{"{\"resultSet\":{\"rows\":[[1]],\"columns\":null}}", BLS_PARSE_BAD_FIELD,
			"The response's resultSet has log records but no \"columns\" array.",
		"rows with null columns"},
		{"{\"resultSet\":{\"rows\":[],\"columns\":{\"a\":1}}}", BLS_PARSE_BAD_FIELD,
			"The response's \"columns\" is a JSON object, not an array.",
		"columns an object"},
		{"{\"resultSet\":{\"rows\":[],\"columns\":[\"a\",7]}}", BLS_PARSE_BAD_FIELD,
			"Column 2 of the response's \"columns\" is a JSON int, not a string.",
		"a column name that is a number"},
		{"{\"resultSet\":{\"rows\":[],\"columns\":[\"a\",null]}}", BLS_PARSE_BAD_FIELD,
			"Column 2 of the response's \"columns\" is a JSON null, not a string.",
		"a column name that is null"},
		{"{\"resultSet\":{\"rows\":[],\"columns\":[\"a\",\"b\",\"a\"]}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"columns\" names the column \"a\" twice.",
		"a repeated column"},
		{"{\"resultSet\":{\"rows\":[],\"columns\":[\"x\\u0000y\",\"\\u00e9\","
			"\"x\\u0000y\"]}}", BLS_PARSE_BAD_FIELD,
			"The response's \"columns\" names the column \"x y\" twice.",
		"a repeated column with a NUL"},
		{"{\"resultSet\":{\"rows\":[],\"columns\":[\"\\u00e9\",\"\\u00e9\"]}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"columns\" names the column \"\xc3\xa9\" twice.",
		"a repeated column spelled with an escape"},
		{"{\"resultSet\":{\"rows\":[],\"columns\":[\"a\"],\"columnTypes\":\"bigint\"}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"columnTypes\" is a JSON string, not an array.",
		"columnTypes a string"},
		{"{\"resultSet\":{\"rows\":[],\"columns\":[\"a\",\"b\"],"
			"\"columnTypes\":[\"bigint\",\"bigint\",\"bigint\"]}}", BLS_PARSE_BAD_FIELD,
			"The response's \"columnTypes\" has 3 types for 2 columns.",
		"more types than columns"},
		{"{\"resultSet\":{\"rows\":[],\"columnTypes\":[\"bigint\"]}}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"columnTypes\" has 1 types for 0 columns.",
		"types without columns"},
		{"{\"resultSet\":{\"rows\":[],\"columns\":[\"a\"],"
			"\"columnTypes\":[\"bigint\\u0000x\"]}}", BLS_PARSE_BAD_FIELD,
			"Type 1 of the response's \"columnTypes\" holds a NUL (\\u0000).",
		"a type holding a NUL"},
		{"{\"resultSet\":{\"rows\":[]},\"nextMarker\":5}", BLS_PARSE_BAD_FIELD,
			"The response's \"nextMarker\" is a JSON int, not a string.",
		"nextMarker a number"},
		{"{\"resultSet\":{\"rows\":[]},\"nextMarker\":false}", BLS_PARSE_BAD_FIELD,
			"The response's \"nextMarker\" is a JSON boolean, not a string.",
		"nextMarker false"},
		{"{\"resultSet\":{\"rows\":[]},\"nextMarker\":\"v1\\u0000x\"}",
			BLS_PARSE_BAD_FIELD,
			"The response's \"nextMarker\" holds a NUL (\\u0000).",
		"nextMarker holding a NUL"},
		{"{\"resultSet\":{\"rows\":[],\"isTruncated\":\"false\"}}", BLS_PARSE_BAD_FIELD,
			"The response's resultSet has an \"isTruncated\" that is a JSON string, not a boolean.",
		"resultSet.isTruncated a string"},
		{"{\"resultSet\":{\"rows\":[]},\"datasetScanInfo\":{\"isTruncated\":1}}",
			BLS_PARSE_BAD_FIELD,
			"The response's datasetScanInfo has an \"isTruncated\" that is a JSON int, not a boolean.",
		"datasetScanInfo.isTruncated a number"},
		{"{\"resultSet\":{\"rows\":[]},\"datasetScanInfo\":[]}", BLS_PARSE_BAD_FIELD,
			"The response's \"datasetScanInfo\" is a JSON array, not an object.",
		"datasetScanInfo an array"},
		{"{\"resultSet\":{\"rows\":[]}", BLS_PARSE_NOT_JSON, NULL, "truncated"},
		{"[{\"resultSet\":{\"rows\":[]}}]", BLS_PARSE_NOT_OBJECT,
			"The response is a JSON array, not an object.", "an array"},
	};
	BlsPage		page;
	BlsParseStatus status;
	char		desc[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		snprintf(desc, sizeof(desc), "log records: %s: status %d%s", bad[i].desc,
				 (int) bad[i].want, bad[i].error ? ", exact message" : "");
		CHECK(shape_error_is(bad[i].body, &bls_shape_log_records, bad[i].want,
							 bad[i].error), desc);
	}

	/* a code and no resultSet: the service's error, kept */
	status = PARSE_SHAPE("{\"code\":\"LogStoreNotFound\",\"message\":\"no such store\","
						 "\"requestId\":\"r-7\"}", &bls_shape_log_records, &page);
	check_status(status, BLS_PARSE_FAILURE, &page,
				 "log records: a code and no resultSet: FAILURE");
	CHECK(page.root != NULL && page.items == NULL && page.nitems == 0 &&
		  page.ncolumns == 0, "log records: the failure keeps the root only");
	check_str(page.code, "LogStoreNotFound", "log records: failure code");
	check_str(page.request_id, "r-7", "log records: failure requestId");
	check_str(page.error, "The response carries an error code and no \"resultSet\" object.",
			  "log records: failure sentence");
	bls_page_free(&page);

	/* a code beside a result set is no failure; nor a code inside it */
	status = PARSE_SHAPE("{\"code\":\"OK\",\"resultSet\":{\"rows\":[],\"code\":\"X\"}}",
						 &bls_shape_log_records, &page);
	CHECK(status == BLS_PARSE_OK && page.nitems == 0 && page.ncolumns == 0 &&
		  page.columns == NULL,
		  "log records: a code beside the rows; no columns and no rows is fine");
	bls_page_free(&page);
	status = PARSE_SHAPE("{\"resultSet\":{\"code\":\"X\",\"columns\":[\"a\"]}}",
						 &bls_shape_log_records, &page);
	CHECK(status == BLS_PARSE_NO_TASKS,
		  "log records: a code inside resultSet is not the answer's");
	bls_page_free(&page);
	status = PARSE_SHAPE("{\"resultSet\":{\"rows\":[],\"columns\":null,"
						 "\"columnTypes\":null},\"nextMarker\":null}",
						 &bls_shape_log_records, &page);
	CHECK(status == BLS_PARSE_OK && page.ncolumns == 0 && page.next_marker == NULL,
		  "log records: null columns, types and marker with no rows");
	bls_page_free(&page);

	/* nextMarker: absent, null and "" are no more pages */
	{
		const char *bodies[] = {
			"{\"resultSet\":{\"rows\":[]}}",
			"{\"resultSet\":{\"rows\":[]},\"nextMarker\":null}",
			"{\"resultSet\":{\"rows\":[]},\"nextMarker\":\"\"}",
			"{\"resultSet\":{\"rows\":[],\"nextMarker\":\"inside\"}}",
		};

		for (int k = 0; k < 4; k++)
		{
			status = parse_shape_exact(bodies[k], strlen(bodies[k]),
									   &bls_shape_log_records, &page);
			snprintf(desc, sizeof(desc), "log records: no next page: %s", bodies[k]);
			CHECK(status == BLS_PARSE_OK && page.next_marker == NULL, desc);
			bls_page_free(&page);
		}
		status = PARSE_SHAPE("{\"nextMarker\":\"v1.9.\\u00e9\",\"resultSet\":{\"rows\":[]}}",
							 &bls_shape_log_records, &page);
		CHECK(status == BLS_PARSE_OK, "log records: an escaped marker parses");
		check_str(page.next_marker, "v1.9.\xc3\xa9", "log records: the marker, decoded");
		bls_page_free(&page);
	}

	/* the rows may be found by the locate pass or by json-c: the same page */
	{
		static const char *const bodies[] = {
			"{\"resultSet\":{\"columns\":[\"a\"],\"rows\":[[1],[2]]}}",
			/* an escaped key anywhere in the way: parsed whole */
			"{\"x\\u0079\":1,\"resultSet\":{\"columns\":[\"a\"],\"rows\":[[1],[2]]}}",
			/* a repeated resultSet: json-c keeps the last */
			("{\"resultSet\":{\"rows\":[[9]]},"
			 "\"resultSet\":{\"columns\":[\"a\"],\"rows\":[[1],[2]]}}"),
			/* rows repeated inside: the last */
			"{\"resultSet\":{\"rows\":[[9]],\"columns\":[\"a\"],\"rows\":[[1],[2]]}}",
			/* a resultSet that is no object, then one: the last */
			"{\"resultSet\":7,\"resultSet\":{\"columns\":[\"a\"],\"rows\":[[1],[2]]}}",
		};
		const bool split[] = {true, false, false, false, true};

		for (int k = 0; k < 5; k++)
		{
			status = parse_shape_exact(bodies[k], strlen(bodies[k]),
									   &bls_shape_log_records, &page);
			snprintf(desc, sizeof(desc), "log records: %s: two rows, %s",
					 bodies[k], split[k] ? "split" : "parsed whole");
			CHECK(status == BLS_PARSE_OK && page.nitems == 2 &&
				  (page.text != NULL) == split[k] &&
				  row_json_is(&page, 0, "{\"a\":1}") &&
				  row_json_is(&page, 1, "{\"a\":2}"), desc);
			bls_page_free(&page);
		}
	}
}

/* isTruncated beside the rows or in datasetScanInfo, and the reason */
static void
test_log_records_truncated(void)
{
	static const struct
	{
		const char *rs;			/* members of resultSet besides rows */
		const char *scan;		/* datasetScanInfo, or NULL */
		bool		truncated;
		const char *reason;
	}			cases[] = {
		{"", NULL, false, NULL},
		{"\"isTruncated\":false,\"truncatedReason\":\"x\"", NULL, false, NULL},
		{"\"isTruncated\":true,\"truncatedReason\":\"TooManyRows\"", NULL, true,
		"TooManyRows"},
		{"\"isTruncated\":true", NULL, true, NULL},
		{"\"isTruncated\":null", "{\"isTruncated\":null}", false, NULL},
		{"", "{\"isTruncated\":true,\"truncatedReason\":\"Timeout\"}", true,
		"Timeout"},
		{"\"isTruncated\":false,\"truncatedReason\":\"a\"",
			"{\"isTruncated\":true,\"truncatedReason\":\"b\"}", true, "b"},
		{"\"isTruncated\":true,\"truncatedReason\":\"a\"",
			"{\"isTruncated\":true,\"truncatedReason\":\"b\"}", true, "a"},
		{"\"isTruncated\":true,\"truncatedReason\":\"\"",
			"{\"isTruncated\":true,\"truncatedReason\":\"b\"}", true, "b"},
		{"\"isTruncated\":true,\"truncatedReason\":\"\"",
			"{\"isTruncated\":false,\"truncatedReason\":\"b\"}", true, ""},
		{"\"isTruncated\":true,\"truncatedReason\":5",
			"{\"isTruncated\":true}", true, NULL},
		{"", "{\"truncatedReason\":\"b\",\"statistics\":{\"isTruncated\":true}}",
		false, NULL},
		{"", "null", false, NULL},
	};
	char		body[512];
	char		desc[600];
	BlsPage		page;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
	{
		BlsParseStatus status;
		bool		ok;

		snprintf(body, sizeof(body), "{\"resultSet\":{\"rows\":[]%s%s}%s%s}",
				 cases[k].rs[0] ? "," : "", cases[k].rs,
				 cases[k].scan ? ",\"datasetScanInfo\":" : "",
				 cases[k].scan ? cases[k].scan : "");
		status = parse_shape_exact(body, strlen(body), &bls_shape_log_records, &page);
		ok = status == BLS_PARSE_OK && page.truncated == cases[k].truncated &&
			(cases[k].reason == NULL ? page.truncated_reason == NULL :
			 page.truncated_reason != NULL &&
			 strcmp(page.truncated_reason, cases[k].reason) == 0);
		snprintf(desc, sizeof(desc), "log records: truncated %s, reason %s: %s",
				 cases[k].truncated ? "yes" : "no",
				 cases[k].reason ? cases[k].reason : "none", body);
		CHECK(ok, desc);
		if (!ok)
			printf("#   status %d, truncated %d, reason %s, error %s\n", (int) status,
				   page.truncated, page.truncated_reason ? page.truncated_reason : "(null)",
				   page.error);
		bls_page_free(&page);
	}
}

/* Rows that are not an array of a value per column are refused */
static void
test_log_records_rows(void)
{
	static const char body[] =
		"{\"resultSet\":{\"columns\":[\"a\",\"b\",\"c\",\"d\",\"e\"],\"rows\":["
		"[1,2,3,4,5],"
		"[1,2,3],"
		"42,"
		"{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5},"
		"null,"
		"[1,2,3,4,5,6],"
		"[1,[2],3],"
		"[1,2,3,4,tru],"
		"[1,2,3,4,05],"
		"[],"
		"[1,2,3,4,5]]}}";
	static const char *const errors[] = {
		NULL,
		"Log record 2 of the page has 3 values for 5 columns.",
		"Log record 3 of the page is a JSON number, not an array.",
		"Log record 4 of the page is a JSON object, not an array.",
		"Log record 5 of the page is a JSON null, not an array.",
		"Log record 6 of the page has 6 values for 5 columns.",
		"Log record 7 of the page has 3 values for 5 columns.",
		"Log record 8 of the page: ",
		"Log record 9 of the page: ",
		"Log record 10 of the page has 0 values for 5 columns.",
		NULL,
	};
	const char *keys[] = {"e", "a"};
	size_t		keylens[2];
	BlsValue	v[2];
	BlsFields	f;
	BlsPage		page;
	char		desc[160];

	fields_over(&f, keys, keylens, v, 2);
	CHECK(PARSE_SHAPE(body, &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  page.nitems == 11, "log record rows: the page parses");
	for (int i = 0; i < 11; i++)
	{
		for (int want_row = 0; want_row < 2; want_row++)
		{
			bool		read;

			f.want_row = want_row;
			read = bls_page_read_item(&page, i, &f);
			snprintf(desc, sizeof(desc), "log record rows: row %d%s: %s", i + 1,
					 want_row ? " with its JSON" : "",
					 errors[i] ? errors[i] : "reads");
			if (errors[i] == NULL)
				CHECK(read && f.type == BLS_JSON_OBJECT && v[0].ival == 5 &&
					  v[1].ival == 1 && (f.row_json != NULL) == want_row, desc);
			else
				CHECK(!read && strncmp(page.error, errors[i], strlen(errors[i])) == 0 &&
					  f.row_json == NULL, desc);
		}
		snprintf(desc, sizeof(desc), "log record rows: bls_page_row_json of row %d",
				 i + 1);
		CHECK(row_json_is(&page, i, errors[i] ? NULL :
						  "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5}") &&
			  (errors[i] == NULL ||
			   strncmp(page.error, errors[i], strlen(errors[i])) == 0), desc);
	}
	bls_page_free(&page);

	/* one column, one value: no plural */
	CHECK(PARSE_SHAPE("{\"resultSet\":{\"columns\":[\"a\"],\"rows\":[[1,2],[]]}}",
					  &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  !bls_page_read_item(&page, 0, &f) &&
		  error_is(&page, "Log record 1 of the page has 2 values for 1 column."),
		  "log record rows: \"2 values for 1 column\"");
	bls_page_free(&page);
	CHECK(PARSE_SHAPE("{\"resultSet\":{\"columns\":[\"a\",\"b\"],\"rows\":[[1]]}}",
					  &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  !bls_page_read_item(&page, 0, &f) &&
		  error_is(&page, "Log record 1 of the page has 1 value for 2 columns."),
		  "log record rows: \"1 value for 2 columns\"");
	bls_page_free(&page);

	/* no columns: each row is empty, and an empty object */
	f.want_row = true;
	CHECK(PARSE_SHAPE("{\"resultSet\":{\"columns\":[],\"rows\":[[],[ ]]}}",
					  &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  bls_page_read_item(&page, 1, &f) && f.type == BLS_JSON_OBJECT &&
		  v[0].type == BLS_JSON_NULL && f.row_json_len == 2 &&
		  strcmp(f.row_json, "{}") == 0,
		  "log record rows: no columns, an empty row, {}");
	bls_page_free(&page);

	/* columns the keys do not name are skipped, keys no column names absent */
	{
		const char *k3[] = {"level", "traceId", "missing"};
		size_t		l3[3];
		BlsValue	v3[3];

		fields_over(&f, k3, l3, v3, 3);
		f.want_row = true;
		CHECK(PARSE_SHAPE("{\"resultSet\":{\"columns\":[\"_emulatorExtra\",\"@seq\","
						  "\"level\",\"extra\",\"traceId\"],\"rows\":["
						  "[\"ignored\",1,\"INFO\",{\"x\":[1]},\"t-1\"],"
						  "[\"ignored\",2,\"WARN\",null,\"t-2\"]]}}",
						  &bls_shape_log_records, &page) == BLS_PARSE_OK,
			  "log record rows: extra columns parse");
		CHECK(bls_page_read_item(&page, 0, &f) && page.read_json == 1 &&
			  value_is(&v3[0], "INFO", 4) && value_is(&v3[1], "t-1", 3) &&
			  v3[2].type == BLS_JSON_NULL && !v3[2].present,
			  "log record rows: a nested value in a column no key names: json-c, by name");
		check_bytes(f.row_json, f.row_json_len,
					"{\"_emulatorExtra\":\"ignored\",\"@seq\":1,\"level\":\"INFO\","
					"\"extra\":{\"x\":[1]},\"traceId\":\"t-1\"}",
					strlen("{\"_emulatorExtra\":\"ignored\",\"@seq\":1,\"level\":\"INFO\","
						   "\"extra\":{\"x\":[1]},\"traceId\":\"t-1\"}"),
					"log record rows: the row's JSON keeps the nested value as JSON");
		CHECK(bls_page_read_item(&page, 1, &f) && page.read_json == 0 &&
			  value_is(&v3[0], "WARN", 4) && value_is(&v3[1], "t-2", 3),
			  "log record rows: the next row from the text");
		bls_page_free(&page);
	}
}

/* Column types: numbers and booleans, from strings too; the rest as it came */
static void
test_log_records_types(void)
{
	static const struct
	{
		const char *type;		/* JSON of the column's type */
		const char *value;		/* JSON of the value */
		const char *want;		/* JSON written, or NULL for an error */
		const char *error;		/* the error, after "Column \"c\" of log record 1 " */
	}			cases[] = {
		{"\"bigint\"", "42", "42", NULL},
		{"\"bigint\"", "-0", "0", NULL},
		{"\"bigint\"", "\"42\"", "42", NULL},
		{"\"BigInt\"", "\"-7\"", "-7", NULL},
		{"\"tinyint\"", "\"1.5e3\"", "1.5e3", NULL},
		{"\"smallint\"", "\"-0\"", "-0", NULL},
		{"\"int\"", "\"\\u0031\\u0032\"", "12", NULL},
		{"\"integer\"", "null", "null", NULL},
		{"\"long\"", "12345678901234567890123", "12345678901234567890123", NULL},
		{"\"double\"", "1.50", "1.50", NULL},
		{"\"DOUBLE\"", "\"1E400\"", "1E400", NULL},
		{"\"float\"", "\"0.25\"", "0.25", NULL},
		{"\"real\"", "-1e-3", "-1e-3", NULL},
		{"\"decimal\"", "\"3.14159\"", "3.14159", NULL},
		{"\"numeric\"", "7", "7", NULL},
		{"\"bigint\"", "\"abc\"", NULL, "is typed bigint but holds a string that is not a number."},
		{"\"bigint\"", "\" 12\"", NULL, "is typed bigint but holds a string that is not a number."},
		{"\"bigint\"", "\"012\"", NULL, "is typed bigint but holds a string that is not a number."},
		{"\"bigint\"", "\"NaN\"", NULL, "is typed bigint but holds a string that is not a number."},
		{"\"double\"", "\"1.\"", NULL, "is typed double but holds a string that is not a number."},
		{"\"bigint\"", "\"\"", NULL, "is typed bigint but holds a string that is not a number."},
		{"\"Numeric\"", "true", NULL, "is typed Numeric but holds a JSON boolean."},
		{"\"bigint\"", "{\"v\":1}", NULL, "is typed bigint but holds a JSON object."},
		{"\"double\"", "[1]", NULL, "is typed double but holds a JSON array."},
		{"\"boolean\"", "true", "true", NULL},
		{"\"BOOLEAN\"", "false", "false", NULL},
		{"\"boolean\"", "\"true\"", "true", NULL},
		{"\"boolean\"", "\"false\"", "false", NULL},
		{"\"boolean\"", "null", "null", NULL},
		{"\"boolean\"", "\"TRUE\"", NULL, "is typed boolean but holds a string other than \"true\" and \"false\"."},
		{"\"boolean\"", "1", NULL, "is typed boolean but holds a JSON number."},
		{"\"boolean\"", "[true]", NULL, "is typed boolean but holds a JSON array."},
		{"\"varchar\"", "42", "42", NULL},
		{"\"varchar\"", "\"42\"", "\"42\"", NULL},
		{"\"varchar\"", "true", "true", NULL},
		{"\"varchar\"", "{\"a\" : [1, \"x\"]}", "{\"a\":[1,\"x\"]}", NULL},
		{"\"ipaddress\"", "\"10.0.0.1\"", "\"10.0.0.1\"", NULL},
		{"\"bigint \"", "\"x\"", "\"x\"", NULL},
		{"\"int8\"", "\"x\"", "\"x\"", NULL},
		{"7", "\"x\"", "\"x\"", NULL},
		{"null", "\"x\"", "\"x\"", NULL},
		{"\"\"", "[1,2]", "[1,2]", NULL},
	};
	const char *keys[] = {"c"};
	size_t		keylens[1];
	BlsValue	v[1];
	BlsFields	f;
	BlsPage		page;
	char		body[256];
	char		want[256];
	char		desc[400];

	fields_over(&f, keys, keylens, v, 1);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
	{
		bool		ok;
		bool		read;

		/* a second column, untyped when the types array is one short */
		snprintf(body, sizeof(body),
				 "{\"resultSet\":{\"columns\":[\"c\",\"d\"],\"columnTypes\":[%s],"
				 "\"rows\":[[%s,\"d\"]]}}", cases[k].type, cases[k].value);
		if (parse_shape_exact(body, strlen(body), &bls_shape_log_records,
							  &page) != BLS_PARSE_OK)
		{
			CHECK(false, body);
			printf("#   %s\n", page.error);
			bls_page_free(&page);
			continue;
		}
		if (cases[k].want != NULL)
			snprintf(want, sizeof(want), "{\"c\":%s,\"d\":\"d\"}",
					 cases[k].want);
		else
			snprintf(want, sizeof(want), "Column \"c\" of log record 1 %s",
					 cases[k].error);
		f.want_row = true;
		read = bls_page_read_item(&page, 0, &f);
		if (cases[k].want != NULL)
			ok = read && f.row_json_len == strlen(want) &&
				strcmp(f.row_json, want) == 0 && row_json_is(&page, 0, want);
		else
			ok = !read && f.row_json == NULL && error_is(&page, want) &&
				row_json_is(&page, 0, NULL) && error_is(&page, want);
		snprintf(desc, sizeof(desc), "log record types: %s holding %s: %s",
				 cases[k].type, cases[k].value, want);
		CHECK(ok, desc);
		if (!ok && read)
			printf("#   got %s\n", f.row_json);

		/* without the row's JSON, the type is not looked at */
		f.want_row = false;
		snprintf(desc, sizeof(desc), "log record types: %s holding %s, read as it is",
				 cases[k].type, cases[k].value);
		CHECK(bls_page_read_item(&page, 0, &f) && v[0].present &&
			  f.row_json == NULL, desc);
		bls_page_free(&page);
	}

	/* no columnTypes at all, or shorter: untyped */
	f.want_row = true;
	CHECK(PARSE_SHAPE("{\"resultSet\":{\"columns\":[\"c\",\"n\"],\"columnTypes\":[\"varchar\"],"
					  "\"rows\":[[\"1\",\"abc\"]]}}", &bls_shape_log_records,
					  &page) == BLS_PARSE_OK &&
		  page.column_types[1] == NULL && bls_page_read_item(&page, 0, &f) &&
		  strcmp(f.row_json, "{\"c\":\"1\",\"n\":\"abc\"}") == 0,
		  "log record types: a column without a type");
	bls_page_free(&page);
	CHECK(PARSE_SHAPE("{\"resultSet\":{\"columns\":[\"c\"],\"columnTypes\":[{\"t\":1}],"
					  "\"rows\":[[\"abc\"]]}}", &bls_shape_log_records,
					  &page) == BLS_PARSE_OK &&
		  page.column_types[0] == NULL && row_json_is(&page, 0, "{\"c\":\"abc\"}"),
		  "log record types: a type that is not a string types nothing");
	bls_page_free(&page);

	/* an integer beyond 64 bits keeps its spelling, in a page parsed whole too */
	CHECK(PARSE_SHAPE("{\"resultSet\":{\"columns\":[\"c\"],\"rows\":"
					  "[[123456789012345678901234],[-9223372036854775808]]}}",
					  &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  row_json_is(&page, 0, "{\"c\":123456789012345678901234}") &&
		  bls_page_read_item(&page, 0, &f) && v[0].clamped,
		  "log record types: beyond 64 bits, spelled as it came");
	bls_page_free(&page);
	CHECK(PARSE_SHAPE("{\"x\\u0079\":0,\"resultSet\":{\"columns\":[\"c\"],\"rows\":"
					  "[[123456789012345678901234],[1]]}}",
					  &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  page.text == NULL &&
		  row_json_is(&page, 0, "{\"c\":123456789012345678901234}") &&
		  row_json_is(&page, 1, "{\"c\":1}"),
		  "log record types: beyond 64 bits in a page parsed whole, spelled as it came");
	bls_page_free(&page);

	/* inside an array or object too (which is printed without white space) */
	CHECK(PARSE_SHAPE("{\"resultSet\":{\"columns\":[\"c\"],\"rows\":"
					  "[[ [1, {\"x\" :123456789012345678901234}] ],[[1, {\"x\" : 2}]]]}}",
					  &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  row_json_is(&page, 0, "{\"c\":[1,{\"x\":123456789012345678901234}]}") &&
		  row_json_is(&page, 1, "{\"c\":[1,{\"x\":2}]}"),
		  "log record types: nested beyond 64 bits, spelled as it came");
	bls_page_free(&page);
	CHECK(PARSE_SHAPE("{\"x\\u0079\":0,\"resultSet\":{\"columns\":[\"c\"],\"rows\":"
					  "[[{\"x\":[-123456789012345678901234]}]]}}",
					  &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  page.text == NULL &&
		  row_json_is(&page, 0, "{\"c\":{\"x\":[-123456789012345678901234]}}"),
		  "log record types: nested beyond 64 bits in a page parsed whole, as it came");
	bls_page_free(&page);
}

/* Column names: any string, matched by its bytes, written as json-c would */
static void
test_log_records_names(void)
{
	static const char body[] =
		"{\"resultSet\":{\"columns\":[\"\xe7\x94\xa8\xe6\x88\xb7\",\"a\\\"b\","
		"\"x\\u0000y\",\"x\",\"t\\tab\\/\\u001F\\u007f\",\"\\u00e9\\\\\",\"\"],"
		"\"columnTypes\":[\"varchar\",\"bigint\",\"bigint\",\"bigint\",null,null,null],"
		"\"rows\":[[\"u\",1,2,3,4,5,6]]}}";
	static const char want[] =
		"{\"\xe7\x94\xa8\xe6\x88\xb7\":\"u\",\"a\\\"b\":1,\"x\\u0000y\":2,\"x\":3,"
		"\"t\\tab/\\u001f\x7f\":4,\"\xc3\xa9\\\\\":5,\"\":6}";
	const char *keys[] = {"x\0y", "\xe7\x94\xa8\xe6\x88\xb7", "a\"b", "x", "", "\xc3\xa9\\"};
	size_t		keylens[6] = {3, 6, 3, 1, 0, 3};
	BlsValue	v[6];
	BlsFields	f;
	BlsPage		page;

	memset(&f, 0, sizeof(f));
	f.nkeys = 6;
	f.keys = keys;
	f.keylens = keylens;
	f.values = v;
	f.want_row = true;
	bls_fields_reset(&f);
	CHECK(PARSE_SHAPE(body, &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  page.ncolumns == 7, "log record names: the page parses");
	CHECK(page.column_lens[2] == 3 && memcmp(page.columns[2], "x\0y", 3) == 0 &&
		  page.column_lens[4] == 7 && page.column_lens[6] == 0,
		  "log record names: decoded, a NUL kept with the length");
	CHECK(bls_page_read_item(&page, 0, &f) && page.read_json == 0,
		  "log record names: the row reads from the text");
	CHECK(v[0].ival == 2 && value_is(&v[1], "u", 1) && v[2].ival == 1 &&
		  v[3].ival == 3 && v[4].ival == 6 && v[5].ival == 5,
		  "log record names: \"x\\u0000y\" is not \"x\"; every name matched by its bytes");
	check_bytes(f.row_json, f.row_json_len, want, sizeof(want) - 1,
				"log record names: escaped as json-c escapes them");
	CHECK(row_json_is(&page, 0, want), "log record names: bls_page_row_json the same");
	bls_page_free(&page);

	/* a name in an error message: whole characters, no control characters */
	CHECK(PARSE_SHAPE("{\"resultSet\":{\"columns\":[\"\xe7\x94\xa8\\n\\u0000\xff\"],"
					  "\"columnTypes\":[\"bigint\"],\"rows\":[[\"x\"]]}}",
					  &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  row_json_is(&page, 0, NULL) &&
		  error_is(&page, "Column \"\xe7\x94\xa8  ?\" of log record 1 is typed bigint "
				   "but holds a string that is not a number."),
		  "log record names: a name with control characters and a bad byte in a message");
	bls_page_free(&page);
	CHECK(PARSE_SHAPE("{\"resultSet\":{\"columns\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					  "\xe7\x94\xa8\xe6\x88\xb7\"],\"columnTypes\":[\"int\"],\"rows\":[[[]]]}}",
					  &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  row_json_is(&page, 0, NULL) &&
		  error_is(&page, "Column \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" of log record 1 "
				   "is typed int but holds a JSON array."),
		  "log record names: a long name is cut between characters");
	bls_page_free(&page);
}

/*
 * A record of 512 KB, the service's cap, is read from the text and copied
 * once into the row's JSON; escaped, it is decoded by json-c, and its text
 * copied as it is when json-c would write it the same.
 */
static void
test_log_records_big(void)
{
	const size_t big = 512 * 1024;
	const char *keys[] = {"@raw", "n"};
	size_t		keylens[2];
	BlsValue	v[2];
	BlsFields	f;
	BlsPage		page;
	char	   *body = malloc(3 * big + 256);
	char	   *want = malloc(3 * big + 256);
	char	   *p;
	size_t		len;
	size_t		wlen;
	bool		ok;

	if (body == NULL || want == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	fields_over(&f, keys, keylens, v, 2);
	f.want_row = true;

	/* plain: 512 KB of text, one string */
	p = body + sprintf(body, "{\"resultSet\":{\"columns\":[\"@raw\",\"n\"],\"rows\":[[\"");
	memset(p, 'x', big);
	p += big;
	p += sprintf(p, "\",1]]}}");
	len = p - body;
	CHECK(parse_shape_exact(body, len, &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  bls_page_read_item(&page, 0, &f) && page.read_json == 0 &&
		  page.scratch.len == 0,
		  "log record big: 512 KB plain read from the text, nothing decoded");
	CHECK(v[0].type == BLS_JSON_STRING && v[0].len == big && v[0].json == NULL &&
		  v[0].str[0] == 'x' && v[0].str[big - 1] == 'x' && v[1].ival == 1,
		  "log record big: the string's bytes in the page");
	wlen = sprintf(want, "{\"@raw\":\"");
	memset(want + wlen, 'x', big);
	wlen += big;
	wlen += sprintf(want + wlen, "\",\"n\":1}");
	CHECK(f.row_json_len == wlen && memcmp(f.row_json, want, wlen) == 0,
		  "log record big: the row's JSON, all of it");
	bls_page_free(&page);

	/* escaped as json-c writes it: decoded for the value, copied for the row */
	p = body + sprintf(body, "{\"resultSet\":{\"columns\":[\"@raw\",\"n\"],\"rows\":[[\"");
	for (size_t k = 0; k < big / 4; k++)
	{
		memcpy(p, "a\\\"\\n", 5);
		p += 5;
	}
	p += sprintf(p, "\\u001f\",2]]}}");
	len = p - body;
	CHECK(parse_shape_exact(body, len, &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  bls_page_read_item(&page, 0, &f) && page.read_json == 0 &&
		  v[0].json == NULL && v[0].str == page.scratch.data,
		  "log record big: escaped, decoded by the reader into the page's scratch");
	CHECK(v[0].len == 3 * (big / 4) + 1 && memcmp(v[0].str, "a\"\na\"\n", 6) == 0 &&
		  v[0].str[v[0].len - 1] == '\x1f',
		  "log record big: the escapes decoded");
	wlen = sprintf(want, "{\"@raw\":\"");
	memcpy(want + wlen, body + strlen("{\"resultSet\":{\"columns\":[\"@raw\",\"n\"],\"rows\":[[\""),
		   5 * (big / 4) + 6);
	wlen += 5 * (big / 4) + 6;
	wlen += sprintf(want + wlen, "\",\"n\":2}");
	ok = f.row_json_len == wlen && memcmp(f.row_json, want, wlen) == 0;
	CHECK(ok, "log record big: the row's JSON holds the string as it came");
	{
		size_t		tlen;
		const char *t = bls_value_text(&v[0], &tlen);

		CHECK(tlen == 5 * (big / 4) + 8 && memcmp(t + 1, want + 9, tlen - 2) == 0,
			  "log record big: as json-c writes it, too");
	}
	bls_page_free(&page);

	/* escapes json-c writes otherwise: written as json-c writes them */
	p = body + sprintf(body, "{\"resultSet\":{\"columns\":[\"@raw\",\"n\"],\"rows\":[[\"");
	for (size_t k = 0; k < big / 8; k++)
	{
		memcpy(p, "\\u00e9\\/", 8);
		p += 8;
	}
	p += sprintf(p, "\",3]]}}");
	len = p - body;
	wlen = sprintf(want, "{\"@raw\":\"");
	for (size_t k = 0; k < big / 8; k++)
	{
		memcpy(want + wlen, "\xc3\xa9/", 3);
		wlen += 3;
	}
	wlen += sprintf(want + wlen, "\",\"n\":3}");
	CHECK(parse_shape_exact(body, len, &bls_shape_log_records, &page) == BLS_PARSE_OK &&
		  bls_page_read_item(&page, 0, &f) && v[0].len == 3 * (big / 8) &&
		  f.row_json_len == wlen && memcmp(f.row_json, want, wlen) == 0,
		  "log record big: \\u00e9 and \\/ written as json-c writes them");
	bls_page_free(&page);
	free(body);
	free(want);
}

/*
 * The reader, json-c's reading of a row, and a page parsed whole agree on
 * every value and on the row's JSON.
 */
static void
test_log_records_paths(void)
{
	/* %s: an envelope member; each row a second time with a nested value */
	static const char body_fmt[] =
		"{%s\"resultSet\":{\"columns\":[\"s\",\"e\",\"i\",\"d\",\"b\",\"z\",\"m\",\"u\",\"k\",\"t\"],"
		"\"columnTypes\":[\"varchar\",\"varchar\",\"bigint\",\"double\",\"boolean\","
		"null,\"bigint\",\"bigint\",\"varchar\",\"varchar\"],\"rows\":["
		"[\"plain\",\"q\\\"x\\u00e9\\/\\n\",-12,1.50,true,null,-9223372036854775808,"
		"\"18446744073709551615\",\"\\ud83d\\ude00\",\"tail\"],"
		"[\"plain\",\"q\\\"x\\u00e9\\/\\n\",-12,1.50,true,null,-9223372036854775808,"
		"\"18446744073709551615\",\"\\ud83d\\ude00\",[\"tail\"]],"
		"[\"\",\"\\u0000\",0,-0.0e+1,false,null,9223372036854775807,"
		"\"-1\",\"k\",\"tail\"],"
		"[\"\",\"\\u0000\",0,-0.0e+1,false,null,9223372036854775807,"
		"\"-1\",\"k\",{\"t\":1}]"
		"]}}";
	static const char *const want[] = {
		"{\"s\":\"plain\",\"e\":\"q\\\"x\xc3\xa9/\\n\",\"i\":-12,\"d\":1.50,\"b\":true,"
		"\"z\":null,\"m\":-9223372036854775808,\"u\":18446744073709551615,"
		"\"k\":\"\xf0\x9f\x98\x80\",\"t\":\"tail\"}",
		"{\"s\":\"plain\",\"e\":\"q\\\"x\xc3\xa9/\\n\",\"i\":-12,\"d\":1.50,\"b\":true,"
		"\"z\":null,\"m\":-9223372036854775808,\"u\":18446744073709551615,"
		"\"k\":\"\xf0\x9f\x98\x80\",\"t\":[\"tail\"]}",
		"{\"s\":\"\",\"e\":\"\\u0000\",\"i\":0,\"d\":-0.0e+1,\"b\":false,\"z\":null,"
		"\"m\":9223372036854775807,\"u\":-1,\"k\":\"k\",\"t\":\"tail\"}",
		"{\"s\":\"\",\"e\":\"\\u0000\",\"i\":0,\"d\":-0.0e+1,\"b\":false,\"z\":null,"
		"\"m\":9223372036854775807,\"u\":-1,\"k\":\"k\",\"t\":{\"t\":1}}",
	};
	const char *keys[] = {"s", "e", "i", "d", "b", "z", "m", "u", "k"};
	size_t		keylens[9];
	BlsValue	a[9];
	BlsValue	b[9];
	BlsFields	fa;
	BlsFields	fb;
	BlsPage		split;
	BlsPage		whole;
	char		body[2048];
	char		desc[120];

	fields_over(&fa, keys, keylens, a, 9);
	fields_over(&fb, keys, keylens, b, 9);
	fa.want_row = fb.want_row = true;
	snprintf(body, sizeof(body), body_fmt, "");
	CHECK(parse_shape_exact(body, strlen(body), &bls_shape_log_records,
							&split) == BLS_PARSE_OK && split.text != NULL,
		  "log record paths: the page split");
	snprintf(body, sizeof(body), body_fmt, "\"\\u0078\":1,");
	CHECK(parse_shape_exact(body, strlen(body), &bls_shape_log_records,
							&whole) == BLS_PARSE_OK && whole.text == NULL,
		  "log record paths: the page parsed whole");

	for (int i = 0; i < 4; i++)
	{
		bool		same = true;

		/* even rows: read from the text; odd: the same values, json-c's */
		CHECK(bls_page_read_item(&split, i, &fa) &&
			  split.read_json == (i % 2 ? i + 1 : 0) &&
			  bls_page_read_item(&whole, i, &fb),
			  i % 2 ? "log record paths: a row json-c reads" :
			  "log record paths: a row the reader reads");
		for (int k = 0; k < 9; k++)
		{
			size_t		la;
			size_t		lb;
			const char *ta = bls_value_text(&a[k], &la);
			const char *tb = bls_value_text(&b[k], &lb);

			if (a[k].type != b[k].type || a[k].len != b[k].len ||
				(a[k].len > 0 && memcmp(a[k].str, b[k].str, a[k].len) != 0) ||
				a[k].is_int != b[k].is_int || a[k].ival != b[k].ival ||
				a[k].clamped != b[k].clamped ||
				(a[k].type != BLS_JSON_NULL &&
				 (la != lb || memcmp(ta, tb, la) != 0)))
			{
				printf("#   key %s: %.*s vs %.*s\n", keys[k], (int) la, ta,
					   (int) lb, tb);
				same = false;
			}
		}
		snprintf(desc, sizeof(desc),
				 "log record paths: row %d: the same values split and whole", i + 1);
		CHECK(same, desc);
		snprintf(desc, sizeof(desc),
				 "log record paths: row %d: the same JSON, exactly", i + 1);
		check_bytes(fa.row_json, fa.row_json_len, want[i], strlen(want[i]), desc);
		check_bytes(fb.row_json, fb.row_json_len, want[i], strlen(want[i]), desc);
		CHECK(row_json_is(&split, i, want[i]) && row_json_is(&whole, i, want[i]),
			  "log record paths: bls_page_row_json the same");
	}
	bls_page_free(&split);
	bls_page_free(&whole);
}

/*
 * Text that is not ASCII reads the same whatever json-c is linked: json-c
 * 0.18's strict mode refused every byte above 0x7F in a string, so on
 * Debian 13 this ListProject page (the emulator's, with the default
 * project described as "默认项目") failed "at byte 212: invalid string
 * sequence", as did any task, envelope or error body holding such text.
 */
static void
test_non_ascii_text(void)
{
	static const char page_text[] =
		"{\"success\":true,\"code\":\"OK\",\"message\":\"\",\"result\":{\"order\":\"desc\","
		"\"orderBy\":\"createdAt\",\"pageNo\":1,\"pageSize\":10,\"total\":3,"
		"\"default\":{\"uuid\":\"b5f61324-2c4a-4365-8ee5-b070f513fc6b\",\"name\":\"default\","
		"\"description\":\"\xe9\xbb\x98\xe8\xae\xa4\xe9\xa1\xb9\xe7\x9b\xae\",\"top\":false,"
		"\"logStoreCount\":6,\"createdTime\":\"2023-03-14T02:00:00Z\","
		"\"updatedTime\":\"2023-03-14T02:00:00Z\"},\"projects\":["
		"{\"uuid\":\"f4424dfe-b38c-48b3-a93b-b8a802be2df6\",\"name\":\"iot-\xe8\xae\xbe\xe5\xa4\x87\","
		"\"description\":\"IoT telemetry of the production devices\",\"top\":false,"
		"\"logStoreCount\":2,\"createdTime\":\"2024-07-08T10:20:30Z\","
		"\"updatedTime\":\"2024-10-28T17:45:00Z\"},"
		"{\"uuid\":\"f1fc675a-78c8-4894-924b-0e276c17c8a8\",\"name\":\"\xe6\x95\xb0\xe6\x8d\xae\xe5\xb9\xb3\xe5\x8f\xb0\","
		"\"description\":\"\xe6\x95\xb0\xe6\x8d\xae\xe5\xb9\xb3\xe5\x8f\xb0\xe7\xbb\x84\xe7\x9a\x84 ETL \xe4\xb8\x8e\xe5\xae\xa1\xe8\xae\xa1\xe6\x97\xa5\xe5\xbf\x97\","
		"\"top\":true,\"logStoreCount\":5,\"createdTime\":\"2023-11-02T01:02:03Z\","
		"\"updatedTime\":\"2024-06-30T16:00:00Z\"},"
		"{\"uuid\":\"u-3\",\"tags\":[\"\xc3\xa9t\xc3\xa9\"],\"name\":\"\xf0\x9f\x98\x80\"}"
		"]}}";
	BlsPage		page;
	BlsParseStatus status;
	BlsJson    *t;
	size_t		len;
	char	   *code;
	char	   *message;
	char	   *request_id;

	status = PARSE_SHAPE(page_text, &bls_shape_projects, &page);
	check_status(status, BLS_PARSE_OK, &page, "non-ASCII: the ListProject page parses");
	CHECK(page.nitems == 3 && page.total == 3,
		  "non-ASCII: three projects, total 3");
	check_str(page.default_id, "b5f61324-2c4a-4365-8ee5-b070f513fc6b",
			  "non-ASCII: the default's uuid, after its description");
	CHECK(element_field_is(&page, 0, "name", "iot-\xe8\xae\xbe\xe5\xa4\x87") &&
		  element_field_is(&page, 1, "description",
						   "\xe6\x95\xb0\xe6\x8d\xae\xe5\xb9\xb3\xe5\x8f\xb0\xe7\xbb\x84\xe7\x9a\x84 ETL "
						   "\xe4\xb8\x8e\xe5\xae\xa1\xe8\xae\xa1\xe6\x97\xa5\xe5\xbf\x97"),
		  "non-ASCII: names and descriptions read from the text");
	CHECK(element_field_is(&page, 2, "name", "\xf0\x9f\x98\x80") && page.read_json > 0,
		  "non-ASCII: a task with an array, parsed by json-c, reads");
	t = bls_page_item(&page, 2);
	CHECK(t != NULL &&
		  strcmp(bls_json_string(bls_item_field(t, "name"), &len), "\xf0\x9f\x98\x80") == 0 &&
		  len == 4, "non-ASCII: json-c's string is the same bytes");
	bls_page_free(&page);

	CHECK(ERROR_BODY("{\"code\":\"NoSuchProject\",\"message\":\"\xe9\xa1\xb9\xe7\x9b\xae"
					 "\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8\",\"requestId\":\"r-1\"}",
					 &code, &message, &request_id) &&
		  strcmp(message, "\xe9\xa1\xb9\xe7\x9b\xae\xe4\xb8\x8d\xe5\xad\x98\xe5\x9c\xa8") == 0,
		  "non-ASCII: an error body's message");
	free(code);
	free(message);
	free(request_id);
}

int
main(void)
{
	test_valid_page();
	test_optional_fields();
	test_syntax_errors();
	test_not_object();
	test_failure();
	test_shape_errors();
	test_not_nul_terminated();
	test_nesting();
	test_invalid_utf8();
	test_error_body();
	test_utc_timestamps();
	test_lazy_items();
	test_int64();
	test_read_item();
	test_strict_json();
	test_nul_keys();
	test_int64_min();
	test_total();
	test_download_shape();
	test_project_shape();
	test_log_store_shape();
	test_describe_shape();
	test_reply_common();
	test_create_result();
	test_link_result();
	test_ack();
	test_log_records_page();
	test_log_records_envelope();
	test_log_records_truncated();
	test_log_records_rows();
	test_log_records_types();
	test_log_records_names();
	test_log_records_big();
	test_log_records_paths();
	test_non_ascii_text();

	return tap_done();
}
