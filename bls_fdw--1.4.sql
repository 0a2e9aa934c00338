/* bls_fdw--1.4.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION bls_fdw" to load this file. \quit

CREATE FUNCTION bls_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION bls_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER bls_fdw
  HANDLER bls_fdw_handler
  VALIDATOR bls_fdw_validator;

CREATE FUNCTION bls_fdw_version()
RETURNS text
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

CREATE FUNCTION bls_fdw_stats()
RETURNS TABLE (server_name text, requests bigint, pages bigint, rows bigint,
               bytes bigint, retries bigint, throttled bigint, errors bigint,
               time_ms double precision, slot_waits bigint,
               backoff_waits bigint, wait_ms double precision)
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION bls_fdw_stats() IS
  'counters of this backend''s requests to each BLS server';

CREATE FUNCTION bls_fdw_disconnect()
RETURNS bool
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION bls_fdw_disconnect() IS
  'closes this backend''s cached connections to BLS servers';

COMMENT ON FOREIGN DATA WRAPPER bls_fdw IS
  'Baidu AI Cloud Log Service (BLS): download tasks, projects, log stores and log records';

-- the file link of a finished download task (GetDownloadTaskLink)
CREATE FUNCTION bls_download_link(server_name text, task_uuid text)
RETURNS TABLE (file_dir text, file_name text, link text)
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION bls_download_link(text, text) IS
  'the file link of a finished BLS download task, with the current user''s mapping';

-- any QueryLogRecord statement, analysis included, a jsonb object per row
CREATE FUNCTION bls_log_query(server_name text, log_store_name text,
                              query text, start_time timestamptz,
                              end_time timestamptz, project text DEFAULT NULL)
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION bls_log_query(text, text, text, timestamptz, timestamptz, text) IS
  'the rows of a BLS QueryLogRecord statement (search or analysis) as jsonb, with the current user''s mapping';
