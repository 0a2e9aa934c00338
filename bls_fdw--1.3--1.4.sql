/* bls_fdw--1.3--1.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION bls_fdw UPDATE TO '1.4'" to load this file. \quit

-- 1.4 adds the account-wide request budget (the server option
-- max_concurrent_requests) and bls_fdw_stats() shows its waits: a function's
-- result columns cannot change in place, so it is made again.
DROP FUNCTION bls_fdw_stats();

CREATE FUNCTION bls_fdw_stats()
RETURNS TABLE (server_name text, requests bigint, pages bigint, rows bigint,
               bytes bigint, retries bigint, throttled bigint, errors bigint,
               time_ms double precision, slot_waits bigint,
               backoff_waits bigint, wait_ms double precision)
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION bls_fdw_stats() IS
  'counters of this backend''s requests to each BLS server';
