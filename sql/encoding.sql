--
-- Database encodings other than UTF-8: the service speaks UTF-8, so the
-- values of pushed conditions are converted to UTF-8 before they are sent
-- and the answers converted to the database's encoding.  A database in
-- EUC_CN (which holds Chinese text) must give the same answers as this
-- UTF-8 one.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;

-- the answers in UTF-8: 88 tasks of project 数据平台, 121 in log stores
-- named with 审计 (all 审计日志), 16 in etl-任务日志
SELECT current_database() AS utf8_db \gset
SELECT count(*) AS want_project FROM download_tasks WHERE project = '数据平台' \gset
SELECT count(*) AS want_like FROM download_tasks WHERE log_store_name LIKE '%审计%' \gset
SELECT count(*) AS want_prefix FROM download_tasks WHERE log_store_name LIKE '审计%' \gset
SELECT count(*) AS want_etl FROM download_tasks WHERE log_store_name = 'etl-任务日志' \gset
SELECT count(*) AS want_both FROM download_tasks WHERE project = '数据平台' AND log_store_name LIKE '%审计%' \gset
SELECT :want_project AS want_project, :want_like AS want_like, :want_prefix AS want_prefix,
       :want_etl AS want_etl, :want_both AS want_both;

DROP DATABASE IF EXISTS bls_fdw_euc_cn;
CREATE DATABASE bls_fdw_euc_cn ENCODING 'EUC_CN' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c bls_fdw_euc_cn
-- this file is UTF-8
SET client_encoding = 'UTF8';
SELECT getdatabaseencoding();
CREATE EXTENSION bls_fdw;
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;
SET statement_timeout = '20s';

-- every task, and the projects' names read back (five, 数据平台 among them)
SELECT count(*) FROM download_tasks;
SELECT count(DISTINCT project) AS projects, bool_or(project = '数据平台') AS has_it FROM download_tasks;

-- the pushed project: as many as in UTF-8 (t), and each value round-trips (t)
SELECT count(*) = :want_project AS ok, count(*) AS n,
       coalesce(bool_and(project = '数据平台'), false) AS round_trip
FROM download_tasks WHERE project = '数据平台';
-- the same filtered locally (t)
SELECT count(*) = :want_project AS ok FROM download_tasks WHERE project || '' = '数据平台';
-- an exact log store name with Chinese in it (t)
SELECT count(*) = :want_etl AS ok, count(*) AS n FROM download_tasks WHERE log_store_name = 'etl-任务日志';
-- LIKE with a Chinese core, and as a prefix (t, t)
SELECT count(*) = :want_like AS ok, count(*) AS n FROM download_tasks WHERE log_store_name LIKE '%审计%';
SELECT count(*) = :want_prefix AS ok, count(*) AS n FROM download_tasks WHERE log_store_name LIKE '审计%';
-- both (t)
SELECT count(*) = :want_both AS ok, count(*) AS n
FROM download_tasks WHERE project = '数据平台' AND log_store_name LIKE '%审计%';
-- an IN list (t)
SELECT count(*) = :want_project + (SELECT count(*) FROM download_tasks WHERE project || '' = 'staging') AS ok
FROM download_tasks WHERE project IN ('数据平台', 'staging');
-- EXPLAIN shows the request the service gets, in the database's encoding
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks WHERE project = '数据平台' AND log_store_name LIKE '%审计%';
-- the service's text in an error about its answer (here a column named
-- twice) is shown in the database's encoding, '?' for what is not ASCII:
-- the error stays the one about the answer, HV00A
\! python3 test/bls_emulator.py ctl fault '{"type": "rename_columns", "names": ["审计", "审计"], "call": "QueryLogRecord"}'
\set VERBOSITY default
SELECT * FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' LIMIT 1;
\set VERBOSITY terse
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;

\c :utf8_db
DROP DATABASE bls_fdw_euc_cn;

-- A LATIN1 database whose character classes are a German locale's: there
-- isalnum() and toupper() also take letters such as é.  Option parsing and
-- column names stay ASCII-only: a host name with é is refused, and the field
-- a column reads keeps é as it is (before, it was accepted, and upcased to É)
DROP DATABASE IF EXISTS bls_fdw_latin1;
CREATE DATABASE bls_fdw_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'de_DE.iso88591' TEMPLATE template0;
\c bls_fdw_latin1
SET client_encoding = 'UTF8';
CREATE EXTENSION bls_fdw;
CREATE SERVER bad_host FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'http://bls-é.example');
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE accents (uuid text, x_élan text) SERVER emu;
\set VERBOSITY default
SELECT * FROM accents;
\set VERBOSITY terse
\c :utf8_db
DROP DATABASE bls_fdw_latin1;
DROP SERVER emu CASCADE;
