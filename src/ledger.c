/*-------------------------------------------------------------------------
 *
 * ledger.c
 *		  What the current transaction did on BLS, for the user to be told
 *		  when a rollback does not undo it.
 *
 * BLS has no transactions: a task created or deleted stays so whatever
 * becomes of the transaction that did it.  Every create and delete is
 * written here, with the (sub)transaction nesting level and the command
 * that did it.  When a subtransaction commits its entries become its
 * parent's; when it aborts (ROLLBACK TO SAVEPOINT, a PL/pgSQL exception
 * caught), or the transaction aborts (an error, ROLLBACK), a WARNING lists
 * what stays done, and the entries are dropped: the user has been told.  A
 * commit drops them silently.
 *
 * The entries of the running command also let a scan skip the tasks its
 * own statement created (INSERT INTO download_tasks SELECT ... FROM
 * download_tasks must not read its own creates: the Halloween problem).
 * A scan asks for every row it reads, so the creates are also in a hash
 * table by command and uuid: a statement that creates many tasks while it
 * reads many stays linear.
 *
 * The entries live in a context of their own under TopMemoryContext, reset
 * at the end of each top-level transaction that used it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "lib/stringinfo.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "bls_modules.h"

/* How many entries a WARNING names; a count follows for the rest. */
#define BLS_LEDGER_SHOWN	20

typedef struct BlsLedgerEntry
{
	BlsLedgerKind kind;
	int			level;			/* transaction nesting level that owns it */
	CommandId	cid;			/* the command that did it */
	char	   *uuid;			/* NULL for BLS_LEDGER_MAYBE_CREATED */
	char	   *name;			/* printable, or NULL if unknown */
} BlsLedgerEntry;

/* The key of a task created: every created task's uuid is a task id. */
#define BLS_TASK_ID_LEN		36

typedef struct BlsCreatedKey
{
	CommandId	cid;
	char		uuid[BLS_TASK_ID_LEN + 1];
} BlsCreatedKey;

static MemoryContext ledger_cxt = NULL;
static List *ledger = NIL;
static HTAB *created = NULL;	/* BLS_LEDGER_CREATED entries, by key */
static bool callbacks_registered = false;

/* The key of task uuid (len bytes) created by command cid; false if none can be. */
static bool
created_key(BlsCreatedKey *key, CommandId cid, const char *uuid, size_t len)
{
	if (len != BLS_TASK_ID_LEN)
		return false;
	/* zeroed, padding too: the key is hashed and compared as bytes */
	memset(key, 0, sizeof(BlsCreatedKey));
	key->cid = cid;
	memcpy(key->uuid, uuid, len);
	return true;
}

/* Enter a created task into the hash table, made in ledger_cxt if need be. */
static void
enter_created(CommandId cid, const char *uuid)
{
	BlsCreatedKey key;

	if (!created_key(&key, cid, uuid, strlen(uuid)))
		return;
	if (created == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(BlsCreatedKey);
		ctl.entrysize = sizeof(BlsCreatedKey);
		ctl.hcxt = ledger_cxt;
		created = hash_create("bls_fdw ledger creates", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	(void) hash_search(created, &key, HASH_ENTER, NULL);
}

/* The entries of levels >= level, named in a WARNING, then dropped. */
static void
warn_and_drop(int level)
{
	StringInfoData buf;
	List	   *kept = NIL;
	int			n = 0;
	int			shown = 0;
	ListCell   *lc;
	MemoryContext oldcxt;

	if (ledger == NIL)
		return;
	oldcxt = MemoryContextSwitchTo(ledger_cxt);
	initStringInfo(&buf);
	foreach(lc, ledger)
	{
		BlsLedgerEntry *e = (BlsLedgerEntry *) lfirst(lc);

		if (e->level < level)
		{
			kept = lappend(kept, e);
			continue;
		}
		n++;
		if (shown++ >= BLS_LEDGER_SHOWN)
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, "\n");
		switch (e->kind)
		{
			case BLS_LEDGER_CREATED:
				appendStringInfo(&buf, "created download task %s", e->uuid);
				break;
			case BLS_LEDGER_MAYBE_CREATED:
				appendStringInfoString(&buf, "may have created a download task (uuid unknown)");
				break;
			case BLS_LEDGER_DELETED:
				appendStringInfo(&buf, "deleted download task %s", e->uuid);
				break;
		}
		if (e->name)
			appendStringInfo(&buf, " \"%s\"", e->name);
	}
	if (n > BLS_LEDGER_SHOWN)
		appendStringInfo(&buf, "\nand %d more", n - BLS_LEDGER_SHOWN);
	ledger = kept;
	/* the creates named are dropped from the hash table too */
	if (created != NULL && n > 0)
	{
		hash_destroy(created);
		created = NULL;
		foreach(lc, ledger)
		{
			BlsLedgerEntry *e = (BlsLedgerEntry *) lfirst(lc);

			if (e->kind == BLS_LEDGER_CREATED)
				enter_created(e->cid, e->uuid);
		}
	}
	if (n > 0)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg_plural("the rollback does not undo %d change made on BLS",
							   "the rollback does not undo %d changes made on BLS",
							   n, n),
				 errdetail_internal("%s", buf.data),
				 errhint("BLS has no transactions: delete the tasks that should not exist, and create again those that should.")));
	MemoryContextSwitchTo(oldcxt);
}

static void
ledger_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			warn_and_drop(0);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			break;
		default:
			return;
	}
	ledger = NIL;
	created = NULL;				/* it lives in ledger_cxt */
	if (ledger_cxt)
		MemoryContextReset(ledger_cxt);
}

static void
ledger_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	ListCell   *lc;

	if (event == SUBXACT_EVENT_ABORT_SUB)
		warn_and_drop(level);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		/* the parent now owns what the subtransaction did */
		foreach(lc, ledger)
		{
			BlsLedgerEntry *e = (BlsLedgerEntry *) lfirst(lc);

			if (e->level >= level)
				e->level = level - 1;
		}
	}
}

/*
 * bls_ledger_add
 *		Write down a create or delete that was done on BLS (or may have
 *		been: BLS_LEDGER_MAYBE_CREATED, uuid NULL) by command cid.  name is
 *		the task's name as the user wrote it, or NULL.  Copies both.
 */
void
bls_ledger_add(BlsLedgerKind kind, const char *uuid, const char *name,
			   CommandId cid)
{
	BlsLedgerEntry *e;
	MemoryContext oldcxt;

	if (!callbacks_registered)
	{
		ledger_cxt = AllocSetContextCreate(TopMemoryContext, "bls_fdw ledger",
										   ALLOCSET_SMALL_SIZES);
		RegisterXactCallback(ledger_xact_callback, NULL);
		RegisterSubXactCallback(ledger_subxact_callback, NULL);
		callbacks_registered = true;
	}
	oldcxt = MemoryContextSwitchTo(ledger_cxt);
	e = palloc(sizeof(BlsLedgerEntry));
	e->kind = kind;
	e->level = GetCurrentTransactionNestLevel();
	e->cid = cid;
	e->uuid = uuid ? pstrdup(uuid) : NULL;
	e->name = name ? bls_printable(name, 100) : NULL;
	ledger = lappend(ledger, e);
	if (kind == BLS_LEDGER_CREATED)
		enter_created(cid, uuid);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * bls_ledger_created_by
 *		Did command cid create the task uuid (len bytes, not terminated)?
 */
bool
bls_ledger_created_by(CommandId cid, const char *uuid, size_t len)
{
	BlsCreatedKey key;

	if (cid == InvalidCommandId || created == NULL ||
		!created_key(&key, cid, uuid, len))
		return false;
	return hash_search(created, &key, HASH_FIND, NULL) != NULL;
}
