# proto/: .proto files compiled by protoc-c into $(BUILD)/gen at build time.
PROTO_SRCS  := $(wildcard proto/*.proto)
PROTO_C     := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTO_SRCS))
PROTO_H     := $(PROTO_C:.c=.h)
GEN_HEADERS := $(PROTO_H)
.SECONDARY: $(PROTO_C) $(PROTO_H)

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/gen
	@$(if $(Q),echo "  PROTOC  $<")
	$(Q)protoc-c --proto_path=proto --c_out=$(BUILD)/gen $<
