# SPDX-License-Identifier: GPL-2.0
# pgpdma + pebbled: top-level build.
#
#   make                 module (for KVER) + userspace programs + tests
#   make check           every test: static checks, unit tests (also under
#                        ASan+UBSan), driver selftests in a VM; ends with
#                        "N passed, N failed, N skipped"
#   make check-kernels   the same, with the VM tests on every installed
#                        kernel of the matrix (6.1, 6.1-rt, 6.12) and the
#                        driver suites on the debug kernel (built once,
#                        scripts/debug-kernel.sh); KCSAN=1 adds the KCSAN
#                        debug kernel (scripts/debug-kernel.sh --kcsan)
#   make demo            driver in a VM + pebbled on the emulated detector,
#                        metrics, and PNGs of archived frames
#   make install         module, pebbled, pgpctl, tools, unit, udev rule,
#                        modprobe.d example, config (PREFIX, DESTDIR)
#   make uninstall       removes what install put there (not your config)
#   make bench           benchmarks (not tests, ~10-12 min): bench/results/*.md
#   make bench-quick     the same, fewer repetitions (~4 min)
#   make clean           back to the tree as cloned
#
# KVER=version or KDIR=/path/to/headers select the kernel to build against
# (default: scripts/kernels.sh default; KDIR: scripts/kernels.sh kdir KVER).

BUILD    := build
KTOOLS   := $(BUILD)/ktools

ifneq ($(KDIR),)
KVER     ?= $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
endif
KVER     ?= $(shell scripts/kernels.sh default 2>/dev/null)
# /lib/modules/KVER/build, or the build tree of the debug kernel
# (KVER=*-pgpdma-debug, scripts/debug-kernel.sh)
ifeq ($(KDIR),)
KDIR     := $(or $(shell scripts/kernels.sh kdir '$(KVER)' 2>/dev/null),/lib/modules/$(KVER)/build)
endif
MODDIR   := $(BUILD)/mod/$(KVER)

CC       ?= gcc
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror
CPPFLAGS := -Iuapi -Ilib -Idaemon
CFLAGS   := $(CSTD) -O2 -g $(WARN)
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDLIBS   := -lm -lrt -pthread
DAEMON_LIBS := -laio -lconfig -lxxhash -lsystemd -lmicrohttpd
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
PVASEND    := $(BUILD)/pvasend

.PHONY: all modules userspace tests check check-kernels static-check demo \
	clean deps install uninstall
.SECONDARY:

all: modules userspace tests

deps:
	@scripts/deps.sh

# --- kernel module -------------------------------------------------------
# Each kernel gets its own copy of the sources under build/mod/KVER, so
# the matrix builds side by side and the source tree stays clean.
modules: $(MODDIR)/pgpdma.ko

# A rebuilt kernel of the same version (the debug kernel after its config
# changed) has a newer Module.symvers: the module is rebuilt against it.
$(MODDIR)/pgpdma.ko: $(DRIVER_SRC) $(wildcard $(KDIR)/Module.symvers)
	@if [ -z "$(KVER)" ] || [ ! -e "$(KDIR)/Makefile" ]; then \
		echo "make: no kernel headers at '$(KDIR)'; run: scripts/deps.sh (or give KDIR=/path/to/headers)" >&2; \
		exit 1; fi
	@mkdir -p $(MODDIR)
	@cp -a Kbuild driver uapi $(MODDIR)/
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(MODDIR) modules

# --- userspace -----------------------------------------------------------
userspace: $(LIBPGPDMA) $(LIBPEBBLED) $(PEBBLED) $(PGPCTL) $(PVASEND)

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

# pgpctl plan uses the daemon's sizing rules (daemon/sizing.c): one copy.
$(PGPCTL): $(BUILD)/obj/tools/pgpctl.o $(LIBPEBBLED) $(LIBPGPDMA)
	$(CC) $(CFLAGS) -o $@ $^ -ljansson $(LDLIBS)

# The network-ingress sender (docs/network-ingress.md).
$(PVASEND): $(BUILD)/obj/tools/pvasend.o $(LIBPGPDMA)
	$(CC) $(CFLAGS) -o $@ $^

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
	@$(MAKE) -s --no-print-directory all
	@KVER="$(KVER)" KERNELS="$(KERNELS)" KCSAN="$(KCSAN)" scripts/check.sh

check-kernels:
	@$(MAKE) --no-print-directory check KERNELS=all

static-check: $(KTOOLS)/include/kselftest_harness.h
	@KVER="$(KVER)" scripts/static-check.sh

demo:
	@scripts/deps.sh
	@$(MAKE) -s --no-print-directory modules userspace
	@KVER="$(KVER)" scripts/demo.sh

# --- install ---------------------------------------------------------------
# Where a Debian admin expects a locally built service: programs in
# $(PREFIX)/bin, configuration in /etc, the module in updates/ (or through
# DKMS from /usr/src). DESTDIR stages the install (as the tests do).
PREFIX      ?= /usr/local
VERSION     := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
MODINST     := $(DESTDIR)/lib/modules/$(KVER)/updates/pgpdma.ko
INST_FILES  := $(DESTDIR)$(PREFIX)/bin/pebbled $(DESTDIR)$(PREFIX)/bin/pgpctl \
	$(DESTDIR)$(PREFIX)/bin/pebble-decode $(DESTDIR)$(PREFIX)/bin/pebble-image \
	$(DESTDIR)$(PREFIX)/bin/npydiff $(DESTDIR)$(PREFIX)/bin/pvasend \
	$(DESTDIR)/etc/systemd/system/pebbled.service \
	$(DESTDIR)/etc/udev/rules.d/60-pgpdma.rules \
	$(DESTDIR)/etc/modprobe.d/pgpdma.conf \
	$(MODINST)

install: all
	install -Dm755 $(BUILD)/pebbled $(DESTDIR)$(PREFIX)/bin/pebbled
	install -Dm755 $(BUILD)/pgpctl $(DESTDIR)$(PREFIX)/bin/pgpctl
	install -Dm755 scripts/decode $(DESTDIR)$(PREFIX)/bin/pebble-decode
	install -Dm755 scripts/image $(DESTDIR)$(PREFIX)/bin/pebble-image
	install -Dm755 scripts/npydiff $(DESTDIR)$(PREFIX)/bin/npydiff
	install -Dm755 $(BUILD)/pvasend $(DESTDIR)$(PREFIX)/bin/pvasend
	install -d $(DESTDIR)/etc/systemd/system
	sed 's|/usr/local/bin/pebbled|$(PREFIX)/bin/pebbled|' daemon/systemd/pebbled.service \
		> $(DESTDIR)/etc/systemd/system/pebbled.service
	install -Dm644 daemon/udev/60-pgpdma.rules $(DESTDIR)/etc/udev/rules.d/60-pgpdma.rules
	install -Dm644 driver/modprobe.d/pgpdma.conf $(DESTDIR)/etc/modprobe.d/pgpdma.conf
	@# never overwrite an admin's configuration
	@if [ -e $(DESTDIR)/etc/pebbled/pebbled.conf ]; then \
		echo "install: keeping existing /etc/pebbled/pebbled.conf"; \
		install -Dm644 daemon/pebbled.conf $(DESTDIR)/etc/pebbled/pebbled.conf.dist; \
	else install -Dm644 daemon/pebbled.conf $(DESTDIR)/etc/pebbled/pebbled.conf; fi
	install -Dm644 $(MODDIR)/pgpdma.ko $(MODINST)
	install -d $(DESTDIR)/usr/src/pgpdma-$(VERSION)
	cp -a Kbuild dkms.conf driver uapi $(DESTDIR)/usr/src/pgpdma-$(VERSION)/
	install -Dm644 uapi/linux/pgpdma.h $(DESTDIR)$(PREFIX)/include/linux/pgpdma.h
	install -Dm644 lib/libpgpdma.h $(DESTDIR)$(PREFIX)/include/libpgpdma.h
	install -Dm644 $(BUILD)/libpgpdma.a $(DESTDIR)$(PREFIX)/lib/libpgpdma.a
	@if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); \
		getent group daq >/dev/null || groupadd --system daq; \
		getent passwd daq >/dev/null || useradd --system -g daq -d /var/lib/pebbled -s /usr/sbin/nologin daq; \
		systemctl daemon-reload 2>/dev/null || true; \
		udevadm control --reload 2>/dev/null || true; fi
	@echo "installed; next: modprobe pgpdma (edit /etc/modprobe.d/pgpdma.conf), systemctl enable --now pebbled"
	@echo "DKMS instead of updates/: dkms install pgpdma/$(VERSION)"

uninstall:
	rm -f $(INST_FILES) $(DESTDIR)/etc/pebbled/pebbled.conf.dist
	rm -f $(DESTDIR)$(PREFIX)/include/linux/pgpdma.h $(DESTDIR)$(PREFIX)/include/libpgpdma.h \
		$(DESTDIR)$(PREFIX)/lib/libpgpdma.a
	rm -rf $(DESTDIR)/usr/src/pgpdma-$(VERSION)
	@# /etc/pebbled/pebbled.conf is the admin's: left in place, as dpkg does
	@if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); systemctl daemon-reload 2>/dev/null || true; fi

clean:
	rm -rf $(BUILD)
	rm -f *.o *.ko *.mod *.mod.c .*.cmd Module.symvers modules.order
	rm -f driver/*.o driver/.*.cmd driver/*.mod driver/*.mod.c

-include $(shell find $(BUILD)/obj $(BUILD)/obj-asan -name '*.d' 2>/dev/null)

include bench/Makefile.inc
