/*-------------------------------------------------------------------------
 *
 * json_body.h
 *		  Serializing BLS list requests; no PostgreSQL dependency.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BLS_JSON_BODY_H
#define BLS_JSON_BODY_H

#include <stdbool.h>
#include <stddef.h>

/* One request parameter: a filter the resource understands.  UTF-8. */
typedef struct BlsParam
{
	const char *key;
	const char *value;			/* NULL: not sent */
} BlsParam;

/*
 * One page request of a list call.  The filters come first, in the order
 * given, then orderBy, order, pageNo and pageSize; NULL strings are omitted,
 * so the service applies its documented defaults.
 */
typedef struct BlsListRequest
{
	const BlsParam *params;
	int			nparams;
	const char *order_by;
	const char *order;
	int			page_no;		/* 1-based */
	int			page_size;
	const char *marker;			/* marker paging: the page's, or NULL for the
								 * first (page_size is then the limit) */
} BlsListRequest;

/* A member of a JSON body: a string, or an integer if is_int. */
typedef struct BlsBodyField
{
	const char *key;
	const char *str;			/* NULL: not sent (unless is_int) */
	bool		is_int;
	long long	ival;
} BlsBodyField;

extern char *bls_list_request_body(const BlsListRequest *req, size_t *len);
extern char *bls_json_body(const BlsBodyField *fields, int n, size_t *len);

#endif							/* BLS_JSON_BODY_H */
