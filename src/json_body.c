/*-------------------------------------------------------------------------
 *
 * json_body.c
 *		  Serialize a list request into its JSON body.
 *
 * Kept free of postgres.h so that the unit tests, the sanitizer builds and
 * the fuzzer can link it on its own.  json-c does the escaping, so a project
 * name with quotes or non-ASCII characters cannot break the body.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json_body.h"

static int
add_string(json_object *obj, const char *key, const char *value)
{
	json_object *s;

	if (value == NULL)
		return 0;
	s = json_object_new_string(value);
	if (s == NULL)
		return -1;
	return json_object_object_add(obj, key, s);
}

/*
 * The text of obj as a malloc'd string, its length in *len, and obj freed;
 * NULL if out of memory.  Plain and with '/' unescaped, so that request
 * logs and EXPLAIN output read naturally.
 */
static char *
finish_body(json_object *obj, size_t *len)
{
	const char *text;
	size_t		textlen;
	char	   *result = NULL;

	text = json_object_to_json_string_length(obj,
											 JSON_C_TO_STRING_PLAIN |
											 JSON_C_TO_STRING_NOSLASHESCAPE,
											 &textlen);
	if (text != NULL && (result = malloc(textlen + 1)) != NULL)
	{
		memcpy(result, text, textlen + 1);
		*len = textlen;
	}
	json_object_put(obj);
	return result;
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
	json_object *obj = json_object_new_object();

	if (obj == NULL)
		return NULL;
	for (int i = 0; i < req->nparams; i++)
		if (add_string(obj, req->params[i].key, req->params[i].value) != 0)
			goto fail;
	if (add_string(obj, "orderBy", req->order_by) != 0 ||
		add_string(obj, "order", req->order) != 0 ||
		json_object_object_add(obj, "pageNo",
							   json_object_new_int(req->page_no)) != 0 ||
		json_object_object_add(obj, "pageSize",
							   json_object_new_int(req->page_size)) != 0)
		goto fail;
	return finish_body(obj, len);

fail:
	json_object_put(obj);
	return NULL;
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
	json_object *obj = json_object_new_object();

	if (obj == NULL)
		return NULL;
	for (int i = 0; i < n; i++)
	{
		if (fields[i].is_int)
		{
			if (json_object_object_add(obj, fields[i].key,
									   json_object_new_int64(fields[i].ival)) != 0)
				goto fail;
		}
		else if (add_string(obj, fields[i].key, fields[i].str) != 0)
			goto fail;
	}
	return finish_body(obj, len);

fail:
	json_object_put(obj);
	return NULL;
}
