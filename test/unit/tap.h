/*-------------------------------------------------------------------------
 *
 * tap.h
 *		  The few TAP helpers the unit tests share: one "ok N - ..." or
 *		  "not ok N - ..." line per check, then a "1..N" plan.
 *
 * Header-only, since each test is a single program; include it once.
 *
 * test/unit/tap.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BLS_TAP_H
#define BLS_TAP_H

#include <stdio.h>
#include <string.h>

static int	ntests = 0;
static int	nfailed = 0;

/* Record one TAP result; "why" is printed as a diagnostic on failure */
static void
check(int ok, const char *desc, const char *why)
{
	ntests++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ntests, desc);
	if (!ok)
	{
		nfailed++;
		if (why != NULL)
			printf("# %s\n", why);
	}
}

#define CHECK(cond, desc) check((cond) ? 1 : 0, (desc), #cond)

/* Compare two strings, either possibly NULL, printing both on mismatch */
static void
check_str(const char *got, const char *want, const char *desc)
{
	int			ok = got != NULL && want != NULL && strcmp(got, want) == 0;

	check(ok, desc, NULL);
	if (!ok)
		printf("#   got:  \"%s\"\n#   want: \"%s\"\n",
			   got ? got : "(null)", want ? want : "(null)");
}

/* Print the plan and return the program's exit status */
static int
tap_done(void)
{
	printf("1..%d\n", ntests);
	if (nfailed > 0)
		printf("# %d of %d checks failed\n", nfailed, ntests);
	return nfailed > 0 ? 1 : 0;
}

#endif							/* BLS_TAP_H */
