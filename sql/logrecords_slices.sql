--
-- log_records over long windows: time slices read side by side.  A window
-- whose first page names a next one is cut, from that page's time spread,
-- into up to "slices" slices of whole seconds, each its own marker chain,
-- read ahead while an earlier one is returned.  The rows must be those of
-- one chain (slices '1'), in the same order, whatever the order and LIMIT;
-- cancel, a failed slice and the option are checked too.  default/nginx-access
-- writes 4 records a second, so 20 minutes hold 4800 records: 10 pages of 500.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY terse
-- the counts below count the records a scan reads; the counts BLS computes
-- itself (aggregate pushdown) are logrecords_agg's
SET bls_fdw.aggregate_pushdown = off;
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', max_retries '1', request_timeout_ms '60000');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls LIMIT TO (log_records) FROM SERVER emu INTO public;
ALTER FOREIGN TABLE log_records OPTIONS (ADD page_size '500');
-- the same table read in one marker chain
CREATE SCHEMA serial;
IMPORT FOREIGN SCHEMA bls LIMIT TO (log_records) FROM SERVER emu INTO serial;
ALTER FOREIGN TABLE serial.log_records OPTIONS (ADD page_size '500', ADD slices '1');

-- the option: 1 to 16, on the server or the table
ALTER SERVER emu OPTIONS (ADD slices '0');
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER emu OPTIONS (ADD slices '17');
ALTER SERVER emu OPTIONS (ADD slices 'four');
ALTER FOREIGN TABLE log_records OPTIONS (ADD slices '-1');
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (ADD slices '2');
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER emu OPTIONS (ADD slices '16');
ALTER SERVER emu OPTIONS (DROP slices);

-- rows, order and count of a whole window, newest first (the default) and
-- oldest first: the same arrays as one chain's
CREATE FUNCTION seqs(tab regclass, lo timestamptz, hi timestamptz, dir text,
                     lim int DEFAULT NULL, store text DEFAULT 'nginx-access')
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
  EXECUTE format('SELECT array_agg(seq) FROM (SELECT seq FROM %s
                  WHERE log_store_name = %L AND time >= %L AND time < %L
                  ORDER BY time %s LIMIT %s) s', tab, store, lo, hi, dir,
                 coalesce(lim::text, 'ALL'))
    INTO r;
  RETURN r;
END $$;
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), count(DISTINCT seq) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00';
-- 1 page for the window (its last second, 00:17:55, is left to a slice),
-- then 4 slices of 269 s (1076 records: 3 pages each) side by side
\! python3 test/bls_emulator.py ctl requests | LC_ALL=C sort
SELECT cardinality(s) AS n, s = seqs('serial.log_records', '2024-05-01 00:00:00+00',
                                     '2024-05-01 00:20:00+00', 'DESC') AS same,
       (SELECT count(DISTINCT x) FROM unnest(s) x) AS distinct_seqs
FROM seqs('log_records', '2024-05-01 00:00:00+00', '2024-05-01 00:20:00+00', 'DESC') s;
SELECT cardinality(s) AS n, s = seqs('serial.log_records', '2024-05-01 00:00:00+00',
                                     '2024-05-01 00:20:00+00', 'ASC') AS same
FROM seqs('log_records', '2024-05-01 00:00:00+00', '2024-05-01 00:20:00+00', 'ASC') s;
-- the same rows, every column: nothing more, nothing less
SELECT (SELECT count(*) FROM (
          SELECT * FROM log_records WHERE log_store_name = 'nginx-access'
            AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'
          EXCEPT ALL
          SELECT * FROM serial.log_records WHERE log_store_name = 'nginx-access'
            AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00') d) AS extra,
       (SELECT count(*) FROM (
          SELECT * FROM serial.log_records WHERE log_store_name = 'nginx-access'
            AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'
          EXCEPT ALL
          SELECT * FROM log_records WHERE log_store_name = 'nginx-access'
            AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00') d) AS missing;

-- EXPLAIN ANALYZE counts the slices and the requests
\set ECHO none
\i sql/include/explain_analyze.sql
\set ECHO all
SELECT explain_analyze($$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
SELECT * FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'$$) AS "QUERY PLAN";
SELECT explain_analyze($$EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
SELECT * FROM serial.log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'$$) AS "QUERY PLAN";

-- a LIMIT: only the seconds it is expected to need are cut, and each slice
-- asks for its share; as many requests as one chain (5), and the same rows
\! python3 test/bls_emulator.py ctl log-clear
SELECT cardinality(seqs('log_records', '2024-05-01 00:00:00+00',
                        '2024-05-01 00:20:00+00', 'ASC', 2200)) AS n;
\! python3 test/bls_emulator.py ctl requests | LC_ALL=C sort
\! python3 test/bls_emulator.py ctl log-clear
SELECT cardinality(seqs('log_records', '2024-05-01 00:00:00+00',
                        '2024-05-01 00:20:00+00', 'DESC', 2200)) AS n;
\! python3 test/bls_emulator.py ctl calls QueryLogRecord | wc -l
-- a LIMIT the first page holds: nothing to slice
\! python3 test/bls_emulator.py ctl log-clear
SELECT cardinality(seqs('log_records', '2024-05-01 00:00:00+00',
                        '2024-05-01 00:20:00+00', 'ASC', 300)) AS n;
\! python3 test/bls_emulator.py ctl requests
-- LIMITs around the slices' shares, in both orders: the rows of one chain
SELECT lim, dir,
       seqs('log_records', '2024-05-01 00:00:00+00', '2024-05-01 00:20:00+00', dir, lim)
       = seqs('serial.log_records', '2024-05-01 00:00:00+00', '2024-05-01 00:20:00+00', dir, lim)
       AS same
FROM unnest(ARRAY[499, 501, 996, 1000, 1001, 1500, 3000, 4799, 4800, 5000]) lim,
     unnest(ARRAY['ASC', 'DESC']) dir
ORDER BY 1, 2;

-- bounds off whole seconds: the window is rounded outward, the bounds are
-- checked on each record, and what the slices drop is what one chain drops
SELECT (SELECT array_agg(seq) FROM (SELECT seq FROM log_records
          WHERE log_store_name = 'nginx-access'
            AND time > '2024-05-01 00:00:00.5+00' AND time <= '2024-05-01 00:20:00.25+00'
          ORDER BY time) a)
     = (SELECT array_agg(seq) FROM (SELECT seq FROM serial.log_records
          WHERE log_store_name = 'nginx-access'
            AND time > '2024-05-01 00:00:00.5+00' AND time <= '2024-05-01 00:20:00.25+00'
          ORDER BY time) b) AS same,
       (SELECT count(*) FROM log_records
          WHERE log_store_name = 'nginx-access'
            AND time > '2024-05-01 00:00:00.5+00' AND time <= '2024-05-01 00:20:00.25+00') AS n;
-- a sparse store (4 records every 7 s), the slices' bounds fall between
-- records; and two stores, each window sliced on its own
\! python3 test/bls_emulator.py ctl config '{"logrecord_interval_s": 7}'
SELECT cardinality(s) AS n, s = seqs('serial.log_records', '2024-05-01 00:00:00+00',
                                     '2024-05-01 04:00:00+00', 'ASC') AS same
FROM seqs('log_records', '2024-05-01 00:00:00+00', '2024-05-01 04:00:00+00', 'ASC') s;
SELECT cardinality(s) AS n, s = seqs('serial.log_records', '2024-05-01 00:00:00+00',
                                     '2024-05-01 04:00:00+00', 'DESC') AS same
FROM seqs('log_records', '2024-05-01 00:00:00+00', '2024-05-01 04:00:00+00', 'DESC') s;
SELECT count(*) AS n, count(DISTINCT (log_store_name, seq)) AS distinct_records,
       array_agg(seq ORDER BY log_store_name, time)
       = (SELECT array_agg(seq ORDER BY log_store_name, time) FROM serial.log_records
          WHERE log_store_name IN ('nginx-access', 'nginx-error')
            AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 04:00:00+00') AS same
FROM log_records
WHERE log_store_name IN ('nginx-access', 'nginx-error')
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 04:00:00+00';
\! python3 test/bls_emulator.py ctl reset

-- the count of the 20 minutes, the query of the tests below
\set count_window 'SELECT count(*) FROM log_records WHERE log_store_name = ''nginx-access'' AND time >= ''2024-05-01 00:00:00+00'' AND time < ''2024-05-01 00:20:00+00'';'
-- each case below: the emulator reset with one fault, given after :fault (a
-- \! takes the rest of its line), then :count_fails, the count with the
-- SQLSTATE of its error
\set fault '\\! python3 test/bls_emulator.py ctl reset && python3 test/bls_emulator.py ctl fault'
\set count_fails ':count_window\n\\echo :LAST_ERROR_SQLSTATE'
-- a slice that fails fails the scan: HTTP 500 on the first page of the third
-- slice (newest first: [00:04:29, 00:08:58)),
:fault '{"type": "http", "status": 500, "count": -1, "call": "QueryLogRecord", "params": {"startDateTime": "2024-05-01T00:04:29Z"}}'
:count_fails
-- on the second page of the second slice,
:fault '{"type": "http", "status": 500, "count": 2, "skip": 1, "call": "QueryLogRecord", "params": {"startDateTime": "2024-05-01T00:08:58Z"}}'
:count_fails
-- a malformed page
:fault '{"type": "malformed", "call": "QueryLogRecord", "params": {"startDateTime": "2024-05-01T00:00:00Z", "endDateTime": "2024-05-01T00:04:29Z"}}'
:count_fails
-- markers that loop in a slice (each page asked for with a marker names that
-- marker again),
:fault '{"type": "repeat_marker", "count": -1, "call": "QueryLogRecord", "params": {"startDateTime": "2024-05-01T00:08:58Z"}}'
:count_fails
-- or that go A -> B -> A,
:fault '{"type": "marker_cycle", "count": -1, "call": "QueryLogRecord", "params": {"startDateTime": "2024-05-01T00:00:00Z", "endDateTime": "2024-05-01T00:04:29Z"}}'
:count_fails
-- and two empty pages in a row that name a next one: an error, not a loop
:fault '{"type": "empty_marked", "count": 2, "call": "QueryLogRecord", "params": {"startDateTime": "2024-05-01T00:04:29Z"}}'
:count_fails
-- a result the service cut, with on_truncation 'notice': one NOTICE a scan,
-- however many slices say so
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl config '{"logrecord_truncated": "ScanLimitExceeded"}'
ALTER FOREIGN TABLE log_records OPTIONS (ADD on_truncation 'notice');
:count_window
ALTER FOREIGN TABLE log_records OPTIONS (DROP on_truncation);
-- one 500 is retried (max_retries 1): the answer is whole
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 500, "call": "QueryLogRecord", "params": {"startDateTime": "2024-05-01T00:04:29Z"}}'
SELECT cardinality(s) AS n, s = seqs('serial.log_records', '2024-05-01 00:00:00+00',
                                     '2024-05-01 00:20:00+00', 'DESC') AS same
FROM seqs('log_records', '2024-05-01 00:00:00+00', '2024-05-01 00:20:00+00', 'DESC') s;

-- cancel: a slice read ahead whose answer takes 30 s, statement_timeout of
-- 300 ms; then the session goes on, the answers whole
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 30000, "call": "QueryLogRecord", "params": {"startDateTime": "2024-05-01T00:00:00Z", "endDateTime": "2024-05-01T00:04:29Z"}}'
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '300ms';
:count_window
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '1 second' AS cancelled_promptly;
\! python3 test/bls_emulator.py ctl release
\! python3 test/bls_emulator.py ctl reset
SELECT cardinality(s) AS n, s = seqs('serial.log_records', '2024-05-01 00:00:00+00',
                                     '2024-05-01 00:20:00+00', 'ASC') AS same
FROM seqs('log_records', '2024-05-01 00:00:00+00', '2024-05-01 00:20:00+00', 'ASC') s;
-- a cursor closed half way: its slices' requests go with it
BEGIN;
DECLARE c CURSOR FOR SELECT seq FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00' ORDER BY time;
FETCH 600 FROM c \g /dev/null
CLOSE c;
COMMIT;
:count_window

-- readahead '0' reads one page at a time: nothing is sliced
ALTER FOREIGN TABLE log_records OPTIONS (ADD readahead '0');
\! python3 test/bls_emulator.py ctl log-clear
:count_window
\! python3 test/bls_emulator.py ctl calls QueryLogRecord | wc -l
ALTER FOREIGN TABLE log_records OPTIONS (DROP readahead);

DROP SCHEMA serial CASCADE;
DROP FUNCTION seqs;
DROP FOREIGN TABLE log_records;
DROP USER MAPPING FOR CURRENT_USER SERVER emu;
DROP SERVER emu;
