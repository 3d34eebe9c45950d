# common/: libhl, the static library every daemon links.
# Migrations are compiled in (so an image needs no SQL files beside it).
HL_SRCS := $(wildcard common/hl_*.c)
HL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(HL_SRCS)) \
           $(patsubst $(BUILD)/gen/%.c,$(BUILD)/gen/%.o,$(PROTO_C)) \
           $(BUILD)/gen/hl_migrations.o
LIBHL   := $(BUILD)/lib/libhl.a
ALL_OBJS += $(HL_OBJS)

MIGRATION_SQL := $(sort $(wildcard migrations/*.sql))

$(BUILD)/gen/hl_migrations.c: $(MIGRATION_SQL) scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  EMBED   migrations")
	$(Q)scripts/embed-sql.sh $(MIGRATION_SQL) > $@.tmp && mv $@.tmp $@

$(LIBHL): $(HL_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^
