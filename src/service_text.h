/*-------------------------------------------------------------------------
 *
 * service_text.h
 *		  Text from the service made safe for a message (service_text.c);
 *		  no PostgreSQL dependency.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BLS_SERVICE_TEXT_H
#define BLS_SERVICE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

extern char *bls_service_text(char *dst, size_t dstlen, size_t max,
							  const char *s, size_t len, bool utf8);

#endif							/* BLS_SERVICE_TEXT_H */
