/*-------------------------------------------------------------------------
 *
 * test_service_text.c
 *		  Unit tests of bls_service_text(): the service's text made safe for
 *		  a message.
 *
 * test/unit/test_service_text.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "service_text.h"
#include "tap.h"

static void
check_text(const char *s, size_t len, size_t max, int utf8, const char *want,
		   const char *desc)
{
	char		buf[64];

	memset(buf, 'x', sizeof(buf));
	check_str(bls_service_text(buf, max + 4, max, s, len, utf8), want, desc);
}

int
main(void)
{
	char		small[8];

	check_text("plain", 5, 40, 1, "plain", "ASCII is kept");
	check_text("a\tb\nc\x7f" "d", 7, 40, 1, "a b c d",
			   "control characters and DEL are spaces");
	check_text("a\0b", 3, 40, 1, "a b", "a NUL is a space, not the end");
	check_text("\xe7\x94\xa8\xe6\x88\xb7", 6, 40, 1, "\xe7\x94\xa8\xe6\x88\xb7",
			   "UTF-8 is kept in a UTF-8 database");
	check_text("\xe7\x94\xa8!", 4, 40, 0, "??" "?!",
			   "and is '?' a byte in another encoding");
	check_text("a\xff" "b\xc0\xaf" "c", 6, 40, 1, "a?b??c",
			   "invalid bytes and overlong forms are '?' a byte");
	check_text("\xed\xa0\x80", 3, 40, 1, "???", "a surrogate is not UTF-8");
	check_text("\xf4\x90\x80\x80", 4, 40, 1, "????", "nor is beyond U+10FFFF");
	check_text("\xe7\x94", 2, 40, 1, "??", "a character cut by the end is '?'");
	check_text("abcdef", 6, 4, 1, "abcd...", "cut at max bytes, with ...");
	check_text("abcd", 4, 4, 1, "abcd", "exactly max: no ...");
	check_text("ab\xe7\x94\xa8", 5, 4, 1, "ab...",
			   "never half a character");
	check_str(bls_service_text(small, sizeof(small), 100, "abcdefghij", 10, 1),
			  "abcd...", "max is bounded by the buffer");
	return tap_done();
}
