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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_body.h"
#include "json_reader.h"

/* Append the member key (a string, else the integer ival) to the object b. */
static void
add_member(BlsText *b, const char *key, const char *str, long long ival)
{
	char		num[24];

	bls_text_append(b, b->len > 0 ? "," : "{", 1);
	bls_text_put_string(b, key, strlen(key));
	bls_text_append(b, ":", 1);
	if (str != NULL)
		bls_text_put_string(b, str, strlen(str));
	else
		bls_text_append(b, num, snprintf(num, sizeof(num), "%lld", ival));
}

/* The object's text, NUL-terminated, its length in *len; NULL if out of memory. */
static char *
finish_body(BlsText *b, size_t *len)
{
	bls_text_append(b, b->len > 0 ? "}" : "{}", b->len > 0 ? 1 : 2);
	if (b->nomem)
	{
		free(b->data);
		return NULL;
	}
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
	BlsText		b = {NULL, 0, 0, false};

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
	BlsText		b = {NULL, 0, 0, false};

	for (int i = 0; i < n; i++)
		if (fields[i].is_int || fields[i].str != NULL)
			add_member(&b, fields[i].key,
					   fields[i].is_int ? NULL : fields[i].str, fields[i].ival);
	return finish_body(&b, len);
}
