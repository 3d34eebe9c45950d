# hongling — one non-recursive Makefile.
#
# Every directory contributes a fragment (common/module.mk, proto/module.mk,
# services/*/module.mk, tests/module.mk) so that `make -j` sees the whole
# graph: .proto -> generated header -> every object that includes it.
# Objects go to $(BUILD) (out of tree); `V=1` shows the full command lines.

BUILD   ?= build
CC      ?= cc
OPT     ?= -O2
SAN     ?=
PKGS    := libzmq libprotobuf-c libuv libmicrohttpd jansson libpq libcurl

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -g $(OPT) $(SAN) \
           -MMD -MP -I common -I tests/support -I $(BUILD)/gen $(PKG_CFLAGS)
LDFLAGS := $(SAN)
LDLIBS  := $(PKG_LIBS) -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

BIN := $(BUILD)/bin
.DEFAULT_GOAL := all
.PHONY: all run stop test soak asan asan-unit valgrind format format-check bench bench-stored clean deps \
        compose-test fuzz fuzz-build docs

# Fragments append to these.
BINARIES :=
TEST_BINARIES :=
ALL_OBJS :=

# Every program links the list of HL_* names the programs accept
# (services/known_keys.c): it is theirs, not libhl's.
HL_KEYS_OBJ := $(BUILD)/services/known_keys.o
ALL_OBJS += $(HL_KEYS_OBJ)

# $(call hl_program,NAME,DIR[,EXTRA_LIBS]): $(BIN)/NAME from DIR/*.c and libhl.
define hl_program
$(1)_OBJS := $$(patsubst %.c,$$(BUILD)/%.o,$$(wildcard $(2)/*.c))
ALL_OBJS += $$($(1)_OBJS)
BINARIES += $$(BIN)/$(1)
$$(BIN)/$(1): $$($(1)_OBJS) $$(HL_KEYS_OBJ) $$(LIBHL)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$($(1)_OBJS) $$(HL_KEYS_OBJ) $$(LIBHL) $$(LDLIBS) $(3)
endef

include proto/module.mk
include common/module.mk
include $(sort $(wildcard services/*/module.mk))
include tests/module.mk
include tests/fuzz/module.mk

all: $(BINARIES) $(TEST_BINARIES)

$(BUILD)/%.o: %.c | $(GEN_HEADERS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c | $(GEN_HEADERS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# deps installs what is missing (Debian packages only); run and test use it.
deps:
	$(Q)scripts/deps.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/run.sh

stop:
	$(Q)scripts/stop.sh

test:
	$(Q)scripts/deps.sh --test
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/run.sh

# Fault tests too long for `test` (over a minute on a busy machine):
# PostgreSQL stopped -m immediate five times under load.
soak:
	$(Q)scripts/deps.sh --test
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/run.sh --soak

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/bench.sh

# make bench with nothing stored and with a million stored, back to back
# (issue 8: the rate with 1M stored against the empty one, same session).
bench-stored: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/bench-stored.sh

# ASan + UBSan build in its own tree, then the whole suite against it.
asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all
	$(Q)BUILD=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 tests/run.sh

# Only the unit tests under ASan + UBSan (what .ci/run takes of `make asan`).
asan-unit: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    unit-tests
	$(Q)BUILD=build-asan HL_TESTS=unit ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 tests/run.sh

# libFuzzer harnesses (tests/fuzz/), built by clang with ASan and UBSan in
# build-fuzz; `make fuzz` runs each for HL_FUZZ_SECONDS (60), two at a time.
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
fuzz-build:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT=-O1 SAN="$(FUZZ_SAN)" \
	    fuzz-binaries

fuzz:
	$(Q)scripts/deps.sh --fuzz
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)BUILD=build-fuzz tests/fuzz/run.sh $${HL_FUZZ_SECONDS:-60}

# Unit tests under valgrind memcheck (the daemons run under it in the
# integration test when HL_VALGRIND=1).
valgrind: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-valgrind OPT=-O0 all
	$(Q)BUILD=build-valgrind HL_VALGRIND=1 HL_TEST_TIMEOUT_MULT=$${HL_TEST_TIMEOUT_MULT:-5} tests/run.sh

# docs/reporting.md, the analysts' data dictionary, from the catalogue of a
# freshly migrated database (a throwaway PostgreSQL); `make test` checks it.
docs: $(BIN)/hlctl
	$(Q)BUILD=$(BUILD) scripts/reporting-doc.sh --fresh >docs/reporting.md.new
	$(Q)mv docs/reporting.md.new docs/reporting.md
	@echo "  DOCS    docs/reporting.md"

# The docker-compose stack for real (starts its own dockerd if needed;
# skips with a message where no Docker engine can run). Not part of `test`.
compose-test:
	$(Q)tests/compose-test.sh

format:
	$(Q)clang-format -i $(shell git ls-files '*.c' '*.h')

# Fails naming every tracked .c/.h that `make format` would change.
format-check:
	$(Q)clang-format --dry-run --Werror $(shell git ls-files '*.c' '*.h')

clean:
	$(Q)rm -rf $(BUILD) build-asan build-valgrind build-fuzz

-include $(ALL_OBJS:.o=.d)
