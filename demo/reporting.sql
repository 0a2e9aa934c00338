-- bls_fdw worked example: scheduled reporting with pg_cron.
--
-- Needs a bls_fdw server with download_tasks (see README.md), and pg_cron
-- (Debian: postgresql-15-cron) loaded by the server:
--   shared_preload_libraries = 'pg_cron'
--   cron.database_name = '<this database>'
--   cron.use_background_workers = on     -- jobs run in background workers,
--                                        -- not through libpq connections
-- sql/reporting.sql runs this file against the emulator.

CREATE EXTENSION IF NOT EXISTS pg_cron;

-- 1. Task health per project and state, as a materialized view: reports
--    read it instantly and without calling BLS; pg_cron refreshes it.
CREATE MATERIALIZED VIEW task_health AS
SELECT project,
       state,
       count(*) AS tasks,
       count(*) FILTER (WHERE state = 'FAILED') AS failed,
       coalesce(sum(written_rows), 0) AS rows_written,
       (array_agg(failed_message ORDER BY updated_time DESC, uuid)
          FILTER (WHERE state = 'FAILED'))[1] AS last_failure_message
FROM download_tasks
GROUP BY project, state;

-- REFRESH ... CONCURRENTLY needs a unique index; with it, readers are never
-- blocked by a refresh
CREATE UNIQUE INDEX task_health_key ON task_health (project, state);

-- refresh every 5 minutes, in this database, as the current user (whose
-- user mapping supplies the BLS keys)
SELECT cron.schedule('bls-task-health', '*/5 * * * *',
                     'REFRESH MATERIALIZED VIEW CONCURRENTLY task_health') > 0
       AS scheduled;

-- what a dashboard reads
SELECT project, sum(tasks) AS tasks, sum(failed) AS failed,
       round(100.0 * sum(failed) / sum(tasks), 1) AS failed_pct,
       sum(rows_written) AS rows_written
FROM task_health
GROUP BY project
ORDER BY failed_pct DESC, project COLLATE "C";

-- 2. Failed tasks per owner: download_tasks joined with a table of our own.
CREATE TABLE project_owners (
  project text PRIMARY KEY,
  owner text NOT NULL,
  email text
);
INSERT INTO project_owners VALUES
  ('default', 'ops', 'ops@example.com'),
  ('prod-web', 'web', 'web@example.com'),
  ('analytics', 'data', 'data@example.com'),
  ('数据平台', 'data', 'data@example.com');
-- ('staging' has no owner yet: its failures are listed as unowned)

CREATE VIEW failed_tasks_by_owner AS
SELECT coalesce(o.owner, '(no owner)') AS owner, o.email,
       d.project, d.name, d.failed_code, d.failed_message, d.updated_time
FROM download_tasks d
LEFT JOIN project_owners o ON o.project = d.project
WHERE d.state = 'FAILED';

-- who has failures to look at
SELECT owner, count(*) AS failed_tasks, count(DISTINCT project) AS projects,
       max(updated_time) AS last_failure
FROM failed_tasks_by_owner
GROUP BY owner
ORDER BY failed_tasks DESC, owner;

-- one owner's latest failures
SELECT project, name, failed_code, failed_message
FROM failed_tasks_by_owner
WHERE owner = 'data'
ORDER BY updated_time DESC, name
LIMIT 5;
