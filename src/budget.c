/*-------------------------------------------------------------------------
 *
 * budget.c
 *		  The account-wide request budget: how many requests to BLS the
 *		  whole cluster has in flight for one endpoint and access key, and
 *		  the back-off every backend keeps after a 429.
 *
 * BLS allows about 15 concurrent queries per account and answers 429
 * beyond (bls-api.md, Limits).  Every backend, cursor and pg_cron job of
 * the cluster shares that quota, so the budget must be shared between
 * processes, and must work for an extension that is only CREATEd (no
 * shared_preload_libraries, so no shared memory of our own).
 *
 * Slots are files.  The directory pg_bls_fdw/ of the data directory has one
 * subdirectory per account, named by a SHA-256 of the endpoint and the
 * access key id (the key id itself is never written down, and the secret
 * key never comes here), holding the files slot.0, slot.1, ....  A request
 * in flight holds an exclusive flock() on one of the first
 * max_concurrent_requests of them.  The kernel drops a process's flocks
 * when it dies, however it dies (SIGKILL, a crash): no slot is ever lost,
 * and nothing needs cleaning up after a crash.  A backend keeps its
 * descriptors open (close-on-exec) and knows which slots it holds itself,
 * since flock() would let it take one of them twice.
 *
 * Waiters announce themselves with a shared flock() on the file waiting:
 * a read-ahead, which only takes a slot that is free right now and never
 * waits, leaves the free slots alone while anybody waits, so that the pages
 * read ahead by some backends cannot starve the requests others need now.
 *
 * The back-off is the file backoff, holding the time (TimestampTz, 8 bytes)
 * until which no backend of the account sends: a 429 pushes it to now plus
 * the Retry-After the service gave, bounded by the caller.
 *
 * Nothing here raises an error while a slot is being given back; failures
 * to open the files are errors of the request that needs a slot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "common/file_perm.h"
#include "storage/fd.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bls_modules.h"

/* Under the data directory (the backend's working directory). */
#define BLS_BUDGET_DIR		"pg_bls_fdw"

/* Bytes of the SHA-256 that name an account's directory. */
#define BLS_ACCOUNT_HASH_BYTES	16

struct BlsBudget
{
	char		name[BLS_ACCOUNT_HASH_BYTES * 2 + 1];	/* hash key: hex */
	int			fds[BLS_MAX_CONCURRENT_REQUESTS];	/* -1: not yet opened */
	bool		held[BLS_MAX_CONCURRENT_REQUESTS];	/* by this backend */
	int			waiting_fd;		/* -1: not yet opened */
	int			backoff_fd;
	int			waits;			/* this backend's waits under way */
};

/* name -> BlsBudget, in TopMemoryContext */
static HTAB *budgets = NULL;

/* The directory name of the account of endpoint and key_id, in hex. */
static void
account_name(const char *endpoint, const char *key_id, char *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	static const char hex[] = "0123456789abcdef";

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) endpoint, strlen(endpoint) + 1) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) key_id, strlen(key_id)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
	{
		pg_cryptohash_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not compute the request budget's account name")));
	}
	pg_cryptohash_free(ctx);
	for (int i = 0; i < BLS_ACCOUNT_HASH_BYTES; i++)
	{
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[BLS_ACCOUNT_HASH_BYTES * 2] = '\0';
}

/* Open (creating) file of budget b's directory, close-on-exec, or an ERROR. */
static int
open_budget_file(BlsBudget *b, const char *file)
{
	char		path[MAXPGPATH];
	int			fd;

	snprintf(path, sizeof(path), BLS_BUDGET_DIR "/%s/%s", b->name, file);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, pg_file_create_mode);
	if (fd < 0 && errno == ENOENT)
	{
		char		dir[MAXPGPATH];

		/* the first use in this cluster: make the directories */
		if (MakePGDirectory(BLS_BUDGET_DIR) < 0 && errno != EEXIST)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create directory \"%s\": %m", BLS_BUDGET_DIR)));
		snprintf(dir, sizeof(dir), BLS_BUDGET_DIR "/%s", b->name);
		if (MakePGDirectory(dir) < 0 && errno != EEXIST)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create directory \"%s\": %m", dir)));
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, pg_file_create_mode);
	}
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" of the BLS request budget: %m",
						path)));
	return fd;
}

/*
 * bls_budget_account
 *		This backend's handle on the budget of the account (endpoint, access
 *		key id) of opts; it lives until the backend exits.
 */
BlsBudget *
bls_budget_account(const BlsOptions *opts)
{
	char		name[BLS_ACCOUNT_HASH_BYTES * 2 + 1];
	BlsBudget  *b;
	bool		found;

	if (budgets == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(name);
		ctl.entrysize = sizeof(BlsBudget);
		ctl.hcxt = TopMemoryContext;
		budgets = hash_create("bls_fdw request budgets", 4, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	account_name(opts->endpoint,
				 opts->access_key_id ? opts->access_key_id : "", name);
	b = hash_search(budgets, name, HASH_ENTER, &found);
	if (!found)
	{
		for (int i = 0; i < BLS_MAX_CONCURRENT_REQUESTS; i++)
		{
			b->fds[i] = -1;
			b->held[i] = false;
		}
		b->waiting_fd = -1;
		b->backoff_fd = -1;
		b->waits = 0;
	}
	return b;
}

/* Is anyone of the cluster (this backend included) waiting for a slot? */
static bool
others_wait(BlsBudget *b)
{
	if (b->waits > 0)
		return true;
	if (b->waiting_fd < 0)
		b->waiting_fd = open_budget_file(b, "waiting");
	if (flock(b->waiting_fd, LOCK_EX | LOCK_NB) != 0)
		return true;
	(void) flock(b->waiting_fd, LOCK_UN);
	return false;
}

/*
 * bls_budget_take
 *		Take one of the first limit slots of b that is free now, and return
 *		its number, or -1 if there is none.  A read-ahead (ahead) takes none
 *		while someone waits for one.  ERROR only if a file cannot be opened.
 */
int
bls_budget_take(BlsBudget *b, int limit, bool ahead)
{
	Assert(limit > 0 && limit <= BLS_MAX_CONCURRENT_REQUESTS);
	if (ahead && others_wait(b))
		return -1;
	for (int i = 0; i < limit; i++)
	{
		char		file[32];

		if (b->held[i])
			continue;
		if (b->fds[i] < 0)
		{
			snprintf(file, sizeof(file), "slot.%d", i);
			b->fds[i] = open_budget_file(b, file);
		}
		if (flock(b->fds[i], LOCK_EX | LOCK_NB) == 0)
		{
			b->held[i] = true;
			return i;
		}
	}
	return -1;
}

/*
 * bls_budget_release
 *		Give slot back; never raises an error (it is called from reset
 *		callbacks and transaction callbacks).
 */
void
bls_budget_release(BlsBudget *b, int slot)
{
	if (slot < 0 || slot >= BLS_MAX_CONCURRENT_REQUESTS || !b->held[slot])
		return;
	(void) flock(b->fds[slot], LOCK_UN);
	b->held[slot] = false;
}

/*
 * bls_budget_wait_begin, bls_budget_wait_end
 *		This backend waits for a slot of b (others' read-ahead yields), and
 *		no longer does.  The kernel ends the announcement if the backend
 *		dies.
 */
void
bls_budget_wait_begin(BlsBudget *b)
{
	if (b->waiting_fd < 0)
		b->waiting_fd = open_budget_file(b, "waiting");
	if (b->waits++ == 0)
		(void) flock(b->waiting_fd, LOCK_SH);
}

void
bls_budget_wait_end(BlsBudget *b)
{
	Assert(b->waits > 0);
	if (--b->waits == 0)
		(void) flock(b->waiting_fd, LOCK_UN);
}

/*
 * bls_budget_backoff_until
 *		The time until which no backend sends for b's account (a 429's
 *		Retry-After), or 0; never more than max_ms from now, whatever the
 *		file says (a clock set back, a damaged file).
 */
TimestampTz
bls_budget_backoff_until(BlsBudget *b, long max_ms)
{
	TimestampTz until;
	TimestampTz limit;

	if (b->backoff_fd < 0)
		b->backoff_fd = open_budget_file(b, "backoff");
	if (pread(b->backoff_fd, &until, sizeof(until), 0) != sizeof(until))
		return 0;
	limit = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), max_ms);
	return Min(until, limit);
}

/*
 * bls_budget_backoff
 *		Make every backend of b's account hold back its requests until
 *		until, unless one already does for longer.  Two backends writing at
 *		once may leave the earlier of their times: the other one's own
 *		retry still waits for its own.
 */
void
bls_budget_backoff(BlsBudget *b, TimestampTz until)
{
	TimestampTz now_until;

	if (b->backoff_fd < 0)
		b->backoff_fd = open_budget_file(b, "backoff");
	if (pread(b->backoff_fd, &now_until, sizeof(now_until), 0) == sizeof(now_until) &&
		now_until >= until)
		return;
	if (pwrite(b->backoff_fd, &until, sizeof(until), 0) != sizeof(until))
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not write the back-off of the BLS request budget: %m")));
}
