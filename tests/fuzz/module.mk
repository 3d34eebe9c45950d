# tests/fuzz/: libFuzzer harnesses, one binary per tests/fuzz/fuzz_<name>.c,
# into $(BUILD)/fuzz/. They need clang: `make fuzz` builds them in
# build-fuzz (FUZZ_SAN below) and tests/fuzz/run.sh runs them, as does
# tests/run.sh when clang is present. Every harness links hl_fuzz.o, the
# objects of the services whose checks it reaches and libhl, as the
# daemons link them: the code fuzzed is the code that runs.

FUZZ_NAMES    := $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINARIES := $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_NAMES))
FUZZ_SERVICES := intake triage bounty alliance points
FUZZ_LINK_OBJS := $(BUILD)/tests/fuzz/hl_fuzz.o $(HL_KEYS_OBJ) \
                  $(filter-out %/main.o,$(patsubst %.c,$(BUILD)/%.o, \
                      $(wildcard $(patsubst %,services/%/*.c,$(FUZZ_SERVICES)))))
FUZZ_OBJS := $(BUILD)/tests/fuzz/hl_fuzz.o $(patsubst %,$(BUILD)/tests/fuzz/%.o,$(FUZZ_NAMES))
ALL_OBJS += $(FUZZ_OBJS)
.SECONDARY: $(FUZZ_OBJS)

$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(FUZZ_LINK_OBJS) $(LIBHL)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

.PHONY: fuzz-binaries
fuzz-binaries: $(FUZZ_BINARIES)

# The harnesses include service headers as "<svc>/<header>.h".
$(FUZZ_OBJS): CFLAGS += -I services
