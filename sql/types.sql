--
-- Column types and value conversion, including bad values from the service
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');

-- any type with an input function
CREATE FOREIGN TABLE typed (
  uuid uuid,
  name varchar(200),
  project name,
  "limit" int4,
  written_rows numeric,
  created_time timestamp,
  updated_time date,
  exec_end_time timestamptz,
  state text,
  failed_code jsonb,
  writtenrows_json json OPTIONS (key 'writtenRows'),
  limit_text text OPTIONS (key 'limit')
) SERVER emu OPTIONS (page_size '1000');
SELECT pg_typeof(uuid), pg_typeof(name), pg_typeof(project), pg_typeof("limit"),
       pg_typeof(written_rows), pg_typeof(created_time), pg_typeof(updated_time)
FROM typed LIMIT 1;
SELECT count(*), count(DISTINCT uuid), sum("limit") > 0 AS limits,
       sum(written_rows) = sum(writtenrows_json::text::numeric) AS json_numbers,
       bool_and(limit_text = "limit"::text) AS numbers_as_text,
       count(*) FILTER (WHERE failed_code = '""') AS empty_codes_as_json
FROM typed;
-- an empty time field is NULL whatever the column type
SELECT state, count(*) AS tasks, count(exec_end_time) AS ended
FROM typed WHERE state IN ('WAITING', 'RUNNING') GROUP BY state ORDER BY state;
-- a too-short varchar reports the task
CREATE FOREIGN TABLE short_names (name varchar(3)) SERVER emu;
SELECT * FROM short_names;

-- JSON null and missing fields read as NULL; extra fields are ignored
\! python3 test/bls_emulator.py ctl fault '{"type": "null_fields", "fields": ["writtenRows", "createdTime", "name"]}'
SELECT count(*), count(written_rows), count(created_time), count(name) FROM (SELECT * FROM typed LIMIT 3) s;
\! python3 test/bls_emulator.py ctl fault '{"type": "missing_fields", "fields": ["writtenRows", "state"]}'
SELECT count(*), count(written_rows), count(state) FROM (SELECT * FROM typed LIMIT 3) s;
\! python3 test/bls_emulator.py ctl fault '{"type": "extra_fields"}'
SELECT count(*), count(written_rows) FROM (SELECT * FROM typed LIMIT 3) s;

-- wrong types name the column and the task; the session stays usable
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "writtenRows", "value": "many", "index": 2}'
SELECT uuid, written_rows FROM typed;
SELECT 1 AS still_usable;
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "createdTime", "value": 12345}'
SELECT created_time FROM typed;
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "limit", "value": {"max": 5}}'
SELECT "limit" FROM typed;
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "limit", "value": 99999999999}'
SELECT "limit" FROM typed;
-- numbers beyond 64 bits are refused, not saturated, whatever the column type
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "limit", "value": -9223372036854775809, "index": 0}'
SELECT "limit" FROM typed;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "limit", "value": 12345678901234567890123, "index": 0}'
SELECT limit_text FROM typed;
-- the largest unsigned 64-bit values below the limit still read exactly
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "limit", "value": 18446744073709551614, "index": 0}'
SELECT limit_text FROM typed LIMIT 1;
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "uuid", "value": "not-a-uuid", "index": 0}'
SELECT uuid FROM typed;
-- a text column takes a number, an object, or a boolean as JSON text
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "state", "value": {"a": [1, true]}, "index": 0}'
SELECT state FROM typed LIMIT 1;
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "failedCode", "value": [1, "x"], "index": 0}'
SELECT failed_code FROM typed LIMIT 1;
-- a task that is not an object
\! python3 test/bls_emulator.py ctl fault '{"type": "task_not_object"}'
SELECT state FROM typed;

-- invalid UTF-8 in a text field is refused, naming column and task
\! python3 test/bls_emulator.py ctl fault '{"type": "invalid_utf8", "field": "name", "index": 0}'
SELECT name FROM typed;
\! python3 test/bls_emulator.py ctl fault '{"type": "invalid_utf8", "field": "name", "index": 0}'
CREATE FOREIGN TABLE only_state (state text) SERVER emu;
-- a column the query does not read is not converted
SELECT count(state) FROM only_state LIMIT 1;
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "name", "value": "nul\u0000byte", "index": 0}'
SELECT name FROM typed;
SELECT 1 AS still_usable;

-- The same tasks spelled as other JSON read the same: escaped keys, each
-- key repeated after a decoy value, \u escapes in strings, white space.
-- (Plain tasks are read straight from the page; these go through json-c.)
\! python3 test/bls_emulator.py ctl reset
CREATE SCHEMA respell;
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO respell;
ALTER FOREIGN TABLE respell.download_tasks OPTIONS (ADD page_size '1000');
CREATE TEMP TABLE plain_rows AS SELECT * FROM respell.download_tasks;
\! python3 test/bls_emulator.py ctl fault '{"type": "respelled", "count": -1}'
CREATE TEMP TABLE respelled_rows AS SELECT * FROM respell.download_tasks;
\! python3 test/bls_emulator.py ctl reset
SELECT (SELECT count(*) FROM plain_rows) AS tasks,
       (SELECT count(*) FROM plain_rows WHERE query LIKE '%"%') AS with_quotes,
       (SELECT count(*) FROM (TABLE respelled_rows EXCEPT ALL TABLE plain_rows) d) AS differ,
       (SELECT count(*) FROM (TABLE plain_rows EXCEPT ALL TABLE respelled_rows) d) AS missing;

DROP SERVER emu CASCADE;
