# bls_fdw: PostgreSQL foreign data wrapper for Baidu AI Cloud Log Service (BLS)

MODULE_big = bls_fdw
OBJS = \
	$(WIN32RES) \
	bls_fdw.o \
	src/analyze.o \
	src/bce_auth.o \
	src/connection.o \
	src/convert.o \
	src/log_query.o \
	src/modify.o \
	src/option.o \
	src/pager.o \
	src/pushdown.o \
	src/request.o \
	src/resource.o \
	src/scan_request.o \
	src/stats.o \
	src/task_json.o

EXTENSION = bls_fdw
DATA = bls_fdw--1.0.sql bls_fdw--1.1.sql bls_fdw--1.2.sql bls_fdw--1.3.sql \
	bls_fdw--1.0--1.1.sql bls_fdw--1.1--1.2.sql bls_fdw--1.2--1.3.sql
PGFILEDESC = "bls_fdw - foreign data wrapper for Baidu AI Cloud Log Service"

PG_CPPFLAGS = -I$(srcdir)/src
SHLIB_LINK = -lcurl -ljson-c -lcrypto

# Suites by topic; all of them talk to the emulator that test/run_tests.sh starts.
REGRESS = options scan types pushdown readahead errors faults cancel security upgrade analyze reporting \
	lifecycle streaming collation encoding invalidation catalog writes logrecords distrust
REGRESS_OPTS = --load-extension=bls_fdw

EXTRA_CLEAN = test/unit/build

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every object sees the shared structs; rebuild all when a header changes.
$(filter %.o,$(OBJS)): $(wildcard $(srcdir)/src/*.h)
