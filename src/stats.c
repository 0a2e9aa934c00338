/*-------------------------------------------------------------------------
 *
 * stats.c
 *		  Observability of bls_fdw: per-server counters of this backend,
 *		  bls_fdw_stats(), bls_fdw_disconnect() and bls_fdw_version().
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

#include "foreign/foreign.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "bls_fdw.h"

/* One server's counters. */
typedef struct BlsServerStats
{
	Oid			serverid;		/* hash key; must be first */
	int64		counts[BLS_NUM_STATS];
	double		time_ms;		/* time spent in requests */
	double		wait_ms;		/* time waiting for a budget slot or a
								 * back-off */
} BlsServerStats;

/* serverid -> BlsServerStats, in TopMemoryContext; NULL until first use */
static HTAB *server_stats = NULL;

PG_FUNCTION_INFO_V1(bls_fdw_stats);
PG_FUNCTION_INFO_V1(bls_fdw_disconnect);
PG_FUNCTION_INFO_V1(bls_fdw_version);

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
 * bls_fdw_stats()
 *		One row per server this backend has used: its name (NULL if the
 *		server has been dropped since) and its counters.
 */
Datum
bls_fdw_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS scan;
	BlsServerStats *entry;

	InitMaterializedSRF(fcinfo, 0);
	if (server_stats == NULL)
		PG_RETURN_VOID();

	hash_seq_init(&scan, server_stats);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		Datum		values[1 + BLS_NUM_STATS + 2];	/* name, counters, times */
		bool		nulls[lengthof(values)];
		ForeignServer *server;
		int			i = 0;

		memset(nulls, 0, sizeof(nulls));
		server = GetForeignServerExtended(entry->serverid, FSV_MISSING_OK);
		if (server)
			values[i++] = CStringGetTextDatum(server->servername);
		else
			nulls[i++] = true;
		values[i++] = Int64GetDatum(entry->counts[BLS_STAT_REQUESTS]);
		values[i++] = Int64GetDatum(entry->counts[BLS_STAT_PAGES]);
		values[i++] = Int64GetDatum(entry->counts[BLS_STAT_ROWS]);
		values[i++] = Int64GetDatum(entry->counts[BLS_STAT_BYTES]);
		values[i++] = Int64GetDatum(entry->counts[BLS_STAT_RETRIES]);
		values[i++] = Int64GetDatum(entry->counts[BLS_STAT_THROTTLED]);
		values[i++] = Int64GetDatum(entry->counts[BLS_STAT_ERRORS]);
		values[i++] = Float8GetDatum(entry->time_ms);
		/* 1.4's columns; a 1.3 catalog that is not updated yet asks for fewer */
		values[i++] = Int64GetDatum(entry->counts[BLS_STAT_SLOT_WAITS]);
		values[i++] = Int64GetDatum(entry->counts[BLS_STAT_BACKOFF_WAITS]);
		values[i++] = Float8GetDatum(entry->wait_ms);
		Assert(i == lengthof(values));
		if (rsinfo->setDesc->natts != i && rsinfo->setDesc->natts != i - 3)
			elog(ERROR, "bls_fdw_stats() returns %d columns, not %d",
				 i, rsinfo->setDesc->natts);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}
	PG_RETURN_VOID();
}

/*
 * bls_fdw_disconnect()
 *		Close this backend's cached connections to BLS; true if any was open.
 */
Datum
bls_fdw_disconnect(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(bls_disconnect_all());
}

/*
 * bls_fdw_version()
 *		The version of the loaded module, e.g. "1.1".
 */
Datum
bls_fdw_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(BLS_FDW_VERSION));
}
