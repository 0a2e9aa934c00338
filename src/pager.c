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
 * no sequence reads more than BLS_MAX_PAGES_PER_SEQUENCE pages.
 *
 * Marker paging (QueryLogRecord) works the same way, except that each page
 * names the next (nextMarker) instead of being numbered: pages come one
 * after another, the next requested as soon as the current one arrives,
 * and a sequence ends at a page that names none or once the items kept
 * reach the limit (the caller may refuse some, bls_pager_refuse()).  There
 * is no total, nothing shifts, and so nothing to de-duplicate; a page that
 * names itself as the next is an error.
 *
 * Requests read ahead are handed to libcurl at once, and the transfers are
 * moved along every BLS_PROGRESS_ITEMS items, so that the pages arrive
 * while rows are converted rather than when they are waited for.
 *
 * Memory.  The pager lives in a memory context of its own, a child of its
 * caller's.  Each page lives in one of two page contexts that alternate: the
 * next page's context first receives a copy of the current page's ids, then
 * the current page's context is reset, so one page is held at a time.  The
 * pager owns its requests and a reference to its connection; a reset
 * callback on its context gives them back, so an ERROR, a closed cursor or
 * an aborted subtransaction that frees the pager's memory also stops its
 * requests, and nothing else can stop them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "bls_fdw.h"

/* Items read between two looks at the transfers read ahead. */
#define BLS_PROGRESS_ITEMS	64

/* A slot of the open-addressing set of a page's ids. */
typedef struct BlsIdSlot
{
	const char *id;				/* a copy; NULL if the slot is free */
	uint32		hash;
} BlsIdSlot;

struct BlsPager
{
	MemoryContext cxt;			/* owns everything below */
	const BlsOptions *opts;
	const BlsResource *res;
	BlsScanStats *stats;
	BlsConnection *conn;		/* acquired at the first request */

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
	BlsIdSlot  *prev_ids;		/* hash set of the previous page's ids */
	uint32		prev_mask;		/* its size - 1; 0 when empty */
	char	  **page_ids;		/* ids of the current page's items so far */
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

	/* its requests: the one waited for, and the pages read ahead */
	BlsHandle	current;
	BlsHandle	pending[BLS_MAX_READAHEAD];
	int			npending;

	/* a one-off page of bls_pager_fetch() */
	MemoryContext fetch_cxt;
};

/* Give back the requests and the connection; never raises an error. */
static void
pager_reset_callback(void *arg)
{
	BlsPager   *pg = (BlsPager *) arg;

	if (pg->conn == NULL)
		return;
	bls_request_release(pg->conn, pg->current);
	for (int i = 0; i < pg->npending; i++)
		bls_request_release(pg->conn, pg->pending[i]);
	pg->npending = 0;
	pg->current.slot = -1;
	bls_connection_release(pg->conn);
	pg->conn = NULL;
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
	MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));

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
	cb->func = pager_reset_callback;
	cb->arg = pg;
	MemoryContextRegisterResetCallback(cxt, cb);
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
		pg->conn = bls_connection_acquire(pg->opts);
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
	MemoryContextReset(pg->page_cxt[0]);
	MemoryContextReset(pg->page_cxt[1]);
	pg->page = NULL;
	pg->prev_ids = NULL;
	pg->prev_mask = 0;
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
	pg->stats->sequences++;
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
	h = bls_request_start(pg->conn, pg->opts, &hr, pg->stats, try);
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
			 errdetail("%s Request id \"%s\".", page->error,
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
		bls_report_truncation(pg->opts, page, request_id, &pg->truncation_told);

	pg->stats->pages++;
	pg->stats->rows += page->ntasks;
	bls_stat_add(pg->opts->serverid, BLS_STAT_PAGES, 1);
	bls_stat_add(pg->opts->serverid, BLS_STAT_ROWS, page->ntasks);
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
	/* total is at most BLS_MAX_TOTAL (task_json.h): this cannot overflow */
	last = (total + page_size - 1) / page_size;
	if (pg->limit > 0)
		last = Min(last, (pg->limit + page_size - 1) / page_size);
	last = Min(last, BLS_MAX_PAGES_PER_SEQUENCE);

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
 * Remember the ids of the current page's items, to recognize them if they
 * shift onto the next page.  A hash set: a sorted array cost a dozen string
 * comparisons a row, measurably.
 */
static void
remember_ids(BlsPager *pg)
{
	uint32		size = 16;

	pg->prev_ids = NULL;
	pg->prev_mask = 0;
	if (pg->npage_ids == 0)
		return;
	while (size < (uint32) pg->npage_ids * 2)
		size <<= 1;
	pg->prev_ids = palloc0(sizeof(BlsIdSlot) * size);
	pg->prev_mask = size - 1;
	for (int i = 0; i < pg->npage_ids; i++)
	{
		const char *u = pg->page_ids[i];
		uint32		h = hash_bytes((const unsigned char *) u, strlen(u));
		uint32		j;

		for (j = h & pg->prev_mask; pg->prev_ids[j].id != NULL;
			 j = (j + 1) & pg->prev_mask)
			;
		pg->prev_ids[j].id = pstrdup(u);
		pg->prev_ids[j].hash = h;
	}
}

/* Was id on the previous page? */
static bool
seen_before(BlsPager *pg, const char *id)
{
	uint32		h;

	if (pg->prev_mask == 0)
		return false;
	h = hash_bytes((const unsigned char *) id, strlen(id));
	for (uint32 j = h & pg->prev_mask; pg->prev_ids[j].id != NULL;
		 j = (j + 1) & pg->prev_mask)
		if (pg->prev_ids[j].hash == h && strcmp(pg->prev_ids[j].id, id) == 0)
			return true;
	return false;
}

/*
 * Is a sequence of marker pages done after the current page?  When its
 * page names no next one, or the items it kept reach the limit.  Asked
 * when the page is used up, since the caller may refuse some of its items
 * (bls_pager_refuse()).
 */
static bool
marker_sequence_done(BlsPager *pg)
{
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
	pg->received--;
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
		pg->page != NULL && pg->page->ntasks > 0 && pg->page_new == 0 &&
		!(pg->page->total >= 0 && pg->prev_total >= 0 &&
		  pg->page->total - pg->prev_total >= pg->page->ntasks))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" returned page %d with no new items",
						pg->opts->server_name, pg->page_no),
				 errdetail("Every item of page %d was on page %d already; the service may be ignoring pageNo.",
						   pg->page_no, pg->page_no - 1),
				 errhint("More than a page of items may also have been added while the scan read; rerun the query, or raise page_size.")));
	if (page_no > BLS_MAX_PAGES_PER_SEQUENCE)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("BLS server \"%s\" served more than %d pages for one request",
						pg->opts->server_name, BLS_MAX_PAGES_PER_SEQUENCE),
				 errhint("Raise page_size, or narrow the query.")));

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
	pg->page_ids = palloc(sizeof(char *) * Max(page->ntasks, 1));
	pg->npage_ids = 0;
	pg->page_new = 0;
	strlcpy(pg->page_request_id, request_id, sizeof(pg->page_request_id));

	/* the requests read ahead are built in the page's context, and go with it */
	if (pg->res->paging == BLS_PAGING_MARKER)
	{
		/* a service that names the page it just served would loop */
		if (page->next_marker && pg->marker && page_no > 1 &&
			strcmp(page->next_marker, pg->marker) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("BLS server \"%s\" returned the marker it was given",
							pg->opts->server_name),
					 errdetail("Page %d named itself as the next page; request id \"%s\".",
							   page_no, bls_printable(request_id, 80))));
		pg->received += page->ntasks;
		if (!marker_sequence_done(pg) && pg->opts->readahead > 0 && !pg->lazy)
		{
			/* the next page is known now: ask for it while this one is read */
			BlsHandle	h;

			pg->marker = page->next_marker;
			h = start_page(pg, page_no + 1, true);
			if (h.slot >= 0)
				pg->pending[pg->npending++] = h;
		}
	}
	else
	{
		page_size = bls_page_effective_size(page, pg->page_size);
		/* an item described by its id is all there is */
		pg->last_page = lookup || bls_page_is_last(page, page_no, pg->page_size);
		if (!pg->last_page)
			read_ahead(pg, page_size, page->total, bytes);
	}
	MemoryContextSwitchTo(oldcxt);

	/* send what was read ahead now, not when it is waited for */
	if (pg->npending > 0)
		bls_connection_progress(pg->conn);
}

/*
 * bls_page_effective_size
 *		The page size the service used for page: it may serve fewer per page
 *		than asked (asked), and then says how many.
 */
int
bls_page_effective_size(const BlsPage *page, int asked)
{
	return page->page_size > 0 ? page->page_size : asked;
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

	return page->ntasks == 0 || page->ntasks < page_size ||
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
	if (!bls_page_read_task(page, i, fields))
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
 * bls_pager_next
 *		Read the next item of the sequence not returned before into fields
 *		(id_keys are the indexes of the resource's id fields in it, the
 *		second -1 if none); false when the sequence is done.  The values are
 *		valid until the next call.
 */
bool
bls_pager_next(BlsPager *pg, BlsFields *fields, const int id_keys[2])
{
	for (;;)
	{
		char	   *id;

		if (pg->page == NULL || pg->next_item >= pg->page->ntasks)
		{
			if (pg->page != NULL &&
				(pg->res->paging == BLS_PAGING_MARKER
				 ? marker_sequence_done(pg) : pg->last_page))
				return false;
			fetch_next_page(pg);
			continue;
		}

		if (!bls_page_read_task(pg->page, pg->next_item, fields))
			report_page_error(BLS_PARSE_NOT_JSON, pg->page, pg->page_request_id,
							  pg->opts);
		pg->next_item++;
		/* let the pages read ahead arrive meanwhile */
		if (pg->npending > 0 && pg->next_item % BLS_PROGRESS_ITEMS == 0)
			bls_connection_progress(pg->conn);
		id = item_id(fields, id_keys, pg->page_cxt[pg->cur]);
		if (id != NULL)
		{
			pg->page_ids[pg->npage_ids++] = id;
			if (seen_before(pg, id))
			{
				pg->stats->duplicates++;
				continue;
			}
		}
		pg->page_new++;
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
	*page_no = pg->page_no;
	*index = pg->next_item - 1;
}

/*
 * bls_pager_page
 *		The current page of the sequence, or NULL before the first.
 */
const BlsPage *
bls_pager_page(const BlsPager *pg)
{
	return pg->page;
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
	h = bls_request_start(pg->conn, pg->opts, &hr, pg->stats, false);
	return receive_page(pg, h, pg->fetch_cxt, lr->page_no,
						bls_lookup_value(pg->res, lr->params, lr->nparams) != NULL,
						pg->page_request_id, &bytes);
}
