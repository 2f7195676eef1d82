# SPDX-License-Identifier: GPL-2.0
# pgpdma + pebbled: top-level build.
#
#   make                 module (for KVER) + userspace programs + tests
#   make check           every test: static checks, unit tests (also under
#                        ASan+UBSan), driver selftests in a VM; ends with
#                        "N passed, N failed, N skipped"
#   make check-kernels   the same, with the VM tests on every installed
#                        kernel of the matrix (6.1, 6.1-rt, 6.12)
#   make demo            load the driver in a VM and show its status
#   make clean           back to the tree as cloned
#
# KVER=version or KDIR=/path/to/headers select the kernel to build against
# (default: scripts/kernels.sh default).

BUILD    := build
KTOOLS   := $(BUILD)/ktools

ifneq ($(KDIR),)
KVER     ?= $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
endif
KVER     ?= $(shell scripts/kernels.sh default 2>/dev/null)
KDIR     ?= /lib/modules/$(KVER)/build
MODDIR   := $(BUILD)/mod/$(KVER)

CC       ?= gcc
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror
CPPFLAGS := -Iuapi -Ilib -Idaemon
CFLAGS   := $(CSTD) -O2 -g $(WARN)
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDLIBS   := -lm -lrt -pthread
DAEMON_LIBS := -laio -lconfig -lxxhash
CHECK_LIBS  := -lcheck -lsubunit

LIB_SRC    := $(wildcard lib/*.c)
DAEMON_SRC := $(filter-out daemon/pebbled.c,$(wildcard daemon/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
KSFT_SRC   := $(wildcard tests/kselftest/*.c)
DRIVER_SRC := Kbuild $(wildcard driver/*.c driver/*.h uapi/linux/*.h)

LIBPGPDMA  := $(BUILD)/libpgpdma.a
LIBPEBBLED := $(BUILD)/libpebbled.a
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
UNIT_ASAN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit-asan/%)
KSFT_BIN   := $(KSFT_SRC:tests/kselftest/%.c=$(BUILD)/tests/kselftest/%)
PEBBLED    := $(if $(wildcard daemon/pebbled.c),$(BUILD)/pebbled)
PGPCTL     := $(BUILD)/pgpctl

.PHONY: all modules userspace tests check check-kernels static-check demo \
	clean deps
.SECONDARY:

all: modules userspace tests

deps:
	@scripts/deps.sh

# --- kernel module -------------------------------------------------------
# Each kernel gets its own copy of the sources under build/mod/KVER, so
# the matrix builds side by side and the source tree stays clean.
modules: $(MODDIR)/pgpdma.ko

$(MODDIR)/pgpdma.ko: $(DRIVER_SRC)
	@if [ -z "$(KVER)" ] || [ ! -e "$(KDIR)/Makefile" ]; then \
		echo "make: no kernel headers at '$(KDIR)'; run: scripts/deps.sh (or give KDIR=/path/to/headers)" >&2; \
		exit 1; fi
	@mkdir -p $(MODDIR)
	@cp -a Kbuild driver uapi $(MODDIR)/
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(MODDIR) modules

# --- userspace -----------------------------------------------------------
userspace: $(LIBPGPDMA) $(LIBPEBBLED) $(PEBBLED) $(PGPCTL)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj-asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SANITIZE) -MMD -MP -c -o $@ $<

$(LIBPGPDMA): $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBPEBBLED): $(DAEMON_SRC:%.c=$(BUILD)/obj/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libpgpdma-asan.a: $(LIB_SRC:%.c=$(BUILD)/obj-asan/%.o)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libpebbled-asan.a: $(DAEMON_SRC:%.c=$(BUILD)/obj-asan/%.o)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/pebbled: $(BUILD)/obj/daemon/pebbled.o $(LIBPEBBLED) $(LIBPGPDMA)
	$(CC) $(CFLAGS) -o $@ $^ $(DAEMON_LIBS) $(LDLIBS)

$(PGPCTL): $(BUILD)/obj/tools/pgpctl.o $(LIBPGPDMA)
	$(CC) $(CFLAGS) -o $@ $^ -ljansson

# --- tests ---------------------------------------------------------------
tests: $(UNIT_BIN) $(UNIT_ASAN) $(KSFT_BIN)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBPEBBLED) $(LIBPGPDMA)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(DAEMON_LIBS) $(LDLIBS)

$(BUILD)/tests/unit-asan/%: tests/unit/%.c $(BUILD)/libpebbled-asan.a $(BUILD)/libpgpdma-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(SANITIZE) -o $@ $^ $(CHECK_LIBS) $(DAEMON_LIBS) $(LDLIBS)

$(KTOOLS)/include/kselftest_harness.h:
	@scripts/kernel-tools.sh $(KTOOLS)

# Driver selftests run in the VM's busybox initramfs: link them statically.
$(BUILD)/tests/kselftest/%: tests/kselftest/%.c $(wildcard tests/kselftest/*.h) uapi/linux/pgpdma.h $(KTOOLS)/include/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 $(WARN) -static -pthread -I$(KTOOLS)/include -Iuapi -o $@ $<

# --- checks --------------------------------------------------------------
check:
	@scripts/deps.sh $(if $(filter all,$(KERNELS)),--kernels)
	@$(MAKE) --no-print-directory all
	@KVER="$(KVER)" KERNELS="$(KERNELS)" scripts/check.sh

check-kernels:
	@$(MAKE) --no-print-directory check KERNELS=all

static-check: $(KTOOLS)/include/kselftest_harness.h
	@KVER="$(KVER)" scripts/static-check.sh

demo: modules
	@KVER="$(KVER)" scripts/demo.sh

clean:
	rm -rf $(BUILD)
	rm -f *.o *.ko *.mod *.mod.c .*.cmd Module.symvers modules.order
	rm -f driver/*.o driver/.*.cmd driver/*.mod driver/*.mod.c

-include $(shell find $(BUILD)/obj $(BUILD)/obj-asan -name '*.d' 2>/dev/null)
