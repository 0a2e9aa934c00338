/*-------------------------------------------------------------------------
 *
 * json_reader.h
 *		  A strict reader of JSON text that builds no tree (json_reader.c);
 *		  no PostgreSQL dependency.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BLS_JSON_READER_H
#define BLS_JSON_READER_H

#include "response.h"

/* Nesting deeper than this is not a BLS response; json-c's default is 32. */
#define BLS_JSON_MAX_DEPTH	64

/* What bls_json_check() found */
typedef struct BlsJsonCheck
{
	const char *err_at;			/* where the text stops being JSON */
	const char *reason;
	const char *nul_key;		/* first key with an escaped NUL, or NULL */
	bool		below_min;		/* an integer below INT64_MIN */
} BlsJsonCheck;

/* The first byte at or after p that is not JSON white space, or end. */
static inline const char *
bls_json_skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

extern const char *bls_json_check(const char *p, const char *end, int depth,
								  BlsJsonCheck *c);
extern const char *bls_json_skip_string(const char *p, const char *end);
extern const char *bls_json_skip_value(const char *p, const char *end);
extern bool bls_scratch_reserve(BlsScratch *s, size_t len);
extern const char *bls_json_read_string(BlsScratch *s, const char *p,
										const char *end, const char **str,
										size_t *len, const char **raw,
										size_t *rawlen);
extern const char *bls_json_read_number(const char *p, const char *end,
										BlsValue *out);
extern char *bls_json_put_string(char *d, const char *s, size_t len);

#endif							/* BLS_JSON_READER_H */
