--
-- Scheduled reporting with pg_cron: demo/reporting.sql against the emulator.
-- The cluster runs with shared_preload_libraries = 'pg_cron',
-- cron.database_name = 'contrib_regression' and
-- cron.use_background_workers = on (test/run_tests.sh).
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;

-- the worked example, as the README shows it
\i demo/reporting.sql

-- the job is in cron.job, for this database and user
SELECT jobname, schedule, command, database = current_database() AS this_db,
       username = current_user AS this_user, active
FROM cron.job ORDER BY jobid;

-- the job's command, run here, gives exactly the direct aggregate
REFRESH MATERIALIZED VIEW CONCURRENTLY task_health;
CREATE TEMP VIEW direct AS
SELECT project, state, count(*) AS tasks,
       count(*) FILTER (WHERE state = 'FAILED') AS failed,
       coalesce(sum(written_rows), 0) AS rows_written,
       (array_agg(failed_message ORDER BY updated_time DESC, uuid)
          FILTER (WHERE state = 'FAILED'))[1] AS last_failure_message
FROM download_tasks GROUP BY project, state;
SELECT count(*) AS view_rows,
       (SELECT count(*) FROM (TABLE task_health EXCEPT TABLE direct) a) AS only_in_view,
       (SELECT count(*) FROM (TABLE direct EXCEPT TABLE task_health) b) AS only_direct
FROM task_health;
SELECT project, tasks, last_failure_message FROM task_health
WHERE state = 'FAILED' ORDER BY project COLLATE "C";
SELECT sum(tasks) AS tasks, sum(failed) AS failed, sum(rows_written) AS rows_written
FROM task_health;

-- every failed task is listed once, under its owner or as unowned
SELECT (SELECT count(*) FROM failed_tasks_by_owner) AS listed,
       (SELECT count(*) FROM download_tasks WHERE state = 'FAILED') AS failed;

-- pg_cron itself runs the refresh.  Debian 12's pg_cron (1.4) schedules by
-- the minute at best, so this waits for the next minute (at most ~75 s).
-- Seven new tasks arrive at the service first: the refreshed view has them.
SELECT tasks FROM task_health WHERE project = 'staging' AND state = 'WAITING';
\! python3 test/bls_emulator.py ctl fault '{"type": "insert_head", "n": 7, "project": "staging"}'
SELECT cron.schedule('bls-task-health-test', '* * * * *',
                     'REFRESH MATERIALIZED VIEW CONCURRENTLY task_health') > 0
       AS scheduled;
DO $$
BEGIN
  FOR i IN 1..150 LOOP
    EXIT WHEN EXISTS (SELECT FROM cron.job_run_details r JOIN cron.job j USING (jobid)
                      WHERE j.jobname = 'bls-task-health-test'
                        AND r.status IN ('succeeded', 'failed'));
    PERFORM pg_sleep(0.5);
  END LOOP;
END $$;
SELECT r.status, r.return_message
FROM cron.job_run_details r JOIN cron.job j USING (jobid)
WHERE j.jobname = 'bls-task-health-test'
ORDER BY r.runid LIMIT 1;
SELECT tasks FROM task_health WHERE project = 'staging' AND state = 'WAITING';
SELECT count(*) AS only_in_view FROM (TABLE task_health EXCEPT TABLE direct) a;

SELECT cron.unschedule('bls-task-health-test');
SELECT cron.unschedule('bls-task-health');
SELECT count(*) FROM cron.job;

\! python3 test/bls_emulator.py ctl reset
DROP VIEW direct, failed_tasks_by_owner;
DROP MATERIALIZED VIEW task_health;
DROP TABLE project_owners;
DROP EXTENSION pg_cron;
DROP SERVER emu CASCADE;
