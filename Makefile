# asin-tools: one GNU make file.  Tools, unit tests and test helpers are
# found by name, so adding bin/asin-x.c or tests/unit/x.c needs no edit here:
#   bin/asin-*.c         a one-file tool          -> $(BUILD)/bin/asin-*
#   bin/asin-*/*.c       a tool with its own folder
#   tests/unit/*.c       a C unit test (TAP)     -> $(BUILD)/tests/unit/*
#   tests/tools/*.c      a test helper program   -> $(BUILD)/tests/*
#   tests/fuzz/*.c       a libFuzzer target      -> build-fuzz/*

VERSION = 0.1.0
PREFIX ?= /usr/local
MANPREFIX ?= $(PREFIX)/share/man
BUILD ?= build

CC ?= cc
OPTFLAGS ?= -O2
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE $(OPTFLAGS) -g -Wall -Wextra -Werror \
	-Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter -fstack-protector-strong -fno-plt \
	-DASIN_VERSION='"$(VERSION)"' -Icommon
HARDEN = -D_FORTIFY_SOURCE=2
CFLAGS ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(HARDEN) $(SANFLAGS) $(CFLAGS)
CURL_LIBS := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
SQLITE_LIBS := $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
PQ_LIBS := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)
LDFLAGS ?=
LDLIBS = -ljq $(CURL_LIBS) $(SQLITE_LIBS) $(PQ_LIBS) -lm
ALL_LDFLAGS = -Wl,-z,relro,-z,now $(SANFLAGS) $(LDFLAGS)

COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libasin.a

TOOL_C := $(sort $(wildcard bin/asin-*.c))
TOOL_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard bin/asin-*/*.c))))
TOOLS := $(TOOL_C:bin/%.c=$(BUILD)/bin/%) $(TOOL_DIRS:bin/%=$(BUILD)/bin/%)

UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNITS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
TTOOL_SRC := $(filter-out tests/tools/faultinject.c,$(sort $(wildcard tests/tools/*.c)))
TTOOLS := $(TTOOL_SRC:tests/tools/%.c=$(BUILD)/tests/%) $(BUILD)/tests/faultinject.so
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*.c))

MANS := $(sort $(wildcard man/*.1 man/*.7))

# asin-db's migrations, compiled into libasin by common/db.c.
DB_SQL := $(sort $(wildcard schemas/db-*.sql))
DB_GEN := $(BUILD)/gen/dbschema.h

.PHONY: all deps check test unit sanitize bench fuzz demo install uninstall \
	clean lint hardening valgrind
.DELETE_ON_ERROR:
# Objects are intermediates of the pattern rules: keep them, or every
# `make demo` deletes them and the next `make` compiles the suite again.
.SECONDARY:

all: $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(DB_GEN): $(DB_SQL) schemas/embed-sql.sh
	@mkdir -p $(@D)
	sh schemas/embed-sql.sh $(DB_SQL) >$@.tmp && mv $@.tmp $@
$(BUILD)/obj/common/db.o: $(DB_GEN)
$(BUILD)/obj/common/db.o: ALL_CFLAGS += -I$(BUILD)/gen

# The same migrations for PostgreSQL, through the one dialect script.
DBPG_GEN := $(BUILD)/gen/dbschema-pg.h
$(DBPG_GEN): $(DB_SQL) schemas/embed-sql.sh schemas/pg-dialect.pl
	@mkdir -p $(BUILD)/gen/pg
	for f in $(DB_SQL); do \
	    perl schemas/pg-dialect.pl $$f >$(BUILD)/gen/pg/$${f##*/} || exit 1; \
	done
	sh schemas/embed-sql.sh $(DB_SQL:schemas/%=$(BUILD)/gen/pg/%) | \
	    sed 's/db_migrations/dbpg_migrations/' >$@.tmp
	perl schemas/pg-dialect.pl --checks $(DB_SQL) >>$@.tmp && mv $@.tmp $@
$(BUILD)/obj/common/dbpg.o: $(DBPG_GEN)
$(BUILD)/obj/common/dbpg.o: ALL_CFLAGS += -I$(BUILD)/gen $(PQ_CFLAGS)

$(LIB): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $(COMMON_OBJ)

$(BUILD)/bin/%: $(BUILD)/obj/bin/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# A tool with its own folder links every object in it.
define dirtool
$(BUILD)/bin/$(notdir $(1)): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(1)/*.c)) $(LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIB) $$(LDLIBS)
endef
$(foreach d,$(TOOL_DIRS),$(eval $(call dirtool,$(d))))

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/tools/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The fault injector is an LD_PRELOAD shim, not a program: no libasin, no
# sanitizers (it replaces malloc), no -fno-plt (it calls through dlsym).
$(BUILD)/tests/faultinject.so: tests/tools/faultinject.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -fPIC -shared \
	    -o $@ tests/tools/faultinject.c -ldl

unit: $(UNITS) $(TTOOLS)

deps:
	@sh tests/install-deps.sh

# The README's test command, and all that .ci/run runs.
check: deps
	$(MAKE) all unit
	BUILD=$(BUILD) sh tests/run-check.sh

# The suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: deps
	$(MAKE) BUILD=build-san OPTFLAGS=-O1 HARDEN= \
	    SANFLAGS='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
	    all unit
	BUILD=build-san ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    sh tests/run-check.sh

# Small runs of every tool under valgrind memcheck (tests/valgrind.sh).
valgrind: all unit
	BUILD=$(BUILD) sh tests/valgrind.sh

# The long forms of make check's hardening tests: the fault walk over
# every call (tests/faultwalk.bats), KILL_ROUNDS kill -9 rounds
# (tests/kill.bats), the hostile corpus with a 1 GB line
# (tests/conventions.bats), then valgrind.  Cases tried per tool go to
# $(BUILD)/hardening/.
KILL_ROUNDS ?= 20
hardening: all unit
	rm -rf $(BUILD)/hardening
	BUILD=$(BUILD) FAULT_WALK=full bats --tap tests/faultwalk.bats
	BUILD=$(BUILD) KILL_ROUNDS=$(KILL_ROUNDS) bats --tap tests/kill.bats
	BUILD=$(BUILD) HOSTILE_LINE_MB=1024 bats --tap \
	    --filter 'hostile corpus|megabytes' tests/conventions.bats
	BUILD=$(BUILD) sh tests/valgrind.sh
	@cat $(BUILD)/hardening/*.txt

lint:
	@for m in $(MANS); do mandoc -Tlint -W warning $$m || exit 1; done

bench: all unit
	BUILD=$(BUILD) sh tests/bench/run.sh

# libFuzzer targets; FUZZ_SECONDS per target (default 600), FUZZ_TARGET
# one of them.  A target's " * FUZZ-LINK:" comment line names the tool
# sources (never a main.c) it needs besides libasin ("FUZZ-LDFLAGS:" its
# link flags), tests/fuzz/NAME.dict
# and NAME.options (libFuzzer flags, after the defaults so they win) are used
# when present; everything is built
# once per file in build-fuzz with clang and the same -Werror flags (but
# clang, unlike gcc, also wants literal formats in the vprintf wrappers).
FUZZ_SECONDS ?= 600
FUZZ_CC ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OPT ?= -O1 -g
FUZZ_CFLAGS = $(CFLAGS_BASE) -Wno-format-nonliteral $(FUZZ_OPT) \
	-fno-omit-frame-pointer $(FUZZ_SAN) \
	-fsanitize=fuzzer-no-link -I$(BUILD)/gen $(PQ_CFLAGS)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_RUN = $(or $(FUZZ_TARGET),$(FUZZ_NAMES))
FUZZ_LIB := $(FUZZ_BUILD)/libasin.a
fuzz_link = $(shell sed -n 's/^ \* FUZZ-LINK://p' tests/fuzz/$(1).c)
fuzz_ldflags = $(shell sed -n 's/^ \* FUZZ-LDFLAGS://p' tests/fuzz/$(1).c)

$(FUZZ_BUILD)/obj/%.o: %.c $(DB_GEN) $(DBPG_GEN)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(COMMON_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
	rm -f $@
	ar rcs $@ $^

define fuzztarget
$(FUZZ_BUILD)/$(1): $(FUZZ_BUILD)/obj/tests/fuzz/$(1).o \
    $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(call fuzz_link,$(1))) $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(call fuzz_ldflags,$(1)) \
	    -o $$@ $$(filter %.o,$$^) $(FUZZ_LIB) $(LDLIBS)
endef
$(foreach t,$(FUZZ_NAMES),$(eval $(call fuzztarget,$(t))))

fuzz: $(addprefix $(FUZZ_BUILD)/,$(FUZZ_RUN))
	@for n in $(FUZZ_RUN); do \
	    echo "fuzz: $$n"; \
	    mkdir -p $(FUZZ_BUILD)/$$n.corpus; \
	    d=; test -f tests/fuzz/$$n.dict && d=-dict=tests/fuzz/$$n.dict; \
	    $(FUZZ_BUILD)/$$n $$d -max_total_time=$(FUZZ_SECONDS) -timeout=25 \
	        -rss_limit_mb=2048 $$(cat tests/fuzz/$$n.options 2>/dev/null) \
	        -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_BUILD)/$$n- $(FUZZ_BUILD)/$$n.corpus \
	        tests/fuzz/$$n.seed || exit 1; \
	done

# Like check: install what is missing first, so a fresh machine runs it.
demo: deps
	$(MAKE) all unit
	BUILD=$(BUILD) sh pipelines/demo.sh

# asin-fetch finds its provider profiles in ../share/asin-tools/providers
# beside its binary.
install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 \
	    $(DESTDIR)$(MANPREFIX)/man7 \
	    $(DESTDIR)$(PREFIX)/share/asin-tools/providers \
	    $(DESTDIR)$(PREFIX)/share/asin-tools/schemas
	for t in $(TOOLS); do cp -f $$t $(DESTDIR)$(PREFIX)/bin/; done
	cp -f schemas/providers/*.json \
	    $(DESTDIR)$(PREFIX)/share/asin-tools/providers/
	cp -f schemas/*.json $(DESTDIR)$(PREFIX)/share/asin-tools/schemas/
	cp -f schemas/*.tmpl $(DESTDIR)$(PREFIX)/share/asin-tools/schemas/
	# The daily and training jobs and the container scripts, so an
	# installed tree (the Docker image) runs them without a checkout.
	mkdir -p $(DESTDIR)$(PREFIX)/share/asin-tools/pipelines/sql \
	    $(DESTDIR)$(PREFIX)/share/asin-tools/deploy
	cp -f pipelines/*.mk $(DESTDIR)$(PREFIX)/share/asin-tools/pipelines/
	cp -f pipelines/sql/*.sql \
	    $(DESTDIR)$(PREFIX)/share/asin-tools/pipelines/sql/
	cp -f deploy/*.sh $(DESTDIR)$(PREFIX)/share/asin-tools/deploy/
	for m in $(filter %.1,$(MANS)); do \
	    cp -f $$m $(DESTDIR)$(MANPREFIX)/man1/; done
	for m in $(filter %.7,$(MANS)); do \
	    cp -f $$m $(DESTDIR)$(MANPREFIX)/man7/; done

uninstall:
	for t in $(notdir $(TOOLS)); do rm -f $(DESTDIR)$(PREFIX)/bin/$$t; done
	rm -rf $(DESTDIR)$(PREFIX)/share/asin-tools
	for m in $(notdir $(MANS)); do \
	    rm -f $(DESTDIR)$(MANPREFIX)/man1/$$m $(DESTDIR)$(MANPREFIX)/man7/$$m; \
	done

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
