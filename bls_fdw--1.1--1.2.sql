/* bls_fdw--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION bls_fdw UPDATE TO '1.2'" to load this file. \quit

-- 1.2 adds the foreign table option "resource" (download_tasks, the
-- default, projects or log_stores), which the validator in the module
-- checks; IMPORT FOREIGN SCHEMA creates a table for each.  No SQL object
-- changes: tables made before keep reading download tasks.
COMMENT ON FOREIGN DATA WRAPPER bls_fdw IS
  'Baidu AI Cloud Log Service (BLS): download tasks, projects and log stores';
