/*-------------------------------------------------------------------------
 *
 * modify.c
 *		  INSERT and DELETE on download_tasks: CreateDownloadTask and
 *		  DeleteDownloadTask.  UPDATE is refused: BLS cannot change a task.
 *
 * An INSERT sends one CreateDownloadTask per row, after checking locally
 * what is surely wrong (a missing log store or time, start after end, a bad
 * format, order or limit, a value for a column only the service sets), so
 * that nothing is sent for such a row.  A batch (the batch_size option, as
 * postgres_fdw names it) sends its creates side by side; COPY is batched
 * too (PostgreSQL 15 inserts its rows one by one: they are queued here).
 * A create is not idempotent: it is resent only when the service certainly
 * refused it (see connection.c), and an error whose outcome is unknown
 * names the task.
 * RETURNING describes each new task (DescribeDownloadTask), so it shows the
 * service's view; PostgreSQL does not batch an INSERT with RETURNING.
 *
 * A DELETE whose only conditions give uuids (uuid = x, IN, = ANY) is a
 * direct modification: one DeleteDownloadTask per distinct uuid and no other
 * request; its row count is the number of tasks that existed.  Any other
 * DELETE scans (with the usual pushdown) and deletes each row by its uuid.
 * A task that is already gone (404) counts no row, and is no error.
 *
 * BLS has no transactions: a ROLLBACK undoes neither a create nor a delete.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "utils/array.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/appendinfo.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "bce_auth.h"
#include "bls_modules.h"
#include "pg_compat.h"

#define BLS_CREATE_PATH		"/v2/logstore/download"
#define BLS_DELETE_PATH		"/v2/logstore/download/"

/* The junk columns a row-by-row DELETE carries from its scan. */
#define BLS_JUNK_UUID		"bls_uuid"
#define BLS_JUNK_ROW		"bls_row"

/* How a create's body field is sent. */
typedef enum BlsCreateKind
{
	BLS_CREATE_STRING,
	BLS_CREATE_TIME,			/* UTC YYYY-MM-DDTHH:MM:SSZ */
	BLS_CREATE_INT				/* a JSON integer */
} BlsCreateKind;

/* The fields of a CreateDownloadTask body, in their documented order. */
static const struct
{
	const char *field;
	BlsCreateKind kind;
	bool		required;
}			create_fields[] = {
	{"name", BLS_CREATE_STRING, false},
	{"project", BLS_CREATE_STRING, false},
	{"logStoreName", BLS_CREATE_STRING, true},
	{"logStreamName", BLS_CREATE_STRING, false},
	{"query", BLS_CREATE_STRING, false},
	{"queryStartTime", BLS_CREATE_TIME, true},
	{"queryEndTime", BLS_CREATE_TIME, true},
	{"format", BLS_CREATE_STRING, false},
	{"limit", BLS_CREATE_INT, false},
	{"order", BLS_CREATE_STRING, false},
	{"fileDir", BLS_CREATE_STRING, false},
};

#define BLS_NUM_CREATE_FIELDS lengthof(create_fields)
#define BLS_MAX_LIMIT		1000000

/* Execution state of an INSERT or a row-by-row DELETE. */
typedef struct BlsModifyState
{
	Relation	rel;
	BlsOptions *opts;
	const BlsResource *res;
	CmdType		operation;
	MemoryContext cxt;			/* owner gives back its requests with it */
	BlsRequestOwner *owner;
	BlsConnection *conn;		/* the owner's, from the first request */
	BlsHandle  *handles;		/* a batch's creates under way */
	int			nhandles;
	BlsScanStats stats;
	MemoryContext row_cxt;		/* reset per row */

	/* INSERT: the column of each create field (0 if none) */
	AttrNumber	create_attno[BLS_NUM_CREATE_FIELDS];
	List	   *service_attnos; /* columns only the service sets */
	int			batch_size;
	BlsPager   *describer;		/* for RETURNING */
	BlsColumn  *cols;			/* every column, to describe into */
	int			ncols;
	BlsFields	fields;
	int			id_keys[2];

	CommandId	cid;			/* the statement's, for the ledger */

#if PG_VERSION_NUM < 160000
	/*
	 * COPY on PostgreSQL 15, which inserts into a foreign table row by row:
	 * rows checked and queued, sent batch_size at a time (see queue_copy_row)
	 */
	bool		copy_queue;
	MemoryContext queue_cxt;	/* the queued bodies; reset per batch */
	BlsBodyField (*queued)[BLS_NUM_CREATE_FIELDS];
	int			nqueued;
#endif

	/* DELETE */
	Oid			uuid_type;		/* the uuid column's type */
	AttrNumber	uuid_junk;
	AttrNumber	row_junk;		/* the scanned row, for RETURNING */
	int64		deleted;
} BlsModifyState;

/* Refuse what BLS cannot do; the message says why. */
static void
check_operation(Relation rel, const BlsResource *res, CmdType operation)
{
	if (strcmp(res->name, "download_tasks") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot change foreign table \"%s\": BLS resource \"%s\" is read-only",
						RelationGetRelationName(rel), res->name)));
	if (operation == CMD_UPDATE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot update foreign table \"%s\"", RelationGetRelationName(rel)),
				 errdetail("BLS has no call to change a download task."),
				 errhint("Delete the task and insert a new one.")));
}

/*
 * ON CONFLICT DO NOTHING would promise that a duplicate is skipped: BLS has
 * no key to conflict on, so the promise could not be kept.
 */
static void
check_on_conflict(Relation rel, ModifyTable *plan)
{
	if (plan != NULL && plan->onConflictAction != ONCONFLICT_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ON CONFLICT is not supported on foreign table \"%s\"",
						RelationGetRelationName(rel)),
				 errdetail("BLS has no unique key that a new download task could conflict with.")));
}

/*
 * blsIsForeignRelUpdatable
 *		download_tasks takes INSERT and DELETE; the catalog is read-only.
 */
int
blsIsForeignRelUpdatable(Relation rel)
{
	BlsOptions *opts = bls_get_options(RelationGetRelid(rel), GetUserId(), false);

	if (strcmp(opts->resource->name, "download_tasks") != 0)
		return 0;
	return (1 << CMD_INSERT) | (1 << CMD_DELETE);
}

/* The column of rel that holds the task's uuid, or InvalidAttrNumber. */
static AttrNumber
uuid_column(Relation rel, const BlsResource *res)
{
	BlsRelMap	map;

	bls_map_relation(rel, res, &map);
	return bls_field_attno(&map, "uuid");
}

/*
 * blsAddForeignUpdateTargets
 *		A DELETE row by row needs the task's uuid, and for RETURNING the
 *		whole row as scanned.
 */
void
blsAddForeignUpdateTargets(PlannerInfo *root, Index rtindex,
						   RangeTblEntry *target_rte, Relation target_relation)
{
	BlsOptions *opts = bls_get_options(RelationGetRelid(target_relation),
									   GetUserId(), false);
	AttrNumber	attno;
	Var		   *var;

	check_operation(target_relation, opts->resource, root->parse->commandType);
	attno = uuid_column(target_relation, opts->resource);
	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
				 errmsg("cannot delete from foreign table \"%s\": it has no column for field \"uuid\"",
						RelationGetRelationName(target_relation)),
				 errhint("A task is deleted by its uuid; add a uuid column.")));
	var = makeVar(rtindex, attno, TEXTOID, -1, InvalidOid, 0);
	var->vartype = TupleDescAttr(RelationGetDescr(target_relation), attno - 1)->atttypid;
	var->vartypmod = TupleDescAttr(RelationGetDescr(target_relation), attno - 1)->atttypmod;
	var->varcollid = TupleDescAttr(RelationGetDescr(target_relation), attno - 1)->attcollation;
	add_row_identity_var(root, var, rtindex, BLS_JUNK_UUID);

	if (root->parse->returningList != NIL)
		add_row_identity_var(root,
							 makeWholeRowVar(target_rte, rtindex, 0, false),
							 rtindex, BLS_JUNK_ROW);
}

/*
 * blsPlanForeignModify
 *		Refuse what cannot be done.  The plan holds only whether the
 *		statement has RETURNING (the executor sets up its projection only
 *		after BeginForeignModify); the executor reads the options.
 */
List *
blsPlanForeignModify(PlannerInfo *root, ModifyTable *plan,
					 Index resultRelation, int subplan_index)
{
	RangeTblEntry *rte = planner_rt_fetch(resultRelation, root);
	Relation	rel = table_open(rte->relid, NoLock);
	BlsOptions *opts = bls_get_options(rte->relid, GetUserId(), false);

	check_operation(rel, opts->resource, plan->operation);
	check_on_conflict(rel, plan);
	table_close(rel, NoLock);
	/* the new row is checked against a view's WITH CHECK OPTION too */
	return list_make1(makeBoolean(plan->returningLists != NIL ||
								  plan->withCheckOptionLists != NIL));
}

/* Set up the state both INSERT and DELETE use, in a context of its own. */
static BlsModifyState *
begin_modify(EState *estate, ResultRelInfo *rinfo, CmdType operation)
{
	Relation	rel = rinfo->ri_RelationDesc;
	Oid			userid = bls_result_rel_user(rinfo, estate);
	MemoryContext cxt = AllocSetContextCreate(estate->es_query_cxt,
											  "bls_fdw modify",
											  ALLOCSET_SMALL_SIZES);
	BlsModifyState *ms = MemoryContextAllocZero(cxt, sizeof(BlsModifyState));
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);

	ms->cxt = cxt;
	ms->rel = rel;
	ms->operation = operation;
	ms->cid = estate->es_output_cid;
	/* the role's mapping: a role without one gets a clear error here */
	ms->opts = bls_get_options(RelationGetRelid(rel), userid, true);
	ms->res = ms->opts->resource;
	check_operation(rel, ms->res, operation);
	ms->row_cxt = AllocSetContextCreate(cxt, "bls_fdw modify row",
										ALLOCSET_SMALL_SIZES);
	ms->handles = palloc0(sizeof(BlsHandle) * BLS_MAX_BATCH_SIZE);
	ms->owner = bls_owner_create(cxt, ms->opts);
	MemoryContextSwitchTo(oldcxt);
	return ms;
}

/* Prepare describing tasks into every column, for RETURNING. */
static void
init_describer(BlsModifyState *ms)
{
	TupleDesc	tupdesc = RelationGetDescr(ms->rel);
	MemoryContext oldcxt = MemoryContextSwitchTo(ms->cxt);

	ms->cols = palloc0(sizeof(BlsColumn) * Max(tupdesc->natts, 1));
	for (int i = 0; i < tupdesc->natts; i++)
		if (!TupleDescAttr(tupdesc, i)->attisdropped)
			bls_init_column(&ms->cols[ms->ncols++], ms->rel, i + 1, ms->res);
	bls_init_fields(&ms->fields, ms->cols, ms->ncols, ms->res, ms->id_keys);
	ms->describer = bls_pager_create(ms->cxt, ms->opts, ms->res, &ms->stats);
	MemoryContextSwitchTo(oldcxt);
}

static const char *column_name(Relation rel, AttrNumber attno);

/*
 * Map the columns to the create's fields.  The new task is described after
 * its create when something reads the row the service made: RETURNING, a
 * view's WITH CHECK OPTION (need_row), or an AFTER ROW trigger, as
 * postgres_fdw fetches the row for them.
 */
static void
init_insert(BlsModifyState *ms, ResultRelInfo *rinfo, bool need_row)
{
	TupleDesc	tupdesc = RelationGetDescr(ms->rel);
	char	  **keys = bls_column_keys(ms->rel, ms->res);

	for (int f = 0; f < BLS_NUM_CREATE_FIELDS; f++)
		ms->create_attno[f] = InvalidAttrNumber;
	for (int i = 1; i <= tupdesc->natts; i++)
	{
		bool		writable = false;

		if (keys[i - 1] == NULL)
			continue;
		for (int f = 0; f < BLS_NUM_CREATE_FIELDS; f++)
			if (strcmp(keys[i - 1], create_fields[f].field) == 0)
			{
				/* which one to send? Refused rather than one dropped */
				if (ms->create_attno[f] != InvalidAttrNumber)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_COLUMN_NAME),
							 errmsg("cannot insert into foreign table \"%s\": columns \"%s\" and \"%s\" both map to field \"%s\"",
									RelationGetRelationName(ms->rel),
									column_name(ms->rel, ms->create_attno[f]),
									column_name(ms->rel, i), keys[i - 1]),
							 errhint("Give one of them another field with the column option \"key\", or drop it.")));
				ms->create_attno[f] = i;
				writable = true;
			}
		if (!writable)
			ms->service_attnos = lappend_int(ms->service_attnos, i);
	}
	ms->batch_size = ms->opts->batch_size;
	if (need_row ||
		(rinfo->ri_TrigDesc && rinfo->ri_TrigDesc->trig_insert_after_row))
		init_describer(ms);
}

/*
 * blsBeginForeignModify
 *		Map the columns to the create's fields, or find the DELETE's junk
 *		columns.
 */
void
blsBeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
					  List *fdw_private, int subplan_index, int eflags)
{
	EState	   *estate = mtstate->ps.state;
	CmdType		operation = mtstate->operation;
	BlsModifyState *ms;
	TupleDesc	tupdesc = RelationGetDescr(rinfo->ri_RelationDesc);

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	ms = begin_modify(estate, rinfo, operation);
	rinfo->ri_FdwState = ms;

	if (operation == CMD_INSERT)
		init_insert(ms, rinfo, boolVal(linitial(fdw_private)));
	else
	{
		Plan	   *subplan = outerPlanState(mtstate)->plan;
		AttrNumber	attno = uuid_column(ms->rel, ms->res);

		ms->uuid_type = TupleDescAttr(tupdesc, attno - 1)->atttypid;

		ms->uuid_junk = ExecFindJunkAttributeInTlist(subplan->targetlist,
													 BLS_JUNK_UUID);
		if (!AttributeNumberIsValid(ms->uuid_junk))
			elog(ERROR, "could not find junk uuid column");
		ms->row_junk = ExecFindJunkAttributeInTlist(subplan->targetlist,
													BLS_JUNK_ROW);
	}
}

/*
 * blsBeginForeignInsert
 *		COPY FROM and rows routed to a partition: an INSERT without a plan
 *		of ours.  The executor has set up RETURNING, WITH CHECK OPTION and
 *		triggers by now.
 */
void
blsBeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	BlsModifyState *ms;

	check_on_conflict(rinfo->ri_RelationDesc, (ModifyTable *) mtstate->ps.plan);
	ms = begin_modify(mtstate->ps.state, rinfo, CMD_INSERT);
	rinfo->ri_FdwState = ms;
	init_insert(ms, rinfo, rinfo->ri_projectReturning != NULL ||
				rinfo->ri_WithCheckOptions != NIL);
#if PG_VERSION_NUM < 160000

	/*
	 * PostgreSQL 16 and later batch COPY into a foreign table themselves
	 * (ExecForeignBatchInsert, with our batch size); 15 calls
	 * ExecForeignInsert row by row, so COPY (the caller without a plan)
	 * queues its rows here when the batch size allows batching at all.
	 */
	if (mtstate->ps.plan == NULL && blsGetForeignModifyBatchSize(rinfo) > 1)
	{
		ms->copy_queue = true;
		ms->queue_cxt = AllocSetContextCreate(ms->cxt, "bls_fdw copy queue",
											  ALLOCSET_SMALL_SIZES);
		ms->queued = MemoryContextAlloc(ms->cxt,
										sizeof(*ms->queued) * ms->batch_size);
	}
#endif
}

#if PG_VERSION_NUM < 160000
static void flush_copy_queue(BlsModifyState *ms);
#endif

void
blsEndForeignInsert(EState *estate, ResultRelInfo *rinfo)
{
#if PG_VERSION_NUM < 160000
	BlsModifyState *ms = (BlsModifyState *) rinfo->ri_FdwState;

	/* the last rows COPY queued */
	if (ms && ms->nqueued > 0)
		flush_copy_queue(ms);
#endif
	blsEndForeignModify(estate, rinfo);
}

/* The column's name, for messages. */
static const char *
column_name(Relation rel, AttrNumber attno)
{
	return NameStr(TupleDescAttr(RelationGetDescr(rel), attno - 1)->attname);
}

/* A value of a column as text in the server encoding, palloc'd. */
static char *
value_text(Relation rel, AttrNumber attno, Datum value)
{
	Oid			typoutput;
	bool		isvarlena;

	getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel), attno - 1)->atttypid,
					  &typoutput, &isvarlena);
	return OidOutputFunctionCall(typoutput, value);
}

/*
 * A time as BLS takes it, UTC "YYYY-MM-DDTHH:MM:SSZ" whatever the
 * session's TimeZone, into buf.  Whole seconds: a start rounds down and an
 * end up, so the window covers what was asked.  Returns the time as
 * given, before rounding.
 */
static TimestampTz
format_time(Relation rel, AttrNumber attno, Datum value, bool round_up,
			char *buf, size_t buflen)
{
	Oid			typid = TupleDescAttr(RelationGetDescr(rel), attno - 1)->atttypid;
	TimestampTz ts;

	if (typid == TIMESTAMPTZOID)
		ts = DatumGetTimestampTz(value);
	else
		ts = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
													 CStringGetDatum(value_text(rel, attno, value)),
													 ObjectIdGetDatum(InvalidOid),
													 Int32GetDatum(-1)));
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" must be a finite time to create a download task",
						column_name(rel, attno))));
	if (!bls_utc_text(ts, round_up, buf, buflen))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"%s\" is out of the range of times BLS takes",
						column_name(rel, attno))));
	return ts;
}

/* A description of the task a row asks for, for messages. */
static char *
describe_row(const BlsBodyField *body)
{
	const char *name = body[0].str;
	const char *project = body[1].str;
	const char *store = body[2].str;

	return psprintf("download task \"%s\" (project \"%s\", log store \"%s\")",
					name ? bls_printable(name, 100) : "",
					project ? bls_printable(project, 100) : "default",
					store ? bls_printable(store, 100) : "");
}

/*
 * Check one row and build its create body in body[] (UTF-8 strings in the
 * current context).  Everything that is surely wrong is an ERROR here,
 * before anything is sent.
 */
static void
build_create(BlsModifyState *ms, TupleTableSlot *slot, BlsBodyField *body)
{
	Relation	rel = ms->rel;
	ListCell   *lc;
	char	   *start = NULL;
	char	   *end = NULL;
	TimestampTz start_ts = 0;
	TimestampTz end_ts = 0;

	slot_getallattrs(slot);
	foreach(lc, ms->service_attnos)
	{
		AttrNumber	attno = lfirst_int(lc);

		if (!slot->tts_isnull[attno - 1])
			ereport(ERROR,
					(errcode(ERRCODE_GENERATED_ALWAYS),
					 errmsg("cannot insert a non-null value into column \"%s\"",
							column_name(rel, attno)),
					 errdetail("Column \"%s\" is set by BLS; nothing was sent.",
							   column_name(rel, attno))));
	}

	for (int f = 0; f < BLS_NUM_CREATE_FIELDS; f++)
	{
		AttrNumber	attno = ms->create_attno[f];
		Datum		value;

		body[f].key = create_fields[f].field;
		body[f].str = NULL;
		body[f].is_int = false;
		if (attno == InvalidAttrNumber || slot->tts_isnull[attno - 1])
		{
			if (create_fields[f].required)
				ereport(ERROR,
						(errcode(ERRCODE_NOT_NULL_VIOLATION),
						 attno == InvalidAttrNumber
						 ? errmsg("foreign table \"%s\" has no column for field \"%s\", which a new download task needs",
								  RelationGetRelationName(rel), create_fields[f].field)
						 : errmsg("column \"%s\" must not be null in a new download task",
								  column_name(rel, attno))));
			continue;
		}
		value = slot->tts_values[attno - 1];
		switch (create_fields[f].kind)
		{
			case BLS_CREATE_STRING:
				{
					char	   *s = value_text(rel, attno, value);

					body[f].str = pg_server_to_any(s, strlen(s), PG_UTF8);
					break;
				}
			case BLS_CREATE_TIME:
				{
					char	   *buf = palloc(32);
					TimestampTz ts;

					ts = format_time(rel, attno, value,
									 strcmp(create_fields[f].field, "queryEndTime") == 0,
									 buf, 32);
					body[f].str = buf;
					if (strcmp(create_fields[f].field, "queryStartTime") == 0)
						start = buf, start_ts = ts;
					else
						end = buf, end_ts = ts;
					break;
				}
			case BLS_CREATE_INT:
				{
					char	   *s = value_text(rel, attno, value);
					char	   *endp;
					long long	v;

					errno = 0;
					v = strtoll(s, &endp, 10);
					if (errno != 0 || endp == s || *endp != '\0' ||
						v < 1 || v > BLS_MAX_LIMIT)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("invalid value for column \"%s\": \"%s\"",
										column_name(rel, attno), s),
								 errdetail("A download task's limit is a whole number from 1 to %d.",
										   BLS_MAX_LIMIT)));
					body[f].is_int = true;
					body[f].ival = v;
					break;
				}
		}
		if (strcmp(create_fields[f].field, "format") == 0 &&
			strcmp(body[f].str, "json") != 0 && strcmp(body[f].str, "csv") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for column \"%s\": \"%s\"",
							column_name(rel, attno), bls_printable(body[f].str, 40)),
					 errdetail("A download task's format is \"json\" or \"csv\".")));
		if (strcmp(create_fields[f].field, "order") == 0 &&
			strcmp(body[f].str, "asc") != 0 && strcmp(body[f].str, "desc") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for column \"%s\": \"%s\"",
							column_name(rel, attno), bls_printable(body[f].str, 40)),
					 errdetail("A download task's order is \"asc\" or \"desc\".")));
		if (strcmp(create_fields[f].field, "logStoreName") == 0 &&
			body[f].str[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" must not be empty in a new download task",
							column_name(rel, attno))));
	}
	if (start && end)
		bls_check_window_order(start_ts, end_ts, true);
}

/* Start the create of body; the handle goes into ms->handles. */
static void
start_create(BlsModifyState *ms, const BlsBodyField *body)
{
	BlsHttpRequest hr = {0};
	size_t		len;
	char	   *json = bls_json_body(body, BLS_NUM_CREATE_FIELDS, &len);

	if (json == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	hr.method = "POST";
	hr.target = BLS_CREATE_PATH;
	hr.body = pnstrdup(json, len);
	hr.bodylen = len;
	free(json);
	hr.not_idempotent = true;
	hr.what = describe_row(body);
	ms->conn = bls_owner_connection(ms->owner);
	ms->handles[ms->nhandles] = bls_owner_start(ms->owner, &hr, &ms->stats,
												false);
	ms->nhandles++;
}

/*
 * Raise the ERROR for a 2xx answer that a parser refused: a failure the
 * service reported (with its code), or a body that is not what the call
 * answers.  Frees reply first.
 */
static void
report_reply_error(BlsParseStatus status, BlsReply *reply, const char *error,
				   const char *request_id, const BlsOptions *opts,
				   const char *hint)
{
	char	   *pcode = bls_printable(reply->code ? reply->code : "", 80);
	char	   *pmessage = bls_printable(reply->message ? reply->message : "", 300);
	char	   *prequest = bls_printable(reply->request_id ? reply->request_id :
										 request_id, 80);
	char	   *perror = bls_printable(error, 200);

	bls_reply_free(reply);
	if (status == BLS_PARSE_FAILURE)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" reported a failure", opts->server_name),
				 errdetail("BLS error code \"%s\", message \"%s\", request id \"%s\".",
						   pcode, pmessage, prequest)));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
			 errmsg("invalid response from BLS server \"%s\"", opts->server_name),
			 errdetail("%s Request id \"%s\".", perror, prequest),
			 hint ? errhint("%s", hint) : 0));
}

/* Wait for create i of the batch; returns the new task's uuid, palloc'd. */
static char *
finish_create(BlsModifyState *ms, int i)
{
	BlsResponse resp;
	BlsParseStatus status;
	char	   *uuid = NULL;
	char	   *copy;
	char		error[160];
	BlsReply	reply = {0};

	bls_request_wait(ms->conn, ms->handles[i], &resp);
	status = bls_parse_create_result(resp.body, resp.len, &uuid, &reply,
									 error, sizeof(error));
	bls_request_release(ms->conn, ms->handles[i]);
	if (status != BLS_PARSE_OK)
		report_reply_error(status, &reply, error, resp.request_id, ms->opts,
						   status == BLS_PARSE_FAILURE ? NULL :
						   "The download task may have been created: look for it by its name.");
	bls_reply_free(&reply);
	copy = pstrdup(uuid);
	free(uuid);
	/* it goes into paths (describe, delete): nothing else may */
	if (!bls_is_task_id(copy))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
				 errmsg("invalid response from BLS server \"%s\"", ms->opts->server_name),
				 errdetail("The new task's uuid \"%s\" is not a task id.",
						   bls_printable(copy, 80)),
				 errhint("The download task may have been created: look for it by its name.")));
	return copy;
}

/*
 * Wait for every create of the batch, and write each one done (or perhaps
 * done) in the ledger, so that an error or a rollback names them all.  An
 * error of one create does not stop the wait for the others, which are
 * under way anyway; the first error is raised once all are known.  A cancel
 * stops the wait: the creates still under way are then "may have been
 * created".  Returns the uuids, palloc'd.
 */
static char **
finish_batch(BlsModifyState *ms, BlsBodyField (*bodies)[BLS_NUM_CREATE_FIELDS],
			 int n)
{
	MemoryContext cxt = CurrentMemoryContext;
	char	  **uuids = palloc0(sizeof(char *) * n);
	ErrorData  *first = NULL;
	bool		cancelled = false;

	for (int i = 0; i < n; i++)
	{
		if (!cancelled)
		{
			PG_TRY();
			{
				uuids[i] = finish_create(ms, i);
			}
			PG_CATCH();
			{
				MemoryContextSwitchTo(cxt);
				if (first == NULL)
					first = CopyErrorData();
				if (geterrcode() == ERRCODE_QUERY_CANCELED)
					cancelled = true;
				FlushErrorState();
			}
			PG_END_TRY();
		}
		if (uuids[i])
			bls_ledger_add(BLS_LEDGER_CREATED, uuids[i], bodies[i][0].str, ms->cid);
		else if (bls_request_may_have_acted(ms->conn, ms->handles[i]))
			bls_ledger_add(BLS_LEDGER_MAYBE_CREATED, NULL, bodies[i][0].str, ms->cid);
	}
	for (int i = 0; i < n; i++)
		bls_request_release(ms->conn, ms->handles[i]);
	ms->nhandles = 0;
	if (first)
		ReThrowError(first);
	return uuids;
}

/* Send the creates of bodies side by side; returns their uuids. */
static char **
send_batch(BlsModifyState *ms, BlsBodyField (*bodies)[BLS_NUM_CREATE_FIELDS],
		   int n)
{
	ms->nhandles = 0;
	for (int i = 0; i < n; i++)
		start_create(ms, bodies[i]);
	return finish_batch(ms, bodies, n);
}

/* Fill slot with the service's view of task uuid, for RETURNING. */
static void
describe_into(BlsModifyState *ms, const char *uuid, TupleTableSlot *slot)
{
	BlsParam	param = {ms->res->lookup_param, uuid};
	int			page_no;
	int			index;

	bls_pager_begin(ms->describer, &param, 1, NULL, NULL, 1, 0, true);
	if (!bls_pager_next(ms->describer, &ms->fields, ms->id_keys))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" does not know download task \"%s\" it just created",
						ms->opts->server_name, bls_printable(uuid, 80))));
	bls_pager_position(ms->describer, &page_no, &index);
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	bls_store_item(ms->res, ms->cols, ms->ncols, &ms->fields, ms->id_keys[0],
				   index, page_no, NULL, NULL, 0,
				   slot->tts_values, slot->tts_isnull);
	ExecStoreVirtualTuple(slot);
}

/*
 * blsExecForeignBatchInsert
 *		Create the tasks of a batch side by side.  Every row is checked
 *		before any is sent.
 */
TupleTableSlot **
blsExecForeignBatchInsert(EState *estate, ResultRelInfo *rinfo,
						  TupleTableSlot **slots, TupleTableSlot **planSlots,
						  int *numSlots)
{
	BlsModifyState *ms = (BlsModifyState *) rinfo->ri_FdwState;
	MemoryContext oldcxt = MemoryContextSwitchTo(ms->row_cxt);
	BlsBodyField (*bodies)[BLS_NUM_CREATE_FIELDS];
	int			n = *numSlots;
	char	  **uuids;

	Assert(n <= BLS_MAX_BATCH_SIZE);
	MemoryContextReset(ms->row_cxt);
	bodies = palloc(sizeof(*bodies) * n);
	for (int i = 0; i < n; i++)
		build_create(ms, slots[i], bodies[i]);

	uuids = send_batch(ms, bodies, n);
	if (ms->describer)
		for (int i = 0; i < n; i++)
			describe_into(ms, uuids[i], slots[i]);
	MemoryContextSwitchTo(oldcxt);
	return slots;
}

#if PG_VERSION_NUM < 160000
/*
 * Send the rows COPY queued, as one batch.  The queue is emptied first: an
 * error leaves nothing to send again (the ledger names what was created).
 */
static void
flush_copy_queue(BlsModifyState *ms)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(ms->queue_cxt);
	int			n = ms->nqueued;

	ms->nqueued = 0;
	(void) send_batch(ms, ms->queued, n);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(ms->queue_cxt);
}

/*
 * Check a row COPY gives and queue its create; a full queue is sent.  The
 * row is checked now, so an error names its line and nothing of the queue
 * is sent, as when PostgreSQL 16 checks a whole batch before sending it.
 * Nothing reads the new row (no RETURNING, WITH CHECK OPTION or row
 * triggers: blsGetForeignModifyBatchSize() said so), so the slot goes back
 * as given and COPY counts it.
 */
static TupleTableSlot *
queue_copy_row(BlsModifyState *ms, TupleTableSlot *slot)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(ms->queue_cxt);

	build_create(ms, slot, ms->queued[ms->nqueued]);
	MemoryContextSwitchTo(oldcxt);
	if (++ms->nqueued == ms->batch_size)
		flush_copy_queue(ms);
	return slot;
}
#endif

/* blsExecForeignInsert: a batch of one, or a row COPY queues. */
TupleTableSlot *
blsExecForeignInsert(EState *estate, ResultRelInfo *rinfo,
					 TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	int			one = 1;
	TupleTableSlot **result;

#if PG_VERSION_NUM < 160000
	if (((BlsModifyState *) rinfo->ri_FdwState)->copy_queue)
		return queue_copy_row((BlsModifyState *) rinfo->ri_FdwState, slot);
#endif
	result = blsExecForeignBatchInsert(estate, rinfo, &slot, &planSlot, &one);
	return result[0];
}

/*
 * blsGetForeignModifyBatchSize
 *		batch_size, unless RETURNING or row triggers need rows one by one
 *		(PostgreSQL does not batch then either).
 */
int
blsGetForeignModifyBatchSize(ResultRelInfo *rinfo)
{
	BlsModifyState *ms = (BlsModifyState *) rinfo->ri_FdwState;
	int			batch_size;

	if (rinfo->ri_projectReturning != NULL ||
		rinfo->ri_WithCheckOptions != NIL ||
		(rinfo->ri_TrigDesc &&
		 (rinfo->ri_TrigDesc->trig_insert_before_row ||
		  rinfo->ri_TrigDesc->trig_insert_after_row)))
		return 1;
	if (ms)
		batch_size = ms->batch_size;
	else
		batch_size = bls_get_options(RelationGetRelid(rinfo->ri_RelationDesc),
									 GetUserId(), false)->batch_size;
	return batch_size;
}

/*
 * Delete task uuid (in the server encoding); false if it did not exist (404
 * DownloadTaskNotFound) or cannot be a task id (nothing is sent then).
 * Deleting twice is harmless, so failures are retried as for reads; a 404
 * after an attempt that may have been applied (a 500, a dropped connection)
 * is taken as that attempt's success.  A task deleted goes into the ledger
 * as done by command cid.
 */
static bool
delete_task(BlsRequestOwner *owner, const BlsOptions *opts, const char *uuid,
			BlsScanStats *stats, CommandId cid)
{
	BlsConnection *conn;
	BlsHttpRequest hr = {0};
	BlsResponse resp;
	BlsHandle	h;
	char	   *enc;
	bool		existed;

	if (!bls_is_task_id(uuid))
		return false;
	enc = bce_uri_encode(uuid, strlen(uuid), 0);
	if (enc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	hr.method = "DELETE";
	hr.target = psprintf("%s%s", BLS_DELETE_PATH, enc);
	bce_free(enc);
	hr.not_found_code = "DownloadTaskNotFound";
	hr.see_every_attempt = true;
	/* on an ERROR, the owner gives the request back */
	h = bls_owner_start(owner, &hr, stats, false);
	conn = bls_owner_connection(owner);
	bls_request_wait(conn, h, &resp);
	existed = resp.status != 404 || resp.maybe_applied;
	if (resp.status != 404)
	{
		/* any 2xx; a body, if there is one, must not report a failure */
		BlsReply	reply = {0};
		char		error[160];
		BlsParseStatus status = bls_parse_ack(resp.body, resp.len, &reply,
											  error, sizeof(error));

		if (status != BLS_PARSE_OK)
			report_reply_error(status, &reply, error, resp.request_id,
							   opts, NULL);
		bls_reply_free(&reply);
	}
	bls_request_release(conn, h);
	if (existed)
		bls_ledger_add(BLS_LEDGER_DELETED, uuid, NULL, cid);
	return existed;
}

/*
 * blsExecForeignDelete
 *		Delete the scanned row's task.  A task already gone is no row.
 */
TupleTableSlot *
blsExecForeignDelete(EState *estate, ResultRelInfo *rinfo,
					 TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	BlsModifyState *ms = (BlsModifyState *) rinfo->ri_FdwState;
	bool		isnull;
	Datum		value = ExecGetJunkAttribute(planSlot, ms->uuid_junk, &isnull);
	char	   *uuid;

	if (isnull)
		return NULL;			/* a task without a uuid cannot be named */
	uuid = bls_datum_text(value, ms->uuid_type);
	if (!delete_task(ms->owner, ms->opts, uuid, &ms->stats, ms->cid))
		return NULL;

	/* RETURNING: the row as it was scanned */
	if (AttributeNumberIsValid(ms->row_junk))
	{
		Datum		row = ExecGetJunkAttribute(planSlot, ms->row_junk, &isnull);

		ExecClearTuple(slot);
		if (!isnull)
		{
			HeapTupleHeader td = DatumGetHeapTupleHeader(row);
			HeapTupleData tuple;

			tuple.t_len = HeapTupleHeaderGetDatumLength(td);
			ItemPointerSetInvalid(&tuple.t_self);
			tuple.t_tableOid = RelationGetRelid(ms->rel);
			tuple.t_data = td;
			heap_deform_tuple(&tuple, slot->tts_tupleDescriptor,
							  slot->tts_values, slot->tts_isnull);
			ExecStoreVirtualTuple(slot);
		}
		else
			ExecStoreAllNullTuple(slot);
	}
	return slot;
}

void
blsEndForeignModify(EState *estate, ResultRelInfo *rinfo)
{
	BlsModifyState *ms = (BlsModifyState *) rinfo->ri_FdwState;

	if (ms)
		MemoryContextDelete(ms->cxt);
	rinfo->ri_FdwState = NULL;
}

void
blsExplainForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
						List *fdw_private, int subplan_index,
						ExplainState *es)
{
	if (mtstate->operation == CMD_INSERT)
	{
		ExplainPropertyText("BLS Request", "POST " BLS_CREATE_PATH " (one per row)", es);
		if (es->verbose)
			ExplainPropertyInteger("Batch Size", NULL,
								   blsGetForeignModifyBatchSize(rinfo), es);
	}
	else
		ExplainPropertyText("BLS Request", "DELETE " BLS_DELETE_PATH "{uuid} (one per row)", es);
	if (es->analyze && rinfo->ri_FdwState)
		ExplainPropertyInteger("BLS Requests", NULL,
							   ((BlsModifyState *) rinfo->ri_FdwState)->stats.requests, es);
}

/*
 * blsPlanDirectModify
 *		A DELETE whose scan describes tasks by uuid and checks nothing
 *		locally becomes one DeleteDownloadTask per uuid: the scan's plan
 *		turns into the modification.  Not with RETURNING, which then
 *		describes each task (no list either).
 */
bool
blsPlanDirectModify(PlannerInfo *root, ModifyTable *plan,
					Index resultRelation, int subplan_index)
{
	Plan	   *subplan = outerPlan(plan);
	ForeignScan *fscan;
	RangeTblEntry *rte = planner_rt_fetch(resultRelation, root);
	Relation	rel = table_open(rte->relid, NoLock);
	BlsOptions *opts = bls_get_options(rte->relid, GetUserId(), false);
	BlsScanRequest *req;
	bool		direct;

	check_operation(rel, opts->resource, plan->operation);
	table_close(rel, NoLock);

	if (plan->operation != CMD_DELETE || plan->returningLists != NIL)
		return false;
	/* the subplan must be our scan of the target, perhaps under a Result */
	if (IsA(subplan, Result) && subplan->lefttree != NULL && subplan->qual == NIL &&
		((Result *) subplan)->resconstantqual == NULL)
		subplan = subplan->lefttree;
	if (!IsA(subplan, ForeignScan))
		return false;
	fscan = (ForeignScan *) subplan;
	if (fscan->scan.scanrelid != resultRelation || fscan->scan.plan.qual != NIL)
		return false;
	req = bls_request_from_private(fscan->fdw_private);
	direct = list_length(req->filters) == 1 && req->bounds == NIL &&
		req->resource->lookup_param &&
		strcmp(((BlsPlanFilter *) linitial(req->filters))->param,
			   req->resource->lookup_param) == 0;
	if (!direct)
		return false;

	fscan->operation = CMD_DELETE;
	fscan->resultRelation = resultRelation;
	fscan->scan.plan.targetlist = NIL;
	/* no row goes up: the scan above (if a Result) keeps nothing either */
	if (outerPlan(plan) != (Plan *) fscan)
		outerPlan(plan)->targetlist = NIL;
	return true;
}

/* State of a direct DELETE. */
typedef struct BlsDirectState
{
	BlsOptions *opts;
	ExprState  *uuids;			/* the filter's expression */
	Oid			uuids_type;		/* its type */
	bool		is_array;
	CommandId	cid;
	BlsRequestOwner *owner;		/* in cxt */
	BlsScanStats stats;
	bool		done;
	MemoryContext cxt;
} BlsDirectState;

void
blsBeginDirectModify(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	RangeTblEntry *rte = exec_rt_fetch(fsplan->resultRelation, estate);
	Oid			userid = bls_scan_user(fsplan, estate, fsplan->resultRelation);
	BlsScanRequest *req = bls_request_from_private(fsplan->fdw_private);
	MemoryContext cxt;
	BlsDirectState *ds;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	cxt = AllocSetContextCreate(estate->es_query_cxt, "bls_fdw direct delete",
								ALLOCSET_SMALL_SIZES);
	ds = MemoryContextAllocZero(cxt, sizeof(BlsDirectState));
	ds->cxt = cxt;
	ds->opts = bls_get_options(rte->relid, userid, true);
	ds->uuids = ExecInitExpr((Expr *) linitial(fsplan->fdw_exprs), (PlanState *) node);
	ds->uuids_type = exprType(linitial(fsplan->fdw_exprs));
	ds->is_array = ((BlsPlanFilter *) linitial(req->filters))->is_array;
	ds->cid = estate->es_output_cid;
	ds->owner = bls_owner_create(cxt, ds->opts);
	node->fdw_state = ds;
}

/*
 * blsIterateDirectModify
 *		Delete every distinct uuid once; the row count is the number of
 *		tasks that existed.
 */
TupleTableSlot *
blsIterateDirectModify(ForeignScanState *node)
{
	BlsDirectState *ds = (BlsDirectState *) node->fdw_state;
	EState	   *estate = node->ss.ps.state;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	List	   *uuids;
	bool		isnull;
	Datum		value;
	ListCell   *lc;

	ExecClearTuple(slot);
	if (ds->done)
		return slot;
	ds->done = true;

	value = ExecEvalExpr(ds->uuids, econtext, &isnull);
	uuids = bls_distinct_strings(bls_text_values(value, isnull, ds->is_array,
												 ds->uuids_type));
	foreach(lc, uuids)
	{
		const char *uuid = (const char *) lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (delete_task(ds->owner, ds->opts, uuid, &ds->stats, ds->cid))
			estate->es_processed++;
	}
	return slot;
}

void
blsEndDirectModify(ForeignScanState *node)
{
	BlsDirectState *ds = (BlsDirectState *) node->fdw_state;

	if (ds)
		MemoryContextDelete(ds->cxt);
	node->fdw_state = NULL;
}

void
blsExplainDirectModify(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	BlsScanRequest *req = bls_request_from_private(fsplan->fdw_private);
	BlsPlanFilter *f = (BlsPlanFilter *) linitial(req->filters);

	ExplainPropertyText("BLS Request",
						psprintf("DELETE " BLS_DELETE_PATH "{uuid} for each of %s%s%s",
								 f->is_array ? "ANY (" : "",
								 deparse_expression(linitial(fsplan->fdw_exprs),
													es->deparse_cxt, true, false),
								 f->is_array ? ")" : ""),
						es);
	if (es->analyze && node->fdw_state)
		ExplainPropertyInteger("BLS Requests", NULL,
							   ((BlsDirectState *) node->fdw_state)->stats.requests, es);
}

/*
 * Send GetDownloadTaskLink and parse its answer into palloc'd strings;
 * false for a task the service does not know.  On an ERROR, the owner
 * gives the request back.
 */
static bool
fetch_link(BlsRequestOwner *owner, const BlsOptions *opts,
		   const BlsHttpRequest *hr, BlsScanStats *stats, char *parts[3])
{
	BlsHandle	h = bls_owner_start(owner, hr, stats, false);
	BlsConnection *conn = bls_owner_connection(owner);
	BlsResponse resp;

	bls_request_wait(conn, h, &resp);
	if (resp.status != 404)
	{
		char		error[160];
		BlsReply	reply = {0};
		char	   *m[3] = {NULL, NULL, NULL};
		BlsParseStatus status;

		status = bls_parse_link_result(resp.body, resp.len, &m[0],
									   &m[1], &m[2], &reply,
									   error, sizeof(error));
		/* malloc'd by the parser: copied before anything can fail */
		for (int i = 0; i < 3; i++)
		{
			parts[i] = m[i] ? pstrdup(m[i]) : NULL;
			free(m[i]);
		}
		if (status != BLS_PARSE_OK)
			report_reply_error(status, &reply, error, resp.request_id,
							   opts, NULL);
		bls_reply_free(&reply);
	}
	bls_request_release(conn, h);
	return resp.status != 404;
}

PG_FUNCTION_INFO_V1(bls_download_link);

/*
 * bls_download_link(server_name text, task_uuid text)
 *		RETURNS TABLE (file_dir text, file_name text, link text)
 *
 * GetDownloadTaskLink with the current user's mapping for the server: one
 * row, or none for a task the service does not know.  Any other error of
 * the service (a task not finished, say) is an error with its code.
 */
Datum
bls_download_link(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *server_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *uuid = text_to_cstring(PG_GETARG_TEXT_PP(1));
	ForeignServer *server;
	BlsOptions *opts;
	BlsRequestOwner *owner;
	BlsHttpRequest hr = {0};
	BlsScanStats stats = {0};
	char	   *parts[3] = {NULL, NULL, NULL};	/* file_dir, file_name, link */
	bool		found;

	InitMaterializedSRF(fcinfo, 0);
	server = bls_function_server(server_name);
	opts = bls_get_server_options(server->serverid, NULL, GetUserId(), true);

	/* what cannot be a task id is no task: never a path to another call */
	if (!bls_is_task_id(uuid))
		return (Datum) 0;
	hr.method = "GET";
	hr.target = psprintf("/v2/logstore/download/link/%s", uuid);
	hr.not_found_code = "DownloadTaskNotFound";

	/* the call's memory gives the request back on an ERROR */
	owner = bls_owner_create(CurrentMemoryContext, opts);
	found = fetch_link(owner, opts, &hr, &stats, parts);
	bls_owner_release(owner);

	if (found)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		/* the service's UTF-8, checked and converted to the database's */
		for (int i = 0; i < 3; i++)
			values[i] = CStringGetTextDatum(pg_any_to_server(parts[i], strlen(parts[i]),
															 PG_UTF8));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
