# tests/: one cmocka binary per file, into $(BUILD)/tests/.
#   tests/unit/test_<module>.c         libhl's modules
#   tests/unit/test_<svc>_<topic>.c    also links services/<svc>/*.o except main.o
#   tests/integration/test_<name>.c    whole-cluster tests (tests/support harness)
#   tests/soak/test_soak_<name>.c      long fault tests, `make soak` only
# tests/run.sh starts a throwaway PostgreSQL and runs them all (--soak: the soak ones).

TEST_SUPPORT_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))
ALL_OBJS += $(TEST_SUPPORT_OBJS)
TEST_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null) -lcurl

# $(call hl_test_svc,test_triage_rules) -> the service objects it links
hl_test_svc = $(if $(filter test_intake_% test_triage_% test_bounty_% test_points_% test_alliance_% test_hlctl_%,$(1)),$(filter-out %/main.o,$(patsubst %.c,$(BUILD)/%.o,$(wildcard services/$(word 2,$(subst _, ,$(1)))/*.c))))

define hl_test
ALL_OBJS += $$(BUILD)/$(2)/$(1).o
TEST_BINARIES += $$(BUILD)/tests/$(1)
$$(BUILD)/tests/$(1): $$(BUILD)/$(2)/$(1).o $$(call hl_test_svc,$(1)) $$(TEST_SUPPORT_OBJS) $$(HL_KEYS_OBJ) $$(LIBHL)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS) $$(TEST_LIBS) $(if $(filter test_hlctl_%,$(1)),-lqrencode -lpng)
endef

$(foreach t,$(basename $(notdir $(wildcard tests/unit/test_*.c))),$(eval $(call hl_test,$(t),tests/unit)))
$(foreach t,$(basename $(notdir $(wildcard tests/integration/test_*.c))),$(eval $(call hl_test,$(t),tests/integration)))
$(foreach t,$(basename $(notdir $(wildcard tests/soak/test_*.c))),$(eval $(call hl_test,$(t),tests/soak)))

# The unit tests alone (make asan-unit).
UNIT_TEST_BINARIES := $(patsubst %,$(BUILD)/tests/%,$(basename $(notdir $(wildcard tests/unit/test_*.c))))
.PHONY: unit-tests
unit-tests: $(UNIT_TEST_BINARIES)

# make bench's load generator.
$(eval $(call hl_program,hl-bench,tests/bench,-lcurl))

# Service tests include the service's own headers by name (test_<svc>_*.c
# gets -I services/<svc>), never by a relative path.
HL_TEST_SERVICES := intake triage bounty points alliance hlctl
$(foreach s,$(HL_TEST_SERVICES),$(eval $$(BUILD)/tests/unit/test_$(s)_%.o: CFLAGS += -I services/$(s)))
