/*-------------------------------------------------------------------------
 *
 * testing.h
 *		  Functions that modules export only for the unit tests and the
 *		  fuzzers (test/unit, test/fuzz)
 *
 * No module of the extension calls these: they are steps of an algorithm
 * that the tests check on their own, against published vectors.  Plain C,
 * like the modules that define them: no PostgreSQL header.
 *
 * src/testing.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BLS_TESTING_H
#define BLS_TESTING_H

#include "bce_auth.h"
#include "json_reader.h"

/* in bce_auth.c */
extern int	bce_signing_key(const char *sk, const char *auth_prefix,
							char out_hex[BCE_HEX_DIGEST_LEN]);

/* in response.c: a page of ListDownloadTask; an item's tree, whole */
static inline BlsParseStatus
bls_page_parse(const char *buf, size_t len, BlsPage *page)
{
	return bls_page_parse_shape(buf, len, &bls_shape_download_tasks, page);
}

extern BlsJson *bls_page_item(BlsPage *page, int i);
extern void bls_page_item_done(BlsPage *page, int i);

/* A tree's values (json_reader.h), as the tests look at them */
static inline BlsJson *
bls_item_field(BlsJson *item, const char *key)
{
	return bls_json_member(item, key);
}

static inline BlsJsonType
bls_json_type(BlsJson *v)
{
	return v != NULL ? v->v.type : BLS_JSON_NULL;
}

static inline const char *
bls_json_string(BlsJson *v, size_t *len)
{
	*len = v->v.len;
	return v->v.str;
}

/* Was this number an integer beyond the 64-bit range? */
static inline bool
bls_json_number_clamped(BlsJson *v)
{
	return v != NULL && v->v.type == BLS_JSON_NUMBER && v->v.clamped;
}

static inline bool
bls_json_int64(BlsJson *v, int64_t *out)
{
	if (v == NULL || v->v.type != BLS_JSON_NUMBER || !v->v.is_int)
		return false;
	*out = v->v.ival;
	return true;
}

#endif							/* BLS_TESTING_H */
