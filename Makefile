# SPDX-License-Identifier: GPL-2.0-or-later
#
# fpc: the Flashpods trust-policy compiler and its runtime.
#
#   make            build build/fpc, build/fp-tokend, build/fp-apid
#   make deps       install the Debian packages the build and tests need
#   make run        compile policies/default.fp into build/out
#   make check      build and run every test (last line: N passed, N failed)
#   make asan       the same suite built with -fsanitize=address,undefined
#   make fuzz       build the libFuzzer harnesses (clang) into $(B)/fuzz
#   make install    install binaries (PREFIX, DESTDIR)
#
# B selects the build directory, so several builds can live side by side.

B ?= build
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
REGEN ?=
FUZZ_RUNS ?= 20000

DEB_PKGS := build-essential pkg-config flex bison clang libclang-rt-14-dev \
	libnftnl-dev libmnl-dev libjansson-dev libmicrohttpd-dev \
	libprotobuf-c-dev protobuf-c-compiler libssl-dev libsqlite3-dev \
	nftables iproute2 iputils-ping curl socat rsync jq \
	podman runc slirp4netns uidmap busybox-static \
	nginx wrk hping3 nix-bin

SAN ?=
ifeq ($(SAN),asan)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif
ifeq ($(SAN),fuzz)
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -DFPC_FUZZ
endif

PKGS := libnftnl libmnl jansson libmicrohttpd libprotobuf-c openssl sqlite3
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE \
	-Icompiler -Iruntime/lib -I$(B)/gen $(PKG_CFLAGS)
# flex/bison/protoc-c output is not ours to lint
GEN_CFLAGS = $(ALL_CFLAGS) -Wno-unused-parameter -Wno-sign-compare \
	-Wno-unused-function -Wno-unused-but-set-variable
LDLIBS = $(PKG_LIBS) -lpthread

GEN_SRC := $(B)/gen/scanner.c $(B)/gen/parser.c $(B)/gen/policy.pb-c.c
GEN_HDR := $(B)/gen/scanner.h $(B)/gen/parser.h $(B)/gen/policy.pb-c.h
GEN_OBJ := $(GEN_SRC:$(B)/gen/%.c=$(B)/obj/gen/%.o)

COMPILER_SRC := $(filter-out compiler/main.c,$(wildcard compiler/*.c))
RTLIB_SRC := $(wildcard runtime/lib/*.c)
TOKEND_SRC := $(wildcard runtime/tokend/*.c)
APID_SRC := $(wildcard runtime/apid/*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)
BENCH_SRC := $(wildcard bench/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIBFPC := $(B)/libfpc.a
LIBFPRT := $(B)/libfprt.a
# each daemon is its main.c plus a library of the rest, which tools and
# fuzz harnesses link too
LIBTOKEND := $(if $(filter-out runtime/tokend/main.c,$(TOKEND_SRC)),$(B)/libtokend.a)
LIBAPID := $(if $(filter-out runtime/apid/main.c,$(APID_SRC)),$(B)/libapid.a)
ALL_LIBS = $(LIBFPC) $(LIBTOKEND) $(LIBAPID) $(LIBFPRT)
TOOLS := $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRC))
BENCHES := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))
BINS := $(B)/fpc $(if $(TOKEND_SRC),$(B)/fp-tokend) $(if $(APID_SRC),$(B)/fp-apid)

.PHONY: all deps run check asan fuzz fuzzers tools benches install clean
.DELETE_ON_ERROR:
.SUFFIXES:

all: $(BINS)

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

$(B)/gen/scanner.c $(B)/gen/scanner.h &: grammar/scanner.l
	@mkdir -p $(@D)
	flex --header-file=$(B)/gen/scanner.h -o $(B)/gen/scanner.c $<

$(B)/gen/parser.c $(B)/gen/parser.h &: grammar/parser.y
	@mkdir -p $(@D)
	bison -Wall -Werror --defines=$(B)/gen/parser.h -o $(B)/gen/parser.c $<

$(B)/gen/policy.pb-c.c $(B)/gen/policy.pb-c.h &: proto/policy.proto
	@mkdir -p $(@D)
	protoc-c --proto_path=proto --c_out=$(B)/gen $<

$(B)/obj/gen/%.o: $(B)/gen/%.c $(GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(GEN_CFLAGS) -c -o $@ $<

$(B)/obj/%.o: %.c $(GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBFPC): $(call obj,$(COMPILER_SRC)) $(GEN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBFPRT): $(call obj,$(RTLIB_SRC)) $(call obj,compiler/base.c) $(B)/obj/gen/policy.pb-c.o
	@rm -f $@
	ar rcs $@ $^

$(B)/fpc: $(call obj,compiler/main.c) $(LIBFPC) $(LIBFPRT)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libtokend.a: $(call obj,$(filter-out runtime/tokend/main.c,$(TOKEND_SRC)))
	@rm -f $@
	ar rcs $@ $^

$(B)/libapid.a: $(call obj,$(filter-out runtime/apid/main.c,$(APID_SRC)))
	@rm -f $@
	ar rcs $@ $^

$(B)/fp-tokend: $(call obj,runtime/tokend/main.c) $(LIBTOKEND) $(LIBFPRT)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/fp-apid: $(call obj,runtime/apid/main.c) $(LIBAPID) $(LIBFPRT)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# tests/tools/NAME.c and bench/NAME.c: one-file programs (signers, probes,
# generators, load clients) linked with every library
$(B)/tools/%: $(B)/obj/tests/tools/%.o $(ALL_LIBS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/%: $(B)/obj/bench/%.o $(ALL_LIBS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

tools: $(TOOLS)
benches: $(BENCHES)

run: deps all
	$(B)/fpc policies/default.fp -o $(B)/out

check: deps all tools
	@B=$(abspath $(B)) REGEN=$(REGEN) FUZZ_RUNS=$(FUZZ_RUNS) bash tests/run.sh

asan:
	$(MAKE) B=build/asan SAN=asan CC=gcc check

# libFuzzer harnesses: tests/fuzz/NAME.c -> $(B)/fuzz/NAME (clang)
fuzz:
	$(MAKE) B=$(B)/fuzzbuild SAN=fuzz CC=clang fuzzers
fuzzers: $(patsubst tests/fuzz/%.c,$(B)/%,$(FUZZ_SRC))
$(B)/fuzz_%: $(B)/obj/tests/fuzz/fuzz_%.o $(ALL_LIBS)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/fpc/policies
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 policies/default.fp $(DESTDIR)$(PREFIX)/share/fpc/policies/

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
