--
-- Nondeterministic collations: a comparison under a collation that ignores
-- case, accents or punctuation is not the service's exact match, so it is
-- not pushed down and is evaluated locally.  Every count below is the
-- foreign table's and the local copy's, which must be equal.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;
CREATE TABLE local_tasks AS SELECT * FROM download_tasks;

-- case, accents and punctuation ignored; case and accents ignored; case
-- ignored
CREATE COLLATION loose (provider = icu, locale = 'und-u-ka-shifted-ks-level1', deterministic = false);
CREATE COLLATION ci_ai (provider = icu, locale = 'und-u-ks-level1', deterministic = false);
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

-- 'nginx-access' under loose: 268 and 268 (before the fix: 0 remote)
SELECT (SELECT count(*) FROM download_tasks WHERE log_store_name = 'NGINXACCESS' COLLATE loose) AS remote,
       (SELECT count(*) FROM local_tasks WHERE log_store_name = 'NGINXACCESS' COLLATE loose) AS local;
-- the same rows: 0 and 0
SELECT (SELECT count(*) FROM (SELECT * FROM download_tasks WHERE log_store_name = 'NGINXACCESS' COLLATE loose
                              EXCEPT ALL SELECT * FROM local_tasks WHERE log_store_name = 'NGINXACCESS' COLLATE loose) a) AS remote_only,
       (SELECT count(*) FROM (SELECT * FROM local_tasks WHERE log_store_name = 'NGINXACCESS' COLLATE loose
                              EXCEPT ALL SELECT * FROM download_tasks WHERE log_store_name = 'NGINXACCESS' COLLATE loose) b) AS local_only;
-- a column declared with the collation compares the same way: 268 and 268
CREATE FOREIGN TABLE loose_tasks (uuid text, project text COLLATE loose, log_store_name text COLLATE loose)
  SERVER emu;
SELECT (SELECT count(*) FROM loose_tasks WHERE log_store_name = 'NGINXACCESS') AS remote,
       (SELECT count(*) FROM local_tasks WHERE log_store_name = 'NGINXACCESS' COLLATE loose) AS local;
-- accents and case ignored: 'événements' is 'EVENEMENTS', 20 and 20
SELECT (SELECT count(*) FROM download_tasks WHERE log_store_name = 'EVENEMENTS' COLLATE ci_ai) AS remote,
       (SELECT count(*) FROM local_tasks WHERE log_store_name = 'EVENEMENTS' COLLATE ci_ai) AS local;
-- case ignored, accents not: 'NGINX-ACCESS' 268 and 268, 'EVENEMENTS' 0 and 0,
-- 'ÉVÉNEMENTS' 20 and 20
SELECT (SELECT count(*) FROM download_tasks WHERE log_store_name = 'NGINX-ACCESS' COLLATE ci) AS remote,
       (SELECT count(*) FROM local_tasks WHERE log_store_name = 'NGINX-ACCESS' COLLATE ci) AS local;
SELECT (SELECT count(*) FROM download_tasks WHERE log_store_name = 'EVENEMENTS' COLLATE ci) AS remote,
       (SELECT count(*) FROM local_tasks WHERE log_store_name = 'EVENEMENTS' COLLATE ci) AS local;
SELECT (SELECT count(*) FROM download_tasks WHERE log_store_name = 'ÉVÉNEMENTS' COLLATE ci) AS remote,
       (SELECT count(*) FROM local_tasks WHERE log_store_name = 'ÉVÉNEMENTS' COLLATE ci) AS local;
-- an IN list under loose: nginx-access and app-log, 441 and 441
SELECT (SELECT count(*) FROM download_tasks WHERE log_store_name COLLATE loose IN ('NGINXACCESS', 'APP LOG')) AS remote,
       (SELECT count(*) FROM local_tasks WHERE log_store_name COLLATE loose IN ('NGINXACCESS', 'APP LOG')) AS local;
-- <> under loose: 732 and 732
SELECT (SELECT count(*) FROM download_tasks WHERE log_store_name <> 'NGINXACCESS' COLLATE loose) AS remote,
       (SELECT count(*) FROM local_tasks WHERE log_store_name <> 'NGINXACCESS' COLLATE loose) AS local;
-- project: 'DEFAULT' under loose, 526 and 526 (right before the fix too)
SELECT (SELECT count(*) FROM download_tasks WHERE project = 'DEFAULT' COLLATE loose) AS remote,
       (SELECT count(*) FROM local_tasks WHERE project = 'DEFAULT' COLLATE loose) AS local;
SELECT (SELECT count(*) FROM loose_tasks WHERE project = 'DEFAULT') AS remote,
       (SELECT count(*) FROM local_tasks WHERE project = 'DEFAULT' COLLATE loose) AS local;
-- both at once: default's nginx-access, 191 and 191 (before the fix: 0 remote)
SELECT (SELECT count(*) FROM download_tasks WHERE project = 'DEFAULT' COLLATE loose
                                            AND log_store_name = 'NGINXACCESS' COLLATE loose) AS remote,
       (SELECT count(*) FROM local_tasks WHERE project = 'DEFAULT' COLLATE loose
                                         AND log_store_name = 'NGINXACCESS' COLLATE loose) AS local;
-- the default collation is still pushed down (Filter-free plans)
EXPLAIN (COSTS OFF) SELECT * FROM download_tasks WHERE log_store_name = 'nginx-access';
EXPLAIN (COSTS OFF) SELECT * FROM download_tasks WHERE log_store_name = 'NGINXACCESS' COLLATE loose;

DROP TABLE local_tasks;
DROP SERVER emu CASCADE;
DROP COLLATION loose;
DROP COLLATION ci_ai;
DROP COLLATION ci;
