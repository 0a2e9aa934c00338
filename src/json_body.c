/*-------------------------------------------------------------------------
 *
 * json_body.c
 *		  Serialize a list request into its JSON body.
 *
 * Kept free of postgres.h so that the unit tests, the sanitizer builds and
 * the fuzzer can link it on its own.  Strings are escaped by
 * bls_json_put_string() (json_reader.c), so a project name with quotes or
 * non-ASCII characters cannot break the body; '/' is left unescaped, so
 * that request logs and EXPLAIN output read naturally.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_body.h"
#include "json_reader.h"

/* A body being written: malloc'd text; failed once out of memory. */
typedef struct Body
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} Body;

/* Make room for n more bytes and a NUL; false if out of memory. */
static bool
body_reserve(Body *b, size_t n)
{
	char	   *more;
	size_t		cap = b->cap > 0 ? b->cap : 128;

	if (b->failed)
		return false;
	while (cap - b->len <= n)
	{
		if (cap > SIZE_MAX / 2)
		{
			b->failed = true;
			return false;
		}
		cap *= 2;
	}
	if (cap == b->cap)
		return true;
	if ((more = realloc(b->data, cap)) == NULL)
	{
		b->failed = true;
		return false;
	}
	b->data = more;
	b->cap = cap;
	return true;
}

/* Append the member key (a string, else the integer ival) to the object. */
static void
add_member(Body *b, const char *key, const char *str, long long ival)
{
	size_t		klen = strlen(key);
	size_t		slen = str ? strlen(str) : 0;

	/* each byte escapes to at most six, plus quotes, ',' ':' and a number */
	if (klen > SIZE_MAX / 8 || slen > SIZE_MAX / 8 ||
		!body_reserve(b, 6 * (klen + slen) + 32))
		return;
	b->data[b->len] = b->len > 0 ? ',' : '{';
	b->len++;
	b->len = bls_json_put_string(b->data + b->len, key, klen) - b->data;
	b->data[b->len++] = ':';
	if (str != NULL)
		b->len = bls_json_put_string(b->data + b->len, str, slen) - b->data;
	else
		b->len += sprintf(b->data + b->len, "%lld", ival);
}

/* The object's text, NUL-terminated, its length in *len; NULL if out of memory. */
static char *
finish_body(Body *b, size_t *len)
{
	if (b->len == 0 && body_reserve(b, 2))
		b->data[b->len++] = '{';
	if (!body_reserve(b, 1))
	{
		free(b->data);
		return NULL;
	}
	b->data[b->len++] = '}';
	b->data[b->len] = '\0';
	*len = b->len;
	return b->data;
}

/*
 * bls_list_request_body
 *		Return the request's JSON body as a malloc'd, NUL-terminated string
 *		and its length in *len; NULL if out of memory.  The caller frees it.
 *
 * Fields appear in a fixed order so that request logs and EXPLAIN output are
 * stable.
 */
char *
bls_list_request_body(const BlsListRequest *req, size_t *len)
{
	Body		b = {NULL, 0, 0, false};

	for (int i = 0; i < req->nparams; i++)
		if (req->params[i].value != NULL)
			add_member(&b, req->params[i].key, req->params[i].value, 0);
	if (req->order_by != NULL)
		add_member(&b, "orderBy", req->order_by, 0);
	if (req->order != NULL)
		add_member(&b, "order", req->order, 0);
	add_member(&b, "pageNo", NULL, req->page_no);
	add_member(&b, "pageSize", NULL, req->page_size);
	return finish_body(&b, len);
}

/*
 * bls_json_body
 *		A JSON object of fields, in the order given, as a malloc'd string
 *		and its length in *len; NULL if out of memory.  A string field that
 *		is NULL is left out, so the service applies its default.
 */
char *
bls_json_body(const BlsBodyField *fields, int n, size_t *len)
{
	Body		b = {NULL, 0, 0, false};

	for (int i = 0; i < n; i++)
		if (fields[i].is_int || fields[i].str != NULL)
			add_member(&b, fields[i].key,
					   fields[i].is_int ? NULL : fields[i].str, fields[i].ival);
	return finish_body(&b, len);
}
