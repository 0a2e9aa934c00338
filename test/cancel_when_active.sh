#!/usr/bin/env bash
# Cancel the backend whose query contains MARKER as soon as it is waiting
# on BLS (wait event Extension), polling for up to 20 s; used in the
# background by sql/cancel.sql, so that a slow machine cannot make the
# cancel arrive before the query has started.
#   test/cancel_when_active.sh MARKER
marker=$1
for _ in $(seq 1 200); do
	n=$(psql -X -A -t -q -d postgres -c "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND query NOT LIKE '%pg_stat_activity%' AND wait_event_type = 'Extension'" 2>/dev/null)
	[ "${n:-0}" -gt 0 ] && exit 0
	sleep 0.1
done
exit 1
