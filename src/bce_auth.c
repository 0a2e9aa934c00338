/*-------------------------------------------------------------------------
 *
 * bce_auth.c
 *		  bce-auth-v1 request signing for the Baidu Cloud (BCE) APIs
 *
 * This file owns everything about the Authorization header: the timestamp
 * format, RFC 3986 encoding, the canonical request (URI, query, headers),
 * the derived signing key and the final signature.  It does not decide
 * which headers are signed; the caller passes exactly those.
 *
 * It deliberately does not include postgres.h: it is plain C99 with libc
 * and OpenSSL, so it can be unit-tested, run under ASan/UBSan and fuzzed
 * alone, and it can never raise a PostgreSQL ERROR.  Memory is plain
 * malloc/free, there is no global state, and every function is thread-safe.
 * Failures are reported by return value; errno is set to EINVAL for an
 * invalid argument (other failures are out of memory or an OpenSSL error).
 *
 * Key material derived from the secret key (the raw HMAC digest and the
 * hex signing key) lives only in stack buffers that are wiped with
 * OPENSSL_cleanse before returning; the secret key itself is never copied.
 *
 * src/bce_auth.c
 *
 *-------------------------------------------------------------------------
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L		/* for gmtime_r */
#endif

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bce_auth.h"
#include "testing.h"

#define BCE_AUTH_VERSION	"bce-auth-v1"

/* SHA-256 digest size in bytes */
#define SHA256_LEN			32

/*
 * A growable string.  Appending after a failed allocation is a no-op, so
 * callers check "failed" once at the end instead of after every append.
 */
typedef struct StrBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	int			failed;
} StrBuf;

static const char hexdigits_upper[] = "0123456789ABCDEF";
static const char hexdigits_lower[] = "0123456789abcdef";


/*
 * Character classes.  These are explicit ASCII tests rather than <ctype.h>
 * so that the result cannot depend on the process locale.
 */
static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') ||
		c == '-' || c == '.' || c == '_' || c == '~';
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\v' || c == '\f';
}

/*
 * RFC 9110 "tchar": the characters allowed in a header field name.  Names
 * outside this set could smuggle ';' into signedHeaders, so they are refused.
 */
static int
is_tchar(unsigned char c)
{
	if (is_unreserved(c))
		return 1;
	return c != '\0' && strchr("!#$%&'*+^`|", c) != NULL;
}

static unsigned char
ascii_tolower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c - 'A' + 'a') : c;
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Narrow [*s, *s + *len) so it has no leading or trailing whitespace. */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && is_space((unsigned char) (*s)[0]))
	{
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_space((unsigned char) (*s)[*len - 1]))
		(*len)--;
}


/* StrBuf helpers */

static void
sb_append(StrBuf *sb, const char *s, size_t n)
{
	if (sb->failed)
		return;
	if (n > SIZE_MAX - sb->len - 1)
	{
		sb->failed = 1;
		return;
	}
	if (sb->len + n + 1 > sb->cap)
	{
		size_t		newcap = sb->cap ? sb->cap : 128;
		char	   *p;

		while (newcap < sb->len + n + 1)
		{
			if (newcap > SIZE_MAX / 2)
			{
				newcap = sb->len + n + 1;
				break;
			}
			newcap *= 2;
		}
		p = realloc(sb->data, newcap);
		if (p == NULL)
		{
			sb->failed = 1;
			return;
		}
		sb->data = p;
		sb->cap = newcap;
	}
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

static void
sb_appends(StrBuf *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

/*
 * Hand over the buffer's string (never NULL on success, even if empty);
 * returns NULL and frees the buffer if any append failed.
 */
static char *
sb_finish(StrBuf *sb)
{
	if (!sb->failed && sb->data == NULL)
		sb_append(sb, "", 0);
	if (sb->failed)
	{
		free(sb->data);
		sb->data = NULL;
		return NULL;
	}
	return sb->data;
}


/* qsort comparator for an array of C strings: byte order, as the spec wants */
static int
cmp_strptr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
free_strv(char **v, size_t n)
{
	size_t		i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Join n sorted strings with a separator into sb.
 */
static void
sb_join(StrBuf *sb, char **v, size_t n, const char *sep)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		if (i > 0)
			sb_appends(sb, sep);
		sb_appends(sb, v[i]);
	}
}


/*
 * hmac_sha256_hex
 *		Lowercase hex of HMAC-SHA256(key, msg) into out_hex (65 bytes).
 *
 * Returns 0 on success, -1 on failure (out_hex is then wiped).  The raw
 * digest is wiped before returning since it may be key material.
 */
static int
hmac_sha256_hex(const void *key, size_t keylen,
				const void *msg, size_t msglen,
				char out_hex[BCE_HEX_DIGEST_LEN])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digestlen = 0;
	unsigned int i;
	int			rc = -1;

	if (keylen > INT_MAX)
	{
		errno = EINVAL;
		goto done;
	}

	/*
	 * Passing our own output buffer matters: with md == NULL, HMAC() would
	 * use a static buffer, which is neither thread-safe nor wipeable.
	 */
	if (HMAC(EVP_sha256(), key, (int) keylen,
			 (const unsigned char *) msg, msglen,
			 digest, &digestlen) == NULL ||
		digestlen != SHA256_LEN)
		goto done;

	for (i = 0; i < SHA256_LEN; i++)
	{
		out_hex[2 * i] = hexdigits_lower[digest[i] >> 4];
		out_hex[2 * i + 1] = hexdigits_lower[digest[i] & 0x0F];
	}
	out_hex[2 * SHA256_LEN] = '\0';
	rc = 0;

done:
	OPENSSL_cleanse(digest, sizeof(digest));
	if (rc != 0)
		OPENSSL_cleanse(out_hex, BCE_HEX_DIGEST_LEN);
	return rc;
}


/*
 * bce_format_timestamp
 *		Format a UTC time as "YYYY-MM-DDThh:mm:ssZ" into buf.
 *
 * buf must hold at least BCE_TIMESTAMP_LEN (21) bytes; exactly that many are
 * written at most.  A time that cannot be represented in that form (before
 * year 0 or after 9999) yields "0000-00-00T00:00:00Z", which the service
 * rejects, rather than overflowing buf.
 */
void
bce_format_timestamp(time_t t, char *buf)
{
	struct tm	tm;
	int			fields[6];
	int			widths[6] = {4, 2, 2, 2, 2, 2};
	const char	seps[6] = {'-', '-', 'T', ':', ':', 'Z'};
	char	   *p = buf;
	int			i;

	if (gmtime_r(&t, &tm) == NULL ||
		tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
	{
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = -1900;
		tm.tm_mon = -1;
	}

	fields[0] = tm.tm_year + 1900;
	fields[1] = tm.tm_mon + 1;
	fields[2] = tm.tm_mday;
	fields[3] = tm.tm_hour;
	fields[4] = tm.tm_min;
	fields[5] = tm.tm_sec;

	/* Written by hand: every field is now known to fit its width. */
	for (i = 0; i < 6; i++)
	{
		int			v = fields[i];
		int			w;

		for (w = widths[i] - 1; w >= 0; w--)
		{
			p[w] = (char) ('0' + v % 10);
			v /= 10;
		}
		p += widths[i];
		*p++ = seps[i];
	}
	*p = '\0';
}


/*
 * bce_uri_encode
 *		RFC 3986 encoding of len bytes at s, as bce-auth-v1 requires.
 *
 * Only A-Z a-z 0-9 - . _ ~ are kept (and '/' if keep_slash); every other
 * byte, including NUL and UTF-8 bytes, becomes %XY with uppercase hex.
 * Returns a malloc'd string the caller frees, or NULL when out of memory.
 */
char *
bce_uri_encode(const char *s, size_t len, int keep_slash)
{
	char	   *out;
	char	   *p;
	size_t		i;

	if (s == NULL && len > 0)
	{
		errno = EINVAL;
		return NULL;
	}
	if (len > (SIZE_MAX - 1) / 3)
	{
		errno = ENOMEM;
		return NULL;
	}

	out = malloc(len * 3 + 1);
	if (out == NULL)
		return NULL;

	p = out;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_unreserved(c) || (keep_slash && c == '/'))
			*p++ = (char) c;
		else
		{
			*p++ = '%';
			*p++ = hexdigits_upper[c >> 4];
			*p++ = hexdigits_upper[c & 0x0F];
		}
	}
	*p = '\0';
	return out;
}


/*
 * bce_signing_key
 *		SigningKey = lowercase hex(HMAC-SHA256(sk, auth_prefix)).
 *
 * auth_prefix is "bce-auth-v1/{ak}/{timestamp}/{expiration}".  Writes 64
 * hex digits and a NUL to out_hex.  Returns 0 on success, -1 on failure
 * (out_hex is then wiped).  The caller should OPENSSL_cleanse out_hex when
 * done with it: it is as good as the secret key for that time window.
 */
int
bce_signing_key(const char *sk, const char *auth_prefix,
				char out_hex[BCE_HEX_DIGEST_LEN])
{
	if (sk == NULL || auth_prefix == NULL || out_hex == NULL)
	{
		errno = EINVAL;
		if (out_hex != NULL)
			OPENSSL_cleanse(out_hex, BCE_HEX_DIGEST_LEN);
		return -1;
	}
	return hmac_sha256_hex(sk, strlen(sk), auth_prefix, strlen(auth_prefix),
						   out_hex);
}


/*
 * bce_percent_decode
 *		Decode %XY escapes in [s, s + len) into a new malloc'd buffer.
 *
 * '+' is kept literally (RFC 3986, not form encoding), and a '%' not
 * followed by two hex digits is kept literally, so it re-encodes as %25.
 * The result may contain NUL bytes; its length goes to *outlen.
 */
char *
bce_percent_decode(const char *s, size_t len, size_t *outlen)
{
	char	   *out = malloc(len + 1);
	size_t		i;
	size_t		o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++)
	{
		int			hi,
					lo;

		if (s[i] == '%' && i + 2 < len &&
			(hi = hex_value((unsigned char) s[i + 1])) >= 0 &&
			(lo = hex_value((unsigned char) s[i + 2])) >= 0)
		{
			out[o++] = (char) ((hi << 4) | lo);
			i += 2;
		}
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * query_item
 *		Canonicalize one query parameter, [p, segend), into *item.
 *
 * The segment is split on its first '='; key and value are percent-decoded
 * and re-encoded, so that any spelling of the same query signs the same
 * way.  A segment without '=' has an empty value, written "key=".  Returns
 * 1 with a malloc'd "key=value" in *item, 0 if drop_authz is set and the
 * key is "authorization" (in any case), which is never signed, and -1 when
 * out of memory.
 */
static int
query_item(const char *p, const char *segend, int drop_authz, char **item)
{
	const char *eq = memchr(p, '=', (size_t) (segend - p));
	const char *vstart = eq ? eq + 1 : segend;
	char	   *key;
	char	   *val;
	char	   *ekey = NULL;
	char	   *evalue = NULL;
	size_t		klen;
	size_t		vlen;
	int			rc = -1;

	*item = NULL;
	key = bce_percent_decode(p, (size_t) ((eq ? eq : segend) - p), &klen);
	val = bce_percent_decode(vstart, (size_t) (segend - vstart), &vlen);
	if (key == NULL || val == NULL)
		goto done;

	if (drop_authz && klen == 13)
	{
		static const char authz[] = "authorization";
		size_t		i;

		for (i = 0; i < 13; i++)
			if (ascii_tolower((unsigned char) key[i]) != authz[i])
				break;
		if (i == 13)
		{
			rc = 0;
			goto done;
		}
	}

	ekey = bce_uri_encode(key, klen, 0);
	evalue = bce_uri_encode(val, vlen, 0);
	if (ekey != NULL && evalue != NULL)
	{
		StrBuf		sb = {0};

		sb_appends(&sb, ekey);
		sb_append(&sb, "=", 1);
		sb_appends(&sb, evalue);
		*item = sb_finish(&sb);
		if (*item != NULL)
			rc = 1;
	}

done:
	free(key);
	free(val);
	free(ekey);
	free(evalue);
	return rc;
}

/*
 * query_items
 *		Split a raw query string (without '?') into canonical items.
 *
 * Parameters are split on '&'; empty segments ("a&&b") are dropped.  Each
 * is canonicalized by query_item, in the order given.  Returns 0 with a
 * malloc'd array in *items (NULL when there are none) and its length in
 * *nitems, or -1 when out of memory.
 */
static int
query_items(const char *query, int drop_authz, char ***items, size_t *nitems)
{
	char	  **v;
	size_t		n = 0;
	size_t		maxitems = 1;
	const char *p;
	const char *end;

	*items = NULL;
	*nitems = 0;
	if (query == NULL || *query == '\0')
		return 0;

	for (p = query; *p; p++)
		if (*p == '&')
			maxitems++;
	v = calloc(maxitems, sizeof(char *));
	if (v == NULL)
		return -1;

	end = query + strlen(query);
	for (p = query;; )
	{
		const char *amp = memchr(p, '&', (size_t) (end - p));
		const char *segend = amp ? amp : end;

		if (segend > p)
		{
			int			rc = query_item(p, segend, drop_authz, &v[n]);

			if (rc < 0)
			{
				free_strv(v, n);
				return -1;
			}
			n += (size_t) rc;
		}
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	*items = v;
	*nitems = n;
	return 0;
}

/*
 * canonical_query
 *		Build CanonicalQuery from a raw query string (without '?').
 *
 * The items of every parameter but "authorization" are sorted by byte
 * order and joined with '&'.  Returns a malloc'd string ("" when there are
 * no parameters) or NULL when out of memory.
 */
static char *
canonical_query(const char *query)
{
	StrBuf		sb = {0};
	char	  **items;
	size_t		nitems;
	char	   *result;

	if (query_items(query, 1, &items, &nitems) != 0)
		return NULL;
	if (nitems > 1)
		qsort(items, nitems, sizeof(char *), cmp_strptr);
	sb_join(&sb, items, nitems, "&");
	result = sb_finish(&sb);
	free_strv(items, nitems);
	return result;
}

/*
 * bce_normalize_query
 *		Rewrite a raw query string (without '?') the way it is signed.
 *
 * Every parameter's key and value are percent-decoded and UriEncoded again,
 * in the order given, and a parameter without '=' gets one; empty segments
 * are dropped.  "authorization" is kept: it is sent, only not signed.  The
 * result holds nothing but unreserved characters, %XY escapes, '=' and
 * '&', so sorting its parameters gives CanonicalQuery byte for byte, and no
 * server or HTTP library can read it another way: a '+' goes out as %2B
 * (a literal plus, as the signature has it, never a form-encoded space),
 * and a space or '#' can neither break the URL nor cut the query short.
 *
 * Returns a malloc'd string ("" when there are no parameters) or NULL when
 * out of memory.
 */
char *
bce_normalize_query(const char *query)
{
	StrBuf		sb = {0};
	char	  **items;
	size_t		nitems;
	char	   *result;

	if (query_items(query, 0, &items, &nitems) != 0)
		return NULL;
	sb_join(&sb, items, nitems, "&");
	result = sb_finish(&sb);
	free_strv(items, nitems);
	return result;
}

/*
 * canonical_headers
 *		Build CanonicalHeaders and signedHeaders from the caller's headers.
 *
 * Names and values are trimmed; a header whose value is NULL or empty after
 * trimming is skipped.  Names must be non-empty HTTP tokens and must not
 * repeat (compared case-insensitively): a duplicate would make the signed
 * set ambiguous.  On success stores two malloc'd strings and returns 0;
 * returns -1 on failure (errno EINVAL for a bad header).
 */
static int
canonical_headers(const BceHeader *headers, int nheaders,
				  char **canon_out, char **signed_out)
{
	char	  **lines = NULL;
	char	  **names = NULL;
	size_t		n = 0;
	size_t		i;
	int			h;
	StrBuf		canon = {0};
	StrBuf		sig = {0};

	*canon_out = *signed_out = NULL;
	if (nheaders < 0 || (nheaders > 0 && headers == NULL))
	{
		errno = EINVAL;
		return -1;
	}

	if (nheaders > 0)
	{
		lines = calloc((size_t) nheaders, sizeof(char *));
		names = calloc((size_t) nheaders, sizeof(char *));
		if (lines == NULL || names == NULL)
			goto fail;
	}

	for (h = 0; h < nheaders; h++)
	{
		const char *name = headers[h].name;
		const char *value = headers[h].value;
		size_t		nlen,
					vlen;
		char	   *lname;
		char	   *ename;
		char	   *evalue;
		StrBuf		line = {0};

		if (name == NULL)
		{
			errno = EINVAL;
			goto fail;
		}
		nlen = strlen(name);
		trim(&name, &nlen);
		if (nlen == 0)
		{
			errno = EINVAL;
			goto fail;
		}
		for (i = 0; i < nlen; i++)
		{
			if (!is_tchar((unsigned char) name[i]))
			{
				errno = EINVAL;
				goto fail;
			}
		}

		if (value == NULL)
			continue;
		vlen = strlen(value);
		trim(&value, &vlen);
		if (vlen == 0)
			continue;

		lname = malloc(nlen + 1);
		if (lname == NULL)
			goto fail;
		for (i = 0; i < nlen; i++)
			lname[i] = (char) ascii_tolower((unsigned char) name[i]);
		lname[nlen] = '\0';
		names[n] = lname;

		ename = bce_uri_encode(lname, nlen, 0);
		evalue = bce_uri_encode(value, vlen, 0);
		if (ename != NULL && evalue != NULL)
		{
			sb_appends(&line, ename);
			sb_append(&line, ":", 1);
			sb_appends(&line, evalue);
			lines[n] = sb_finish(&line);
		}
		free(ename);
		free(evalue);
		/* count the name now so the failure path frees it */
		n++;
		if (lines[n - 1] == NULL)
			goto fail;
	}

	/* with no headers the arrays are NULL, which qsort's nonnull base forbids */
	if (n > 1)
	{
		qsort(names, n, sizeof(char *), cmp_strptr);
		qsort(lines, n, sizeof(char *), cmp_strptr);
	}
	for (i = 1; i < n; i++)
	{
		if (strcmp(names[i - 1], names[i]) == 0)
		{
			errno = EINVAL;
			goto fail;
		}
	}

	sb_join(&canon, lines, n, "\n");
	sb_join(&sig, names, n, ";");
	*canon_out = sb_finish(&canon);
	*signed_out = sb_finish(&sig);
	free_strv(lines, n);
	free_strv(names, n);
	if (*canon_out == NULL || *signed_out == NULL)
	{
		free(*canon_out);
		free(*signed_out);
		*canon_out = *signed_out = NULL;
		return -1;
	}
	return 0;

fail:
	free_strv(lines, n);
	free_strv(names, n);
	return -1;
}


/*
 * bce_sign
 *		Build the value of the Authorization header for one request.
 *
 * method is sent as given ("POST"); path is the decoded URI path (NULL or
 * "" means "/"); query is the raw query string without '?', or NULL/"".
 * headers are exactly the headers to sign; see canonical_headers for how
 * they are normalized.  ak and sk must be non-empty; timestamp is as from
 * bce_format_timestamp and must equal the x-bce-date header sent;
 * expiration_secs must not be negative.
 *
 * Returns a malloc'd "bce-auth-v1/{ak}/{ts}/{exp}/{signedHeaders}/{sig}"
 * and, if canonical_out is not NULL, stores a malloc'd copy of the canonical
 * request there (for tests and debugging); the caller frees both.  Returns
 * NULL on failure (errno EINVAL for a bad argument; otherwise out of memory
 * or an OpenSSL failure), in which case *canonical_out is set to NULL.
 *
 * Neither output contains the secret key or the derived signing key.
 */
char *
bce_sign(const char *method, const char *path, const char *query,
		 const BceHeader *headers, int nheaders,
		 const char *ak, const char *sk,
		 const char *timestamp, int expiration_secs,
		 char **canonical_out)
{
	char		expbuf[16];
	char		signing_key[BCE_HEX_DIGEST_LEN];
	char		signature[BCE_HEX_DIGEST_LEN];
	StrBuf		prefix = {0};
	StrBuf		canon = {0};
	StrBuf		auth = {0};
	char	   *prefix_str = NULL;
	char	   *canon_str = NULL;
	char	   *uri = NULL;
	char	   *cquery = NULL;
	char	   *cheaders = NULL;
	char	   *signed_headers = NULL;
	char	   *result = NULL;

	if (canonical_out != NULL)
		*canonical_out = NULL;

	if (method == NULL || *method == '\0' ||
		ak == NULL || *ak == '\0' || sk == NULL || *sk == '\0' ||
		timestamp == NULL || *timestamp == '\0' || expiration_secs < 0)
	{
		errno = EINVAL;
		return NULL;
	}

	/* authStringPrefix = "bce-auth-v1/{ak}/{timestamp}/{expiration}" */
	snprintf(expbuf, sizeof(expbuf), "%d", expiration_secs);
	sb_appends(&prefix, BCE_AUTH_VERSION "/");
	sb_appends(&prefix, ak);
	sb_append(&prefix, "/", 1);
	sb_appends(&prefix, timestamp);
	sb_append(&prefix, "/", 1);
	sb_appends(&prefix, expbuf);
	prefix_str = sb_finish(&prefix);
	if (prefix_str == NULL)
		goto done;

	/* CanonicalRequest = METHOD \n URI \n Query \n Headers */
	if (path == NULL || *path == '\0')
		path = "/";
	uri = bce_uri_encode(path, strlen(path), 1);
	cquery = canonical_query(query);
	if (uri == NULL || cquery == NULL ||
		canonical_headers(headers, nheaders, &cheaders, &signed_headers) != 0)
		goto done;

	sb_appends(&canon, method);
	sb_append(&canon, "\n", 1);
	sb_appends(&canon, uri);
	sb_append(&canon, "\n", 1);
	sb_appends(&canon, cquery);
	sb_append(&canon, "\n", 1);
	sb_appends(&canon, cheaders);
	canon_str = sb_finish(&canon);
	if (canon_str == NULL)
		goto done;

	/*
	 * The signature is keyed with the signing key's 64 hex characters, not
	 * its 32 raw bytes; that is what the service and the SDKs do.
	 */
	if (bce_signing_key(sk, prefix_str, signing_key) != 0)
		goto done;
	if (hmac_sha256_hex(signing_key, 2 * SHA256_LEN,
						canon_str, strlen(canon_str), signature) != 0)
		goto done;

	sb_appends(&auth, prefix_str);
	sb_append(&auth, "/", 1);
	sb_appends(&auth, signed_headers);
	sb_append(&auth, "/", 1);
	sb_appends(&auth, signature);
	result = sb_finish(&auth);

done:
	OPENSSL_cleanse(signing_key, sizeof(signing_key));
	free(prefix_str);
	free(uri);
	free(cquery);
	free(cheaders);
	free(signed_headers);
	if (result != NULL && canonical_out != NULL)
		*canonical_out = canon_str;
	else
		free(canon_str);
	return result;
}

/*
 * bce_free
 *		Release a string returned by this module; NULL is allowed.
 *
 * Offered so that callers need not assume which allocator this module uses.
 */
void
bce_free(void *p)
{
	free(p);
}
