/* bls_fdw--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION bls_fdw UPDATE TO '1.3'" to load this file. \quit

-- 1.3 adds the resource log_records (QueryLogRecord), which IMPORT FOREIGN
-- SCHEMA creates, the option on_truncation, and bls_log_query() for
-- analysis statements.
COMMENT ON FOREIGN DATA WRAPPER bls_fdw IS
  'Baidu AI Cloud Log Service (BLS): download tasks, projects, log stores and log records';

-- any QueryLogRecord statement, analysis included, a jsonb object per row
CREATE FUNCTION bls_log_query(server_name text, log_store_name text,
                              query text, start_time timestamptz,
                              end_time timestamptz, project text DEFAULT NULL)
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION bls_log_query(text, text, text, timestamptz, timestamptz, text) IS
  'the rows of a BLS QueryLogRecord statement (search or analysis) as jsonb, with the current user''s mapping';
