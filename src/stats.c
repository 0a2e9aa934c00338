/*-------------------------------------------------------------------------
 *
 * stats.c
 *		  Observability of bls_fdw: per-server counters of this backend,
 *		  which bls_fdw_stats() (functions.c) shows.
 *
 * The counters live in a backend-local hash table keyed by the foreign
 * server's OID, created in TopMemoryContext on first use and kept until the
 * backend exits.  They count what this backend has done: nothing is shared
 * between backends and nothing is reset by a transaction's end or an error,
 * so the work of a failed query is counted too.  Adding to a counter never
 * allocates after the server's first entry and never raises an error other
 * than out of memory, so it is safe to call from error paths before the
 * ereport.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "bls_modules.h"

/* serverid -> BlsServerStats, in TopMemoryContext; NULL until first use */
static HTAB *server_stats = NULL;

/* The counters of serverid, created as zeros on first use. */
static BlsServerStats *
server_entry(Oid serverid)
{
	BlsServerStats *entry;
	bool		found;

	if (server_stats == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(BlsServerStats);
		ctl.hcxt = TopMemoryContext;
		server_stats = hash_create("bls_fdw server stats", 8, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(server_stats, &serverid, HASH_ENTER, &found);
	if (!found)
	{
		memset(entry->counts, 0, sizeof(entry->counts));
		entry->time_ms = 0;
		entry->wait_ms = 0;
	}
	return entry;
}

/*
 * bls_stat_add
 *		Add n to counter kind of serverid in this backend.
 */
void
bls_stat_add(Oid serverid, BlsStatKind kind, int64 n)
{
	Assert(kind >= 0 && kind < BLS_NUM_STATS);
	server_entry(serverid)->counts[kind] += n;
}

/*
 * bls_stat_add_time
 *		Add ms milliseconds to the time serverid's requests took.
 */
void
bls_stat_add_time(Oid serverid, double ms)
{
	server_entry(serverid)->time_ms += ms;
}

/*
 * bls_stat_add_wait_time
 *		Add ms milliseconds to the time serverid's requests waited for the
 *		request budget (a slot, or an account's back-off).
 */
void
bls_stat_add_wait_time(Oid serverid, double ms)
{
	server_entry(serverid)->wait_ms += ms;
}

/*
 * bls_stat_table
 *		The hash of BlsServerStats by server OID, for reading; NULL if this
 *		backend has counted nothing yet.
 */
HTAB *
bls_stat_table(void)
{
	return server_stats;
}
