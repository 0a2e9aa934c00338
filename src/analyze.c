/*-------------------------------------------------------------------------
 *
 * analyze.c
 *		  ANALYZE of a bls_fdw foreign table: a sample of items read through
 *		  ListDownloadTask, with a bounded number of requests.
 *
 * ANALYZE asks for at most analyze_max_pages pages (a server or table
 * option, default 10) of page_size items.  The first page tells how many
 * items there are ("total"); if they fit in that many pages, every page is
 * read and the sample is the whole table (up to ANALYZE's target), otherwise
 * the pages read are spread evenly over the whole range, so that old items
 * are sampled as well as new ones.  The row count ANALYZE stores in
 * pg_class.reltuples is the service's "total", which the planner then uses
 * instead of estimated_rows.
 *
 * The pages come from the pager (pager.c), which sends, checks and counts
 * them as it does for scans; only the choice of page numbers is ANALYZE's.
 * The object a page names beside its list (the default project) is in the
 * sample as a scan returns it: once, unless a page read listed it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/sampling.h"

#include "bls_modules.h"
#include "pg_compat.h"
#include "json_body.h"

/* State of one sampling pass, as in acquire_sample_rows(). */
typedef struct BlsSampleState
{
	HeapTuple  *rows;			/* the sample, in the caller's context */
	int			targrows;
	int			numrows;		/* rows in the sample so far */
	double		samplerows;		/* items seen so far */
	double		rowstoskip;		/* items to skip before the next one kept */
	ReservoirStateData rstate;
	MemoryContext anl_cxt;		/* the caller's context */
	MemoryContext row_cxt;		/* conversion garbage, reset per item */

	Relation	rel;
	BlsPager   *pager;
	BlsColumn  *cols;
	int			ncols;
	BlsFields	fields;			/* their fields, and the current item's */
	const BlsResource *res;
	const char *default_id;		/* of the page being sampled */
	bool		default_listed; /* a page read listed its default object */
	BlsPage    *last_page;		/* the page read last, valid to the end */
	int			last_page_no;
	int			id_keys[2];
	Datum	   *values;
	bool	   *nulls;
} BlsSampleState;

static int	bls_acquire_sample_rows(Relation relation, int elevel,
									HeapTuple *rows, int targrows,
									double *totalrows,
									double *totaldeadrows);

/*
 * blsAnalyzeForeignTable
 *		Every bls_fdw foreign table can be analyzed but log_records: a scan
 *		of it needs a time window, and a sample of one window says nothing
 *		of the next.
 *
 * The relation's size in pages is not known without a request and is not
 * used by the planner for these tables (blsGetForeignRelSize reads only
 * reltuples), so report one.
 */
bool
blsAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
					   BlockNumber *totalpages)
{
	BlsOptions *opts = bls_get_options(RelationGetRelid(relation),
									   GetUserId(), false);

	if (opts->resource->window_field != NULL)
		return false;
	*func = bls_acquire_sample_rows;
	*totalpages = 1;
	return true;
}

/* A heap tuple of every column of one item, in the caller's context. */
static HeapTuple
make_tuple(BlsSampleState *ss, int item_index, int page_no)
{
	TupleDesc	tupdesc = RelationGetDescr(ss->rel);
	MemoryContext oldcxt;
	HeapTuple	tuple;

	MemoryContextReset(ss->row_cxt);
	oldcxt = MemoryContextSwitchTo(ss->row_cxt);
	memset(ss->nulls, true, sizeof(bool) * tupdesc->natts);
	bls_store_item(ss->res, ss->cols, ss->ncols, &ss->fields, ss->id_keys[0],
				   item_index, page_no, ss->default_id, NULL, 0,
				   ss->values, ss->nulls);
	MemoryContextSwitchTo(ss->anl_cxt);
	tuple = heap_form_tuple(tupdesc, ss->values, ss->nulls);
	MemoryContextSwitchTo(oldcxt);
	return tuple;
}

/*
 * Offer one item to the sample: the first targrows are kept, then each
 * replaces a random one with decreasing probability (Vitter's algorithm Z,
 * as postgres_fdw's analyze_row_processor does).
 */
static void
sample_item(BlsSampleState *ss, int item_index, int page_no)
{
	ss->samplerows += 1;
	if (ss->numrows < ss->targrows)
	{
		ss->rows[ss->numrows++] = make_tuple(ss, item_index, page_no);
		return;
	}
	if (ss->rowstoskip < 0)
		ss->rowstoskip = reservoir_get_next_S(&ss->rstate, ss->samplerows,
											  ss->targrows);
	if (ss->rowstoskip <= 0)
	{
		int			k = (int) (ss->targrows *
							   sampler_random_fract(&ss->rstate.randstate));

		Assert(k >= 0 && k < ss->targrows);
		heap_freetuple(ss->rows[k]);
		ss->rows[k] = make_tuple(ss, item_index, page_no);
	}
	ss->rowstoskip -= 1;
}

/* Is the item in ss->fields the object its page names beside its list? */
static bool
is_page_default(const BlsSampleState *ss, const BlsPage *page)
{
	const BlsValue *id;

	if (page->default_id == NULL || ss->id_keys[0] < 0)
		return false;
	id = &ss->fields.values[ss->id_keys[0]];
	return id->type == BLS_JSON_STRING &&
		id->len == strlen(page->default_id) &&
		memcmp(id->str, page->default_id, id->len) == 0;
}

/*
 * ListProject may name the default project only beside its list; a scan
 * returns it all the same, once (pager.c), and so the sample has it too,
 * unless a page read listed it.
 */
static void
sample_default(BlsSampleState *ss)
{
	BlsPage    *page = ss->last_page;

	if (ss->res->default_flag == NULL || ss->default_listed ||
		page == NULL || page->default_id == NULL)
		return;
	/* an object without the id it is named by is no item: left, as a scan does */
	if (!bls_page_read_default(page, &ss->fields) || !is_page_default(ss, page))
		return;
	ss->default_id = page->default_id;
	sample_item(ss, page->nitems, ss->last_page_no);
}

/*
 * Fetch page page_no and offer its items to the sample.  Sets *total to the
 * page's "total" (-1 if absent) and *last if no page follows it; returns
 * the number of items on the page.
 */
static int
sample_page(BlsSampleState *ss, const BlsOptions *opts, int page_no,
			int64 *total, int *page_size, bool *last)
{
	BlsListRequest lr = {0};
	BlsPage    *page;

	lr.page_no = page_no;
	lr.page_size = opts->page_size;
	page = bls_pager_fetch(ss->pager, &lr);
	ss->default_id = page->default_id;
	ss->last_page = page;
	ss->last_page_no = page_no;
	for (int i = 0; i < page->nitems; i++)
	{
		bls_analyze_delay_point();
		bls_pager_read_item(ss->pager, page, i, &ss->fields);
		if (is_page_default(ss, page))
			ss->default_listed = true;
		sample_item(ss, i, page_no);
	}
	*total = page->total;
	*page_size = bls_page_effective_size(page, opts->page_size);
	*last = bls_page_is_last(page, page_no, opts->page_size);
	return page->nitems;
}

/*
 * bls_acquire_sample_rows
 *		The AcquireSampleRowsFunc: sample up to targrows items into rows,
 *		reading at most analyze_max_pages pages.
 *
 * Returns the number of rows sampled; *totalrows is the service's count of
 * items (or, if it gives none, the items seen) and *totaldeadrows is 0.
 * The tuples are allocated in the current memory context, as ANALYZE wants;
 * everything else is freed before returning.
 */
static int
bls_acquire_sample_rows(Relation relation, int elevel,
						HeapTuple *rows, int targrows,
						double *totalrows, double *totaldeadrows)
{
	TupleDesc	tupdesc = RelationGetDescr(relation);
	BlsSampleState ss = {0};
	BlsOptions *opts;
	BlsScanStats stats = {0};
	MemoryContext tmp_cxt;
	MemoryContext oldcxt;
	int64		total;
	int			page_size;
	bool		last;
	int			pages_read = 1;
	int64		npages;
	int			max_pages;

	ss.rows = rows;
	ss.targrows = targrows;
	ss.rowstoskip = -1;
	ss.anl_cxt = CurrentMemoryContext;
	ss.rel = relation;
	reservoir_init_selection_state(&ss.rstate, targrows);

	tmp_cxt = AllocSetContextCreate(CurrentMemoryContext,
									"bls_fdw analyze",
									ALLOCSET_DEFAULT_SIZES);
	ss.row_cxt = AllocSetContextCreate(tmp_cxt,
									   "bls_fdw analyze row",
									   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(tmp_cxt);

	/* the owner's keys, as for postgres_fdw; ANALYZE runs as the owner */
	opts = bls_get_options(RelationGetRelid(relation),
						   relation->rd_rel->relowner, true);
	max_pages = opts->analyze_max_pages;

	ss.res = opts->resource;
	ss.cols = palloc0(sizeof(BlsColumn) * tupdesc->natts);
	for (int i = 0; i < tupdesc->natts; i++)
		if (!TupleDescAttr(tupdesc, i)->attisdropped)
			bls_init_column(&ss.cols[ss.ncols++], relation, i + 1, ss.res);
	bls_init_fields(&ss.fields, ss.cols, ss.ncols, ss.res, ss.id_keys);
	ss.values = palloc0(sizeof(Datum) * tupdesc->natts);
	ss.nulls = palloc(sizeof(bool) * tupdesc->natts);

	ss.pager = bls_pager_create(tmp_cxt, opts, ss.res, &stats);

	/* the first page says how many items, and so pages, there are */
	(void) sample_page(&ss, opts, 1, &total, &page_size, &last);
	/* total is at most BLS_MAX_TOTAL (response.h): this cannot overflow */
	npages = total >= 0 ? (total + page_size - 1) / page_size : -1;

	if (npages > max_pages)
	{
		/* too many: max_pages pages spread evenly from the first to the last */
		for (int k = 1; k < max_pages; k++)
		{
			int64		page_no = 1 + (int64) ((double) k * (npages - 1) /
											   (max_pages - 1) + 0.5);
			int64		t;
			int			ps;
			bool		l;

			if (page_no > bls_max_pages_per_request)
				break;
			(void) sample_page(&ss, opts, (int) page_no, &t, &ps, &l);
			pages_read++;
		}
	}
	else
	{
		/* all of them, until a short page or the total */
		int			page_no = 1;

		while (pages_read < max_pages && !last)
		{
			int64		t;

			page_no++;
			(void) sample_page(&ss, opts, page_no, &t, &page_size, &last);
			pages_read++;
			if (t >= 0)
				total = t;
		}
	}

	sample_default(&ss);
	MemoryContextSwitchTo(oldcxt);

	*totalrows = total >= 0 ? Max((double) total, ss.samplerows) : ss.samplerows;
	*totaldeadrows = 0;

	ereport(elevel,
			(errmsg("\"%s\": read %d of " INT64_FORMAT " pages of BLS server \"%s\", containing %.0f %ss; %d %ss in sample, %.0f estimated total %ss",
					RelationGetRelationName(relation), pages_read,
					npages >= 0 ? npages : (int64) pages_read,
					opts->server_name, ss.samplerows, ss.res->item_name,
					ss.numrows, ss.res->item_name, *totalrows,
					ss.res->item_name)));
	MemoryContextDelete(tmp_cxt);
	return ss.numrows;
}
