/*-------------------------------------------------------------------------
 *
 * json_reader.c
 *		  A strict reader of JSON text (RFC 8259): it checks a document,
 *		  finds where values end, reads scalar values (strings decoded,
 *		  numbers classified) straight from the text, and builds a small
 *		  tree where a value is nested.
 *
 * response.c maps BLS's answers onto these.  No PostgreSQL dependency, so
 * it is unit-tested, built with sanitizers and fuzzed with response.c
 * (against json-c, the tests' reference).  bls_json_check() follows RFC
 * 8259's grammar exactly and says where and why a text is not JSON; bytes
 * that are not UTF-8 are let through: the converter validates the encoding.
 * Values are printed as json-c prints them (bls_json_text), the text the
 * extension has always shown for a nested value.
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *
check_fail(BlsJsonCheck *c, const char *at, const char *reason)
{
	c->err_at = at;
	c->reason = reason;
	return NULL;
}

static int
hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The code unit of the \uXXXX escape at p, or -1. */
static long
u_escape(const char *p, const char *end)
{
	long		u = 0;

	if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (int i = 2; i < 6; i++)
	{
		int			h = hex_value(p[i]);

		if (h < 0)
			return -1;
		u = u * 16 + h;
	}
	return u;
}

/* Is [p, end) the start of a \uXXXX escape, cut off by the end of the data? */
static bool
escape_cut(const char *p, const char *end)
{
	if (end - p >= 6)
		return false;
	if (p < end && *p != '\\')
		return false;
	if (p + 1 < end && p[1] != 'u')
		return false;
	for (p += 2; p < end; p++)
		if (hex_value(*p) < 0)
			return false;
	return true;
}

/* p is at a string's opening quote: the end of the string, or NULL. */
static const char *
check_string(const char *p, const char *end, bool key, BlsJsonCheck *c)
{
	const char *start = p;

	for (p++; p < end; p++)
	{
		unsigned char ch = (unsigned char) *p;
		long		u;

		if (ch == '"')
			return p + 1;
		if (ch < 0x20)
			return check_fail(c, p, "control character inside a string");
		if (ch != '\\')
			continue;
		if (p + 1 >= end)
			break;
		if (strchr("\"\\/bfnrt", p[1]) != NULL && p[1] != '\0')
		{
			p++;
			continue;
		}
		if ((u = u_escape(p, end)) < 0)
			return check_fail(c, escape_cut(p, end) ? end : p,
							  "invalid escape in a string");
		if (u >= 0xDC00 && u <= 0xDFFF)
			return check_fail(c, p, "lone low surrogate escape in a string");
		if (u >= 0xD800 && u <= 0xDBFF)
		{
			long		lo = u_escape(p + 6, end);

			if (lo < 0 && escape_cut(p + 6, end))
				return check_fail(c, end, "unterminated string");
			if (lo < 0xDC00 || lo > 0xDFFF)
				return check_fail(c, p, "lone high surrogate escape in a string");
			p += 6;
		}
		if (u == 0 && key && c->nul_key == NULL)
			c->nul_key = start;
		p += 5;
	}
	return check_fail(c, end, "unterminated string");
}

/*
 * p is at a number: its end, with *out describing it, or NULL if it is not
 * a JSON number, with *reason (if reason is not NULL) saying why (NULL: the
 * data ends inside it).
 * An integer (no fraction, no exponent) in the int64 range is exact in
 * ival; one below it or at or above 2^64 - 1 is clamped (out of range);
 * between, it is neither.  "-0" is the integer 0, printed "0"; any other
 * number keeps its spelling in raw.
 */
const char *
bls_json_read_number(const char *p, const char *end, BlsValue *out,
					 const char **reason)
{
	const char *start = p;
	const char *digits;
	const char *unused;
	bool		neg = false;
	bool		integer = true;
	uint64_t	acc = 0;
	size_t		ndigits;

	if (*p == '-')
	{
		neg = true;
		p++;
	}
	digits = p;
	if (reason == NULL)
		reason = &unused;
	*reason = NULL;
	if (p < end && *p == '0')
	{
		if (++p < end && is_digit(*p))
		{
			*reason = "number with a leading zero";
			return NULL;
		}
	}
	else if (p < end && *p >= '1' && *p <= '9')
		for (; p < end && is_digit(*p); p++)
			acc = acc * 10 + (uint64_t) (*p - '0');	/* wraps past 19 digits:
													 * unused then */
	else
	{
		if (p < end)
			*reason = "invalid number";
		return NULL;
	}
	ndigits = p - digits;
	if (p < end && *p == '.')
	{
		if (++p >= end || !is_digit(*p))
		{
			if (p < end)
				*reason = "number without digits after its point";
			return NULL;
		}
		while (p < end && is_digit(*p))
			p++;
		integer = false;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
		{
			if (p < end)
				*reason = "number without digits in its exponent";
			return NULL;
		}
		while (p < end && is_digit(*p))
			p++;
		integer = false;
	}
	memset(out, 0, sizeof(*out));
	out->present = true;
	out->type = BLS_JSON_NUMBER;
	out->raw = start;
	out->rawlen = p - start;
	if (!integer)
		return p;
	if (ndigits <= 19 &&
		acc <= (neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX))
	{
		out->is_int = true;
		/* -(int64_t) 2^63 would overflow: INT64_MIN is spelled out */
		if (!neg)
			out->ival = (int64_t) acc;
		else if (acc == (uint64_t) INT64_MAX + 1)
			out->ival = INT64_MIN;
		else
			out->ival = -(int64_t) acc;
		if (neg && acc == 0)
		{
			out->raw = "0";
			out->rawlen = 1;
		}
	}
	else if (neg || ndigits > 20 ||
			 (ndigits == 20 && memcmp(digits, "18446744073709551615", 20) >= 0))
		out->clamped = true;
	return p;
}

/* p is at the literal lit ("true", "false", "null"): its end, or NULL. */
static const char *
check_literal(const char *p, const char *end, const char *lit, BlsJsonCheck *c)
{
	size_t		n = strlen(lit);
	size_t		left = end - p;

	if (left >= n && memcmp(p, lit, n) == 0)
		return p + n;
	if (left < n && memcmp(p, lit, left) == 0)
		return check_fail(c, end, "unexpected end of data");
	return check_fail(c, p, "invalid literal");
}

/*
 * p is at a value (no whitespace before it): the end of the value, or NULL.
 * depth is how many levels of nesting are left.
 */
const char *
bls_json_check(const char *p, const char *end, int depth, BlsJsonCheck *c)
{
	char		close;

	if (p >= end)
		return check_fail(c, p, "unexpected end of data");
	switch (*p)
	{
		case '"':
			return check_string(p, end, false, c);
		case 't':
			return check_literal(p, end, "true", c);
		case 'f':
			return check_literal(p, end, "false", c);
		case 'n':
			return check_literal(p, end, "null", c);
		case '{':
		case '[':
			break;
		case 'N':
		case 'I':
			return check_fail(c, p, "not a JSON value (NaN and Infinity are not JSON numbers)");
		case '\0':
			return check_fail(c, p, "unexpected NUL byte");
		default:
			if (*p == '-' || (*p >= '0' && *p <= '9'))
			{
				BlsValue	v;
				const char *reason;
				const char *q = bls_json_read_number(p, end, &v, &reason);

				if (q == NULL)
					return check_fail(c, reason == NULL ? end : p,
									  reason == NULL ? "unexpected end of data" : reason);
				return q;
			}
			return check_fail(c, p, "unexpected character");
	}
	if (depth <= 0)
		return check_fail(c, p, "nesting too deep");
	close = *p == '{' ? '}' : ']';
	p = bls_json_skip_ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;)
	{
		if (close == '}')
		{
			if (p >= end || *p != '"')
				return check_fail(c, p, "object key expected");
			if ((p = check_string(p, end, true, c)) == NULL)
				return NULL;
			p = bls_json_skip_ws(p, end);
			if (p >= end || *p != ':')
				return check_fail(c, p, "':' expected");
			p = bls_json_skip_ws(p + 1, end);
		}
		if ((p = bls_json_check(p, end, depth - 1, c)) == NULL)
			return NULL;
		p = bls_json_skip_ws(p, end);
		if (p < end && *p == ',')
		{
			p = bls_json_skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == close)
			return p + 1;
		return check_fail(c, p, "',' or the end of the container expected");
	}
}

/*
 * Delimiting JSON without parsing it, to find the list array and its
 * elements.  These only find where values end; bls_json_check() validates
 * them.  Any surprise (a cut-off value, escapes in a key, a repeated key)
 * makes the caller parse the page whole instead, so they can only save
 * work, never change an answer.
 */

/*
 * p is at a '"': the end of the string, or NULL if it does not end.  Jumps
 * from quote to quote with memchr (most of a page is string contents); a
 * quote preceded by an odd number of backslashes is escaped.
 */
const char *
bls_json_skip_string(const char *p, const char *end)
{
	const char *start = p + 1;

	p = start;
	while (p < end && (p = memchr(p, '"', end - p)) != NULL)
	{
		const char *b = p;

		while (b > start && b[-1] == '\\')
			b--;
		if ((p - b) % 2 == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* The end of the value at p, or NULL if cut off or nested too deep. */
const char *
bls_json_skip_value(const char *p, const char *end)
{
	int			depth = 0;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return bls_json_skip_string(p, end);
	if (*p != '{' && *p != '[')
	{
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
			   *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		return p;
	}
	while (p < end)
	{
		if (*p == '"')
		{
			if ((p = bls_json_skip_string(p, end)) == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
		{
			if (++depth > BLS_JSON_MAX_DEPTH)
				return NULL;
		}
		else if (*p == '}' || *p == ']')
		{
			if (--depth == 0)
				return p + 1;
		}
		p++;
	}
	return NULL;
}

/*
 * Room for what reading a text of len bytes may decode: its strings'
 * contents, each at most as long as its spelling, and each string's text as
 * json-c prints it, no longer either (see bls_json_read_string).  Reserved before a
 * read, so that the values of one read never move.
 */
bool
bls_scratch_reserve(BlsScratch *s, size_t len)
{
	size_t		need = 2 * len + 16;

	s->len = 0;
	if (s->cap >= need)
		return true;
	free(s->data);
	s->cap = 0;
	if ((s->data = malloc(need)) == NULL)
		return false;
	s->cap = need;
	return true;
}

/* The bytes that end a run of a string's contents: '"', '\\', controls. */
static const bool string_stop[256] = {
	[0x00] = true, [0x01] = true, [0x02] = true, [0x03] = true,
	[0x04] = true, [0x05] = true, [0x06] = true, [0x07] = true,
	[0x08] = true, [0x09] = true, [0x0A] = true, [0x0B] = true,
	[0x0C] = true, [0x0D] = true, [0x0E] = true, [0x0F] = true,
	[0x10] = true, [0x11] = true, [0x12] = true, [0x13] = true,
	[0x14] = true, [0x15] = true, [0x16] = true, [0x17] = true,
	[0x18] = true, [0x19] = true, [0x1A] = true, [0x1B] = true,
	[0x1C] = true, [0x1D] = true, [0x1E] = true, [0x1F] = true,
	['"'] = true, ['\\'] = true
};

/* The first byte at or after p that ends a run of plain contents, or end. */
static inline const char *
skip_plain(const char *p, const char *end)
{
	while (end - p >= 4)
	{
		if (string_stop[(unsigned char) p[0]])
			return p;
		if (string_stop[(unsigned char) p[1]])
			return p + 1;
		if (string_stop[(unsigned char) p[2]])
			return p + 2;
		if (string_stop[(unsigned char) p[3]])
			return p + 3;
		p += 4;
	}
	while (p < end && !string_stop[(unsigned char) *p])
		p++;
	return p;
}

/* Append code point u (a valid scalar value) to d as UTF-8; the new end. */
static char *
put_utf8(char *d, long u)
{
	if (u < 0x80)
		*d++ = (char) u;
	else if (u < 0x800)
	{
		*d++ = (char) (0xC0 | (u >> 6));
		*d++ = (char) (0x80 | (u & 0x3F));
	}
	else if (u < 0x10000)
	{
		*d++ = (char) (0xE0 | (u >> 12));
		*d++ = (char) (0x80 | ((u >> 6) & 0x3F));
		*d++ = (char) (0x80 | (u & 0x3F));
	}
	else
	{
		*d++ = (char) (0xF0 | (u >> 18));
		*d++ = (char) (0x80 | ((u >> 12) & 0x3F));
		*d++ = (char) (0x80 | ((u >> 6) & 0x3F));
		*d++ = (char) (0x80 | (u & 0x3F));
	}
	return d;
}

/*
 * s[0..len) as a JSON string exactly as json-c prints one (json_escape_str
 * with JSON_C_TO_STRING_NOSLASHESCAPE): '"', '\\' and the control
 * characters escaped, those with a short escape as \b \f \n \r \t and the
 * others as \u00xx in lower-case hex; every other byte as it is.  Writes to
 * d, which has room; returns the end.
 */
char *
bls_json_put_string(char *d, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	*d++ = '"';
	for (const char *p = s; p < s + len; p++)
	{
		unsigned char c = (unsigned char) *p;
		const char *esc = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
		{
			*d++ = (char) c;
			continue;
		}
		switch (c)
		{
			case '"':
				esc = "\\\"";
				break;
			case '\\':
				esc = "\\\\";
				break;
			case '\b':
				esc = "\\b";
				break;
			case '\f':
				esc = "\\f";
				break;
			case '\n':
				esc = "\\n";
				break;
			case '\r':
				esc = "\\r";
				break;
			case '\t':
				esc = "\\t";
				break;
		}
		if (esc != NULL)
		{
			*d++ = esc[0];
			*d++ = esc[1];
		}
		else
		{
			memcpy(d, "\\u00", 4);
			d[4] = hex[c >> 4];
			d[5] = hex[c & 0xF];
			d += 6;
		}
	}
	*d++ = '"';
	return d;
}

/* Make room in b for n more bytes and a NUL; false if out of memory. */
bool
bls_text_reserve(BlsText *b, size_t n)
{
	size_t		cap;
	char	   *more;

	if (b->nomem)
		return false;
	if (b->cap - b->len > n)
		return true;
	cap = b->cap > 0 ? b->cap : 64;
	while (cap - b->len <= n)
	{
		if (cap > SIZE_MAX / 2)
		{
			b->nomem = true;
			return false;
		}
		cap *= 2;
	}
	if ((more = realloc(b->data, cap)) == NULL)
	{
		b->nomem = true;
		return false;
	}
	b->data = more;
	b->cap = cap;
	return true;
}

/* Append s[0..n) to b. */
void
bls_text_append(BlsText *b, const char *s, size_t n)
{
	if (!bls_text_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append s[0..len) as a JSON string (bls_json_put_string). */
void
bls_text_put_string(BlsText *b, const char *s, size_t len)
{
	/* at most six bytes for each of its bytes, and the quotes */
	if (len > (SIZE_MAX - 3) / 6 || !bls_text_reserve(b, 6 * len + 2))
	{
		b->nomem = true;
		return;
	}
	b->len = bls_json_put_string(b->data + b->len, s, len) - b->data;
	b->data[b->len] = '\0';
}

/*
 * p is at a string's opening quote: its end, with its contents in *str and
 * *len, or NULL if it is not a JSON string (a control character, a bad
 * escape, a lone surrogate, no closing quote).  Contents without escapes
 * are borrowed from the text; escaped ones are decoded into s, which has
 * room (bls_scratch_reserve).  If raw is not NULL, *raw and *rawlen get the
 * string as json-c prints it: its own text when that is already spelled so
 * (the usual case, escaped quotes included), else a canonical copy in s.
 */
const char *
bls_json_read_string(BlsScratch *s, const char *p, const char *end, const char **str,
			size_t *len, const char **raw, size_t *rawlen)
{
	const char *start = p;
	const char *run;
	char	   *d;
	bool		canonical = true;

	/* the common case: no escape */
	p = skip_plain(p + 1, end);
	if (p >= end || (unsigned char) *p < 0x20)
		return NULL;
	if (*p == '"')
	{
		*str = start + 1;
		*len = p - start - 1;
		if (raw != NULL)
		{
			*raw = start;
			*rawlen = p + 1 - start;
		}
		return p + 1;
	}

	/* decode: copy the runs between escapes */
	d = s->data + s->len;
	*str = d;
	run = start + 1;
	for (;;)
	{
		long		u;

		p = skip_plain(p, end);
		if (p >= end || (unsigned char) *p < 0x20)
			return NULL;
		if (*p == '"')
			break;
		memcpy(d, run, p - run);
		d += p - run;
		if (p + 1 >= end)
			return NULL;
		switch (p[1])
		{
			case '"':
			case '\\':
				*d++ = p[1];
				break;
			case '/':
				*d++ = '/';
				canonical = false;	/* json-c prints it bare */
				break;
			case 'b':
				*d++ = '\b';
				break;
			case 'f':
				*d++ = '\f';
				break;
			case 'n':
				*d++ = '\n';
				break;
			case 'r':
				*d++ = '\r';
				break;
			case 't':
				*d++ = '\t';
				break;
			case 'u':
				if ((u = u_escape(p, end)) < 0 || (u >= 0xDC00 && u <= 0xDFFF))
					return NULL;
				/* json-c writes only \u00xx, lower case, for the controls */
				if (u >= 0x20 || u == '\b' || u == '\f' || u == '\n' ||
					u == '\r' || u == '\t' || (p[5] >= 'A' && p[5] <= 'F'))
					canonical = false;
				if (u >= 0xD800 && u <= 0xDBFF)
				{
					long		lo = u_escape(p + 6, end);

					if (lo < 0xDC00 || lo > 0xDFFF)
						return NULL;
					u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
					p += 6;
				}
				d = put_utf8(d, u);
				p += 4;
				break;
			default:
				return NULL;
		}
		p += 2;
		run = p;
	}
	memcpy(d, run, p - run);
	d += p - run;
	*len = d - *str;
	s->len += *len;
	if (raw != NULL)
	{
		if (canonical)
		{
			*raw = start;
			*rawlen = p + 1 - start;
		}
		else
		{
			*raw = d;
			*rawlen = bls_json_put_string(d, *str, *len) - d;
			s->len += *rawlen;
		}
	}
	return p + 1;
}

/*
 * The tree of a document.
 *
 * Built only for what the flat reader cannot read on its own: a response's
 * envelope (everything but the list), an item holding nested values or a
 * repeated key, and the small answers of the other calls.  The nodes are one
 * array in document order: a container is followed by its subtree, and
 * node + node->size is its next sibling, so that nothing points between
 * nodes and the array can grow while it is built.  The text is copied, and
 * every string is decoded into the tree's scratch buffer (NUL-terminated, so
 * that the callers may use code, message and the like as C strings), so the
 * tree owns all it points to.  The text is checked first (bls_json_check),
 * so the builder meets only JSON, nested no deeper than the check allowed.
 */

/* Room for one more node: its index, or -1. */
static int
tree_node(BlsJsonTree *t)
{
	if (t->nnodes == t->cap)
	{
		int			cap = t->cap > 0 ? 2 * t->cap : 16;
		BlsJson    *more;

		if (t->cap > INT32_MAX / 4 ||
			(more = realloc(t->nodes, sizeof(BlsJson) * cap)) == NULL)
			return -1;
		t->nodes = more;
		t->cap = cap;
	}
	memset(&t->nodes[t->nnodes], 0, sizeof(BlsJson));
	return t->nnodes++;
}

/* Read the string at p into *str (a NUL-terminated copy) and its JSON text. */
static const char *
tree_string(BlsJsonTree *t, const char *p, const char *end, const char **str,
			size_t *len, const char **raw, size_t *rawlen)
{
	char	   *copy;

	if ((p = bls_json_read_string(&t->scratch, p, end, str, len, raw,
								  rawlen)) == NULL)
		return NULL;
	copy = t->scratch.data + t->scratch.len;
	memcpy(copy, *str, *len);
	copy[*len] = '\0';
	t->scratch.len += *len + 1;
	*str = copy;
	return p;
}

/* For qsort: BlsKeyRefs by key, then by position */
int
bls_keyref_cmp(const void *a, const void *b)
{
	const BlsKeyRef *x = (const BlsKeyRef *) a;
	const BlsKeyRef *y = (const BlsKeyRef *) b;
	int			c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * Mark the repeated keys of object obj, as json-c keeps them: the last value
 * counts, at the place of the first.  Sorted, so that an object of many
 * members costs n log n.  False if out of memory.
 */
static bool
mark_repeats(BlsJsonTree *t, int obj)
{
	BlsJson    *o = &t->nodes[obj];
	BlsKeyRef  *refs;
	int			n = 0;

	if (o->count < 2)
		return true;
	if ((refs = malloc(sizeof(BlsKeyRef) * o->count)) == NULL)
		return false;
	for (int c = obj + 1; c < obj + o->size; c += t->nodes[c].size)
	{
		refs[n].key = t->nodes[c].key;
		refs[n].len = t->nodes[c].keylen;
		refs[n++].pos = c;
	}
	qsort(refs, n, sizeof(BlsKeyRef), bls_keyref_cmp);
	for (int k = 0; k < n;)
	{
		int			last = k;

		while (last + 1 < n && refs[last + 1].len == refs[k].len &&
			   memcmp(refs[last + 1].key, refs[k].key, refs[k].len) == 0)
			last++;
		if (last > k)
		{
			t->nodes[refs[k].pos].repeat = refs[last].pos - refs[k].pos;
			for (int r = k + 1; r <= last; r++)
				t->nodes[refs[r].pos].repeat = -1;
		}
		k = last + 1;
	}
	free(refs);
	return true;
}

/* Build the nodes of the value at p (checked JSON): its end, or NULL. */
static const char *
tree_value(BlsJsonTree *t, const char *p, const char *end)
{
	int			self = tree_node(t);
	BlsJson    *n;
	const char *start = p;
	char		close;
	int			count = 0;

	if (self < 0)
		return NULL;
	n = &t->nodes[self];
	if (*p == '"')
	{
		n->v.present = true;
		n->v.type = BLS_JSON_STRING;
		n->size = 1;
		return tree_string(t, p, end, &n->v.str, &n->v.len, &n->v.raw,
						   &n->v.rawlen);
	}
	if (*p != '{' && *p != '[')
	{
		n->size = 1;
		return bls_json_read_value(NULL, p, end, &n->v);
	}
	close = *p == '{' ? '}' : ']';
	p = bls_json_skip_ws(p + 1, end);
	while (*p != close)
	{
		const char *key = NULL;
		size_t		keylen = 0;
		const char *keyraw = NULL;
		size_t		keyrawlen = 0;
		int			child = t->nnodes;

		if (close == '}')
		{
			if ((p = tree_string(t, p, end, &key, &keylen, &keyraw,
								 &keyrawlen)) == NULL)
				return NULL;
			p = bls_json_skip_ws(bls_json_skip_ws(p, end) + 1, end);
		}
		if ((p = tree_value(t, p, end)) == NULL)
			return NULL;
		t->nodes[child].key = key;
		t->nodes[child].keylen = keylen;
		t->nodes[child].keyraw = keyraw;
		t->nodes[child].keyrawlen = keyrawlen;
		count++;
		p = bls_json_skip_ws(p, end);
		if (*p == ',')
			p = bls_json_skip_ws(p + 1, end);
	}
	n = &t->nodes[self];
	n->v.present = true;
	n->v.type = close == '}' ? BLS_JSON_OBJECT : BLS_JSON_ARRAY;
	n->count = count;
	n->size = t->nnodes - self;
	n->span = p + 1 - start;
	if (close == '}' && !mark_repeats(t, self))
		return NULL;
	return p + 1;
}

/*
 * bls_json_tree
 *		The tree of the JSON value text[0..len) (checked by bls_json_check,
 *		nothing around it), malloc'd; NULL if out of memory.  The caller
 *		frees it with bls_json_tree_free(); its root is tree->nodes.
 */
BlsJsonTree *
bls_json_tree(const char *text, size_t len)
{
	BlsJsonTree *t = calloc(1, sizeof(BlsJsonTree));

	if (t == NULL)
		return NULL;
	if ((t->text = malloc(len + 1)) != NULL)
		memcpy(t->text, text, len);
	if (t->text == NULL || !bls_scratch_reserve(&t->scratch, 2 * len) ||
		tree_value(t, t->text, t->text + len) == NULL)
	{
		bls_json_tree_free(t);
		return NULL;
	}
	for (int i = 0; i < t->nnodes; i++)
		t->nodes[i].v.json = &t->nodes[i];
	return t;
}

void
bls_json_tree_free(BlsJsonTree *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->nnodes; i++)
		free(t->nodes[i].printed);
	free(t->nodes);
	free(t->scratch.data);
	free(t->text);
	free(t);
}

/*
 * The next member or element of container c after child (NULL: the first);
 * NULL after the last.  Of a key given more than once, only the first place
 * is visited: bls_json_value() gives the value that counts there.
 */
BlsJson *
bls_json_next(BlsJson *c, BlsJson *child)
{
	if (c == NULL || (c->v.type != BLS_JSON_OBJECT && c->v.type != BLS_JSON_ARRAY))
		return NULL;
	for (child = child == NULL ? c + 1 : child + child->size;
		 child < c + c->size; child += child->size)
		if (child->repeat >= 0)
			return child;
	return NULL;
}

/* The value of member m: the last one given for its key. */
BlsJson *
bls_json_value(BlsJson *m)
{
	return m->repeat > 0 ? m + m->repeat : m;
}

/*
 * The member key of object obj (the last one given), or NULL when obj is not
 * an object, lacks the member or has it as JSON null.  The key is compared
 * with its length: "a\u0000b" is no "a".
 */
BlsJson *
bls_json_member(BlsJson *obj, const char *key)
{
	size_t		len = strlen(key);

	if (obj == NULL || obj->v.type != BLS_JSON_OBJECT)
		return NULL;
	for (BlsJson *m = bls_json_next(obj, NULL); m != NULL;
		 m = bls_json_next(obj, m))
		if (m->keylen == len && memcmp(m->key, key, len) == 0)
		{
			m = bls_json_value(m);
			return m->v.type == BLS_JSON_NULL ? NULL : m;
		}
	return NULL;
}

/* Write v's text as json-c prints it to d (which has room); the new end. */
static char *
print_value(BlsJson *v, char *d)
{
	bool		object = v->v.type == BLS_JSON_OBJECT;

	if (!object && v->v.type != BLS_JSON_ARRAY)
	{
		memcpy(d, v->v.raw, v->v.rawlen);
		return d + v->v.rawlen;
	}
	*d++ = object ? '{' : '[';
	for (BlsJson *m = bls_json_next(v, NULL); m != NULL;
		 m = bls_json_next(v, m))
	{
		if (m != v + 1)
			*d++ = ',';
		if (object)
		{
			memcpy(d, m->keyraw, m->keyrawlen);
			d += m->keyrawlen;
			*d++ = ':';
		}
		d = print_value(bls_json_value(m), d);
	}
	*d++ = object ? '}' : ']';
	return d;
}

/*
 * v as JSON text, as json-c prints it (JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE): no white space, strings as
 * bls_json_put_string() writes them, numbers as they came (but for -0,
 * written 0), a repeated key once, with its last value, at its first place.
 * Owned by the tree; NULL if out of memory.  Not NUL-terminated: use *len.
 * A NULL v (an absent value) is null.
 */
const char *
bls_json_text(BlsJson *v, size_t *len)
{
	if (v == NULL)
	{
		*len = 4;
		return "null";
	}
	if (v->v.type != BLS_JSON_OBJECT && v->v.type != BLS_JSON_ARRAY)
	{
		*len = v->v.rawlen;
		return v->v.raw;
	}
	/* never longer than the text it was read from: see bls_json_read_string */
	if (v->printed == NULL)
	{
		if ((v->printed = malloc(v->span + 1)) == NULL)
			return NULL;
		v->printedlen = print_value(v, v->printed) - v->printed;
	}
	*len = v->printedlen;
	return v->printed;
}
