/*-------------------------------------------------------------------------
 *
 * test_json_body.c
 *		  Unit tests for src/json_body.c (list request bodies)
 *
 * Checks the exact text of bls_list_request_body: omitted NULL fields, the
 * field order (the filters as given, then orderBy, order, pageNo,
 * pageSize), escaping of quotes, backslashes and control characters,
 * non-ASCII passed through as UTF-8, '/' left unescaped, and that the
 * returned length equals strlen.  Plain C with no framework: it prints TAP
 * ("ok N - ...", then a "1..N" plan) and exits non-zero if any check
 * failed.  Built and run by test/unit/Makefile, also under ASan/UBSan.
 *
 * test/unit/test_json_body.c
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_body.h"
#include "tap.h"

/*
 * Build the body of req, compare it with want, and check that the length
 * reported matches strlen.
 */
static void
check_body(const BlsListRequest *req, const char *want, const char *desc)
{
	size_t		len = (size_t) -1;
	char	   *body = bls_list_request_body(req, &len);
	char		what[128];

	check_str(body, want, desc);
	snprintf(what, sizeof(what), "%s: length equals strlen", desc);
	CHECK(body != NULL && len == strlen(body), what);
	free(body);
}

/* The two filters of ListDownloadTask; a NULL value is not sent. */
static BlsParam params[2];

static void
set_filters(BlsListRequest *req, const char *project, const char *store)
{
	params[0].key = "project";
	params[0].value = project;
	params[1].key = "logStoreName";
	params[1].value = store;
	req->params = params;
	req->nparams = 2;
}

int
main(void)
{
	BlsListRequest req;

	/* only the page fields */
	memset(&req, 0, sizeof(req));
	req.page_no = 1;
	req.page_size = 100;
	check_body(&req, "{\"pageNo\":1,\"pageSize\":100}", "page fields only");

	/* every field, in the documented order */
	set_filters(&req, "proj", "store");
	req.order_by = "createdTime";
	req.order = "desc";
	req.page_no = 3;
	req.page_size = 50;
	check_body(&req,
			   "{\"project\":\"proj\",\"logStoreName\":\"store\","
			   "\"orderBy\":\"createdTime\",\"order\":\"desc\","
			   "\"pageNo\":3,\"pageSize\":50}",
			   "all fields in documented order");

	/* a subset keeps the same relative order */
	memset(&req, 0, sizeof(req));
	req.order = "asc";
	set_filters(&req, NULL, "ls");
	req.page_no = 2;
	req.page_size = 10;
	check_body(&req,
			   "{\"logStoreName\":\"ls\",\"order\":\"asc\","
			   "\"pageNo\":2,\"pageSize\":10}",
			   "subset of fields keeps the order");

	/* quotes, backslashes, non-ASCII and '/' */
	memset(&req, 0, sizeof(req));
	set_filters(&req, "数据平台/a\"b\\c", "say \"hi\"\\");
	req.page_no = 1;
	req.page_size = 100;
	check_body(&req,
			   "{\"project\":\"数据平台/a\\\"b\\\\c\","
			   "\"logStoreName\":\"say \\\"hi\\\"\\\\\","
			   "\"pageNo\":1,\"pageSize\":100}",
			   "quotes and backslashes escaped, UTF-8 and '/' kept");

	/* control characters are escaped, so the body stays one line */
	memset(&req, 0, sizeof(req));
	set_filters(&req, "a\nb\tc\x01", NULL);
	req.page_no = 1;
	req.page_size = 1;
	check_body(&req,
			   "{\"project\":\"a\\nb\\tc\\u0001\",\"pageNo\":1,\"pageSize\":1}",
			   "control characters escaped");

	/* empty strings are present, not omitted */
	memset(&req, 0, sizeof(req));
	set_filters(&req, "", NULL);
	req.order_by = "";
	req.page_no = 1;
	req.page_size = 1;
	check_body(&req,
			   "{\"project\":\"\",\"orderBy\":\"\",\"pageNo\":1,\"pageSize\":1}",
			   "empty strings are kept");

	/* integer extremes */
	memset(&req, 0, sizeof(req));
	req.page_no = INT_MAX;
	req.page_size = 0;
	check_body(&req, "{\"pageNo\":2147483647,\"pageSize\":0}",
			   "INT_MAX page number");

	/* filters keep the order given, whatever their keys */
	memset(&req, 0, sizeof(req));
	{
		BlsParam	p[3] = {{"namePattern", "a"}, {"project", NULL}, {"description", "b"}};

		req.params = p;
		req.nparams = 3;
		req.page_no = 1;
		req.page_size = 5;
		check_body(&req,
				   "{\"namePattern\":\"a\",\"description\":\"b\",\"pageNo\":1,\"pageSize\":5}",
				   "filters in the order given, NULL ones left out");
	}

	/* a create's body: strings in order, NULL ones left out, an integer */
	{
		BlsBodyField f[4] = {
			{"name", "a \"b\"", false, 0},
			{"project", NULL, false, 0},
			{"limit", NULL, true, 1000000},
			{"queryStartTime", "2024-11-05T00:00:00Z", false, 0},
		};
		size_t		len = 0;
		char	   *body = bls_json_body(f, 4, &len);

		check_str(body,
				  "{\"name\":\"a \\\"b\\\"\",\"limit\":1000000,"
				  "\"queryStartTime\":\"2024-11-05T00:00:00Z\"}",
				  "JSON body: strings, NULL left out, an integer");
		CHECK(body != NULL && len == strlen(body), "JSON body: length equals strlen");
		free(body);
	}

	return tap_done();
}
