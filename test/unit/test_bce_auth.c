/*-------------------------------------------------------------------------
 *
 * test_bce_auth.c
 *		  Unit tests for src/bce_auth.c (bce-auth-v1 signing)
 *
 * Reproduces test vectors A, A2 and B of docs/bls-api.md section 4 and an
 * independently computed QueryLogRecord vector, and checks URI encoding,
 * query and header canonicalization, the query string as sent, argument
 * validation and that the secret key never leaks into any output.  Plain C
 * with no framework: it prints TAP ("ok N - ...", then a "1..N" plan) and
 * exits non-zero if any check failed.  Built and run by test/unit/Makefile,
 * also under ASan/UBSan.
 *
 * test/unit/test_bce_auth.c
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L	/* strdup, strtok_r, strncasecmp */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bce_auth.h"
#include "tap.h"
#include "testing.h"

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

/*
 * The CanonicalQuery bce_sign derives from a raw query string: the third
 * line of the canonical request of a GET of "/" signing no headers.
 * Returns a malloc'd string or NULL.
 */
static char *
canonical_query_of(const char *query)
{
	char	   *canon = NULL;
	char	   *auth;
	char	   *start;
	char	   *end;
	char	   *out = NULL;

	auth = bce_sign("GET", "/", query, NULL, 0, AK, SK, TS, 1800, &canon);
	free(auth);
	if (canon != NULL && strncmp(canon, "GET\n/\n", 6) == 0)
	{
		start = canon + 6;
		end = strchr(start, '\n');
		if (end != NULL)
		{
			out = malloc((size_t) (end - start) + 1);
			if (out != NULL)
			{
				memcpy(out, start, (size_t) (end - start));
				out[end - start] = '\0';
			}
		}
	}
	free(canon);
	return out;
}

/* qsort comparator for C strings, byte order */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * What a server that reads the query string sent would sign: the sent
 * parameters but "authorization" (its encoded key is ASCII, so any case of
 * it is compared here), sorted by byte order and joined.  Returns a malloc'd
 * string or NULL.
 */
static char *
signed_from_sent(const char *sent)
{
	char	   *copy = strdup(sent);
	char	   *items[64];
	size_t		n = 0;
	size_t		len = 0;
	size_t		i;
	char	   *tok;
	char	   *save = NULL;
	char	   *out;

	if (copy == NULL)
		return NULL;
	for (tok = strtok_r(copy, "&", &save); tok != NULL && n < 64;
		 tok = strtok_r(NULL, "&", &save))
	{
		if (strncasecmp(tok, "authorization=", 14) == 0)
			continue;
		items[n++] = tok;
		len += strlen(tok) + 1;
	}
	if (n > 1)
		qsort(items, n, sizeof(char *), cmp_str);
	out = malloc(len + 1);
	if (out != NULL)
	{
		out[0] = '\0';
		for (i = 0; i < n; i++)
		{
			if (i > 0)
				strcat(out, "&");
			strcat(out, items[i]);
		}
	}
	free(copy);
	return out;
}

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

/*
 * CanonicalQuery, rule by rule (bls-api.md section 4): every key and value
 * percent-decoded, then UriEncoded (only A-Z a-z 0-9 - . _ ~ kept, %XY in
 * uppercase, a space %20 and never '+'); "key=value" with '=' kept for an
 * empty value; sorted by byte order of those encoded strings; joined by
 * '&'; "authorization" left out.
 */
static void
test_canonical_query_rules(void)
{
	static const struct
	{
		const char *in;
		const char *want;
		const char *desc;
	}			cases[] =
	{
		{"b=2&a=1", "a=1&b=2", "cq: sorted"},
		{"~=1&a=1&_=1&A=1&0=1&.=1&-=1", "-=1&.=1&0=1&A=1&_=1&a=1&~=1",
		"cq: byte order, uppercase before '_' before lowercase"},
		/* "a=" sorts after "a-=" and "a0=": the whole item is compared */
		{"a=1&a0=1&a-=1", "a-=1&a0=1&a=1", "cq: sorted as key=value strings, not by key"},
		/* decoded, '~' (0x7E) < 0xC3; encoded, "%C3%AB" < "~" */
		{"%7E=1&%C3%AB=1", "%C3%AB=1&~=1", "cq: sorted by the encoded strings"},
		{"k=b&k=a&k=", "k=&k=a&k=b", "cq: repeated key: every value kept, sorted"},
		{"k=10&k=2&k=1", "k=1&k=10&k=2", "cq: repeated key: values in byte order"},
		{"flag&x=1", "flag=&x=1", "cq: key without '=' signs as \"flag=\""},
		{"e=&f", "e=&f=", "cq: empty value keeps its '='"},
		{"=v", "=v", "cq: empty key kept"},
		{"a=b=c", "a=b%3Dc", "cq: split on the first '='"},
		{"%3D=%26", "%3D=%26", "cq: encoded '=' and '&' do not split"},
		{"Authorization=x&AUTHORIZATION=y&authorization&%61uthorization=z"
			"&authorizationx=1&x-authorization=2",
		"authorizationx=1&x-authorization=2",
		"cq: authorization dropped in any case and spelling, only it"},
		{"q=%2a%2A*", "q=%2A%2A%2A", "cq: '*' and %2a become %2A"},
		{"q=%7e%7E~", "q=~~~", "cq: %7e becomes '~'"},
		{"q=%41%62c-._", "q=Abc-._", "cq: escaped unreserved characters decoded"},
		{"q=a b&r=a%20b", "q=a%20b&r=a%20b", "cq: space is %20"},
		{"q=a+b&r=a%2Bb&s=a%2bb", "q=a%2Bb&r=a%2Bb&s=a%2Bb",
		"cq: '+' is a literal plus, %2B, never a space"},
		{"q=:|\"'/", "q=%3A%7C%22%27%2F", "cq: ':' '|' '\"' '\\'' '/' escaped"},
		{"q=#x?y;,$@!()[]", "q=%23x%3Fy%3B%2C%24%40%21%28%29%5B%5D",
		"cq: other reserved characters escaped"},
		{"q=用户&r=%e7%94%a8%e6%88%b7", "q=%E7%94%A8%E6%88%B7&r=%E7%94%A8%E6%88%B7",
		"cq: UTF-8 of \"用户\", raw or escaped in lowercase"},
		{"q=Zoë&r=Zo%c3%ab", "q=Zo%C3%AB&r=Zo%C3%AB", "cq: UTF-8 of \"Zoë\""},
		{"%E7%94%A8%E6%88%B7=1", "%E7%94%A8%E6%88%B7=1", "cq: non-ASCII key"},
		{"q=%FF%00x", "q=%FF%00x", "cq: invalid UTF-8 and NUL bytes kept as bytes"},
		{"q=%zz%4%", "q=%25zz%254%25", "cq: a '%' without two hex digits is %25"},
		{"&&a=1&&", "a=1", "cq: empty segments dropped"},
		{"&", "", "cq: only separators: empty"},
		{"", "", "cq: empty query"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *got = canonical_query_of(cases[i].in);

		check_str(got, cases[i].want, cases[i].desc);
		free(got);
	}
}

/*
 * bce_normalize_query: the query string as sent, each key and value
 * re-encoded, in the caller's order.
 */
static void
test_normalize_query(void)
{
	static const struct
	{
		const char *in;
		const char *want;
		const char *desc;
	}			cases[] =
	{
		{"b=2&&a=%7e", "b=2&a=~", "normalize: order kept, empty segment dropped"},
		{"q=a+b&x", "q=a%2Bb&x=", "normalize: '+' sent as %2B, '=' added"},
		{"q=a b#c", "q=a%20b%23c", "normalize: space and '#' escaped"},
		{"q=%2a&r=Zo%c3%ab", "q=%2A&r=Zo%C3%AB", "normalize: uppercase hex"},
		{"authorization=x&a=1", "authorization=x&a=1",
		"normalize: authorization kept (sent, not signed)"},
		{"pageNo=1&pageSize=10&project=%E6%95%B0", "pageNo=1&pageSize=10&project=%E6%95%B0",
		"normalize: an encoded list query is sent unchanged"},
		{"", "", "normalize: empty query"},
	};
	/* spellings of queries with everything a statement may hold */
	static const char *const messy[] = {
		"query=match status:500 AND 用户:\"Zoë\" | select count(*)&limit=10",
		"query=a+b&%2a=%2a&k&k=&=v&Authorization=1&authorization&z=%zz%",
		"logStreamName=&marker=&query=o'brien%7c*&sort=desc&project=default",
		"b=%c3%ab&a=~&a=%7E&a=+&%FF=%00",
	};
	size_t		i;
	char	   *s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		s = bce_normalize_query(cases[i].in);
		check_str(s, cases[i].want, cases[i].desc);
		free(s);
	}
	s = bce_normalize_query(NULL);
	check_str(s, "", "normalize: NULL is the empty query");
	free(s);

	for (i = 0; i < sizeof(messy) / sizeof(messy[0]); i++)
	{
		char	   *sent = bce_normalize_query(messy[i]);
		char	   *again = sent ? bce_normalize_query(sent) : NULL;
		char	   *signed_raw = canonical_query_of(messy[i]);
		char	   *signed_sent = sent ? canonical_query_of(sent) : NULL;
		char	   *server = sent ? signed_from_sent(sent) : NULL;
		char		desc[128];

		snprintf(desc, sizeof(desc), "normalize #%zu: only unreserved, %%XY, '=', '&'", i);
		CHECK(sent != NULL &&
			  strspn(sent, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789-._~%=&") == strlen(sent), desc);
		snprintf(desc, sizeof(desc), "normalize #%zu: idempotent", i);
		check_str(again, sent, desc);
		snprintf(desc, sizeof(desc), "normalize #%zu: signs like the raw query", i);
		check_str(signed_sent, signed_raw, desc);
		snprintf(desc, sizeof(desc),
				 "normalize #%zu: sorted sent items are the signed query, byte for byte", i);
		check_str(server, signed_raw, desc);
		free(sent);
		free(again);
		free(signed_raw);
		free(signed_sent);
		free(server);
	}
}

/*
 * A QueryLogRecord GET, target as bls_build_list_request writes it (values
 * bce_uri_encode'd) and signed as bls_request_start does (path decoded,
 * query normalized; host and x-bce-date).  The expected signature was
 * computed independently of this code, with a few lines of Python (hmac,
 * hashlib, an explicit unreserved set; they reproduce vector A2) and checked
 * again with "openssl dgst -sha256 -hmac".  test/test_emulator.py holds the
 * same vector for the emulator's verifier.
 */
#define LR_PATH "/v1/logstore/nginx-access/logrecord"
#define LR_STMT_ENC "match%20path%3A%22%2Fapi%2Fv1%2Forders%22%20AND%20" \
	"%E7%94%A8%E6%88%B7%3A%22Zo%C3%AB%22%20AND%20o%27brien%2A%20%7C%20" \
	"select%20count%28%2A%29"
#define LR_QUERY "project=default&logStreamName=&query=" LR_STMT_ENC \
	"&startDateTime=2024-11-05T08%3A00%3A00Z&endDateTime=2024-11-05T08%3A01%3A00Z" \
	"&limit=100&marker=&sort=desc"
#define LR_CANON_QUERY "endDateTime=2024-11-05T08%3A01%3A00Z&limit=100" \
	"&logStreamName=&marker=&project=default&query=" LR_STMT_ENC \
	"&sort=desc&startDateTime=2024-11-05T08%3A00%3A00Z"
#define SIG_LR "c49a87922b5d817d85a0811f41765e4997c1c3009a6a6c4eaeb61740dcc94f54"

/* Sign a target the way bls_request_start does; *sent gets the query sent */
static char *
sign_target(const char *target, const BceHeader *h, int nh, char **canon, char **sent)
{
	const char *q = strchr(target, '?');
	size_t		pathlen = q ? (size_t) (q - target) : strlen(target);
	size_t		dlen;
	char	   *path = bce_percent_decode(target, pathlen, &dlen);
	char	   *query = q ? bce_normalize_query(q + 1) : NULL;
	char	   *auth = NULL;

	if (path != NULL && (q == NULL || query != NULL))
		auth = bce_sign("GET", path, query, h, nh, AK, SK, TS, 1800, canon);
	free(path);
	if (sent != NULL)
		*sent = query;
	else
		free(query);
	return auth;
}

static void
test_vector_query_log_record(void)
{
	BceHeader	h[] = {
		{"host", "bls-log.bj.baidubce.com"},
		{"x-bce-date", TS},
	};
	char	   *canon = NULL;
	char	   *sent = NULL;
	char	   *auth;
	char	   *enc;

	/* the statement's encoding, as bls_build_list_request does it */
	enc = bce_uri_encode("match path:\"/api/v1/orders\" AND 用户:\"Zoë\" AND "
						 "o'brien* | select count(*)",
						 strlen("match path:\"/api/v1/orders\" AND 用户:\"Zoë\" AND "
								"o'brien* | select count(*)"), 0);
	check_str(enc, LR_STMT_ENC, "vector LR: the statement UriEncoded");
	free(enc);

	auth = sign_target(LR_PATH "?" LR_QUERY, h, 2, &canon, &sent);
	check_str(sent, LR_QUERY, "vector LR: an encoded target is sent unchanged");
	check_str(canon,
			  "GET\n"
			  LR_PATH "\n"
			  LR_CANON_QUERY "\n"
			  "host:bls-log.bj.baidubce.com\n"
			  "x-bce-date:2015-04-27T08%3A23%3A49Z",
			  "vector LR: canonical request");
	check_str(signature_of(auth), SIG_LR, "vector LR: signature");
	check_str(signed_headers_of(auth), "host;x-bce-date", "vector LR: signedHeaders");
	free(auth);
	free(canon);
	free(sent);

	/*
	 * The same request spelled otherwise: raw characters, lowercase
	 * escapes, escaped unreserved ones, another order, no '=' after an
	 * empty parameter, an empty segment, an authorization parameter.  It is
	 * sent normalized and signs identically.
	 */
	auth = sign_target(LR_PATH "?sort=desc&marker&logStreamName="
					   "&query=match path:%22/api/v1/orders%22 AND 用户:\"Zo%c3%ab\" "
					   "AND o'brien%2a %7c select count(*)"
					   "&&startDateTime=2024-11-05T08:00:00Z&endDateTime=2024-11-05T08%3a01%3a00Z"
					   "&%6cimit=100&project=default&authorization=x",
					   h, 2, NULL, &sent);
	check_str(signature_of(auth), SIG_LR, "vector LR: another spelling signs the same");
	check_str(sent,
			  "sort=desc&marker=&logStreamName=&query=" LR_STMT_ENC
			  "&startDateTime=2024-11-05T08%3A00%3A00Z&endDateTime=2024-11-05T08%3A01%3A00Z"
			  "&limit=100&project=default&authorization=x",
			  "vector LR: ... and is sent normalized, in its order");
	free(auth);
	free(sent);

	/* '+' for the spaces is a different statement: pluses, sent as %2B */
	auth = sign_target(LR_PATH "?project=default&logStreamName=&query=match+*"
					   "&startDateTime=2024-11-05T08%3A00%3A00Z"
					   "&endDateTime=2024-11-05T08%3A01%3A00Z&limit=100&marker=&sort=desc",
					   h, 2, &canon, &sent);
	CHECK(canon != NULL && strstr(canon, "&query=match%2B%2A&") != NULL &&
		  sent != NULL && strstr(sent, "&query=match%2B%2A&") != NULL,
		  "vector LR: '+' is signed and sent as %2B");
	CHECK(signature_of(auth) != NULL && strcmp(signature_of(auth), SIG_LR) != 0,
		  "vector LR: a changed statement changes the signature");
	free(auth);
	free(canon);
	free(sent);
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
	test_canonical_query_rules();
	test_normalize_query();
	test_vector_query_log_record();
	test_security_token();
	test_no_secret_leak();
	test_invalid_arguments();

	return tap_done();
}
