/*-------------------------------------------------------------------------
 *
 * json_reader.h
 *		  A strict reader of JSON text, and the small tree it builds where a
 *		  value is nested (json_reader.c); no PostgreSQL dependency.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BLS_JSON_READER_H
#define BLS_JSON_READER_H

#include <string.h>

#include "response.h"

/* Nesting deeper than this is not a BLS response; json-c's default is 32. */
#define BLS_JSON_MAX_DEPTH	64

/* What bls_json_check() found */
typedef struct BlsJsonCheck
{
	const char *err_at;			/* where the text stops being JSON */
	const char *reason;
	const char *nul_key;		/* first key with an escaped NUL, or NULL */
} BlsJsonCheck;

/* A key and where it is, for sorting keys to find repeated ones */
typedef struct BlsKeyRef
{
	const char *key;
	size_t		len;
	int			pos;
} BlsKeyRef;

/* A growing text, NUL-terminated; nomem once an allocation failed */
typedef struct BlsText
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		nomem;
} BlsText;

/*
 * A value of a tree (see bls_json_tree()); its members or elements follow
 * it in the tree's array, and this + size is its next sibling.
 */
struct BlsJsonNode
{
	BlsValue	v;				/* the value, v.json this node; a scalar's
								 * text in v.raw */
	const char *key;			/* a member's key, decoded, NUL-terminated */
	size_t		keylen;
	const char *keyraw;			/* the key as json-c prints it */
	size_t		keyrawlen;
	int			size;			/* nodes of the value, itself included */
	int			count;			/* members or elements */
	int			repeat;			/* a key given more than once: -1 where
								 * repeated, else how far on its last one is */
	size_t		span;			/* the length of a container's text */
	char	   *printed;		/* a container's text as json-c prints it, once
								 * asked for (bls_json_text) */
	size_t		printedlen;
};

/* A document's tree: it owns the nodes and what they point to. */
struct BlsJsonTree
{
	BlsJson    *nodes;			/* nodes[0] is the root */
	int			nnodes;
	int			cap;
	char	   *text;			/* a copy of the document */
	BlsScratch	scratch;		/* its strings, decoded */
};

/* The first byte at or after p that is not JSON white space, or end. */
static inline const char *
bls_json_skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

extern const char *bls_json_check(const char *p, const char *end, int depth,
								  BlsJsonCheck *c);
extern const char *bls_json_skip_string(const char *p, const char *end);
extern const char *bls_json_skip_value(const char *p, const char *end);
extern bool bls_scratch_reserve(BlsScratch *s, size_t len);
extern const char *bls_json_read_string(BlsScratch *s, const char *p,
										const char *end, const char **str,
										size_t *len, const char **raw,
										size_t *rawlen);
extern const char *bls_json_read_number(const char *p, const char *end,
										BlsValue *out, const char **reason);
extern char *bls_json_put_string(char *d, const char *s, size_t len);
extern int	bls_keyref_cmp(const void *a, const void *b);
extern bool bls_text_reserve(BlsText *b, size_t n);
extern void bls_text_append(BlsText *b, const char *s, size_t n);
extern void bls_text_put_string(BlsText *b, const char *s, size_t len);
extern BlsJsonTree *bls_json_tree(const char *text, size_t len);
extern void bls_json_tree_free(BlsJsonTree *t);
extern BlsJson *bls_json_next(BlsJson *c, BlsJson *child);
extern BlsJson *bls_json_value(BlsJson *m);
extern BlsJson *bls_json_member(BlsJson *obj, const char *key);
extern const char *bls_json_text(BlsJson *v, size_t *len);


/*
 * Read the scalar value at p into *out: the end of the value, or NULL if it
 * is an object or array, or no JSON.  A string is read as by
 * bls_json_read_string() into s, which has room (s is unused for the
 * others); out->raw is the value as json-c prints it.  Inline: the flat
 * reader calls it for every value.
 */
static inline const char *
bls_json_read_value(BlsScratch *s, const char *p, const char *end,
					BlsValue *out)
{
	const char *q;

	memset(out, 0, sizeof(*out));
	out->present = true;
	switch (*p)
	{
		case '"':
			out->type = BLS_JSON_STRING;
			return bls_json_read_string(s, p, end, &out->str, &out->len,
							   &out->raw, &out->rawlen);
		case 't':
		case 'f':
			q = p + (*p == 't' ? 4 : 5);
			if (q > end || memcmp(p, *p == 't' ? "true" : "false", q - p) != 0)
				return NULL;
			out->type = BLS_JSON_BOOLEAN;
			break;
		case 'n':
			q = p + 4;
			if (q > end || memcmp(p, "null", 4) != 0)
				return NULL;
			out->type = BLS_JSON_NULL;
			break;
		default:
			if (*p != '-' && (*p < '0' || *p > '9'))
				return NULL;
			return bls_json_read_number(p, end, out, NULL);
	}
	out->raw = p;
	out->rawlen = q - p;
	return q;
}

#endif							/* BLS_JSON_READER_H */
