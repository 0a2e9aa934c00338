/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *		  What differs between the PostgreSQL major versions bls_fdw builds
 *		  against (15, 17 and 18), in one place.
 *
 * Each guard follows the change contrib/postgres_fdw made in the same
 * release, so that the behaviour is PostgreSQL's own on every version.
 * Call sites use the bls_ names below and need no #if of their own.
 *
 * src/pg_compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef BLS_PG_COMPAT_H
#define BLS_PG_COMPAT_H

#include "access/stratnum.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_foreign_server.h"
#include "commands/explain.h"
#include "commands/vacuum.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "optimizer/pathnode.h"
#include "parser/parsetree.h"
#include "utils/acl.h"

/* 18: ExplainState and the ExplainProperty functions have headers of their own */
#if PG_VERSION_NUM >= 180000
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif

/*
 * create_foreignscan_path() for a base relation: 17 added fdw_restrictinfo
 * (for joins and upper relations only, so NIL here), 18 the count of
 * disabled nodes (none: a path we want last is costed up instead, as it
 * was before 18, so that plans are the same on every version).
 */
#if PG_VERSION_NUM >= 180000
#define bls_create_foreignscan_path(root, rel, target, rows, startup, total, \
									pathkeys, required_outer, outerpath, private) \
	create_foreignscan_path((root), (rel), (target), (rows), 0, (startup), (total), \
							(pathkeys), (required_outer), (outerpath), NIL, (private))
#elif PG_VERSION_NUM >= 170000
#define bls_create_foreignscan_path(root, rel, target, rows, startup, total, \
									pathkeys, required_outer, outerpath, private) \
	create_foreignscan_path((root), (rel), (target), (rows), (startup), (total), \
							(pathkeys), (required_outer), (outerpath), NIL, (private))
#else
#define bls_create_foreignscan_path(root, rel, target, rows, startup, total, \
									pathkeys, required_outer, outerpath, private) \
	create_foreignscan_path((root), (rel), (target), (rows), (startup), (total), \
							(pathkeys), (required_outer), (outerpath), (private))
#endif

/*
 * create_foreign_upper_path(): 17 added fdw_restrictinfo (NIL: an upper
 * path has no quals to recheck), 18 the count of disabled nodes (none).
 */
#if PG_VERSION_NUM >= 180000
#define bls_create_foreign_upper_path(root, rel, target, rows, startup, total, \
									  pathkeys, private) \
	create_foreign_upper_path((root), (rel), (target), (rows), 0, (startup), \
							  (total), (pathkeys), NULL, NIL, (private))
#elif PG_VERSION_NUM >= 170000
#define bls_create_foreign_upper_path(root, rel, target, rows, startup, total, \
									  pathkeys, private) \
	create_foreign_upper_path((root), (rel), (target), (rows), (startup), \
							  (total), (pathkeys), NULL, NIL, (private))
#else
#define bls_create_foreign_upper_path(root, rel, target, rows, startup, total, \
									  pathkeys, private) \
	create_foreign_upper_path((root), (rel), (target), (rows), (startup), \
							  (total), (pathkeys), NULL, (private))
#endif

/*
 * The base relations a ForeignScan covers (of an upper relation: all the
 * query's); 16 split out fs_base_relids, without outer joins.
 */
#if PG_VERSION_NUM >= 160000
#define bls_scan_base_relids(fsplan)	((fsplan)->fs_base_relids)
#else
#define bls_scan_base_relids(fsplan)	((fsplan)->fs_relids)
#endif

/*
 * The user whose user mapping a scan (or a direct modification) uses: the
 * view owner's when the table is read through a view, else the current
 * user.  16 moved it from the range table entry to ForeignScan.checkAsUser.
 */
static inline Oid
bls_scan_user(ForeignScan *fsplan, EState *estate, Index rtindex)
{
#if PG_VERSION_NUM >= 160000
	(void) estate;
	(void) rtindex;
	return OidIsValid(fsplan->checkAsUser) ? fsplan->checkAsUser : GetUserId();
#else
	RangeTblEntry *rte = exec_rt_fetch(rtindex, estate);

	(void) fsplan;
	return OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
#endif
}

/* The same for a result relation; 16 has ExecGetResultRelCheckAsUser(). */
static inline Oid
bls_result_rel_user(ResultRelInfo *rinfo, EState *estate)
{
#if PG_VERSION_NUM >= 160000
	return ExecGetResultRelCheckAsUser(rinfo, estate);
#else
	/* a partition the parent routes rows to has no entry: the parent's */
	Index		rti = rinfo->ri_RangeTableIndex ? rinfo->ri_RangeTableIndex :
		rinfo->ri_RootResultRelInfo->ri_RangeTableIndex;
	RangeTblEntry *rte = exec_rt_fetch(rti, estate);

	return OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
#endif
}

/* USAGE and the like on a foreign server; 16 has object_aclcheck(). */
#if PG_VERSION_NUM >= 160000
#define bls_server_aclcheck(serverid, roleid, mode) \
	object_aclcheck(ForeignServerRelationId, (serverid), (roleid), (mode))
#else
#define bls_server_aclcheck(serverid, roleid, mode) \
	pg_foreign_server_aclcheck((serverid), (roleid), (mode))
#endif

/* 16: AdjustTimestampForTypmod() reports to an escontext (NULL: an ERROR) */
#if PG_VERSION_NUM >= 160000
#define bls_adjust_timestamp_typmod(ts, typmod) \
	AdjustTimestampForTypmod((ts), (typmod), NULL)
#else
#define bls_adjust_timestamp_typmod(ts, typmod) \
	AdjustTimestampForTypmod((ts), (typmod))
#endif

/* 18 dropped the symbol of the POSIX collation; its OID is unchanged. */
#ifndef POSIX_COLLATION_OID
#define POSIX_COLLATION_OID 951
#endif

/*
 * A pathkey's direction: 18 keeps a CompareType (COMPARE_LT for ASC)
 * where earlier versions kept a btree strategy number.
 */
#if PG_VERSION_NUM >= 180000
#define bls_pathkey_ascending(pk)	((pk)->pk_cmptype == COMPARE_LT)
#define bls_pathkey_descending(pk)	((pk)->pk_cmptype == COMPARE_GT)
#else
#define bls_pathkey_ascending(pk)	((pk)->pk_strategy == BTLessStrategyNumber)
#define bls_pathkey_descending(pk)	((pk)->pk_strategy == BTGreaterStrategyNumber)
#endif

/* A cost-based delay in ANALYZE's sampling; 18 asks whether it is ANALYZE. */
#if PG_VERSION_NUM >= 180000
#define bls_analyze_delay_point() vacuum_delay_point(true)
#else
#define bls_analyze_delay_point() vacuum_delay_point()
#endif

/*
 * The wait event of a request waiting for the account's request budget
 * (budget.c): 17 names it, as a custom wait event of the Extension type
 * ("BlsRequestBudget" in pg_stat_activity); before, it is "Extension".
 * WaitEventExtensionNew() needs no shared_preload_libraries.
 */
#if PG_VERSION_NUM >= 170000
#include "utils/wait_event.h"
static inline uint32
bls_budget_wait_event(void)
{
	static uint32 event = 0;

	if (event == 0)
		event = WaitEventExtensionNew("BlsRequestBudget");
	return event;
}
#else
#include "utils/wait_event.h"
#define bls_budget_wait_event() PG_WAIT_EXTENSION
#endif

#endif							/* BLS_PG_COMPAT_H */
