/*-------------------------------------------------------------------------
 *
 * test_bce_auth.c
 *		  Unit tests for src/bce_auth.c (bce-auth-v1 signing)
 *
 * Reproduces test vectors A, A2 and B of docs/bls-api.md section 4 and
 * checks URI encoding, query and header canonicalization, argument
 * validation and that the secret key never leaks into any output.  Plain C
 * with no framework: it prints TAP ("ok N - ...", then a "1..N" plan) and
 * exits non-zero if any check failed.  Built and run by test/unit/Makefile,
 * also under ASan/UBSan.
 *
 * test/unit/test_bce_auth.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bce_auth.h"
#include "tap.h"

/* The part of an Authorization value after its last '/' (the signature) */
static const char *
signature_of(const char *auth)
{
	const char *slash = auth ? strrchr(auth, '/') : NULL;

	return slash ? slash + 1 : NULL;
}

/*
 * The signedHeaders field: the part between the last two '/'.  Returns a
 * pointer into a static buffer; good enough for a single-threaded test.
 */
static const char *
signed_headers_of(const char *auth)
{
	static char buf[512];
	const char *last;
	const char *prev;

	if (auth == NULL || (last = strrchr(auth, '/')) == NULL)
		return NULL;
	for (prev = last - 1; prev > auth && *prev != '/'; prev--)
		;
	if ((size_t) (last - prev - 1) >= sizeof(buf))
		return NULL;
	memcpy(buf, prev + 1, (size_t) (last - prev - 1));
	buf[last - prev - 1] = '\0';
	return buf;
}

#define AK "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SK "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define TS "2015-04-27T08:23:49Z"
#define PREFIX "bce-auth-v1/" AK "/" TS "/1800"
#define SIGNING_KEY "1d5ce5f464064cbee060330d973218821825ac6952368a482a592e6615aef479"
#define QUERY_A "partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851"
#define SIG_A "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e"
#define SIG_A2 "1b8de5a23a56eef657c69f94c621e7acd227d049a4ba577f537d5e5cebf0cf32"
#define SIG_B "fcbf6e52452c8eeec965e6440461c29ac508c53e6f3398e8393bc0f6ec2df3b2"

static void
test_timestamp(void)
{
	char		buf[BCE_TIMESTAMP_LEN];

	bce_format_timestamp((time_t) 1430123029, buf);
	check_str(buf, TS, "timestamp: 1430123029 formats as " TS);
	bce_format_timestamp((time_t) 0, buf);
	check_str(buf, "1970-01-01T00:00:00Z", "timestamp: epoch");
	if (sizeof(time_t) >= 8)
	{
		/* 10000-01-01: does not fit the format, must not overflow buf */
		bce_format_timestamp((time_t) 253402300800LL, buf);
		check_str(buf, "0000-00-00T00:00:00Z",
				  "timestamp: year 10000 gives the invalid placeholder");
	}
}

static void
test_uri_encode(void)
{
	static const struct
	{
		const char *in;
		int			keep_slash;
		const char *want;
		const char *desc;
	}			cases[] =
	{
		{"a b", 0, "a%20b", "uri_encode: space is %20"},
		{"a*b", 0, "a%2Ab", "uri_encode: '*' is %2A"},
		{"A-Za-z0-9-._~", 0, "A-Za-z0-9-._~", "uri_encode: unreserved kept, '~' kept"},
		{"数据", 0, "%E6%95%B0%E6%8D%AE", "uri_encode: UTF-8 bytes, uppercase hex"},
		{"/a/b", 0, "%2Fa%2Fb", "uri_encode: '/' encoded without keep_slash"},
		{"/a/b c", 1, "/a/b%20c", "uri_encode: '/' kept with keep_slash"},
		{"+=&:;,?#%", 0, "%2B%3D%26%3A%3B%2C%3F%23%25", "uri_encode: reserved characters"},
		{"", 0, "", "uri_encode: empty string"},
	};
	size_t		i;
	char	   *s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		s = bce_uri_encode(cases[i].in, strlen(cases[i].in),
						   cases[i].keep_slash);
		check_str(s, cases[i].want, cases[i].desc);
		free(s);
	}

	/* the length, not a terminator, bounds the input */
	s = bce_uri_encode("a\0b", 3, 0);
	check_str(s, "a%00b", "uri_encode: embedded NUL byte is %00");
	free(s);
	s = bce_uri_encode("\xff\x80", 2, 0);
	check_str(s, "%FF%80", "uri_encode: high bytes");
	free(s);
}

static void
test_signing_key(void)
{
	char		key[BCE_HEX_DIGEST_LEN];
	int			rc;

	rc = bce_signing_key(SK, PREFIX, key);
	CHECK(rc == 0, "signing_key: returns 0");
	check_str(key, SIGNING_KEY, "signing_key: matches the vectors' SigningKey");
}

static void
test_vector_a(void)
{
	/* the Date header is deliberately not passed: it is not signed */
	BceHeader	h[] = {
		{"Host", "bj.bcebos.com"},
		{"Content-Type", "text/plain"},
		{"Content-Length", "8"},
		{"Content-Md5", "NFzcPqhviddjRNnSOGo4rw=="},
		{"x-bce-date", TS},
	};
	char	   *canon = NULL;
	char	   *auth;

	auth = bce_sign("PUT", "/v1/test/myfolder/readme.txt", QUERY_A,
					h, 5, AK, SK, TS, 1800, &canon);
	CHECK(auth != NULL, "vector A: bce_sign succeeds");
	check_str(canon,
			  "PUT\n"
			  "/v1/test/myfolder/readme.txt\n"
			  QUERY_A "\n"
			  "content-length:8\n"
			  "content-md5:NFzcPqhviddjRNnSOGo4rw%3D%3D\n"
			  "content-type:text%2Fplain\n"
			  "host:bj.bcebos.com\n"
			  "x-bce-date:2015-04-27T08%3A23%3A49Z",
			  "vector A: canonical request");
	check_str(signature_of(auth), SIG_A, "vector A: signature");
	check_str(signed_headers_of(auth),
			  "content-length;content-md5;content-type;host;x-bce-date",
			  "vector A: signedHeaders");
	check_str(auth,
			  PREFIX "/content-length;content-md5;content-type;host;x-bce-date/" SIG_A,
			  "vector A: full Authorization value");
	free(auth);
	free(canon);

	/* the same query in another order and spelling signs identically */
	auth = bce_sign("PUT", "/v1/test/myfolder/readme.txt",
					"uploadId=a44cc9bab11cbd156984767aad637851&partNumber=%39&authorization=x",
					h, 5, AK, SK, TS, 1800, NULL);
	check_str(signature_of(auth), SIG_A,
			  "vector A: query reordered, re-encoded, authorization dropped");
	free(auth);
}

static void
test_vector_a2(void)
{
	BceHeader	h[] = {
		{"Host", "bj.bcebos.com"},
		{"x-bce-date", TS},
	};
	BceHeader	messy[] = {
		{"  x-BCE-Date\t", "  " TS " \t"},
		{"Content-Type", "   "},
		{"Content-Length", ""},
		{"Content-Md5", NULL},
		{" HOST ", "\tbj.bcebos.com  "},
	};
	char	   *canon = NULL;
	char	   *auth;

	auth = bce_sign("PUT", "/v1/test/myfolder/readme.txt", QUERY_A,
					h, 2, AK, SK, TS, 1800, &canon);
	check_str(canon,
			  "PUT\n"
			  "/v1/test/myfolder/readme.txt\n"
			  QUERY_A "\n"
			  "host:bj.bcebos.com\n"
			  "x-bce-date:2015-04-27T08%3A23%3A49Z",
			  "vector A2: canonical request");
	check_str(signature_of(auth), SIG_A2, "vector A2: signature");
	check_str(signed_headers_of(auth), "host;x-bce-date",
			  "vector A2: signedHeaders");
	free(auth);
	free(canon);

	auth = bce_sign("PUT", "/v1/test/myfolder/readme.txt", QUERY_A,
					messy, 5, AK, SK, TS, 1800, NULL);
	check_str(signature_of(auth), SIG_A2,
			  "headers: names/values trimmed, names lowercased");
	check_str(signed_headers_of(auth), "host;x-bce-date",
			  "headers: empty, blank and NULL values are not signed");
	free(auth);
}

static void
test_vector_b(void)
{
	BceHeader	h[] = {
		{"Host", "bls-log.bj.baidubce.com"},
		{"Content-Type", "application/json;charset=utf-8"},
		{"Content-Length", "26"},
		{"x-bce-date", TS},
	};
	char	   *canon = NULL;
	char	   *auth;

	auth = bce_sign("POST", "/v2/logstore/download/list", NULL,
					h, 4, AK, SK, TS, 1800, &canon);
	check_str(canon,
			  "POST\n"
			  "/v2/logstore/download/list\n"
			  "\n"
			  "content-length:26\n"
			  "content-type:application%2Fjson%3Bcharset%3Dutf-8\n"
			  "host:bls-log.bj.baidubce.com\n"
			  "x-bce-date:2015-04-27T08%3A23%3A49Z",
			  "vector B: canonical request (NULL query)");
	check_str(signature_of(auth), SIG_B, "vector B: signature");
	check_str(signed_headers_of(auth),
			  "content-length;content-type;host;x-bce-date",
			  "vector B: signedHeaders");
	free(auth);
	free(canon);

	auth = bce_sign("POST", "/v2/logstore/download/list", "",
					h, 4, AK, SK, TS, 1800, &canon);
	check_str(signature_of(auth), SIG_B, "empty query: \"\" signs like NULL");
	free(auth);
	free(canon);
}

static void
test_canonical_details(void)
{
	BceHeader	h[] = {
		{"Host", "example.com:8080"},
		{"x-bce-date", TS},
		{"x-bce-meta-note", "a:b;c=d /e"},
	};
	char	   *canon = NULL;
	char	   *auth;

	auth = bce_sign("GET", "/a b/数据", "b=2&&a=1&c&d=&AUTHORIZATION=x&e=%7e%2f+%zz",
					h, 3, AK, SK, TS, 1800, &canon);
	check_str(canon,
			  "GET\n"
			  "/a%20b/%E6%95%B0%E6%8D%AE\n"
			  "a=1&b=2&c=&d=&e=~%2F%2B%25zz\n"
			  "host:example.com%3A8080\n"
			  "x-bce-date:2015-04-27T08%3A23%3A49Z\n"
			  "x-bce-meta-note:a%3Ab%3Bc%3Dd%20%2Fe",
			  "canonical: path encoding, query rules, values with ':' ';' '='");
	free(auth);
	free(canon);

	auth = bce_sign("GET", "", NULL, h, 2, AK, SK, TS, 1800, &canon);
	CHECK(canon != NULL && strncmp(canon, "GET\n/\n\n", 7) == 0,
		  "canonical: empty path is \"/\"");
	free(auth);
	free(canon);

	auth = bce_sign("GET", "/", NULL, h, 2, AK, SK, TS, 60, NULL);
	CHECK(auth != NULL &&
		  strncmp(auth, "bce-auth-v1/" AK "/" TS "/60/",
				  strlen("bce-auth-v1/" AK "/" TS "/60/")) == 0,
		  "auth string: expiration is written as given");
	free(auth);
}

static void
test_security_token(void)
{
	BceHeader	h[] = {
		{"Host", "bls-log.bj.baidubce.com"},
		{"x-bce-date", TS},
		{"x-bce-security-token", "tok/en+="},
	};
	char	   *canon = NULL;
	char	   *auth;

	auth = bce_sign("POST", "/v2/logstore/download/list", NULL,
					h, 3, AK, SK, TS, 1800, &canon);
	check_str(signed_headers_of(auth), "host;x-bce-date;x-bce-security-token",
			  "security token: listed in signedHeaders");
	CHECK(canon != NULL &&
		  strstr(canon, "\nx-bce-security-token:tok%2Fen%2B%3D") != NULL,
		  "security token: signed like any x-bce-* header");
	free(auth);
	free(canon);
}

static void
test_no_secret_leak(void)
{
	const char *sk = "SECRET-Key-0123456789-do-not-leak";
	BceHeader	h[] = {
		{"Host", "bls-log.bj.baidubce.com"},
		{"x-bce-date", TS},
	};
	char		key[BCE_HEX_DIGEST_LEN];
	char	   *canon = NULL;
	char	   *auth;

	auth = bce_sign("POST", "/v2/logstore/download/list", "a=1",
					h, 2, AK, sk, TS, 1800, &canon);
	CHECK(auth != NULL && canon != NULL, "secret: signing succeeds");
	CHECK(auth != NULL && strstr(auth, sk) == NULL,
		  "secret: SK absent from the Authorization value");
	CHECK(canon != NULL && strstr(canon, sk) == NULL,
		  "secret: SK absent from the canonical request");
	CHECK(bce_signing_key(sk, PREFIX, key) == 0 &&
		  auth != NULL && strstr(auth, key) == NULL &&
		  canon != NULL && strstr(canon, key) == NULL,
		  "secret: signing key absent from every output");
	free(auth);
	free(canon);
}

static void
test_invalid_arguments(void)
{
	BceHeader	dup[] = {
		{"Host", "a"},
		{"host", "b"},
	};
	BceHeader	badname[] = {{"x bad", "v"}};
	BceHeader	semicolon[] = {{"x;y", "v"}};
	BceHeader	nullname[] = {{NULL, "v"}};
	BceHeader	blankname[] = {{"  ", "v"}};
	char	   *canon = (char *) "sentinel";
	char	   *auth;

	errno = 0;
	auth = bce_sign("GET", "/", NULL, dup, 2, AK, SK, TS, 1800, &canon);
	CHECK(auth == NULL && errno == EINVAL && canon == NULL,
		  "invalid: duplicate header names refused, canonical_out cleared");
	auth = bce_sign("GET", "/", NULL, badname, 1, AK, SK, TS, 1800, NULL);
	CHECK(auth == NULL, "invalid: header name with a space refused");
	auth = bce_sign("GET", "/", NULL, semicolon, 1, AK, SK, TS, 1800, NULL);
	CHECK(auth == NULL, "invalid: header name with ';' refused");
	auth = bce_sign("GET", "/", NULL, nullname, 1, AK, SK, TS, 1800, NULL);
	CHECK(auth == NULL, "invalid: NULL header name refused");
	auth = bce_sign("GET", "/", NULL, blankname, 1, AK, SK, TS, 1800, NULL);
	CHECK(auth == NULL, "invalid: blank header name refused");
	auth = bce_sign("GET", "/", NULL, NULL, 1, AK, SK, TS, 1800, NULL);
	CHECK(auth == NULL, "invalid: NULL headers with nheaders > 0 refused");
	auth = bce_sign("GET", "/", NULL, NULL, 0, AK, "", TS, 1800, NULL);
	CHECK(auth == NULL && errno == EINVAL, "invalid: empty SK refused");
	auth = bce_sign("GET", "/", NULL, NULL, 0, NULL, SK, TS, 1800, NULL);
	CHECK(auth == NULL, "invalid: NULL AK refused");
	auth = bce_sign("GET", "/", NULL, NULL, 0, AK, SK, TS, -1, NULL);
	CHECK(auth == NULL, "invalid: negative expiration refused");

	/* no headers at all is allowed (the caller decides what to sign) */
	auth = bce_sign("GET", "/", NULL, NULL, 0, AK, SK, TS, 1800, &canon);
	check_str(canon, "GET\n/\n\n", "no headers: canonical request");
	CHECK(auth != NULL && strncmp(auth, PREFIX "//", strlen(PREFIX) + 2) == 0,
		  "no headers: empty signedHeaders");
	free(auth);
	free(canon);
}

int
main(void)
{
	test_timestamp();
	test_uri_encode();
	test_signing_key();
	test_vector_a();
	test_vector_a2();
	test_vector_b();
	test_canonical_details();
	test_security_token();
	test_no_secret_leak();
	test_invalid_arguments();

	return tap_done();
}
