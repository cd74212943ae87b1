#!/usr/bin/env bash
# Real LVM for volctl, in a small VM: this machine's kernel has no
# device-mapper. Installs what is missing, builds a static volctl (with the
# test hooks) and an initramfs (busybox, lvm2 and its libraries, qemu-img,
# the dm and virtio modules; built once), boots Debian's kernel under
# `qemu-system-x86_64 -accel tcg` with two sparse disks, runs
# tests/vm/scenarios.sh inside, prints a pass/fail list and the figures, and
# exits 0 only if every scenario passed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${VOLCTL_VM_DIR:-$root/target/vm}
mkdir -p "$work"
say() { printf '\n=== vm: %s\n' "$*"; }

say "packages"
# tests/setup installs what is missing and checks what the VM needs of it.
"$root/tests/setup"

say "kernel"
# Debian's newest 6.1 kernel, unpacked once; everything about it (its
# modules' dependencies, what is built in) is read from the package itself.
kdir="$work/kernel"
if [ ! -s "$kdir/.package" ] || ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' | awk '{ print $1 }' | sort -V | tail -1)
    [ -n "$pkg" ] || { echo "vm: no linux-image-6.1.0-*-amd64-unsigned package in Debian's archive"; exit 1; }
    (cd "$work" && rm -f linux-image-*.deb && apt-get download -q "$pkg" 2>/dev/null)
    deb=$(ls "$work"/linux-image-*.deb)
    rm -rf "$kdir" && dpkg-deb -x "$deb" "$kdir"
    dpkg-deb -f "$deb" Package Version | awk '{ print $2 }' | paste -sd' ' > "$kdir/.package"
fi
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -1)
kver=$(ls "$kdir/lib/modules" | head -1)
moddir="$kdir/lib/modules/$kver"
# The package ships no modules.dep (its postinst runs depmod): make it.
[ -s "$moddir/modules.dep" ] || depmod -b "$kdir" "$kver"
echo "kernel package $(cat "$kdir/.package"), kernel $kver ($vmlinuz)"
# What the scenarios need: device-mapper thin pools and snapshots, the
# virtio disks, loop devices and ext4 (partscan_loop mounts a partition);
# modules.py adds every dependency, in load order.
modules=$(python3 "$here/modules.py" "$moddir" dm-thin-pool dm-snapshot virtio_pci virtio_blk loop ext4)
# partscan_loop needs the kernel to read MBR partition tables: built in, as
# the package's own configuration must say.
grep -q '^CONFIG_MSDOS_PARTITION=y' "$kdir"/boot/config-* ||
    { echo "vm: $(cat "$kdir/.package") does not parse MBR partition tables (CONFIG_MSDOS_PARTITION)"; exit 1; }
echo "modules to load: $(for m in $modules; do basename "$m"; done | paste -sd' ')"

say "static volctl (with the test hooks)"
(cd "$root" && RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build --release --locked --target x86_64-unknown-linux-gnu --features test-hooks)
volctl="${CARGO_TARGET_DIR:-$root/target}/x86_64-unknown-linux-gnu/release/volctl"
file "$volctl" | grep -q 'static' || { echo "volctl is not static"; exit 1; }

say "initramfs"
base="$work/base.cpio"
# The archive is rebuilt whenever what goes into it changes.
stamp="$(cat "$kdir/.package") $kver $modules $(qemu-img --version | head -1) $(LVM_SUPPRESS_FD_WARNINGS=1 lvm version 2>/dev/null | head -1) $(md5sum "$here/lvm.conf" "$here/modules.py")"
if [ ! -s "$base" ] || [ "$(cat "$base.stamp" 2>/dev/null)" != "$stamp" ]; then
    tree="$work/initramfs"
    rm -rf "$tree" && mkdir -p "$tree"/{bin,sbin,usr/bin,usr/sbin,etc/lvm,proc,sys,dev,run,tmp,modules,lib64}
    cp "$(command -v busybox)" "$tree/bin/busybox"
    copy_bin() { # a binary and every library it loads, executable
        local bin=$1 dest=$2
        install -m 755 "$bin" "$tree$dest"
        ldd "$bin" | awk '/=>/ { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
            [ -f "$lib" ] || continue
            mkdir -p "$tree$(dirname "$lib")"
            install -m 755 "$lib" "$tree$lib"
        done
    }
    copy_bin "$(command -v lvm)" /usr/sbin/lvm
    copy_bin "$(command -v qemu-img)" /usr/bin/qemu-img
    copy_bin "$(readlink -f "$(command -v thin_check)")" /usr/sbin/pdata_tools
    ln -sf pdata_tools "$tree/usr/sbin/thin_check"
    cp "$here/lvm.conf" "$tree/etc/lvm/lvm.conf"
    : > "$tree/modules/order"
    for rel in $modules; do
        f="$moddir/$rel"
        m=$(basename "$rel"); m=${m%.xz}; m=${m%.zst}
        case "$f" in
            *.xz) xz -dc "$f" > "$tree/modules/$m" ;;
            *.zst) zstd -qdc "$f" > "$tree/modules/$m" ;;
            *) cp "$f" "$tree/modules/$m" ;;
        esac
        echo "$m" >> "$tree/modules/order"
    done
    (cd "$tree" && find . | cpio -o -H newc --quiet) > "$base.tmp" && mv "$base.tmp" "$base"
    printf '%s' "$stamp" > "$base.stamp"
fi
# What changes between runs goes in a second archive, appended.
top="$work/top"
rm -rf "$top" && mkdir -p "$top/bin" "$top/etc"
install -m 755 "$here/init" "$top/init"
install -m 755 "$here/scenarios.sh" "$top/scenarios.sh"
install -m 755 "$volctl" "$top/bin/volctl"
cp "$here/volctl.toml" "$top/etc/volctl.toml"
# VOLCTL_VM_ONLY=REGEX runs only the scenarios it matches (while developing).
printf '%s' "${VOLCTL_VM_ONLY:-}" > "$top/etc/only"
(cd "$top" && find . | cpio -o -H newc --quiet) > "$work/top.cpio"
cat "$base" "$work/top.cpio" > "$work/initrd.cpio"

say "boot"
rm -f "$work"/disk-*.img
truncate -s 8G "$work/disk-a.img"
truncate -s 8G "$work/disk-b.img"
log="$work/console.log"
start=$(date +%s)
timeout "${VOLCTL_VM_TIMEOUT:-2400}" qemu-system-x86_64 -accel tcg -smp 1 -m 2560 \
    -display none -monitor none -serial "file:$log" -no-reboot \
    -kernel "$vmlinuz" -initrd "$work/initrd.cpio" \
    -append "console=ttyS0 panic=-1 quiet loglevel=3" \
    -drive "file=$work/disk-a.img,format=raw,if=virtio,cache=unsafe,discard=unmap,detect-zeroes=unmap" \
    -drive "file=$work/disk-b.img,format=raw,if=virtio,cache=unsafe,discard=unmap,detect-zeroes=unmap" \
    || echo "qemu exited with $?"
echo "the VM ran $(( $(date +%s) - start )) s; console: $log"

say "results"
grep -E '^VMINIT' "$log" || true
if grep -q '^VMINIT FATAL' "$log"; then
    # The VM itself could not start: say so, not as 27 failed LVM scenarios.
    echo "vm: the VM could not be set up (a harness problem, not an LVM bug):"
    grep '^VMINIT FATAL' "$log"
    echo "--- console tail"
    tail -40 "$log"
    exit 1
fi
pass=$(grep -c '^VMTEST .* PASS' "$log" || true)
fail=$(grep -c '^VMTEST .* FAIL' "$log" || true)
grep -E '^VMTEST|^VMHANG|^    \| ' "$log" || true
grep -E '^VMBENCH' "$log" || true
grep -E '^VMINIT pool' "$log" || true
if ! grep -q '^VMRESULT done' "$log"; then
    echo "the scenarios did not finish (see $log)"
    tail -30 "$log"
    exit 1
fi
hung=$(grep -c '^VMHANG' "$log" || true)
[ "$hung" -gt 0 ] && echo "!!! $hung scenario(s) hung once and were run again (VMHANG above) !!!"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
