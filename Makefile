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
#   make install    install binaries, the default policy and man pages (PREFIX, DESTDIR)
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
	nginx wrk hping3 nix-bin wireguard-go wireguard-tools python3 \
	python3-jsonschema python3-yaml chromium man-db openssl

SAN ?=
ifeq ($(SAN),asan)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif
ifeq ($(SAN),fuzz)
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -DFPC_FUZZ
endif

# Libraries by binary: each links only what it uses. pkg-config failing is
# an error that says which package (run `make deps`), never silence.
FPC_PKGS := libnftnl libmnl jansson libcrypto libprotobuf-c
TOKEND_PKGS := jansson libmicrohttpd libcrypto libprotobuf-c
APID_PKGS := jansson libmicrohttpd sqlite3 libprotobuf-c
# runtime/lib: the bundle (protobuf-c) and the daemons' shared HTTP code
RTLIB_PKGS := jansson libmicrohttpd libprotobuf-c
ALL_PKGS := $(sort $(FPC_PKGS) $(TOKEND_PKGS) $(APID_PKGS))
pkgconf = $(strip $(eval _pc := $(shell pkg-config $(1) $(2) 2>&1))$(if \
	$(filter 0,$(.SHELLSTATUS)),$(_pc),$(error pkg-config $(1) $(2) failed: \
	$(_pc) (install the -dev packages: make deps))))

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
BASE_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE $(CPPFLAGS)

# The layers, bottom up. Each may include the headers of the layers named in
# its -I list and no others, so a wrong include does not compile
# (docs/HACKING.md draws the picture):
#   common/           arena, buffers, files, numbers
#   runtime/lib/      the bundle loader and what both daemons share
#   compiler/front/   text -> Policy (with grammar/)
#   compiler/back/    Policy -> Ruleset IR -> artifacts
#   compiler/prove/   the prover and the commands built on it
#   compiler/kernel/  netlink: apply, verify-live
#   compiler/*.c      the driver (main.c, compile.c)
#   runtime/tokend/, runtime/apid/   the daemons
I_COMMON := -Icommon
I_RTLIB := $(I_COMMON) -Iruntime/lib -I$(B)/gen
I_FRONT := $(I_RTLIB) -Icompiler/front
I_BACK := $(I_FRONT) -Icompiler/back
I_PROVE := $(I_BACK) -Icompiler/prove
I_KERNEL := $(I_PROVE) -Icompiler/kernel
I_DRIVER := $(I_KERNEL) -Icompiler
I_TOKEND := $(I_RTLIB) -Iruntime/tokend
I_APID := $(I_RTLIB) -Iruntime/apid
# tests/tools, tests/fuzz and bench reach into any layer
I_ALL := $(I_DRIVER) -Iruntime/tokend -Iruntime/apid

# flex/bison/protoc-c output is not ours to lint
GEN_WARN := -Wno-unused-parameter -Wno-sign-compare -Wno-unused-function \
	-Wno-unused-but-set-variable

GRAMMAR_HDR := $(B)/gen/scanner.h $(B)/gen/parser.h
PB_HDR := $(B)/gen/policy.pb-c.h
GEN_OBJ := $(B)/obj/gen/scanner.o $(B)/obj/gen/parser.o $(B)/obj/gen/policy.pb-c.o

layer_src = $(wildcard $(1)/*.c)
COMMON_SRC := $(call layer_src,common)
RTLIB_SRC := $(call layer_src,runtime/lib)
FRONT_SRC := $(call layer_src,compiler/front)
BACK_SRC := $(call layer_src,compiler/back)
PROVE_SRC := $(call layer_src,compiler/prove)
KERNEL_SRC := $(call layer_src,compiler/kernel)
DRIVER_SRC := $(filter-out compiler/main.c,$(call layer_src,compiler))
TOKEND_SRC := $(call layer_src,runtime/tokend)
APID_SRC := $(call layer_src,runtime/apid)
TOOL_SRC := $(wildcard tests/tools/*.c)
BENCH_SRC := $(wildcard bench/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

# Per-layer flags and order-only generated headers (the first build makes
# them before compiling; afterwards -MMD's .d files say exactly which object
# includes which generated header, so editing parser.y rebuilds the front
# end only).
$(call obj,$(COMMON_SRC)): LAYER_I := $(I_COMMON)
$(call obj,$(RTLIB_SRC)): LAYER_I := $(I_RTLIB)
$(call obj,$(FRONT_SRC)): LAYER_I := $(I_FRONT)
$(call obj,$(BACK_SRC)): LAYER_I := $(I_BACK)
$(call obj,$(PROVE_SRC)): LAYER_I := $(I_PROVE)
$(call obj,$(KERNEL_SRC)): LAYER_I := $(I_KERNEL)
$(call obj,$(DRIVER_SRC) compiler/main.c): LAYER_I := $(I_DRIVER)
$(call obj,$(TOKEND_SRC)): LAYER_I := $(I_TOKEND)
$(call obj,$(APID_SRC)): LAYER_I := $(I_APID)
$(call obj,$(TOOL_SRC) $(BENCH_SRC) $(FUZZ_SRC)): LAYER_I := $(I_ALL)
$(B)/obj/gen/scanner.o $(B)/obj/gen/parser.o: LAYER_I := $(I_FRONT)
$(B)/obj/gen/policy.pb-c.o: LAYER_I := $(I_RTLIB)

$(call obj,$(TOKEND_SRC)): LAYER_PKGS := $(TOKEND_PKGS)
$(call obj,$(APID_SRC)): LAYER_PKGS := $(APID_PKGS)
$(call obj,$(RTLIB_SRC)) $(B)/obj/gen/policy.pb-c.o: LAYER_PKGS := $(RTLIB_PKGS)
$(call obj,$(COMMON_SRC) $(FRONT_SRC) $(BACK_SRC) $(PROVE_SRC) $(KERNEL_SRC) \
	$(DRIVER_SRC) compiler/main.c) $(B)/obj/gen/scanner.o $(B)/obj/gen/parser.o: \
	LAYER_PKGS := $(FPC_PKGS)
$(call obj,$(TOOL_SRC) $(BENCH_SRC) $(FUZZ_SRC)): LAYER_PKGS := $(ALL_PKGS)

$(call obj,$(FRONT_SRC)): | $(GRAMMAR_HDR)
$(call obj,$(RTLIB_SRC) $(BACK_SRC) $(TOOL_SRC) $(FUZZ_SRC)): | $(PB_HDR)
$(call obj,$(PROVE_SRC) $(KERNEL_SRC) $(DRIVER_SRC) compiler/main.c \
	$(TOKEND_SRC) $(APID_SRC) $(BENCH_SRC)): | $(PB_HDR)

LAYER_CFLAGS = $(BASE_CFLAGS) $(LAYER_I) $(call pkgconf,--cflags,$(LAYER_PKGS))

# static libraries, one per layer group; binaries link only the ones they use
LIBCOMMON := $(B)/libcommon.a
LIBFPRT := $(B)/libfprt.a
LIBFPC := $(B)/libfpc.a
LIBTOKEND := $(B)/libtokend.a
LIBAPID := $(B)/libapid.a
TOOLS := $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRC))
BENCHES := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))
BINS := $(B)/fpc $(B)/fp-tokend $(B)/fp-apid

.PHONY: all deps run check asan fuzz fuzzers tools benches install clean nix-generated fuzz-campaign oracle
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

# scanner.c includes parser.h and parser.c scanner.h
$(B)/obj/gen/scanner.o $(B)/obj/gen/parser.o: $(GRAMMAR_HDR)

$(B)/obj/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(LAYER_CFLAGS) $(GEN_WARN) -MMD -MP -c -o $@ $<

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(LAYER_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBFPRT): $(call obj,$(RTLIB_SRC)) $(B)/obj/gen/policy.pb-c.o
$(LIBFPC): $(call obj,$(FRONT_SRC) $(BACK_SRC) $(PROVE_SRC) $(KERNEL_SRC) \
	$(DRIVER_SRC)) $(B)/obj/gen/scanner.o $(B)/obj/gen/parser.o
$(LIBTOKEND): $(call obj,$(filter-out runtime/tokend/main.c,$(TOKEND_SRC)))
$(LIBAPID): $(call obj,$(filter-out runtime/apid/main.c,$(APID_SRC)))
$(B)/lib%.a:
	@rm -f $@
	ar rcs $@ $^

# link: objects and libraries (highest layer first), then the packages'
link = $(CC) $(BASE_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) \
	$(call pkgconf,--libs,$(1)) $(2)

$(B)/fpc: $(call obj,compiler/main.c) $(LIBFPC) $(LIBFPRT) $(LIBCOMMON)
	$(call link,$(FPC_PKGS))

$(B)/fp-tokend: $(call obj,runtime/tokend/main.c) $(LIBTOKEND) $(LIBFPRT) $(LIBCOMMON)
	$(call link,$(TOKEND_PKGS),-lpthread)

$(B)/fp-apid: $(call obj,runtime/apid/main.c) $(LIBAPID) $(LIBFPRT) $(LIBCOMMON)
	$(call link,$(APID_PKGS),-lpthread)

# tests/tools/NAME.c and bench/NAME.c: one-file programs (signers, probes,
# generators, load clients) linked with every library
ALL_LIBS := $(LIBFPC) $(LIBTOKEND) $(LIBAPID) $(LIBFPRT) $(LIBCOMMON)
$(B)/tools/%: $(B)/obj/tests/tools/%.o $(ALL_LIBS)
	@mkdir -p $(@D)
	$(call link,$(ALL_PKGS),-lpthread)

$(B)/bench/%: $(B)/obj/bench/%.o $(ALL_LIBS)
	@mkdir -p $(@D)
	$(call link,$(ALL_PKGS),-lpthread)

tools: $(TOOLS)
benches: $(BENCHES)

run: deps all
	$(B)/fpc policies/default.fp -o $(B)/out

# nix/generated: what the NixOS module's evaluation reads for
# policies/default.fp without import-from-derivation (tests/nix fails when
# it is stale)
nix-generated: $(B)/fpc
	rm -rf $(B)/nix-generated
	$(B)/fpc policies/default.fp -o $(B)/nix-generated
	cp $(addprefix $(B)/nix-generated/,nixos.json flashpods.body.nft wireguard.json \
		rsyncd.json) nix/generated/

check: deps all tools benches
	@B=$(abspath $(B)) REGEN=$(REGEN) FUZZ_RUNS=$(FUZZ_RUNS) bash tests/run.sh

asan:
	$(MAKE) B=build/asan SAN=asan CC=gcc check

# libFuzzer harnesses: tests/fuzz/NAME.c -> $(B)/fuzz/NAME (clang)
fuzz:
	$(MAKE) B=$(B)/fuzzbuild SAN=fuzz CC=clang fuzzers
fuzzers: $(patsubst tests/fuzz/%.c,$(B)/%,$(FUZZ_SRC))
$(B)/fuzz_%: $(B)/obj/tests/fuzz/fuzz_%.o $(ALL_LIBS)
	$(call link,$(ALL_PKGS),-lpthread -fsanitize=fuzzer)

# a long campaign: every harness for FUZZ_CAMPAIGN_SECONDS (default in
# tests/fuzz/campaign.sh), corpus kept in tests/fuzz/corpus/
fuzz-campaign: fuzz
	B=$(abspath $(B)) bash tests/fuzz/campaign.sh

# the kernel as the prover's oracle, a long campaign: N random policies
# (default 2000) from SEED (default: the time), disagreements shrunk and
# saved under tests/oracle/cases/
oracle: all tools
	python3 tests/oracle/oracle.py run --fpc $(abspath $(B))/fpc --n $(or $(N),2000) \
		--seed $(or $(SEED),$(shell date +%s)) $(if $(CLASSES),--classes)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/fpc/policies \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 policies/default.fp $(DESTDIR)$(PREFIX)/share/fpc/policies/
	install -m 0644 docs/man/fpc.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/man/fpc.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 docs/man/fp-apid.8 docs/man/fp-tokend.8 $(DESTDIR)$(PREFIX)/share/man/man8/

clean:
	rm -rf build

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
