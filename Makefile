# bls_fdw: PostgreSQL foreign data wrapper for Baidu AI Cloud Log Service (BLS)

MODULE_big = bls_fdw
OBJS = \
	$(WIN32RES) \
	bls_fdw.o \
	src/aggregate.o \
	src/analyze.o \
	src/budget.o \
	src/bce_auth.o \
	src/connection.o \
	src/json_reader.o \
	src/convert.o \
	src/functions.o \
	src/ledger.o \
	src/log_query.o \
	src/modify.o \
	src/option.o \
	src/pager.o \
	src/pushdown.o \
	src/json_body.o \
	src/resource.o \
	src/scan_request.o \
	src/service_text.o \
	src/stats.o \
	src/response.o

EXTENSION = bls_fdw
DATA = bls_fdw--1.0.sql bls_fdw--1.1.sql bls_fdw--1.2.sql bls_fdw--1.3.sql bls_fdw--1.4.sql \
	bls_fdw--1.0--1.1.sql bls_fdw--1.1--1.2.sql bls_fdw--1.2--1.3.sql bls_fdw--1.3--1.4.sql
PGFILEDESC = "bls_fdw - foreign data wrapper for Baidu AI Cloud Log Service"

PG_CPPFLAGS = -I$(srcdir)/src
SHLIB_LINK = -lcurl -lcrypto

# Suites by topic; all of them talk to the emulator, which "make installcheck"
# starts and stops itself (test/emulators.sh), or takes from its caller.
REGRESS = options scan types pushdown readahead errors faults cancel security upgrade analyze reporting \
	lifecycle streaming collation encoding invalidation catalog writes logrecords \
	logrecords_plan writes_forms ledger distrust request_owner json_reader \
	logrecords_agg budget copy_batch analyze_projects page_cap logrecords_slices read_forms
REGRESS_OPTS = --load-extension=bls_fdw

EXTRA_CLEAN = test/unit/build

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every object sees the shared structs; rebuild all when a header changes.
$(filter %.o,$(OBJS)): $(wildcard $(srcdir)/src/*.h)

# pg_regress runs under test/emulators.sh, which provides the emulators.
pg_regress_bin := $(top_builddir)/src/test/regress/pg_regress
pg_regress_installcheck := $(subst $(pg_regress_bin),$(srcdir)/test/emulators.sh run $(pg_regress_bin),$(pg_regress_installcheck))

# The PGXN distribution: the committed tree less what .gitattributes marks
# export-ignore, named by META.json's version.
DIST_VERSION = $(shell python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' $(srcdir)/META.json)
dist:
	git -C $(srcdir) archive --format=zip --prefix=$(EXTENSION)-$(DIST_VERSION)/ \
		-o $(abspath $(EXTENSION)-$(DIST_VERSION).zip) HEAD
.PHONY: dist
