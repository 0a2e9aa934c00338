/*-------------------------------------------------------------------------
 *
 * convert.c
 *		  Turn a task's JSON fields into a row of the foreign table.
 *
 * Each column maps to one field of the task object: by default its name in
 * camelCase (log_store_name -> logStoreName), or the column option "key".
 * Values go through the column type's input function, with a fast path for
 * text; every failure carries an error context naming the column and the
 * task's uuid, so a bad value from the service can be traced.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/datetime.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "bls_modules.h"
#include "pg_compat.h"

typedef enum BlsColumnKind
{
	BLS_COL_GENERIC,			/* the type's input function */
	BLS_COL_TEXT,				/* text: no input function needed */
	BLS_COL_JSON,				/* json, jsonb: the value as JSON text */
	BLS_COL_INT8,				/* bigint: JSON integers directly */
	BLS_COL_INT4,				/* integer: the same, range-checked */
	BLS_COL_TIMESTAMP,			/* timestamptz, timestamp: BLS's UTC form */
	BLS_COL_DEFAULT_FLAG,		/* the resource's computed default_flag */
	BLS_COL_ROW					/* the resource's row_field: the item as JSON */
} BlsColumnKind;

/* Fields that hold times; the service sends "" for "not yet". */
static const char *const time_fields[] = {
	"queryStartTime", "queryEndTime", "execStartTime", "execEndTime",
	"createdTime", "updatedTime", "creationDateTime", "lastModifiedTime", NULL
};

/*
 * bls_column_key
 *		The field of res a column maps to, palloc'd: the column option "key"
 *		(any field, so that one the service adds can be read), or else
 *		res's alias of the column's name, or the name with snake_case
 *		turned into camelCase, which must then be one of res's fields.
 */
char *
bls_column_key(Relation rel, AttrNumber attnum, const BlsResource *res)
{
	List	   *options = GetForeignColumnOptions(RelationGetRelid(rel), attnum);
	ListCell   *lc;
	const char *name;
	const char *alias;
	StringInfoData buf;
	bool		upper = false;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "key") == 0)
			return pstrdup(defGetString(def));
	}

	name = NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname);
	if ((alias = bls_resource_alias(res, name)) != NULL)
		return pstrdup(alias);
	initStringInfo(&buf);
	for (const char *p = name; *p; p++)
	{
		if (*p == '_' && buf.len > 0)
			upper = true;
		else
		{
			appendStringInfoChar(&buf, upper ? bls_ascii_upper(*p) : *p);
			upper = false;
		}
	}
	if (!bls_resource_has_field(res, buf.data))
	{
		StringInfoData fields;

		initStringInfo(&fields);
		for (int i = 0; res->fields[i]; i++)
			appendStringInfo(&fields, "%s%s", i ? ", " : "", res->fields[i]);
		if (res->default_flag)
			appendStringInfo(&fields, ", %s", res->default_flag);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
				 errmsg("column \"%s\" of foreign table \"%s\" matches no field of BLS resource \"%s\"",
						name, RelationGetRelationName(rel), res->name),
				 errdetail("The column reads field \"%s\"; the fields are %s.",
						   buf.data, fields.data),
				 errhint("Rename the column, or name the field with the column option \"key\".")));
	}
	return buf.data;
}

/*
 * bls_column_keys
 *		The field of every column of rel (NULL for a dropped one), palloc'd.
 *		Several columns may read one field (as different types, say); a
 *		writer refuses that for the fields it sends (see modify.c).
 */
char	  **
bls_column_keys(Relation rel, const BlsResource *res)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	char	  **keys = palloc0(sizeof(char *) * Max(tupdesc->natts, 1));

	for (int i = 1; i <= tupdesc->natts; i++)
		if (!TupleDescAttr(tupdesc, i - 1)->attisdropped)
			keys[i - 1] = bls_column_key(rel, i, res);
	return keys;
}

/*
 * bls_init_column
 *		Fill in *col for column attnum of rel: its field and how to convert.
 */
void
bls_init_column(BlsColumn *col, Relation rel, AttrNumber attnum,
				const BlsResource *res)
{
	Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	Oid			infunc;
	char		category;
	bool		preferred;

	col->attnum = attnum;
	col->attname = pstrdup(NameStr(attr->attname));
	col->key = bls_column_key(rel, attnum, res);
	col->typid = attr->atttypid;
	col->typmod = attr->atttypmod;
	getTypeInputInfo(attr->atttypid, &infunc, &col->typioparam);
	fmgr_info(infunc, &col->infunc);

	if (col->typid == TEXTOID)
		col->kind = BLS_COL_TEXT;
	else if (col->typid == JSONOID || col->typid == JSONBOID)
		col->kind = BLS_COL_JSON;
	else if (col->typid == INT8OID)
		col->kind = BLS_COL_INT8;
	else if (col->typid == INT4OID)
		col->kind = BLS_COL_INT4;
	else if ((col->typid == TIMESTAMPTZOID || col->typid == TIMESTAMPOID) &&
			 col->typmod < 0)
		col->kind = BLS_COL_TIMESTAMP;
	else
		col->kind = BLS_COL_GENERIC;
	if (res->default_flag && strcmp(col->key, res->default_flag) == 0)
		col->kind = BLS_COL_DEFAULT_FLAG;
	if (res->row_field && strcmp(col->key, res->row_field) == 0)
		col->kind = BLS_COL_ROW;
	col->echo = bls_resource_filter(res, col->key);
	if (col->echo && col->echo->echo == BLS_ECHO_NONE)
		col->echo = NULL;
	col->echo_cxt = NULL;
	col->echo_ready = false;
	/* any precision: timestamptz(3), as IMPORT declares it, keeps the ms */
	col->epoch_ms = res->epoch_ms_field &&
		strcmp(col->key, res->epoch_ms_field) == 0 &&
		(col->typid == TIMESTAMPTZOID || col->typid == TIMESTAMPOID);

	get_type_category_preferred(getBaseType(col->typid), &category, &preferred);
	col->empty_is_null = (category == TYPCATEGORY_DATETIME);
	for (int i = 0; time_fields[i]; i++)
		if (strcmp(col->key, time_fields[i]) == 0)
			col->empty_is_null = true;
}

/*
 * bls_init_fields
 *		Set up *f to read the fields of cols, and the fields that identify
 *		an item of res (for de-duplication and error messages); sets each
 *		column's field index, and id_keys[] to the index of each id field
 *		(-1 for none).  Allocates in the current memory context.
 */
void
bls_init_fields(BlsFields *f, BlsColumn *cols, int ncols,
				const BlsResource *res, int id_keys[2])
{
	int			nids = res->id_fields[1] ? 2 : 1;
	bool		row_text = false;

	f->keys = palloc(sizeof(char *) * (ncols + nids));
	f->keylens = palloc(sizeof(size_t) * (ncols + nids));
	f->nkeys = 0;
	f->want_row = false;
	id_keys[1] = -1;
	for (int i = 0; i < ncols + nids; i++)
	{
		const char *key = i < ncols ? cols[i].key : res->id_fields[i - ncols];
		int			k;

		for (k = 0; k < f->nkeys; k++)
			if (strcmp(f->keys[k], key) == 0)
				break;
		if (k == f->nkeys)
		{
			f->keys[k] = key;
			f->keylens[k] = strlen(key);
			f->nkeys++;
		}
		if (i < ncols)
		{
			cols[i].field = k;
			if (cols[i].kind == BLS_COL_ROW)
			{
				f->want_row = true;
				/* jsonb is built from the values, anything else from text */
				if (cols[i].typid != JSONBOID)
					row_text = true;
			}
		}
		else
			id_keys[i - ncols] = k;
	}
	f->row_values_only = f->want_row && !row_text;
	f->values = palloc0(sizeof(BlsValue) * f->nkeys);
	bls_fields_reset(f);
}

/* Identifies what is being converted, for the error context. */
typedef struct ConvertErrorState
{
	const char *item;			/* what an item is called: "download task" */
	const BlsColumn *col;
	const BlsValue *uuid;
	int			item_index;
	int			page_no;
} ConvertErrorState;

static void
convert_error_callback(void *arg)
{
	ConvertErrorState *state = (ConvertErrorState *) arg;
	const char *uuid = NULL;
	int			len = 0;

	/* print the uuid only if it is short, printable ASCII */
	if (state->uuid->type == BLS_JSON_STRING && state->uuid->len < 64)
	{
		uuid = state->uuid->str;
		len = (int) state->uuid->len;
		for (int i = 0; i < len; i++)
			if (uuid[i] < 0x21 || uuid[i] > 0x7e || uuid[i] == '"')
			{
				uuid = NULL;
				break;
			}
	}
	if (uuid && len > 0)
	{
		if (state->col)
			errcontext("column \"%s\" (field \"%s\") of %s \"%.*s\"",
					   state->col->attname, state->col->key, state->item,
					   len, uuid);
		else
			errcontext("%s \"%.*s\"", state->item, len, uuid);
	}
	else if (state->col)
		errcontext("column \"%s\" (field \"%s\") of %s %d on page %d",
				   state->col->attname, state->col->key, state->item,
				   state->item_index + 1, state->page_no);
	else
		errcontext("%s %d on page %d", state->item,
				   state->item_index + 1, state->page_no);
}

/* Milliseconds from 1970 to PostgreSQL's epoch, 2000. */
#define EPOCH_MS_SHIFT \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000)

/*
 * A time in milliseconds since 1970, as the text of a number (an integer,
 * or with a fraction or an exponent), into *ts.  False if s is not a
 * number; an ERROR naming the column if it is one out of range.
 */
static bool
epoch_ms_text(const BlsColumn *col, const char *s, size_t len,
			  TimestampTz *ts)
{
	char		buf[64];
	char	   *end;
	bool		ok;

	if (len == 0 || len >= sizeof(buf) ||
		strspn(s, "0123456789+-.eE") < len)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	if (strspn(buf, "0123456789-") == len)
	{
		/* an integer: exactly, as a double may not hold it */
		int64		ms = strtoi64(buf, &end, 10);

		if (*end != '\0' || end == buf)
			return false;
		ok = errno == 0 &&
			ms >= (MIN_TIMESTAMP / 1000) + EPOCH_MS_SHIFT &&
			ms <= (END_TIMESTAMP / 1000) + EPOCH_MS_SHIFT - 1;
		if (ok)
			*ts = (TimestampTz) ((ms - EPOCH_MS_SHIFT) * 1000);
	}
	else
	{
		double		ms = strtod(buf, &end);
		double		us;

		if (*end != '\0' || end == buf)
			return false;
		us = (ms - (double) EPOCH_MS_SHIFT) * 1000.0;
		/* no NaN or infinity, and in range before the cast */
		ok = errno == 0 && us >= (double) MIN_TIMESTAMP &&
			us < (double) END_TIMESTAMP;
		if (ok)
		{
			*ts = (TimestampTz) rint(us);
			ok = IS_VALID_TIMESTAMP(*ts);
		}
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("BLS returned a time in milliseconds that is out of range for column \"%s\"",
						col->attname)));
	return true;
}

static Datum
convert_value(const BlsColumn *col, const BlsValue *v, bool *isnull)
{
	BlsJsonType type = v->type;
	const char *s;
	size_t		len;
	char	   *server;
	Datum		result;

	*isnull = false;
	if (type == BLS_JSON_NULL)
	{
		*isnull = true;
		return (Datum) 0;
	}
	if (type == BLS_JSON_NUMBER && v->clamped)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("BLS returned a number outside the 64-bit integer range for column \"%s\"",
						col->attname)));
	if (type == BLS_JSON_STRING && col->kind != BLS_COL_JSON)
	{
		s = v->str;
		len = v->len;
		if (len == 0 && col->empty_is_null)
		{
			*isnull = true;
			return (Datum) 0;
		}
		if (col->kind == BLS_COL_TIMESTAMP)
		{
			int64_t		usecs;
			TimestampTz ts;

			/* milliseconds since 1970, written as a string */
			if (col->epoch_ms && epoch_ms_text(col, s, len, &ts))
				return TimestampTzGetDatum(ts);

			/*
			 * Fast path: BLS's own UTC form maps straight onto a timestamp
			 * (which, for timestamp without time zone, reads the same wall
			 * clock time); anything else goes to the input function.
			 */
			if (bls_parse_utc_timestamp(s, len, &usecs))
			{
				usecs -= (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
				if (IS_VALID_TIMESTAMP(usecs))
					return TimestampTzGetDatum((TimestampTz) usecs);
			}
		}
	}
	else if (type == BLS_JSON_NUMBER && col->epoch_ms)
	{
		/* milliseconds since 1970, an integer (or with a fraction) */
		TimestampTz ts;

		if (!v->is_int)
		{
			size_t		tlen;
			const char *text = bls_value_text(v, &tlen);

			if (epoch_ms_text(col, text, tlen, &ts))
				return TimestampTzGetDatum(ts);
		}
		if (!v->is_int ||
			v->ival < (MIN_TIMESTAMP / 1000) + EPOCH_MS_SHIFT ||
			v->ival > (END_TIMESTAMP / 1000) + EPOCH_MS_SHIFT - 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("BLS returned a time in milliseconds that is out of range for column \"%s\"",
							col->attname)));
		ts = (TimestampTz) ((v->ival - EPOCH_MS_SHIFT) * 1000);
		if (col->typmod >= 0)
			bls_adjust_timestamp_typmod(&ts, col->typmod);
		return TimestampTzGetDatum(ts);
	}
	else if (type == BLS_JSON_NUMBER &&
			 (col->kind == BLS_COL_INT8 || col->kind == BLS_COL_INT4))
	{
		/* fast path: an integer needs no text round trip */
		if (v->is_int)
		{
			if (col->kind == BLS_COL_INT8)
				return Int64GetDatum((int64) v->ival);
			if (v->ival >= PG_INT32_MIN && v->ival <= PG_INT32_MAX)
				return Int32GetDatum((int32) v->ival);
		}
		/* anything else: the input function reports it */
		s = bls_value_text(v, &len);
	}
	else
	{
		if ((type == BLS_JSON_OBJECT || type == BLS_JSON_ARRAY) &&
			col->kind != BLS_COL_TEXT && col->kind != BLS_COL_JSON &&
			col->kind != BLS_COL_ROW)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("BLS returned a JSON %s where column \"%s\" of type %s expects a scalar",
							bls_json_type_name(type), col->attname,
							format_type_be(col->typid))));
		/* numbers, booleans, and anything bound for a json column */
		s = bls_value_text(v, &len);
	}

	/* validates UTF-8 (an embedded NUL is invalid too) and converts */
	server = pg_any_to_server(s, (int) len, PG_UTF8);
	if (col->kind == BLS_COL_TEXT)
		result = PointerGetDatum(cstring_to_text_with_len(server,
														  server == s ? (int) len : (int) strlen(server)));
	else
	{
		if (server == s)
			server = pnstrdup(s, len);
		result = InputFunctionCall((FmgrInfo *) &col->infunc, server,
								   col->typioparam, col->typmod);
	}
	return result;
}

/*
 * bls_echo_reset
 *		A sequence with new request parameters begins: the columns that
 *		echo a parameter convert it again, at the first row that shows it,
 *		into cxt, where it stays for the rows that follow.  The caller
 *		resets cxt (after this sequence's rows are gone).  Without this call
 *		an echoed value is converted for every row.
 */
void
bls_echo_reset(BlsColumn *cols, int ncols, MemoryContext cxt)
{
	for (int i = 0; i < ncols; i++)
	{
		cols[i].echo_cxt = cxt;
		cols[i].echo_ready = false;
	}
}

/*
 * Convert the request parameter that col echoes (see bls_store_item()) into
 * col->echo_value, in col->echo_cxt if there is one.
 */
static void
convert_echo(const BlsResource *res, BlsColumn *col, const BlsParam *params,
			 int nparams)
{
	const char *sent = bls_param_value(res, params, nparams, col->echo->param);
	BlsValue	echo = {0};
	MemoryContext oldcxt = CurrentMemoryContext;

	if (sent)
	{
		echo.present = true;
		echo.type = BLS_JSON_STRING;
		echo.str = sent;
		echo.len = strlen(sent);
	}
	if (col->echo_cxt)
		MemoryContextSwitchTo(col->echo_cxt);
	col->echo_value = convert_value(col, &echo, &col->echo_isnull);
	MemoryContextSwitchTo(oldcxt);
	col->echo_ready = true;
}

/*
 * bls_store_item
 *		Convert the task in f (just read with bls_page_read_item(), the
 *		item_index'th of page page_no) into values/nulls for the ncols columns
 *		in cols; columns not listed are left alone.  uuid_key is what
 *		bls_init_fields() returned.
 *
 * A missing or JSON-null field is NULL; unknown fields are ignored.  Results
 * are allocated in the current memory context, which the caller resets per
 * row.
 */
void
bls_store_item(const BlsResource *res, BlsColumn *cols, int ncols,
			   const BlsFields *f, int uuid_key, int item_index, int page_no,
			   const char *default_id, const BlsParam *params, int nparams,
			   Datum *values, bool *nulls)
{
	ConvertErrorState state;
	ErrorContextCallback errcallback;

	state.item = res->item_name;
	state.col = NULL;
	state.uuid = &f->values[uuid_key];
	state.item_index = item_index;
	state.page_no = page_no;
	errcallback.callback = convert_error_callback;
	errcallback.arg = &state;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	if (f->type != BLS_JSON_OBJECT)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("BLS returned a %s that is a JSON %s, not an object",
						res->item_name, bls_json_type_name(f->type))));

	for (int i = 0; i < ncols; i++)
	{
		BlsColumn  *col = &cols[i];
		int			idx = col->attnum - 1;

		state.col = col;
		if (col->kind == BLS_COL_DEFAULT_FLAG)
		{
			const BlsValue *id = &f->values[uuid_key];
			bool		is_default;

			/* the item the page names beside the list, by its id */
			is_default = default_id != NULL && id->type == BLS_JSON_STRING &&
				id->len == strlen(default_id) &&
				memcmp(id->str, default_id, id->len) == 0;
			values[idx] = col->typid == BOOLOID ? BoolGetDatum(is_default) :
				InputFunctionCall(&col->infunc, is_default ? "true" : "false",
								  col->typioparam, col->typmod);
			nulls[idx] = false;
			continue;
		}
		if (col->kind == BLS_COL_ROW && col->typid == JSONBOID)
		{
			nulls[idx] = f->row_values == NULL;
			values[idx] = nulls[idx] ? (Datum) 0 : bls_row_jsonb(f);
			continue;
		}
		if (col->kind == BLS_COL_ROW)
		{
			BlsValue	row = {0};

			row.present = true;
			row.type = f->row_json ? BLS_JSON_OBJECT : BLS_JSON_NULL;
			row.raw = f->row_json;
			row.rawlen = f->row_json_len;
			values[idx] = convert_value(col, &row, &nulls[idx]);
			continue;
		}
		if (col->echo &&
			!(col->echo->echo == BLS_ECHO_FALLBACK &&
			  f->values[col->field].type != BLS_JSON_NULL))
		{
			/* what the request asked for: the item need not say it */
			if (!col->echo_ready)
				convert_echo(res, col, params, nparams);
			values[idx] = col->echo_value;
			nulls[idx] = col->echo_isnull;
			if (col->echo_cxt == NULL)
				col->echo_ready = false;	/* converted for this row only */
			continue;
		}
		values[idx] = convert_value(col, &f->values[col->field], &nulls[idx]);
	}

	error_context_stack = errcallback.previous;
}

/*
 * A string from the service as a jsonb string, refused where jsonb_in()
 * refuses its JSON: holding a NUL (\u0000), or too long.  Converting it to
 * the database encoding validates its UTF-8.
 */
static void
jsonb_string(JsonbValue *jv, const char *s, size_t len)
{
	char	   *server;

	if (memchr(s, '\0', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("unsupported Unicode escape sequence"),
				 errdetail("\\u0000 cannot be converted to text.")));
	server = pg_any_to_server(s, (int) len, PG_UTF8);
	if (server != s)
		len = strlen(server);
	if (len > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("string too long to represent as jsonb string"),
				 errdetail("Due to an implementation restriction, jsonb strings cannot exceed %d bytes.",
						   JENTRY_OFFLENMASK)));
	jv->type = jbvString;
	jv->val.string.val = server;
	jv->val.string.len = (int) len;
}

/*
 * bls_row_jsonb
 *		The row just read into f (with want_row) as a jsonb object,
 *		{"column": value, ...}, built from its values rather than printed
 *		and parsed again: the jsonb that jsonb_in() makes of
 *		bls_page_row_json()'s text.
 *
 * Numbers keep their precision (numeric_in() of their text, as jsonb_in()
 * takes them); an object or array, which the reader leaves as JSON text,
 * goes through jsonb_in() alone.
 */
Datum
bls_row_jsonb(const BlsFields *f)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;

	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int m = 0; m < f->row_ncolumns; m++)
	{
		const BlsValue *v = &f->row_values[m];
		JsonbValue	key;
		JsonbValue	jv;

		jsonb_string(&key, f->row_names[m], f->row_name_lens[m]);
		(void) pushJsonbValue(&state, WJB_KEY, &key);
		switch (v->type)
		{
			case BLS_JSON_NULL:
				jv.type = jbvNull;
				break;
			case BLS_JSON_BOOLEAN:
				jv.type = jbvBool;
				jv.val.boolean = v->raw[0] == 't';
				break;
			case BLS_JSON_NUMBER:
				jv.type = jbvNumeric;
				if (v->is_int)
					jv.val.numeric = int64_to_numeric(v->ival);
				else
					jv.val.numeric =
						DatumGetNumeric(DirectFunctionCall3(numeric_in,
															CStringGetDatum(pnstrdup(v->raw, v->rawlen)),
															ObjectIdGetDatum(InvalidOid),
															Int32GetDatum(-1)));
				break;
			case BLS_JSON_STRING:
				jsonb_string(&jv, v->str, v->len);
				break;
			case BLS_JSON_OBJECT:
			case BLS_JSON_ARRAY:
				{
					char	   *text = pg_any_to_server(v->raw, (int) v->rawlen,
														PG_UTF8);
					Jsonb	   *jb;

					if (text == v->raw)
						text = pnstrdup(v->raw, v->rawlen);
					jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
															CStringGetDatum(text)));
					/* pushJsonbValue() unpacks a container value */
					jv.type = jbvBinary;
					jv.val.binary.data = &jb->root;
					jv.val.binary.len = VARSIZE(jb) - VARHDRSZ;
				}
				break;
		}
		(void) pushJsonbValue(&state, WJB_VALUE, &jv);
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(res));
}

/*
 * bls_utc_text
 *		A time as BLS takes it, UTC "YYYY-MM-DDTHH:MM:SSZ" whatever the
 *		session's TimeZone, into buf (at least 21 bytes): whole seconds,
 *		rounded up if round_up, else down.  False if ts is not finite or
 *		outside the years 1 to 9999.
 */
bool
bls_utc_text(TimestampTz ts, bool round_up, char *buf, size_t buflen)
{
	pg_time_t	t;
	struct pg_tm *tm;

	if (TIMESTAMP_NOT_FINITE(ts))
		return false;
	/* whole seconds since 1970: the floor, or the ceiling */
	t = (pg_time_t) (ts / USECS_PER_SEC);
	if (ts % USECS_PER_SEC != 0 && (ts < 0) != round_up)
		t += round_up ? 1 : -1;
	t += (pg_time_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	tm = pg_gmtime(&t);
	if (tm == NULL || tm->tm_year + 1900 < 1 || tm->tm_year + 1900 > 9999)
		return false;
	snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			 tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday,
			 tm->tm_hour, tm->tm_min, tm->tm_sec);
	return true;
}
