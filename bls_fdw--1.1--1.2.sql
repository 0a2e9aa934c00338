/* bls_fdw--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION bls_fdw UPDATE TO '1.2'" to load this file. \quit

-- 1.2 adds the foreign table option "resource" (download_tasks, the
-- default, projects or log_stores), which the validator in the module
-- checks, and IMPORT FOREIGN SCHEMA creates a table for each; tables made
-- before keep reading download tasks.  download_tasks takes INSERT and
-- DELETE, and bls_download_link() gives a task's file link.
COMMENT ON FOREIGN DATA WRAPPER bls_fdw IS
  'Baidu AI Cloud Log Service (BLS): download tasks, projects and log stores';

-- the file link of a finished download task (GetDownloadTaskLink)
CREATE FUNCTION bls_download_link(server_name text, task_uuid text)
RETURNS TABLE (file_dir text, file_name text, link text)
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION bls_download_link(text, text) IS
  'the file link of a finished BLS download task, with the current user''s mapping';
