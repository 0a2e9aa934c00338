--
-- The page cap: a request sequence reads at most
-- bls_fdw.max_pages_per_request pages (1,000,000 by default), so that a
-- service that ignores the page number or serves an endless list is not
-- paged without end.  The error's hint names what can help the table at
-- hand: a larger page_size while it is below the resource's maximum, else
-- a narrower query (and time window, for log_records).  The cap is lowered
-- here to reach it with few requests.
--
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset
\set ECHO none
\i sql/include/emu_server.sql
\set ECHO all
-- the counts below count the records a scan reads; the counts BLS computes
-- itself (aggregate pushdown) are logrecords_agg's
SET bls_fdw.aggregate_pushdown = off;
SHOW bls_fdw.max_pages_per_request;
SET bls_fdw.max_pages_per_request = 3;

-- download_tasks: 1000 tasks in pages of 100
SELECT count(*) FROM download_tasks;
-- pages of 1000: one page is enough
ALTER FOREIGN TABLE download_tasks OPTIONS (ADD page_size '1000');
SELECT count(*) FROM download_tasks;

-- log_records: 40 records in ten seconds of default/nginx-access, pages of 5,
-- in one marker chain (the cap counts the pages of a chain, and each time
-- slice is a chain of its own)
CREATE FOREIGN TABLE records5 (log_store_name text, time timestamptz, seq bigint)
  SERVER emu OPTIONS (resource 'log_records', page_size '5', slices '1');
ALTER FOREIGN TABLE log_records OPTIONS (ADD slices '1');
SELECT count(*) FROM records5
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
-- pages of 1000, the most BLS serves: the window must be narrower
SET bls_fdw.max_pages_per_request = 2;
SELECT count(*) FROM log_records
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:15:00+00';
SELECT count(*) FROM log_records
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:05:00+00';
-- the cap only lowers: a million at most
SET bls_fdw.max_pages_per_request = 1000001;
RESET bls_fdw.max_pages_per_request;

\! python3 test/bls_emulator.py ctl reset
DROP SERVER emu CASCADE;
