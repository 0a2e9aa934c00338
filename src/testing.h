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

/* in bce_auth.c */
extern int	bce_signing_key(const char *sk, const char *auth_prefix,
							char out_hex[BCE_HEX_DIGEST_LEN]);

#endif							/* BLS_TESTING_H */
