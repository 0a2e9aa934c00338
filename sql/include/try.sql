--
-- try(stmt): run stmt and report its error, if any, as a NOTICE
-- "caught SQLSTATE: message" (a cancel too), so that a failing statement
-- runs in a subtransaction: the WARNING of what its abort leaves on BLS
-- (the ledger) comes first, then the NOTICE, in a fixed order.  Loaded as
-- sql/include/emu_server.sql is.
--
CREATE OR REPLACE FUNCTION try(stmt text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE stmt;
  RAISE NOTICE 'no error';
EXCEPTION
  WHEN query_canceled THEN RAISE NOTICE 'caught %: %', SQLSTATE, SQLERRM;
  WHEN OTHERS THEN RAISE NOTICE 'caught %: %', SQLSTATE, SQLERRM;
END $$;
