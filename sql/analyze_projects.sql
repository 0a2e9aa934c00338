--
-- ANALYZE of the catalog's projects samples what a scan returns: the
-- default project once, whether ListProject lists it or gives it only
-- beside the list ("default").
--
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset
\set emu_import 'LIMIT TO (projects)'
\set ECHO none
\i sql/include/emu_server.sql
\set ECHO all
CREATE FOREIGN TABLE projects2 (uuid text, name text, is_default boolean)
  SERVER emu OPTIONS (resource 'projects', page_size '2', analyze_max_pages '2');
-- what ANALYZE stored against what a scan returns
-- (the names in the statistics: every name sampled, the table being small)
CREATE FUNCTION analyzed(rel regclass) RETURNS TABLE (reltuples real, scanned bigint, default_sampled boolean)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT c.reltuples, (SELECT count(*) FROM %s),
            (SELECT ''default'' = ANY (s.histogram_bounds::text::text[]) FROM pg_stats s
             WHERE s.schemaname = ''public'' AND s.tablename = c.relname AND s.attname = ''name'')
     FROM pg_class c WHERE c.oid = %s', rel, rel::oid);
END $$;

-- listed: every page is read, the default project sampled once
ANALYZE projects;
SELECT * FROM analyzed('projects');
-- only beside the list: the same
\! python3 test/bls_emulator.py ctl config '{"project_default_listed": false}'
ANALYZE projects;
SELECT * FROM analyzed('projects');
-- two pages of two read: the default project is in the sample beside them
-- (the row count is the service's: it counts the listed projects)
ANALYZE projects2;
SELECT * FROM analyzed('projects2');

\! python3 test/bls_emulator.py ctl reset
DROP FUNCTION analyzed(regclass);
DROP SERVER emu CASCADE;
