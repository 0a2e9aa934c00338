/*-------------------------------------------------------------------------
 *
 * asan_init_first.c
 *		Preloaded after the ASan runtime into the cluster of test/run_tests.sh's
 *		sanitizer pass, so that the runtime initializes outside glibc's locks.
 *
 * A preloaded ASan runtime initializes itself at the first malloc() of the
 * process, and its start-up calls dlerror(), which takes and releases
 * glibc's _nl_state_lock.  In PostgreSQL's programs that first malloc() comes
 * from a library's constructor that holds a glibc lock meanwhile: libgpg-error
 * calls bindtextdomain() (_nl_state_lock itself), p11-kit newlocale()
 * (__libc_setlocale_lock); both are pulled in through libldap and GnuTLS.
 * The lock is left broken and the next bindtextdomain(), or freelocale() at
 * exit, waits for ever.  These two functions malloc first, with no lock
 * held, and then call glibc's.
 *
 * test/asan_init_first.c
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <locale.h>
#include <stdlib.h>

char	   *bindtextdomain(const char *domainname, const char *dirname);

static void
init_runtime(void)
{
	void	   *volatile p = malloc(1);	/* volatile: not optimized away */

	free(p);
}

char *
bindtextdomain(const char *domainname, const char *dirname)
{
	static char *(*next) (const char *, const char *);

	init_runtime();
	if (next == NULL)
		next = (char *(*) (const char *, const char *))
			dlsym(RTLD_NEXT, "bindtextdomain");
	return next(domainname, dirname);
}

locale_t
newlocale(int category_mask, const char *locale, locale_t base)
{
	static locale_t (*next) (int, const char *, locale_t);

	init_runtime();
	if (next == NULL)
		next = (locale_t (*) (int, const char *, locale_t))
			dlsym(RTLD_NEXT, "newlocale");
	return next(category_mask, locale, base);
}
