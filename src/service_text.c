/*-------------------------------------------------------------------------
 *
 * service_text.c
 *		  Text from the service made safe for a message.
 *
 * Codes, messages, request ids and column names come from the service and
 * end up in error messages, where the database encoding must accept every
 * byte and a control character must not break the line.  One function
 * decides for every caller: the parsers, which know no database (utf8 true:
 * the report passes their sentence through here again, see bls_printable()),
 * and the reports.  Kept free of postgres.h for the parsers' unit tests.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "service_text.h"

/*
 * The length of the valid UTF-8 character at p (before e), or 0 if p does
 * not start one: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static int
utf8_char_len(const unsigned char *p, const unsigned char *e)
{
	int			clen;
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;

	if (*p >= 0xC2 && *p <= 0xDF)
		clen = 2;
	else if (*p >= 0xE0 && *p <= 0xEF)
	{
		clen = 3;
		lo = *p == 0xE0 ? 0xA0 : 0x80;
		hi = *p == 0xED ? 0x9F : 0xBF;
	}
	else if (*p >= 0xF0 && *p <= 0xF4)
	{
		clen = 4;
		lo = *p == 0xF0 ? 0x90 : 0x80;
		hi = *p == 0xF4 ? 0x8F : 0xBF;
	}
	else
		return 0;
	if (e - p < clen || p[1] < lo || p[1] > hi ||
		(clen > 2 && (p[2] & 0xC0) != 0x80) ||
		(clen > 3 && (p[3] & 0xC0) != 0x80))
		return 0;
	return clen;
}

/*
 * bls_service_text
 *		Copy at most max bytes of s[0..len) into dst (dstlen > max + 3) for
 *		a message, and return dst: whole characters only, a space for a
 *		control character, '?' for a byte that starts no valid UTF-8
 *		character (and, unless utf8, for every byte that is not ASCII), and
 *		"..." where it is cut.
 */
char *
bls_service_text(char *dst, size_t dstlen, size_t max, const char *s,
				 size_t len, bool utf8)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *e = p + len;
	size_t		n = 0;

	if (max + 3 >= dstlen)
		max = dstlen > 4 ? dstlen - 4 : 0;
	while (p < e)
	{
		int			clen = *p < 0x80 ? 1 : utf8_char_len(p, e);

		if (n + (clen > 0 ? clen : 1) > max)
		{
			memcpy(dst + n, "...", 3);
			n += 3;
			break;
		}
		if (clen > 1 && utf8)
		{
			memcpy(dst + n, p, clen);
			n += clen;
			p += clen;
		}
		else if (clen == 1)
		{
			dst[n++] = (*p < 0x20 || *p == 0x7F) ? ' ' : (char) *p;
			p++;
		}
		else
		{
			/* not valid, or not wanted: one '?' a byte */
			dst[n++] = '?';
			p++;
		}
	}
	dst[n] = '\0';
	return dst;
}
