--
-- explain_analyze(command): the lines of an EXPLAIN ANALYZE command with the
-- row counts as whole numbers.  PostgreSQL 18 prints "rows=1.00" where
-- earlier versions print "rows=1"; the suites run on both.  Loaded with
--   \set ECHO none
--   \i sql/include/explain_analyze.sql
--   \set ECHO all
-- and called as SELECT explain_analyze('EXPLAIN (ANALYZE, ...) ...') AS "QUERY PLAN",
-- which prints as EXPLAIN itself does.
--
CREATE OR REPLACE FUNCTION explain_analyze(command text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	ln			text;
BEGIN
	FOR ln IN EXECUTE command
	LOOP
		RETURN NEXT regexp_replace(ln, '(rows=\d+)\.00\M', '\1', 'g');
	END LOOP;
END
$$;
