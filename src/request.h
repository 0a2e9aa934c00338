/*-------------------------------------------------------------------------
 *
 * request.h
 *		  Building ListDownloadTask request bodies; no PostgreSQL dependency.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BLS_REQUEST_H
#define BLS_REQUEST_H

#include <stddef.h>

#define BLS_LIST_PATH	"/v2/logstore/download/list"

/*
 * One ListDownloadTask request.  NULL strings are omitted from the body, so
 * the service applies its documented defaults.
 */
typedef struct BlsListRequest
{
	const char *project;		/* exact match */
	const char *log_store_name; /* fuzzy match */
	const char *order_by;		/* createdTime, updatedTime or name */
	const char *order;			/* asc or desc */
	int			page_no;		/* 1-based */
	int			page_size;
} BlsListRequest;

extern char *bls_request_body(const BlsListRequest *req, size_t *len);

#endif							/* BLS_REQUEST_H */
