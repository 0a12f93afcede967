# invoicing: PGXS build.  See README.md for the two commands most people need.

EXTENSION  = invoicing
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big = $(EXTENSION)
OBJS       = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA       = $(sort $(wildcard sql/$(EXTENSION)--*.sql))

PKG_CONFIG ?= pkg-config
ifneq ($(shell $(PKG_CONFIG) --atleast-version=2.10 jansson && echo ok),ok)
$(error jansson >= 2.10 not found via $(PKG_CONFIG); install libjansson-dev)
endif
PG_CPPFLAGS += -Isrc $(shell $(PKG_CONFIG) --cflags jansson)
# -Wclobbered is noise around PG_TRY (PostgreSQL itself says so); volatile is
# used where PG_TRY needs it.
PG_CFLAGS   += -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-clobbered
# The server binary exports a C function named json_object (the SQL function
# json_object()), which would shadow jansson's json_object() for a dynamically
# linked libjansson and crash the backend.  So jansson is linked statically and
# its symbols are hidden: this module gets a private copy that nothing else can
# interpose, and that no other module shares (its allocator stays malloc).
SHLIB_LINK  += -Wl,--exclude-libs,libjansson.a -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs-only-l jansson) -Wl,-Bdynamic $(shell $(PKG_CONFIG) --libs-only-L jansson)

REGRESS        = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_OPTS   = --inputdir=test --outputdir=test/out
ISOLATION      = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --outputdir=test/out_iso --load-extension=$(EXTENSION)

EXTRA_CLEAN = test/out test/out_iso

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: bench
bench:
	bench/run.sh
