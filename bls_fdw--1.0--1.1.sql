/* bls_fdw--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION bls_fdw UPDATE TO '1.1'" to load this file. \quit

CREATE FUNCTION bls_fdw_version()
RETURNS text
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

CREATE FUNCTION bls_fdw_stats()
RETURNS TABLE (server_name text, requests bigint, pages bigint, rows bigint,
               bytes bigint, retries bigint, throttled bigint, errors bigint,
               time_ms double precision)
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
