#!/bin/bash
# driver/compat.h picks each shim by the feature it needs (issue 10, bug 9):
# compiled against small stand-ins for the three interface generations the
# shims cover, the shim calls must compile there.
#   6.1: class_create(owner, name) is a macro, vma->vm_flags is writable
#   6.3: class_create is still the macro, but vm_flags is read-only and
#        vm_flags_set()/vm_flags_clear() exist (6fb1c04 keyed the vm_flags
#        shim on class_create and wrote vm_flags directly there)
#   6.4+: class_create(name) is a function, vm_flags_set() exists
#   6.8+: PCI_IRQ_INTX (PCI_IRQ_LEGACY before; gone in 6.10)
# plus RHEL 9.5 (a 5.14 kernel with the vm_flags backport).
# The stand-ins hold only what compat.h touches; Debian packages no 6.3 or
# RHEL kernel to build against for real.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/compat-t.XXXXXX")
trap 'rm -rf "$W"' EXIT
compat=${PGPDMA_COMPAT_H:-$top/driver/compat.h}
n=0
fails=0

# fake NAME VERSION_CODE CLASS(macro|function) VMFLAGS(writable|readonly) INTX(legacy|intx) [RHEL]
fake() {
	local d=$W/$1/linux
	mkdir -p "$d"
	{
		echo "#define LINUX_VERSION_CODE $2"
		echo '#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + (c))'
		if [ -n "${6:-}" ]; then
			echo "#define RHEL_RELEASE_CODE $6"
			echo '#define RHEL_RELEASE_VERSION(a, b) (((a) << 8) + (b))'
		fi
	} > "$d/version.h"
	{
		echo 'struct module; struct class;'
		echo '#define THIS_MODULE ((struct module *)0)'
		if [ "$3" = macro ]; then
			echo 'struct class *__class_create(struct module *owner, const char *name);'
			echo '#define class_create(owner, name) __class_create(owner, name)'
		else
			echo 'struct class *class_create(const char *name);'
		fi
	} > "$d/device.h"
	{
		if [ "$4" = writable ]; then
			echo 'struct vm_area_struct { unsigned long vm_flags; };'
		else
			echo 'struct vm_area_struct { const unsigned long vm_flags; };'
			echo 'void vm_flags_set(struct vm_area_struct *vma, unsigned long f);'
			echo 'void vm_flags_clear(struct vm_area_struct *vma, unsigned long f);'
		fi
	} > "$d/mm.h"
	if [ "$5" = legacy ]; then
		echo '#define PCI_IRQ_LEGACY (1 << 0)'
	else
		echo '#define PCI_IRQ_INTX (1 << 0)'
	fi > "$d/pci.h"
}

cat > "$W/use.c" <<'EOF'
#include "compat.h"

struct class *use(struct vm_area_struct *vma)
{
	pgpdma_vm_flags_set(vma, 1);
	pgpdma_vm_flags_clear(vma, 2 | PCI_IRQ_INTX);
	return pgpdma_class_create("pgpdma");
}
EOF
cp "$compat" "$W/compat.h"

fake k61 '((6 << 16) + (1 << 8) + 192)' macro writable legacy
fake k63 '((6 << 16) + (3 << 8) + 0)' macro readonly legacy
fake k612 '((6 << 16) + (12 << 8) + 118)' function readonly intx
fake rhel95 '((5 << 16) + (14 << 8) + 0)' macro readonly intx '((9 << 8) + 5)'

echo "TAP version 13"
echo "1..4"
for k in k61:6.1 k63:6.3 k612:6.12 rhel95:"RHEL 9.5"; do
	dir=${k%%:*} name=${k#*:}
	n=$((n + 1))
	if gcc -std=gnu11 -Wall -Werror -fsyntax-only -I "$W/$dir" "$W/use.c" > "$W/out" 2>&1; then
		echo "ok $n - the shims compile against $name's interfaces"
	else
		echo "not ok $n - the shims compile against $name's interfaces"
		sed 's/^/# /' "$W/out" | head -n 8
		fails=$((fails + 1))
	fi
done
[ "$fails" = 0 ]
