/*-------------------------------------------------------------------------
 *
 * pager.c
 *		  Paging through a BLS list call: request sequences of numbered
 *		  pages, read-ahead, de-duplication, early stop and their checks.
 *
 * A request sequence asks for pages 1, 2, ... of one list request until a
 * short or empty page, or the page that the service's "total" makes the
 * last.  Pages are read lazily: the first when the first item is wanted.
 * Once a page has told the total, the next few are requested side by side
 * (connection.c runs them) and consumed in order, so items still come in
 * page order; nothing is read ahead in a lazy sequence (a LIMIT over local
 * conditions, a time bound that may end it) or past what a LIMIT needs.
 *
 * The list can change while it is read: items inserted at the head shift
 * old ones onto the next page.  An item whose id was on the previous page
 * is skipped, so none is returned twice; a page read ahead whose total
 * differs from the page before it is dropped and asked for again.  A page
 * that brings nothing new means the service is not paging (it ignores
 * pageNo, say): that ends the scan with an error rather than looping, and
 * no sequence reads more than bls_fdw.max_pages_per_request pages (at most
 * BLS_MAX_PAGES_PER_SEQUENCE, the default).
 *
 * Marker paging (QueryLogRecord) works the same way, except that each page
 * names the next (nextMarker) instead of being numbered: pages come one
 * after another, the next requested as soon as the current one arrives,
 * and a sequence ends at a page that names none or once the items kept
 * reach the limit (the caller may refuse some, bls_pager_refuse()).  There
 * is no total, nothing shifts, and so nothing to de-duplicate.  A marker
 * the sequence was given before (a cycle of any length), or a second empty
 * page in a row that names a next one, is an error.
 *
 * What the service says is checked, not trusted: a pageSize larger than
 * asked for counts as the one asked for.  Several sequences of one scan
 * (bls_pager_begin_scan()) return an item once, and the item a page names
 * beside its list (the default project) is returned once per scan whether
 * the list has it or not.  Reading ahead starts when the reader asks for a
 * page's second item.
 *
 * Time slices.  A marker chain can only ever read one page ahead, so a long
 * window (QueryLogRecord) is read in up to "slices" time slices side by
 * side, each a sequence of its own (a child pager) over a window of whole
 * seconds, and the slices are returned one after the other in the
 * sequence's order (ascending: the earliest first), so the items come in
 * exactly the order one chain gives.  The bounds come from the first page,
 * which is requested for the whole window as usual: if it names no next
 * page there is nothing to slice.  Else the time of its last item, in
 * second S, tells how far it got, and its spread how many items a second
 * the window holds; what is left ([S, end) ascending, [start, S + 1)
 * descending) is cut, when it needs at least two more pages, into slices
 * of equal whole seconds, as many as its pages (at most "slices"; with a
 * LIMIT, only the seconds the LIMIT is expected to need are cut, the last
 * slice taking the rest).  The first page's items of second S are dropped,
 * since the slice starting there returns that second whole: every item of
 * the window is in exactly one slice, because the service's windows are
 * whole seconds, start inclusive and end exclusive, and an item's second
 * is its time's.  No request beyond the first page's is spent on the
 * bounds.  Every slice reads ahead on its own while an earlier one is
 * read (pump_ahead()), up to readahead pages or about BLS_READAHEAD_BYTES,
 * whichever is less, so that by the time the reader gets to a slice its
 * first pages are there; while the slice being read waits for a page the
 * others are moved along.  Under a LIMIT each slice asks ahead for its
 * expected share only, and the one the reader moves on to for what is
 * still needed.  No slice is read unless a pager reads ahead (readahead
 * above 0, not lazy).
 *
 * Requests read ahead are handed to libcurl at once, and the transfers are
 * moved along every BLS_PROGRESS_ITEMS items, so that the pages arrive
 * while rows are converted rather than when they are waited for.
 *
 * Memory.  The pager lives in a memory context of its own, a child of its
 * caller's.  Each page lives in one of two page contexts that alternate: the
 * next page's context first receives a copy of the current page's ids, then
 * the current page's context is reset, so one page is held at a time.  The
 * pager's request owner (connection.c), in its context, holds its requests
 * and a reference to its connection, and gives them back when that context
 * goes, so an ERROR, a closed cursor or an aborted subtransaction that
 * frees the pager's memory also stops its requests, and nothing else can
 * stop them.  The time slices' pagers are children of the pager's context,
 * and go with it; each holds its current page and at most the pages it read
 * ahead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "bls_modules.h"

/* The GUC bls_fdw.max_pages_per_request: the most pages of a sequence. */
int			bls_max_pages_per_request = BLS_MAX_PAGES_PER_SEQUENCE;

/*
 * bls_pager_define_gucs
 *		Define the pager's settings; called once, from _PG_init().
 */
void
bls_pager_define_gucs(void)
{
	DefineCustomIntVariable("bls_fdw.max_pages_per_request",
							"Most pages bls_fdw reads for one request sequence.",
							"A service that ignores the page number or serves an endless list would be paged without end; past this many pages the scan fails.",
							&bls_max_pages_per_request,
							BLS_MAX_PAGES_PER_SEQUENCE, 1, BLS_MAX_PAGES_PER_SEQUENCE,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
}

/* Items read between two looks at the transfers read ahead. */
#define BLS_PROGRESS_ITEMS	64

/* How long a wait for a slice's page lasts before the others are moved along. */
#define BLS_SLICE_POLL_MS	100

/* A slot of an open-addressing set of ids. */
typedef struct BlsIdSlot
{
	const char *id;				/* a copy; NULL if the slot is free */
	uint32		hash;
} BlsIdSlot;

/*
 * A set of strings (item ids, markers), growing in its memory context.  A
 * hash set: a sorted array cost a dozen string comparisons a row,
 * measurably.
 */
typedef struct BlsIdSet
{
	BlsIdSlot  *slots;
	uint32		mask;			/* number of slots - 1; 0 when none */
	uint32		count;
	MemoryContext cxt;
} BlsIdSet;

struct BlsPager
{
	MemoryContext cxt;			/* owns everything below */
	const BlsOptions *opts;
	const BlsResource *res;
	BlsScanStats *stats;
	BlsRequestOwner *owner;		/* gives back its requests and connection */
	BlsConnection *conn;		/* the owner's, from the first request */

	/* the sequence being read, in seq_cxt */
	MemoryContext seq_cxt;
	BlsParam   *params;
	int			nparams;
	char	   *order_by;
	char	   *order;
	int			page_size;
	int64		limit;			/* items needed at most; 0: all */
	bool		lazy;			/* read nothing ahead */

	/* its pages */
	MemoryContext page_cxt[2];
	int			cur;			/* page_cxt holding the current page */
	BlsPage    *page;			/* current page, or NULL before the first */
	BlsIdSet	prev_ids;		/* the previous page's ids */
	BlsIdSlot  *page_ids;		/* ids of the current page's items so far,
								 * with their hashes */
	int			npage_ids;
	int			page_new;		/* items of the current page not seen before */
	int64		prev_total;		/* the previous page's total, or -1 */
	char		page_request_id[80];
	int			next_item;		/* index of the next item on the page */
	int			page_no;		/* number of the current page */
	bool		last_page;		/* no page follows the current one */

	/* marker paging */
	const char *marker;			/* names the page after the current one */
	int64		received;		/* items of the sequence's pages so far */
	bool		truncation_told;	/* a NOTICE said the result was cut */
	MemoryContext marker_cxt;	/* the sequence's markers, reset by its end */
	BlsIdSet	markers;		/* every marker the sequence was given */
	int			empty_marked;	/* empty pages in a row that named a next */

	/*
	 * The scan that the sequences are part of (bls_pager_begin_scan()):
	 * with several sequences, the ids of the items returned, so that an
	 * item two sequences list is returned once; and whether the item the
	 * pages name beside their list (the default project) was returned.
	 */
	MemoryContext scan_ids_cxt;
	bool		across;			/* de-duplicate across sequences */
	BlsIdSet	returned;
	bool		default_done;	/* returned, or listed: not to be added */
	char	   *default_returned;	/* its id once returned, in scan_ids_cxt */
	bool		read_default;	/* bls_pager_next() read it last */
	bool		in_scan;		/* bls_pager_begin_scan() was called */

	/*
	 * Reading ahead waits until the reader asks for the page's second item:
	 * a scan stopped after one row (EXISTS, a semi-join) then leaves no
	 * request to abandon.
	 */
	bool		ahead_due;
	int			ahead_page_size;
	int64		ahead_total;
	size_t		ahead_bytes;

	/* its requests: the one waited for, and the pages read ahead */
	BlsHandle	current;
	BlsHandle	pending[BLS_MAX_READAHEAD];
	int			npending;

	/* a one-off page of bls_pager_fetch() */
	MemoryContext fetch_cxt;

	/*
	 * A time slice's marker pages received ahead of the reader
	 * (pump_ahead()), oldest first, each in a context of its own: at
	 * most ahead_depth pages with the one requested, or about
	 * BLS_READAHEAD_BYTES.  The contexts past nahead are free ones.
	 */
	int			ahead_depth;	/* 0: a plain sequence (one page ahead) */
	int			nahead;
	MemoryContext ahead_cxt[BLS_MAX_READAHEAD];
	BlsPage    *ahead_page[BLS_MAX_READAHEAD];
	size_t		ahead_size[BLS_MAX_READAHEAD];
	char		ahead_rid[BLS_MAX_READAHEAD][80];
	size_t		ahead_held;		/* bytes of the pages received ahead */

	/* the time slices of the sequence, read after its first page */
	BlsPager   *parent;			/* the pager whose slice this one reads */
	BlsPager   *slice[BLS_MAX_SLICES];	/* created when first needed */
	int			nslice_pagers;	/* created so far */
	int			nslices;		/* slices of this sequence; 0: none */
	int			cur_slice;		/* the one read; -1: the first page */
	int			time_key;		/* the time field in the reader's fields */
	bool		ascending;
	int64		cut_sec;		/* the first page's items of this second
								 * (and later ones) are the slices' */
	int64		kept;			/* items returned before the current slice */
	int			since_pump;		/* items since the slices were moved along */
};

static void
idset_init(BlsIdSet *set, MemoryContext cxt)
{
	set->slots = NULL;
	set->mask = 0;
	set->count = 0;
	set->cxt = cxt;
}

/* The slot of id (hash h) in set: its own, or the free one it would take. */
static uint32
idset_slot(const BlsIdSet *set, const char *id, uint32 h)
{
	uint32		j;

	for (j = h & set->mask; set->slots[j].id != NULL; j = (j + 1) & set->mask)
		if (set->slots[j].hash == h && strcmp(set->slots[j].id, id) == 0)
			break;
	return j;
}

/* The hash of id, computed once per id: it travels with the id. */
static uint32
id_hash(const char *id)
{
	return hash_bytes((const unsigned char *) id, strlen(id));
}

/* Is id (hash h) in set? */
static bool
idset_contains(const BlsIdSet *set, const char *id, uint32 h)
{
	if (set->count == 0)
		return false;
	return set->slots[idset_slot(set, id, h)].id != NULL;
}

/* Add a copy of id (hash h) to set; false if it was there already. */
static bool
idset_add(BlsIdSet *set, const char *id, uint32 h)
{
	uint32		j;

	/* keep at least half the slots free */
	if ((set->count + 1) * 2 > set->mask + (set->slots ? 1 : 0))
	{
		BlsIdSlot  *old = set->slots;
		uint32		oldsize = old ? set->mask + 1 : 0;
		uint32		size = Max(16, oldsize * 2);

		set->slots = MemoryContextAllocZero(set->cxt, sizeof(BlsIdSlot) * size);
		set->mask = size - 1;
		for (uint32 i = 0; i < oldsize; i++)
			if (old[i].id != NULL)
				set->slots[idset_slot(set, old[i].id, old[i].hash)] = old[i];
		if (old)
			pfree(old);
	}
	j = idset_slot(set, id, h);
	if (set->slots[j].id != NULL)
		return false;
	set->slots[j].id = MemoryContextStrdup(set->cxt, id);
	set->slots[j].hash = h;
	set->count++;
	return true;
}

static void
free_page_callback(void *arg)
{
	bls_page_free((BlsPage *) arg);
}

/*
 * bls_pager_create
 *		A pager of res's list call, in a new child context of parent.  opts
 *		and stats must outlive it.  It is destroyed with its context, or by
 *		bls_pager_destroy().
 */
BlsPager *
bls_pager_create(MemoryContext parent, const BlsOptions *opts,
				 const BlsResource *res, BlsScanStats *stats)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "bls_fdw pager",
											  ALLOCSET_SMALL_SIZES);
	BlsPager   *pg = MemoryContextAllocZero(cxt, sizeof(BlsPager));

	pg->cxt = cxt;
	pg->opts = opts;
	pg->res = res;
	pg->stats = stats;
	pg->current.slot = -1;
	pg->seq_cxt = AllocSetContextCreate(cxt, "bls_fdw sequence",
										ALLOCSET_SMALL_SIZES);
	pg->page_cxt[0] = AllocSetContextCreate(cxt, "bls_fdw page",
											ALLOCSET_DEFAULT_SIZES);
	pg->page_cxt[1] = AllocSetContextCreate(cxt, "bls_fdw page",
											ALLOCSET_DEFAULT_SIZES);
	pg->fetch_cxt = AllocSetContextCreate(cxt, "bls_fdw page",
										  ALLOCSET_DEFAULT_SIZES);
	pg->marker_cxt = AllocSetContextCreate(cxt, "bls_fdw markers",
										   ALLOCSET_SMALL_SIZES);
	pg->scan_ids_cxt = AllocSetContextCreate(cxt, "bls_fdw returned ids",
											 ALLOCSET_DEFAULT_SIZES);
	idset_init(&pg->prev_ids, pg->page_cxt[0]);
	idset_init(&pg->markers, pg->marker_cxt);
	idset_init(&pg->returned, pg->scan_ids_cxt);
	pg->owner = bls_owner_create(cxt, opts);
	pg->cur_slice = -1;
	pg->time_key = -1;
	return pg;
}

/* bls_pager_destroy: stop and free everything the pager holds. */
void
bls_pager_destroy(BlsPager *pg)
{
	MemoryContextDelete(pg->cxt);
}

static void
ensure_connection(BlsPager *pg)
{
	if (pg->conn == NULL)
		pg->conn = bls_owner_connection(pg->owner);
}

/* Stop the requests read ahead. */
static void
cancel_pending(BlsPager *pg)
{
	for (int i = 0; i < pg->npending; i++)
		bls_request_release(pg->conn, pg->pending[i]);
	pg->npending = 0;
}

/*
 * bls_pager_end
 *		Forget the current sequence: stop its requests, free its pages.
 */
void
bls_pager_end(BlsPager *pg)
{
	if (pg->conn)
	{
		cancel_pending(pg);
		bls_request_release(pg->conn, pg->current);
		pg->current.slot = -1;
	}
	for (int i = 0; i < pg->nslice_pagers; i++)
		bls_pager_end(pg->slice[i]);
	pg->nslices = 0;
	pg->cur_slice = -1;
	pg->kept = 0;
	for (int i = 0; i < pg->nahead; i++)
		MemoryContextReset(pg->ahead_cxt[i]);
	pg->nahead = 0;
	pg->ahead_held = 0;
	MemoryContextReset(pg->page_cxt[0]);
	MemoryContextReset(pg->page_cxt[1]);
	MemoryContextReset(pg->marker_cxt);
	pg->page = NULL;
	idset_init(&pg->prev_ids, pg->page_cxt[0]);
	idset_init(&pg->markers, pg->marker_cxt);
	pg->empty_marked = 0;
	pg->read_default = false;
	pg->ahead_due = false;
	pg->page_ids = NULL;
	pg->npage_ids = 0;
	pg->page_new = 0;
	pg->prev_total = -1;
	pg->next_item = 0;
	pg->page_no = 0;
	pg->last_page = false;
	pg->marker = NULL;
	pg->received = 0;
}

/*
 * bls_pager_begin_scan
 *		The sequences begun from now on are one scan's: an item is returned
 *		once by them, the item the pages name beside their list (the default
 *		project) included.  With several sequences, that takes remembering
 *		the id of every item returned; with one, a sequence de-duplicates
 *		only what shifts from one page to the next.  Without this call every
 *		sequence is a scan of its own.
 */
void
bls_pager_begin_scan(BlsPager *pg, bool several)
{
	MemoryContextReset(pg->scan_ids_cxt);
	idset_init(&pg->returned, pg->scan_ids_cxt);
	pg->across = several && pg->res->paging == BLS_PAGING_NUMBER;
	pg->default_done = false;
	pg->default_returned = NULL;
	pg->in_scan = true;
}

/*
 * bls_pager_begin
 *		Start a request sequence: params (UTF-8; copied), the order (NULL
 *		for the service's default), page_size items a page, limit items at
 *		most (0: all), read nothing ahead if lazy.
 */
void
bls_pager_begin(BlsPager *pg, const BlsParam *params, int nparams,
				const char *order_by, const char *order,
				int page_size, int64 limit, bool lazy)
{
	MemoryContext oldcxt;

	bls_pager_end(pg);
	MemoryContextReset(pg->seq_cxt);
	oldcxt = MemoryContextSwitchTo(pg->seq_cxt);
	pg->params = palloc(sizeof(BlsParam) * Max(nparams, 1));
	for (int i = 0; i < nparams; i++)
	{
		pg->params[i].key = pstrdup(params[i].key);
		pg->params[i].value = params[i].value ? pstrdup(params[i].value) : NULL;
	}
	pg->nparams = nparams;
	pg->order_by = order_by ? pstrdup(order_by) : NULL;
	pg->order = order ? pstrdup(order) : NULL;
	MemoryContextSwitchTo(oldcxt);
	pg->page_size = page_size;
	pg->limit = limit;
	pg->lazy = lazy;
	if (pg->parent == NULL)
		pg->stats->sequences++;
	if (!pg->in_scan)
	{
		/* a scan of its own */
		bls_pager_begin_scan(pg, false);
		pg->in_scan = false;
	}
}

/*
 * Start the request for page page_no of the sequence; with marker paging,
 * the page pg->marker names (NULL: the first), asking for no more items
 * than the limit leaves.
 */
static BlsHandle
start_page(BlsPager *pg, int page_no, bool try)
{
	BlsListRequest lr = {0};
	BlsHttpRequest hr;
	BlsHandle	h;

	lr.params = pg->params;
	lr.nparams = pg->nparams;
	lr.order_by = pg->order_by;
	lr.order = pg->order;
	lr.page_no = page_no;
	lr.page_size = pg->page_size;
	if (pg->res->paging == BLS_PAGING_MARKER)
	{
		lr.marker = page_no > 1 ? pg->marker : NULL;
		if (pg->limit > 0)
			lr.page_size = (int) Min(pg->page_size, pg->limit - pg->received);
	}
	bls_build_list_request(pg->res, &lr, &hr);
	h = bls_owner_start(pg->owner, &hr, pg->stats, try);
	if (hr.body)
		pfree((char *) hr.body);
	return h;
}

/*
 * Raise the ERROR for a 200 response that bls_page_parse() rejected, or
 * whose content is not what was asked for.
 */
static void
report_page_error(BlsParseStatus status, const BlsPage *page,
				  const char *resp_request_id, const BlsOptions *opts)
{
	const char *request_id = page->request_id ? page->request_id : resp_request_id;

	if (status == BLS_PARSE_FAILURE)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" reported a failure", opts->server_name),
				 errdetail("BLS error code \"%s\", message \"%s\", request id \"%s\".",
						   bls_printable(page->code ? page->code : "", 80),
						   bls_printable(page->message ? page->message : "", 300),
						   bls_printable(request_id, 80))));
	if (status == BLS_PARSE_NOMEM)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory while parsing a response from BLS")));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_STRING_FORMAT),
			 errmsg("invalid response from BLS server \"%s\"", opts->server_name),
			 errdetail("%s Request id \"%s\".",
					   bls_printable(page->error, sizeof(page->error)),
					   bls_printable(request_id, 80))));
}

/*
 * bls_report_truncation
 *		The service says it cut the result of page: an ERROR, or (with
 *		on_truncation 'notice') a NOTICE, once per *told.
 */
void
bls_report_truncation(const BlsOptions *opts, const BlsPage *page,
					  const char *request_id, bool *told)
{
	const char *reason = page->truncated_reason && page->truncated_reason[0]
		? page->truncated_reason : "none given";

	/* an aggregate is never partial: on_truncation does not apply */
	if (opts->whole_result)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" returned a truncated analysis result",
						opts->server_name),
				 errdetail("The service cut the result (reason: %s); request id \"%s\".",
						   bls_printable(reason, 120), bls_printable(request_id, 80)),
				 errhint("An aggregate computed by BLS is never partial, whatever on_truncation says; narrow the time window, or set bls_fdw.aggregate_pushdown to off to compute it locally.")));
	if (opts->truncation_is_error)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" returned a truncated result",
						opts->server_name),
				 errdetail("The service cut the result (reason: %s); request id \"%s\".",
						   bls_printable(reason, 120), bls_printable(request_id, 80)),
				 errhint("Narrow the time window or the statement, or set the option on_truncation to 'notice' to accept a partial result.")));
	if (!*told)
		ereport(NOTICE,
				(errmsg("BLS server \"%s\" returned a truncated result: the answer is partial",
						opts->server_name),
				 errdetail("The service cut the result (reason: %s); request id \"%s\".",
						   bls_printable(reason, 120), bls_printable(request_id, 80))));
	*told = true;
}

/*
 * Wait for request h, parse its response into a new BlsPage in cxt (freed
 * with cxt), and give the request back.  Reports a failed request or a
 * malformed page.
 */
static BlsPage *
receive_page(BlsPager *pg, BlsHandle h, MemoryContext cxt, int page_no,
			 bool lookup, char *request_id, size_t *bytes)
{
	BlsPage    *page = MemoryContextAllocZero(cxt, sizeof(BlsPage));
	MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));
	BlsResponse resp;
	BlsParseStatus status;

	/* the parsed document is freed when cxt is reset or deleted */
	cb->func = free_page_callback;
	cb->arg = page;
	MemoryContextRegisterResetCallback(cxt, cb);

	pg->current = h;
	bls_request_wait(pg->conn, h, &resp);
	if (resp.status == 404)
	{
		/* a described item that does not exist: an empty last page */
		page->total = -1;
		status = BLS_PARSE_OK;
	}
	else
		status = bls_page_parse_shape(resp.body, resp.len,
									  lookup ? pg->res->lookup_shape : pg->res->shape,
									  page);
	strlcpy(request_id, resp.request_id, 80);
	*bytes = resp.len;
	/* the page holds what it needs: the response buffer can go */
	bls_request_release(pg->conn, h);
	pg->current.slot = -1;
	if (status == BLS_PARSE_OK && page->page_no != 0 && page->page_no != page_no)
	{
		snprintf(page->error, sizeof(page->error),
				 "Page %d was requested but page %d was returned.",
				 page_no, page->page_no);
		status = BLS_PARSE_BAD_FIELD;
	}
	if (status != BLS_PARSE_OK)
		report_page_error(status, page, request_id, pg->opts);
	if (page->truncated)
		bls_report_truncation(pg->opts, page, request_id,
							  &(pg->parent ? pg->parent : pg)->truncation_told);

	pg->stats->pages++;
	pg->stats->rows += page->nitems;
	bls_stat_add(pg->opts->serverid, BLS_STAT_PAGES, 1);
	bls_stat_add(pg->opts->serverid, BLS_STAT_ROWS, page->nitems);
	return page;
}

/*
 * Request the pages after the current one that the sequence will read: up
 * to readahead of them (fewer for pages so large that more would hold over
 * BLS_READAHEAD_BYTES), none past the last page that total implies nor past
 * what the limit needs.
 */
static void
read_ahead(BlsPager *pg, int page_size, int64 total, size_t page_bytes)
{
	int64		last;
	int			window = pg->opts->readahead;

	if (window == 0 || pg->lazy || total < 0)
		return;
	/* large pages: keep about BLS_READAHEAD_BYTES in flight, at least one */
	if (page_bytes > 0)
		window = Min(window, Max(1, (int) (BLS_READAHEAD_BYTES / page_bytes)));
	/* total is at most BLS_MAX_TOTAL (response.h): this cannot overflow */
	last = (total + page_size - 1) / page_size;
	if (pg->limit > 0)
		last = Min(last, (pg->limit + page_size - 1) / page_size);
	last = Min(last, bls_max_pages_per_request);

	while (pg->npending < window &&
		   pg->page_no + pg->npending + 1 <= last)
	{
		BlsHandle	h = start_page(pg, pg->page_no + pg->npending + 1, true);

		if (h.slot < 0)
			break;				/* every transfer is busy: read lazily */
		pg->pending[pg->npending++] = h;
	}
}

/*
 * Remember the ids of the current page's items, in the current memory
 * context, to recognize them if they shift onto the next page.
 */
static void
remember_ids(BlsPager *pg)
{
	idset_init(&pg->prev_ids, CurrentMemoryContext);
	for (int i = 0; i < pg->npage_ids; i++)
		(void) idset_add(&pg->prev_ids, pg->page_ids[i].id,
						 pg->page_ids[i].hash);
}

/*
 * Is a sequence of marker pages done after the current page?  When its
 * page names no next one, or the items it kept reach the limit, and no
 * page has been received ahead.  Asked when the page is used up, since the
 * caller may refuse some of its items (bls_pager_refuse()).
 */
static bool
marker_sequence_done(BlsPager *pg)
{
	/* pages received ahead were asked for: they are read (and counted) */
	if (pg->nahead > 0)
		return false;
	return pg->page->next_marker == NULL ||
		(pg->limit > 0 && pg->received >= pg->limit);
}

/*
 * bls_pager_refuse
 *		The caller did not keep the item bls_pager_next() read last (it
 *		failed a check the service cannot make exactly): with marker paging,
 *		it does not count towards the limit.
 */
void
bls_pager_refuse(BlsPager *pg)
{
	if (pg->cur_slice >= 0 && pg->cur_slice < pg->nslices)
		pg->slice[pg->cur_slice]->received--;
	else
		pg->received--;
}

/*
 * A sequence reached bls_max_pages_per_request pages: an ERROR whose hint
 * names what can help this table.
 */
static void
report_page_cap(BlsPager *pg)
{
	int			max = pg->res->max_page_size > 0 ? pg->res->max_page_size :
		BLS_MAX_PAGE_SIZE;

	if (pg->opts->page_size < max)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" served more than %d pages for one request",
						pg->opts->server_name, bls_max_pages_per_request),
				 errhint("Raise the option page_size of the foreign table or its server (now %d, at most %d for %ss), or narrow the query.",
						 pg->opts->page_size, max, pg->res->item_name)));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_ERROR),
			 errmsg("BLS server \"%s\" served more than %d pages for one request",
					pg->opts->server_name, bls_max_pages_per_request),
			 errhint(pg->res->window_field ?
					 "The option page_size is at its maximum (%d): narrow the time window or the query." :
					 "The option page_size is at its maximum (%d): narrow the query.",
					 max)));
}

/*
 * Check a marker page: a service whose markers lead back to a page already
 * read, or that serves empty pages naming a next one, would be paged
 * forever (up to bls_max_pages_per_request).  Remembers the page's marker.
 */
static void
check_marker_page(BlsPager *pg, const BlsPage *page, int page_no,
				  const char *request_id)
{
	if (page->next_marker == NULL)
		return;
	if (!idset_add(&pg->markers, page->next_marker,
				   id_hash(page->next_marker)))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" returned a marker it had returned before",
						pg->opts->server_name),
				 errdetail("Page %d named as the next page one that the request had read already: the service's markers form a cycle; request id \"%s\".",
						   page_no, bls_printable(request_id, 80))));
	pg->empty_marked = page->nitems == 0 ? pg->empty_marked + 1 : 0;
	if (pg->empty_marked >= 2)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" returned empty pages that name a next page",
						pg->opts->server_name),
				 errdetail("Pages %d and %d held no %ss but named a next page; request id \"%s\".",
						   page_no - 1, page_no, pg->res->item_name,
						   bls_printable(request_id, 80))));
}

/*
 * Make the oldest page received ahead (pump_ahead()) the current one: its
 * context becomes the other page context, and the current page is freed.
 */
static void
take_ahead_page(BlsPager *pg)
{
	int			next = 1 - pg->cur;
	MemoryContext cxt = pg->ahead_cxt[0];
	MemoryContext freed;

	pg->page = NULL;
	MemoryContextReset(pg->page_cxt[pg->cur]);
	MemoryContextReset(pg->page_cxt[next]);
	freed = pg->page_cxt[next];
	pg->page_cxt[next] = cxt;
	pg->page = pg->ahead_page[0];
	strlcpy(pg->page_request_id, pg->ahead_rid[0], sizeof(pg->page_request_id));
	pg->ahead_held -= pg->ahead_size[0];
	pg->nahead--;
	for (int i = 0; i < pg->nahead; i++)
	{
		pg->ahead_cxt[i] = pg->ahead_cxt[i + 1];
		pg->ahead_page[i] = pg->ahead_page[i + 1];
		pg->ahead_size[i] = pg->ahead_size[i + 1];
		memcpy(pg->ahead_rid[i], pg->ahead_rid[i + 1], sizeof(pg->ahead_rid[i]));
	}
	pg->ahead_cxt[pg->nahead] = freed;
	pg->page_no++;
	pg->cur = next;
	pg->next_item = 0;
	pg->page_ids = MemoryContextAlloc(cxt, sizeof(char *));
	pg->npage_ids = 0;
	pg->page_new = 0;
	pg->ahead_due = false;
}

/*
 * Fetch the page after the current one into the other page context, after
 * copying the current page's ids there and freeing the current page.
 */
static void
fetch_next_page(BlsPager *pg)
{
	int			next = 1 - pg->cur;
	MemoryContext cxt = pg->page_cxt[next];
	MemoryContext oldcxt;
	BlsPage    *page;
	int			page_no = pg->page_no + 1;
	int			page_size;
	int64		prev_total;
	bool		have_prev;
	char		request_id[80];
	size_t		bytes;
	bool		lookup = bls_lookup_value(pg->res, pg->params, pg->nparams) != NULL;

	/*
	 * A page whose every item was on the page before means the service
	 * serves the same page again, unless its total grew by a page or more
	 * (that many items arrived at the head meanwhile): stop rather than ask
	 * forever.
	 */
	if (pg->res->paging == BLS_PAGING_NUMBER &&
		pg->page != NULL && pg->page->nitems > 0 && pg->page_new == 0 &&
		!(pg->page->total >= 0 && pg->prev_total >= 0 &&
		  pg->page->total - pg->prev_total >= pg->page->nitems))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" returned page %d with no new items",
						pg->opts->server_name, pg->page_no),
				 errdetail("Every item of page %d was on page %d already; the service may be ignoring pageNo.",
						   pg->page_no, pg->page_no - 1),
				 errhint("More than a page of items may also have been added while the scan read; rerun the query, or raise page_size.")));
	if (page_no > bls_max_pages_per_request)
		report_page_cap(pg);
	/* a time slice's page may have been received ahead, checked and counted */
	if (pg->nahead > 0)
	{
		take_ahead_page(pg);
		return;
	}

	ensure_connection(pg);
	MemoryContextReset(cxt);
	oldcxt = MemoryContextSwitchTo(cxt);

	/*
	 * Remember what the current page returned, to skip it if it shifts, and
	 * free its document now: only one page is held at a time.
	 */
	remember_ids(pg);
	if (pg->page && pg->page->next_marker)
		pg->marker = pstrdup(pg->page->next_marker);
	prev_total = pg->page ? pg->page->total : -1;
	have_prev = pg->page != NULL;
	pg->prev_total = prev_total;
	pg->page = NULL;
	MemoryContextReset(pg->page_cxt[pg->cur]);

	for (;;)
	{
		/* the page may have been requested ahead already */
		bool		ahead = pg->npending > 0;
		BlsHandle	h;

		if (ahead)
		{
			h = pg->pending[0];
			pg->npending--;
			memmove(&pg->pending[0], &pg->pending[1],
					sizeof(BlsHandle) * pg->npending);
		}
		else
			h = start_page(pg, page_no, false);
		page = receive_page(pg, h, cxt, page_no, lookup, request_id, &bytes);

		/*
		 * A page read ahead while the list changed (its total differs from
		 * the page before) may not line up with that page: items could fall
		 * between the two.  Drop what was read ahead and ask again, now; a
		 * page asked for after the one before can only repeat items, which
		 * are skipped.
		 */
		if (ahead && have_prev && page->total != prev_total)
		{
			cancel_pending(pg);
			bls_page_free(page);	/* its callback then finds it freed */
			pg->stats->refetched++;
			continue;
		}
		break;
	}

	pg->page_no = page_no;
	pg->page = page;
	pg->cur = next;
	pg->next_item = 0;
	pg->page_ids = palloc(sizeof(BlsIdSlot) * Max(page->nitems, 1));
	pg->npage_ids = 0;
	pg->page_new = 0;
	strlcpy(pg->page_request_id, request_id, sizeof(pg->page_request_id));

	/* the requests read ahead are built in the page's context, and go with it */
	if (pg->res->paging == BLS_PAGING_MARKER)
	{
		check_marker_page(pg, page, page_no, request_id);
		pg->received += page->nitems;
		/* the next page is known now: ask for it while this one is read */
		pg->ahead_due = !marker_sequence_done(pg) && pg->opts->readahead > 0 &&
			!pg->lazy && pg->ahead_depth == 0;
	}
	else
	{
		page_size = bls_page_effective_size(page, pg->page_size);
		/* an item described by its id is all there is */
		pg->last_page = lookup || bls_page_is_last(page, page_no, pg->page_size);
		pg->ahead_due = !pg->last_page;
		pg->ahead_page_size = page_size;
		pg->ahead_total = page->total;
		pg->ahead_bytes = bytes;
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Request the pages after the current one, as the sequence reads ahead,
 * and send them now, not when they are waited for.  The requests are built
 * in the current page's context, and go with it.
 */
static void
start_readahead(BlsPager *pg)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(pg->page_cxt[pg->cur]);

	pg->ahead_due = false;
	if (pg->res->paging == BLS_PAGING_MARKER)
	{
		BlsHandle	h;

		pg->marker = pg->page->next_marker;
		h = start_page(pg, pg->page_no + 1, true);
		if (h.slot >= 0)
			pg->pending[pg->npending++] = h;
	}
	else
		read_ahead(pg, pg->ahead_page_size, pg->ahead_total, pg->ahead_bytes);
	MemoryContextSwitchTo(oldcxt);
	if (pg->npending > 0)
		bls_connection_progress(pg->conn);
}

/*
 * Move a time slice's read-ahead along without waiting: take in its page
 * if it has arrived (checked and counted as fetch_next_page() would), and
 * request the next one while fewer than ahead_depth pages, and less than
 * about BLS_READAHEAD_BYTES, are held ahead.  A slice's first page is
 * requested here too.  A failed request is an ERROR here, as when read.
 */
static void
pump_ahead(BlsPager *pg)
{
	for (;;)
	{
		int			page_no = pg->page_no + pg->nahead + 1;
		const BlsPage *tail;
		MemoryContext cxt;
		MemoryContext oldcxt;
		BlsHandle	h;

		if (pg->nahead < BLS_MAX_READAHEAD && pg->ahead_cxt[pg->nahead] == NULL)
			pg->ahead_cxt[pg->nahead] = AllocSetContextCreate(pg->cxt,
															  "bls_fdw page",
															  ALLOCSET_DEFAULT_SIZES);
		if (pg->npending > 0)
		{
			size_t		bytes;
			BlsPage    *page;

			if (!bls_request_ready(pg->conn, pg->pending[0]))
				return;
			h = pg->pending[0];
			pg->npending = 0;
			cxt = pg->ahead_cxt[pg->nahead];
			MemoryContextReset(cxt);
			page = receive_page(pg, h, cxt, page_no, false,
								pg->ahead_rid[pg->nahead], &bytes);
			check_marker_page(pg, page, page_no, pg->ahead_rid[pg->nahead]);
			pg->received += page->nitems;
			pg->ahead_page[pg->nahead] = page;
			pg->ahead_size[pg->nahead] = bytes;
			pg->ahead_held += bytes;
			pg->nahead++;
			continue;
		}

		/* is there a next page, and room for it? */
		tail = pg->nahead > 0 ? pg->ahead_page[pg->nahead - 1] : pg->page;
		if (tail == NULL ? pg->page_no > 0 :
			(tail->next_marker == NULL ||
			 (pg->limit > 0 && pg->received >= pg->limit)))
			return;
		if (pg->nahead + 1 > pg->ahead_depth ||
			pg->ahead_held >= BLS_READAHEAD_BYTES ||
			page_no > BLS_MAX_PAGES_PER_SEQUENCE)
			return;
		ensure_connection(pg);
		pg->marker = tail ? tail->next_marker : NULL;
		/* the request is built in the context its page will go to */
		cxt = pg->ahead_cxt[pg->nahead];
		MemoryContextReset(cxt);
		oldcxt = MemoryContextSwitchTo(cxt);
		h = start_page(pg, page_no, true);
		MemoryContextSwitchTo(oldcxt);
		if (h.slot < 0)
			return;				/* every transfer is busy: read it when due */
		pg->pending[0] = h;
		pg->npending = 1;
		bls_connection_progress(pg->conn);
		return;
	}
}

/* Move every slice not yet read along. */
static void
pump_slices(BlsPager *pg)
{
	for (int i = Max(pg->cur_slice, 0); i < pg->nslices; i++)
		pump_ahead(pg->slice[i]);
	pg->since_pump = 0;
}

/*
 * The second of the time of the item in fields (epoch milliseconds, a
 * number or a string), into *sec; false if it cannot be read (the scan
 * then reports the item).
 */
static bool
item_second(const BlsPager *pg, const BlsFields *fields, int64 *sec)
{
	const BlsValue *v;
	const char *text;
	size_t		len;
	char		buf[64];
	char	   *end;
	double		ms;

	if (pg->time_key < 0)
		return false;
	v = &fields->values[pg->time_key];
	if (v->type == BLS_JSON_NUMBER && v->is_int)
		ms = (double) v->ival;
	else if (v->type == BLS_JSON_NUMBER || v->type == BLS_JSON_STRING)
	{
		if (v->type == BLS_JSON_STRING)
		{
			text = v->str;
			len = v->len;
		}
		else
			text = bls_value_text(v, &len);
		if (text == NULL || len == 0 || len >= sizeof(buf))
			return false;
		memcpy(buf, text, len);
		buf[len] = '\0';
		errno = 0;
		ms = strtod(buf, &end);
		if (end == buf || *end != '\0' || errno != 0 || isnan(ms) ||
			fabs(ms) > 1e15)
			return false;
	}
	else
		return false;
	*sec = (int64) floor(ms / 1000.0);
	return true;
}

/* The value of param key in params, or NULL. */
static const char *
param_value(const BlsParam *params, int nparams, const char *key)
{
	for (int i = 0; i < nparams; i++)
		if (strcmp(params[i].key, key) == 0)
			return params[i].value;
	return NULL;
}

/* A window parameter ("2024-05-01T00:00:00Z") as seconds since 1970. */
static bool
window_second(const char *text, int64 *sec)
{
	int64_t		usecs;

	if (text == NULL || !bls_parse_utc_timestamp(text, strlen(text), &usecs))
		return false;
	*sec = usecs / 1000000;
	return usecs % 1000000 == 0;
}

/*
 * The first page of a sequence has just been read: if the window needs at
 * least two more pages, begin its time slices (see "Time slices" above).
 * fields is the reader's, used to read the page's last item.
 */
static void
plan_slices(BlsPager *pg, BlsFields *fields)
{
	const BlsResource *res = pg->res;
	const BlsPage *page = pg->page;
	const char *order = pg->order ? pg->order : res->default_order;
	int64		start;
	int64		end;
	int64		last;
	int64		covered;
	int64		rest;
	int64		kept;
	int64		share;
	int64		secs;
	double		rate;
	double		need;
	int			n;
	BlsParam   *params;
	char		bufs[2][32];

	if (pg->parent || pg->opts->slices < 2 || pg->opts->readahead == 0 ||
		pg->lazy || res->paging != BLS_PAGING_MARKER ||
		res->window_start == NULL || res->epoch_ms_field == NULL ||
		page->next_marker == NULL || page->nitems == 0 ||
		(pg->limit > 0 && pg->received >= pg->limit) ||
		!window_second(param_value(pg->params, pg->nparams, res->window_start), &start) ||
		!window_second(param_value(pg->params, pg->nparams, res->window_end), &end))
		return;
	pg->ascending = order != NULL && strcmp(order, "asc") == 0;
	pg->time_key = -1;
	for (int k = 0; k < fields->nkeys; k++)
		if (strcmp(fields->keys[k], res->epoch_ms_field) == 0)
			pg->time_key = k;
	if (!bls_page_read_item(pg->page, page->nitems - 1, fields) ||
		!item_second(pg, fields, &last) || last < start || last >= end)
		return;
	/* the page's items that second S drops (the slices return them) */
	kept = pg->received;
	for (int i = page->nitems - 1; i >= 0; i--)
	{
		int64		sec;

		if (!bls_page_read_item(pg->page, i, fields) ||
			!item_second(pg, fields, &sec) ||
			(pg->ascending ? sec < last : sec > last))
			break;
		kept--;
	}

	/* what the page covered, and what is left, in whole seconds */
	covered = pg->ascending ? last - start + 1 : end - last;
	rest = pg->ascending ? end - last : last + 1 - start;
	rate = (double) page->nitems / (double) covered;
	need = rate * (double) rest;
	if (pg->limit > 0)
		need = Min(need, (double) (pg->limit - kept));
	n = (int) Min((double) pg->opts->slices, ceil(need / pg->page_size));
	secs = (int64) Min((double) rest, ceil(need / rate));
	n = (int) Min(n, secs);
	if (n < 2)
		return;

	/*
	 * Slice i covers secs / n seconds of what is needed, the last the rest.
	 * Under a LIMIT each asks ahead for its expected share and a margin
	 * only: the one the reader moves on to is told what is still needed,
	 * and reads on from its marker if that is more.
	 */
	share = pg->limit > 0 ?
		Min(pg->limit - kept, (int64) ceil(need / n * 1.125) + 1) : 0;
	params = palloc(sizeof(BlsParam) * pg->nparams);
	memcpy(params, pg->params, sizeof(BlsParam) * pg->nparams);
	for (int i = 0; i < n; i++)
	{
		int64		a = i * secs / n;
		int64		b = i + 1 < n ? (i + 1) * secs / n : rest;
		int64		lo = pg->ascending ? last + a : last + 1 - b;
		int64		hi = pg->ascending ? last + b : last + 1 - a;
		BlsPager   *c;

		if (i == pg->nslice_pagers)
		{
			c = bls_pager_create(pg->cxt, pg->opts, res, pg->stats);
			c->parent = pg;
			pg->slice[pg->nslice_pagers++] = c;
		}
		c = pg->slice[i];
		c->ahead_depth = Min(pg->opts->readahead, BLS_MAX_READAHEAD);
		/* whole seconds since 1970 as text: cannot fail in BLS's range */
		if (!bls_utc_text((TimestampTz) (lo - 946684800) * USECS_PER_SEC, false,
						  bufs[0], sizeof(bufs[0])) ||
			!bls_utc_text((TimestampTz) (hi - 946684800) * USECS_PER_SEC, false,
						  bufs[1], sizeof(bufs[1])))
			elog(ERROR, "could not format a time slice's window");
		for (int k = 0; k < pg->nparams; k++)
			if (strcmp(params[k].key, res->window_start) == 0)
				params[k].value = bufs[0];
			else if (strcmp(params[k].key, res->window_end) == 0)
				params[k].value = bufs[1];
		bls_pager_begin(c, params, pg->nparams, pg->order_by, pg->order,
						pg->page_size, share, false);
	}
	pfree(params);
	pg->nslices = n;
	pg->cur_slice = -1;
	pg->cut_sec = last;
	pg->ahead_due = false;
	pg->stats->slices += n;
	pump_slices(pg);
}

/*
 * The next item of a sliced sequence, from the slice being read: false
 * when the last slice is done, or the LIMIT is reached.
 */
static bool
next_in_slices(BlsPager *pg, BlsFields *fields, const int id_keys[2])
{
	while (pg->cur_slice < pg->nslices)
	{
		BlsPager   *c = pg->slice[pg->cur_slice];
		int			page_no = c->page_no;

		/* its page used up: wait for the next one, moving the others along */
		while ((c->page == NULL || c->next_item >= c->page->nitems) &&
			   c->nahead == 0 && c->npending > 0 &&
			   !bls_request_ready(c->conn, c->pending[0]))
		{
			bls_connection_wait(c->conn, BLS_SLICE_POLL_MS);
			pump_slices(pg);
		}
		if (bls_pager_next(c, fields, id_keys))
		{
			if (c->page_no != page_no || ++pg->since_pump >= BLS_PROGRESS_ITEMS)
				pump_slices(pg);
			return true;
		}
		/* on to the next slice, asking for no more than is still needed */
		pg->kept += c->received;
		bls_pager_end(c);
		if (++pg->cur_slice < pg->nslices && pg->limit > 0)
		{
			if (pg->kept >= pg->limit)
				pg->cur_slice = pg->nslices;
			else
				pg->slice[pg->cur_slice]->limit = pg->limit - pg->kept;
		}
	}
	return false;
}

/*
 * bls_page_effective_size
 *		The page size the service used for page: it may serve fewer per page
 *		than asked (asked), and then says how many.  One that says more than
 *		asked is not believed: a page of asked items, or fewer, would then
 *		look short, and end the scan early.
 */
int
bls_page_effective_size(const BlsPage *page, int asked)
{
	return page->page_size > 0 ? Min(page->page_size, asked) : asked;
}

/*
 * bls_page_is_last
 *		Is page, number page_no of a sequence asking for asked items a page,
 *		its last?  It is when it is short or empty, or when the service's
 *		total says so.
 */
bool
bls_page_is_last(const BlsPage *page, int page_no, int asked)
{
	int			page_size = bls_page_effective_size(page, asked);

	return page->nitems == 0 || page->nitems < page_size ||
		(page->total >= 0 && (int64) page_no * page_size >= page->total);
}

/*
 * bls_pager_read_item
 *		Read item i of a page from bls_pager_fetch() into fields, or report
 *		that it is not valid.
 */
void
bls_pager_read_item(BlsPager *pg, BlsPage *page, int i, BlsFields *fields)
{
	if (!bls_page_read_item(page, i, fields))
		report_page_error(BLS_PARSE_NOT_JSON, page, pg->page_request_id,
						  pg->opts);
}

/*
 * The id of the item in fields, as a string in cxt: its id field, or its
 * two id fields joined by a unit separator.  NULL if an id field is not a
 * string: such an item is not de-duplicated.
 */
static char *
item_id(const BlsFields *fields, const int id_keys[2], MemoryContext cxt)
{
	const BlsValue *a = &fields->values[id_keys[0]];
	const BlsValue *b = id_keys[1] >= 0 ? &fields->values[id_keys[1]] : NULL;
	size_t		len;
	char	   *id;

	if (a->type != BLS_JSON_STRING || (b && b->type != BLS_JSON_STRING))
		return NULL;
	len = a->len + (b ? 1 + b->len : 0);
	id = MemoryContextAlloc(cxt, len + 1);
	/* as a C string: one with a NUL in it ends there */
	memcpy(id, a->str, a->len);
	if (b)
	{
		id[a->len] = '\x1f';
		memcpy(id + a->len + 1, b->str, b->len);
	}
	id[len] = '\0';
	return id;
}

/*
 * May the current page's default object (the default project) still be
 * returned?  Not when the scan returned it or its list had it already.
 */
static bool
default_pending(BlsPager *pg)
{
	return pg->res->default_flag != NULL && !pg->default_done &&
		pg->page != NULL && pg->page->default_id != NULL &&
		pg->default_returned == NULL;
}

/*
 * Does the default object come before the item in fields, in the order the
 * sequence asked for?  Compared by the sort field, whose values are times
 * in one UTC form or names, both ordered by their bytes, as the service
 * orders them.  False when that cannot be told: the object then comes
 * after the list.
 */
static bool
default_comes_first(BlsPager *pg, const BlsFields *fields)
{
	const char *order_by = pg->order_by ? pg->order_by : pg->res->default_order_by;
	const char *order = pg->order ? pg->order : pg->res->default_order;
	const BlsSortDef *sort = NULL;
	const BlsValue *v = NULL;
	const char *d;
	size_t		dlen;
	int			cmp;

	if (order_by == NULL)
		return false;
	for (int i = 0; i < pg->res->nsorts; i++)
		if (strcmp(pg->res->sorts[i].order_by, order_by) == 0)
			sort = &pg->res->sorts[i];
	if (sort == NULL)
		return false;
	for (int k = 0; k < fields->nkeys; k++)
		if (strcmp(fields->keys[k], sort->field) == 0)
			v = &fields->values[k];
	d = bls_page_default_string(pg->page, sort->field, &dlen);
	if (v == NULL || v->type != BLS_JSON_STRING || d == NULL)
		return false;
	cmp = memcmp(d, v->str, Min(dlen, v->len));
	if (cmp == 0)
		cmp = (dlen > v->len) - (dlen < v->len);
	return order && strcmp(order, "asc") == 0 ? cmp < 0 : cmp > 0;
}

/*
 * Return the page's default object as the next item: ListProject may name
 * the default project only beside its list.  False if it is not pending.
 */
static bool
next_default(BlsPager *pg, BlsFields *fields, const int id_keys[2])
{
	char	   *id;

	if (!default_pending(pg) || !bls_page_read_default(pg->page, fields))
		return false;
	pg->default_done = true;
	pg->read_default = true;
	id = item_id(fields, id_keys, pg->scan_ids_cxt);
	if (id == NULL || strcmp(id, pg->page->default_id) != 0)
		return false;			/* not an item like the others: leave it */
	if (pg->across && !idset_add(&pg->returned, id, id_hash(id)))
		return false;
	pg->default_returned = id;
	return true;
}

/*
 * bls_pager_next
 *		Read the next item of the scan not returned before into fields
 *		(id_keys are the indexes of the resource's id fields in it, the
 *		second -1 if none); false when the sequence is done.  The values are
 *		valid until the next call.
 *
 * An item is skipped if it was on the page before (it shifted), or, in a
 * scan of several sequences, if an earlier sequence returned it.  The item
 * the pages name beside their list (the default project) is returned once
 * per scan: where the list has it, else where the order puts it, or last.
 */
bool
bls_pager_next(BlsPager *pg, BlsFields *fields, const int id_keys[2])
{
	pg->read_default = false;
	if (pg->cur_slice >= 0)
		return next_in_slices(pg, fields, id_keys);
	for (;;)
	{
		char	   *id;
		uint32		h;

		if (pg->page == NULL || pg->next_item >= pg->page->nitems)
		{
			if (pg->nslices > 0 && pg->page != NULL)
			{
				/* the first page is read: on to the slices, and free it */
				pg->cur_slice = 0;
				pg->kept = pg->received;
				if (pg->limit > 0)
					pg->slice[0]->limit = Max(pg->limit - pg->kept, 1);
				pg->page = NULL;
				MemoryContextReset(pg->page_cxt[0]);
				MemoryContextReset(pg->page_cxt[1]);
				return next_in_slices(pg, fields, id_keys);
			}
			if (pg->page != NULL &&
				(pg->res->paging == BLS_PAGING_MARKER
				 ? marker_sequence_done(pg) : pg->last_page))
				return next_default(pg, fields, id_keys);
			fetch_next_page(pg);
			if (pg->page_no == 1)
				plan_slices(pg, fields);
			continue;
		}
		/* the caller wants a second item: it may want the next page too */
		if (pg->ahead_due && pg->next_item > 0)
			start_readahead(pg);

		if (!bls_page_read_item(pg->page, pg->next_item, fields))
			report_page_error(BLS_PARSE_NOT_JSON, pg->page, pg->page_request_id,
							  pg->opts);
		if (default_pending(pg) && default_comes_first(pg, fields))
		{
			if (next_default(pg, fields, id_keys))
				return true;	/* the item is read again at the next call */
			continue;			/* fields were overwritten: read it again */
		}
		pg->next_item++;
		/* let the pages read ahead arrive meanwhile */
		if (pg->npending > 0 && pg->next_item % BLS_PROGRESS_ITEMS == 0)
			bls_connection_progress(pg->conn);

		/* marker pages do not shift: nothing to de-duplicate */
		if (pg->res->paging == BLS_PAGING_MARKER)
		{
			int64		sec;

			/* the first page's items of the seconds the slices return */
			if (pg->nslices > 0 && item_second(pg, fields, &sec) &&
				(pg->ascending ? sec >= pg->cut_sec : sec <= pg->cut_sec))
			{
				pg->received--;
				continue;
			}
			return true;
		}
		id = item_id(fields, id_keys, pg->page_cxt[pg->cur]);
		if (id == NULL)
		{
			pg->page_new++;
			return true;
		}
		h = id_hash(id);
		pg->page_ids[pg->npage_ids].id = id;
		pg->page_ids[pg->npage_ids++].hash = h;
		if (idset_contains(&pg->prev_ids, id, h))
		{
			pg->stats->duplicates++;
			continue;
		}
		/* new to the sequence, whether or not the scan returned it */
		pg->page_new++;
		if ((pg->default_returned && strcmp(id, pg->default_returned) == 0) ||
			(pg->across && !idset_add(&pg->returned, id, h)))
		{
			pg->stats->duplicates++;
			continue;
		}
		if (pg->page->default_id && strcmp(id, pg->page->default_id) == 0)
			pg->default_done = true;
		return true;
	}
}

/*
 * bls_pager_default_id
 *		The id of the item the current page names beside its list (the
 *		default project), or NULL.
 */
const char *
bls_pager_default_id(const BlsPager *pg)
{
	if (pg->cur_slice >= 0 && pg->cur_slice < pg->nslices)
		return bls_pager_default_id(pg->slice[pg->cur_slice]);
	return pg->page ? pg->page->default_id : NULL;
}

/*
 * bls_pager_position
 *		The page number and index on it of the item bls_pager_next() read
 *		last, for error messages.
 */
void
bls_pager_position(const BlsPager *pg, int *page_no, int *index)
{
	if (pg->cur_slice >= 0 && pg->cur_slice < pg->nslices)
	{
		bls_pager_position(pg->slice[pg->cur_slice], page_no, index);
		return;
	}
	*page_no = pg->page_no;
	*index = pg->next_item - 1;
}

/*
 * bls_pager_fetch
 *		Request one page outside any sequence (ANALYZE's sample pages, a
 *		remote estimate) and return it parsed.  It stays valid until the
 *		next bls_pager_fetch() or the pager's end.
 */
BlsPage *
bls_pager_fetch(BlsPager *pg, const BlsListRequest *lr)
{
	BlsHttpRequest hr;
	BlsHandle	h;
	size_t		bytes;

	ensure_connection(pg);
	MemoryContextReset(pg->fetch_cxt);
	bls_build_list_request(pg->res, lr, &hr);
	h = bls_owner_start(pg->owner, &hr, pg->stats, false);
	return receive_page(pg, h, pg->fetch_cxt, lr->page_no,
						bls_lookup_value(pg->res, lr->params, lr->nparams) != NULL,
						pg->page_request_id, &bytes);
}

/*
 * bls_pager_request_id
 *		The request id of the page bls_pager_fetch() returned last (the
 *		response's x-bce-request-id), for error messages; "" if none.
 */
const char *
bls_pager_request_id(const BlsPager *pg)
{
	return pg->page_request_id;
}
