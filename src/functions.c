/*-------------------------------------------------------------------------
 *
 * functions.c
 *		  The SQL-callable functions that look at or reset this backend's
 *		  state: bls_fdw_stats(), bls_fdw_disconnect() and bls_fdw_version().
 *
 * They sit apart from what they read (stats.c, connection.c), so that those
 * modules call nothing back.  The functions that make requests,
 * bls_download_link() and bls_log_query(), live with their requests
 * (modify.c, log_query.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "foreign/foreign.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/tuplestore.h"

#include "bls_modules.h"

PG_FUNCTION_INFO_V1(bls_fdw_stats);
PG_FUNCTION_INFO_V1(bls_fdw_disconnect);
PG_FUNCTION_INFO_V1(bls_fdw_version);

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
	HTAB	   *table = bls_stat_table();

	InitMaterializedSRF(fcinfo, 0);
	if (table == NULL)
		PG_RETURN_VOID();

	hash_seq_init(&scan, table);
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
