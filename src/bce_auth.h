/*-------------------------------------------------------------------------
 *
 * bce_auth.h
 *		  bce-auth-v1 request signing for the Baidu Cloud (BCE) APIs
 *
 * This module has no PostgreSQL dependency: it is plain C99 plus libc and
 * OpenSSL, so it can be unit-tested, run under sanitizers and fuzzed on its
 * own.  It keeps no global state and is thread-safe.  Every string it
 * returns is malloc'd and must be released with free() (or bce_free()).
 *
 * The algorithm is described in docs/bls-api.md, section 4.
 *
 * src/bce_auth.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BCE_AUTH_H
#define BCE_AUTH_H

#include <stddef.h>
#include <time.h>

/* Length of a bce_format_timestamp() result, plus its terminator */
#define BCE_TIMESTAMP_LEN	21

/* Length of a hex-encoded HMAC-SHA256 digest, plus its terminator */
#define BCE_HEX_DIGEST_LEN	65

/* Default lifetime of a signature, in seconds */
#define BCE_DEFAULT_EXPIRATION	1800

/* One HTTP header to be signed; the caller owns both strings */
typedef struct BceHeader
{
	const char *name;
	const char *value;
} BceHeader;

extern void bce_format_timestamp(time_t t, char *buf);
extern char *bce_uri_encode(const char *s, size_t len, int keep_slash);
extern char *bce_percent_decode(const char *s, size_t len, size_t *outlen);
extern char *bce_normalize_query(const char *query);
extern char *bce_sign(const char *method, const char *path, const char *query,
					  const BceHeader *headers, int nheaders,
					  const char *ak, const char *sk,
					  const char *timestamp, int expiration_secs,
					  char **canonical_out);
extern void bce_free(void *p);

#endif							/* BCE_AUTH_H */
