# berth: one GNU Makefile for the library, services, gateway, CLI and tests.
#
#   make deps    install every Debian package the build, tests and runtime need
#   make         build everything under build/
#   make test    unit + integration tests; last line "N passed, N failed"
#   make asan    the same tests built with -fsanitize=address,undefined
#   make lint    banned functions, cppcheck, clang-format --dry-run
#   make run     the all-in-one default in the foreground
#   make bench   the benchmarks (ratios against the engine / bare nng)
#   make valgrind  the all-in-one under valgrind, driven over REST

BUILD   ?= build
CC      ?= cc
SAN     ?=
OPT     ?= -O2

# ASAN=1: the same targets built with AddressSanitizer and UBSan, apart.
ifeq ($(ASAN),1)
BUILD   := build/asan
OPT     := -O1 -fno-omit-frame-pointer
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -Werror
CFLAGS  := -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) -fno-strict-aliasing \
           -MMD -MP -I. -I$(BUILD)/gen $(SAN)
LDFLAGS := $(SAN)
LDLIBS  := -lnng -lpthread -lprotobuf-c -lcurl -lsqlite3 -lmicrohttpd \
           -ljansson -larchive -lgit2


# Debian 12 packages: build, tests (engine, registry, image making) and lint.
DEPS_PKGS := build-essential pkg-config ca-certificates curl git \
	libnng-dev libprotobuf-c-dev protobuf-c-compiler libcurl4-openssl-dev \
	libgit2-dev libsqlite3-dev libmicrohttpd-dev libjansson-dev \
	libarchive-dev libfyaml-dev libcmocka-dev \
	docker.io docker-registry busybox-static iproute2 procps \
	podman catatonit openssh-server openssh-client \
	cppcheck clang-format valgrind

PROTOS   := $(wildcard proto/berth/v1/*.proto)
GEN_C    := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
GEN_H    := $(GEN_C:.c=.h)
GEN_O    := $(GEN_C:.c=.o)

LIB_SRC      := $(wildcard lib/*.c)
RUNTIME_SRC  := $(filter-out %/main.c,$(wildcard services/runtime/*.c))
GATEWAY_SRC  := $(filter-out %/main.c,$(wildcard gateway/*.c))
CLI_SRC      := $(wildcard cli/*.c)
SDK_SRC      := $(wildcard sdk/*.c)
EXAMPLE_SRC  := $(wildcard examples/*.c)
UNIT_SRC     := $(wildcard tests/unit/test_*.c)
INTEG_SRC    := $(wildcard tests/integration/test_*.c)
TESTLIB_SRC  := $(wildcard tests/support/*.c)
BENCH_SRC    := $(wildcard bench/bench_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBBERTH     := $(BUILD)/lib/libberth.a
LIBRUNTIME   := $(BUILD)/lib/libberth-runtime.a
LIBGATEWAY   := $(BUILD)/lib/libberth-gateway.a
LIBTESTSUP   := $(BUILD)/lib/libberth-testsupport.a
LIBSDK       := $(BUILD)/lib/libberth-sdk.a
EXAMPLE_BINS := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRC))
BERTH_BIN    := $(BUILD)/bin/berth
UNIT_BINS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
INTEG_BINS   := $(patsubst tests/integration/%.c,$(BUILD)/tests/%,$(INTEG_SRC))
BENCH_BINS   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

# Everything above the library links these, services before the library.
STACK := $(LIBGATEWAY) $(LIBRUNTIME) $(LIBBERTH)

.PHONY: all deps test unit integration asan lint run bench valgrind clean
# Keep generated sources and objects that make would treat as intermediate.
.SECONDARY:

all: $(BERTH_BIN) $(UNIT_BINS) $(INTEG_BINS) $(BENCH_BINS) $(EXAMPLE_BINS)

deps:
	@if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root (apt-get)"; exit 1; fi
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEPS_PKGS)

# --- generated protobuf-c code (never committed) ---
$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c -Iproto --c_out=$(BUILD)/gen $<

# The generated code is not ours to lint: build it without -Werror.
$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c
	$(CC) -std=c11 -g $(OPT) -I$(BUILD)/gen $(SAN) -c -o $@ $<

# Every object waits for the generated headers.
$(BUILD)/obj/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBBERTH): $(call obj,$(LIB_SRC)) $(GEN_O)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBRUNTIME): $(call obj,$(RUNTIME_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBGATEWAY): $(call obj,$(GATEWAY_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The C SDK: programs link it with libberth only (no services inside).
$(LIBSDK): $(call obj,$(SDK_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(LIBSDK) $(LIBBERTH)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBSDK) $(LIBBERTH) $(LDLIBS)

$(LIBTESTSUP): $(call obj,$(TESTLIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BERTH_BIN): $(call obj,$(CLI_SRC)) $(STACK)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(call obj,$(CLI_SRC)) $(STACK) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBTESTSUP) $(LIBSDK) $(STACK)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBTESTSUP) $(LIBSDK) $(STACK) $(LDLIBS) -lcmocka

$(BUILD)/tests/%: $(BUILD)/obj/tests/integration/%.o $(LIBTESTSUP) $(LIBSDK) $(STACK)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBTESTSUP) $(LIBSDK) $(STACK) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBTESTSUP) $(LIBSDK) $(STACK)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBTESTSUP) $(LIBSDK) $(STACK) $(LDLIBS)

# --- tests ---
test: all
	BUILD=$(BUILD) tests/run

unit: all
	BUILD=$(BUILD) tests/run --unit

integration: all
	BUILD=$(BUILD) tests/run --integration

asan:
	$(MAKE) ASAN=1 test

bench: all
	BUILD=$(BUILD) bench/run

# berth serve under valgrind, driven over REST: no errors, no leaks, no
# stray descriptors (not with ASAN=1: valgrind cannot run ASan binaries).
valgrind: $(BERTH_BIN)
	bash -c '. tests/harness/engine-up && tests/valgrind/serve-smoke $(BERTH_BIN); \
	  rc=$$?; tests/harness/engine-down; exit $$rc'

run: $(BERTH_BIN)
	$(BERTH_BIN) serve

# --- lint ---
BANNED := strcpy sprintf strcat gets atoi strtok system popen
SRC_ALL = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

lint:
	@bad=0; for f in $(BANNED); do \
	  if grep -nE "\b$$f\s*\(" $(SRC_ALL); then bad=1; fi; done; \
	  if [ $$bad = 1 ]; then echo "lint: banned function used"; exit 1; fi
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	  --inline-suppr --suppress=missingIncludeSystem -I. $(SRC_ALL)
	clang-format --dry-run --Werror $(SRC_ALL)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
