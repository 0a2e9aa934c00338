--
-- The JSON reader: log_records' fields, a jsonb column, is built from the
-- row's values (pushJsonbValue), a json column from the row's text; both
-- must say the same for every row, whatever its strings escape.
--
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset

\set emu_import 'LIMIT TO (log_records)'
\set ECHO none
\i sql/include/emu_server.sql
\set ECHO all
-- the same record as json, as text and as jsonb, side by side
ALTER FOREIGN TABLE log_records ADD COLUMN fields_json json OPTIONS (key '*');
ALTER FOREIGN TABLE log_records ADD COLUMN fields_text text OPTIONS (key '*');

CREATE VIEW ten_seconds AS
SELECT seq, message, fields, fields_json, fields_text FROM log_records
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';

-- JSON records: @raw is a JSON line, all escaped quotes
SELECT count(*), count(*) FILTER (WHERE fields = fields_json::jsonb) AS same_json,
       count(*) FILTER (WHERE fields = fields_text::jsonb) AS same_text,
       count(*) FILTER (WHERE fields->>'@raw' = message) AS raw_decoded,
       count(*) FILTER (WHERE (message::jsonb)->>'status' = fields->>'status') AS raw_is_json
FROM ten_seconds;
SELECT fields_text FROM ten_seconds ORDER BY seq LIMIT 1;

-- a value holding every kind of escape, nested: decoded once, the same
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "@raw", "value": {"q": "a\"b\\c/d\u00e9\ud83d\ude00\n\t\u0001", "n": [1.50, -0, 1e3, 18446744073709551615], "t": true, "z": null}, "call": "QueryLogRecord", "count": -1}'
SELECT count(*), count(*) FILTER (WHERE fields = fields_json::jsonb) AS same_json,
       count(*) FILTER (WHERE fields = fields_text::jsonb) AS same_text
FROM ten_seconds;
SELECT fields->'@raw' AS jsonb, fields_json->'@raw' AS json
FROM ten_seconds ORDER BY seq LIMIT 1;
SELECT message FROM ten_seconds ORDER BY seq LIMIT 1;

-- a string escaped in every way a string can be
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "@raw", "value": "\"quoted\" \\ back/slash \u00e9t\u00e9 \ud83d\ude00 tab\there \u007f", "call": "QueryLogRecord", "count": -1}'
SELECT count(*) FILTER (WHERE fields = fields_json::jsonb) AS same_json,
       count(*) FILTER (WHERE fields->>'@raw' = message) AS same_message
FROM ten_seconds;
SELECT fields->'@raw' AS jsonb, fields_json->'@raw' AS json
FROM ten_seconds ORDER BY seq LIMIT 1;

-- a number column (status is typed "long") holding a string of a number:
-- a number in fields, whichever way it is built
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "status", "value": "5.0e2", "call": "QueryLogRecord", "count": -1}'
SELECT jsonb_typeof(fields->'status') AS type, fields->'status' AS status,
       fields_json->'status' AS json_status
FROM ten_seconds ORDER BY seq LIMIT 1;

-- a NUL cannot be text: the jsonb column refuses it, as jsonb_in does
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "@raw", "value": "a\u0000b", "call": "QueryLogRecord", "index": 0, "count": -1}'
\set VERBOSITY default
SELECT fields FROM ten_seconds ORDER BY seq LIMIT 1;
-- json keeps the escape
SELECT count(*) FILTER (WHERE fields_json::text LIKE '%"a\\u0000b"%') AS kept
FROM ten_seconds;
\set VERBOSITY terse

-- bls_log_query() builds its rows the same way
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "@raw", "value": {"q": "a\"b\u00e9", "n": [1.50, -0]}, "call": "QueryLogRecord", "count": -1}'
SELECT r->'@raw' AS raw, r = f.fields AS same
FROM bls_log_query('emu', 'nginx-access', 'match *', '2024-05-01 00:00:00+00',
                   '2024-05-01 00:00:01+00') r
JOIN ten_seconds f ON f.seq = (r->>'@seq')::bigint
ORDER BY f.seq LIMIT 2;

\! python3 test/bls_emulator.py ctl reset
DROP VIEW ten_seconds;
DROP SERVER emu CASCADE;
