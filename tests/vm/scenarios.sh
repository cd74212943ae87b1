#!/bin/sh
# The LVM scenarios, run inside the test VM against real lvm2 and
# device-mapper. Each prints "VMTEST <name> PASS|FAIL"; figures print as
# "VMBENCH <name> <value>". One store for all, so `volctl check` at the end
# sees everything.

export VOLCTL_STATE_DIR=/tmp/state VOLCTL_CONFIG=/etc/volctl.toml
V=/bin/volctl
# The loopback backend's directory (outside the state directory: made by
# the operator, as volctl requires).
mkdir -p /tmp/loop

# --- helpers ---------------------------------------------------------------

only=$(cat /etc/only 2>/dev/null)

# One try of a scenario, bounded: a try still running after 600 s is
# stopped (its volctl and qemu-img killed) and leaves /tmp/$name.hung.
try_once() {
    name=$1; shift
    rm -f "/tmp/$name.hung"
    # Not inside an `if`: there, `set -e` would be ignored.
    ( set -e; "$@" ) > "/tmp/$name.log" 2>&1 &
    pid=$!
    ( sleep 600
      { echo "HUNG for 600 s; running:"; ps
        for p in $(pidof qemu-img volctl lvm); do
            echo "pid $p: state $(awk '{ print $3 }' /proc/$p/stat), wchan $(cat /proc/$p/wchan)"
            cat /proc/$p/stack 2>/dev/null
        done; } >> "/tmp/$name.log"
      touch "/tmp/$name.hung"
      killall -9 volctl qemu-img lvm 2>/dev/null; kill -9 $pid ) 2>/dev/null &
    watchdog=$!
    wait $pid
    rc=$?
    kill $watchdog 2>/dev/null
    return $rc
}

run() {
    name=$1; shift
    if [ -n "$only" ] && ! echo "$name" | grep -qE "$only"; then return 0; fi
    echo "=== $name"
    try_once "$name" "$@"
    rc=$?
    retried=""
    if [ -e "/tmp/$name.hung" ]; then
        # A try that hung (seen: qemu-img writing to an LV, idle, under
        # TCG) is reported loudly, its stopped flows rolled back as an
        # operator would, and the scenario run once more.
        echo "VMHANG $name: hung for 600 s; rolled back and run again. What ran:"
        tail -60 "/tmp/$name.log" | sed 's/^/    | /'
        timeout 120 $V rollback --all -q > /dev/null 2>&1 || true
        try_once "$name" "$@"
        rc=$?
        retried=" (after a hang, run again)"
        [ -e "/tmp/$name.hung" ] && rc=1
    fi
    if [ $rc -eq 0 ]; then
        echo "VMTEST $name PASS$retried"
    else
        echo "VMTEST $name FAIL$retried"
        tail -40 "/tmp/$name.log" | sed 's/^/    | /'
    fi
}

# A field of `volctl show` (human form: "key  value").
field() { $V show "$1" -q | awk -v k="$2" '$1 == k { print $2 }'; }

ids() { $V list -q | awk 'NR > 1 { print $1 }' | sort; }

# The one volume id in $2 (after) that is not in $1 (before).
new_id() { echo "$1" > /tmp/before.ids; echo "$2" | grep -v -x -F -f /tmp/before.ids | head -1; }

lv_present() { lvm lvs "$1" > /dev/null 2>&1; }

absent() {
    if lv_present "$1"; then echo "LV $1 is still there"; return 1; fi
}

no_volume_lvs() {
    left=$(lvm lvs --noheadings -o lv_name "$1" 2>/dev/null | grep -c 'volume-' || true)
    if [ "$left" != 0 ]; then echo "$left volume LV(s) left in $1"; lvm lvs "$1"; return 1; fi
}

expect() { [ "$1" = "$2" ] || { echo "expected '$2', got '$1' ($3)"; return 1; }; }

now_us() { adjtimex | awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "%d%06d\n", s, u }'; }

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Writes a marker at sector 2048 of a device, and reads it back.
mark() { printf '%-16s' "$2" | dd of="$1" bs=512 seek=2048 conv=notrunc,fsync 2>/dev/null; }
marker() { dd if="$1" bs=512 skip=2048 count=1 2>/dev/null | head -c 16 | tr -d ' '; }

# The permission character of an LV's attributes: w or r.
permission() { lvm lvs --noheadings -o lv_attr "$1" | tr -d ' ' | cut -c2; }

# --- scenarios -------------------------------------------------------------

raw() {
    id=$($V create --size 1 --type "$1" -q)
    expect "$(field "$id" status)" available status
    p=$(field "$id" path)
    expect "$p" "/dev/$2/volume-$id" path
    lv_present "$2/volume-$id"
    size=$(lvm lvs --noheadings --units b --nosuffix -o lv_size "$2/volume-$id" | tr -d ' ')
    expect "$size" 1073741824 size
    cmp -n 4194304 "$p" /dev/zero
    # A new volume never shows an old one's data.
    mark "$p" secret
    $V delete "$id" -q > /dev/null
    absent "$2/volume-$id"
    id=$($V create --size 1 --type "$1" -q)
    cmp -n 4194304 "$(field "$id" path)" /dev/zero
    $V delete "$id" -q > /dev/null
}

# A size that is no whole number of the VG's extents (asked in MiB): made
# rounded up to extents, said so, recorded as the LV's real size (so the
# quota and `check` count what exists); extend rounds the same way; a
# migrate onto the VG of a volume that is not whole extents is refused.
extents() {
    ext=$(lvm vgs --noheadings --units b --nosuffix -o vg_extent_size "$2" | tr -d ' ')
    mib=1048576
    want=$(( (5 * mib + ext - 1) / ext * ext ))
    id=$($V create --size 5M --type "$1" -q 2> /tmp/extents.err)
    if [ "$want" != $((5 * mib)) ]; then grep -q "rounded up" /tmp/extents.err; fi
    lv=$(lvm lvs --noheadings --units b --nosuffix -o lv_size "$2/volume-$id" | tr -d ' ')
    expect "$lv" "$want" "LV size"
    expect "$($V show "$id" --json | sed -n 's/.*"size_bytes":\([0-9]*\).*/\1/p')" "$want" "recorded size"
    grown=$(( (want + mib + ext - 1) / ext * ext ))
    $V extend "$id" --size $(( want / mib + 1 ))M -q > /dev/null 2>> /tmp/extents.err
    lv=$(lvm lvs --noheadings --units b --nosuffix -o lv_size "$2/volume-$id" | tr -d ' ')
    expect "$lv" "$grown" "LV size after extend"
    expect "$($V show "$id" --json | sed -n 's/.*"size_bytes":\([0-9]*\).*/\1/p')" "$grown" "recorded size after extend"
    if [ "$ext" -gt "$mib" ]; then
        small=$($V create --size 1M --type loop -q)
        rc=0; $V retype "$small" --type "$1" --migrate -q 2> /tmp/extents.err || rc=$?
        expect "$rc" 2 "migrate of a volume of no whole extents"
        grep -q "extents" /tmp/extents.err
        expect "$(field "$small" status)" available "refused migrate leaves it"
        $V delete "$small" -q > /dev/null
    fi
    # Idempotent by name: the rounded volume is the one asked for (again).
    e1=$($V create --size 5M --type "$1" --name "ext-$1" --if-not-exists -q 2>/dev/null)
    e2=$($V create --size 5M --type "$1" --name "ext-$1" --if-not-exists -q 2>/dev/null)
    expect "$e2" "$e1" "create --if-not-exists of a rounded volume"
    printf '[[volume]]\nname = "ap-%s"\nsize = "5M"\ntype = "%s"\n' "$1" "$1" > /tmp/extents.toml
    $V apply -f /tmp/extents.toml -q > /dev/null 2>&1
    again=$($V apply -f /tmp/extents.toml --json 2>/dev/null)
    echo "$again" | grep -q '"action":"unchanged"' || { echo "apply twice: $again"; return 1; }
    $V check -q
    $V delete "$id" "ext-$1" "ap-$1" -q > /dev/null
}

# extend: the LV grows (thin or thick) and stays active; its data stays;
# a shrink is refused; an extend killed after the grow resumes to the new
# size or rolls back (the LV shrunk back: nothing holds it open).
extend() {
    id=$($V create --size 1 --type "$1" -q)
    p=$(field "$id" path)
    mark "$p" kept
    $V extend "$id" --size 2 -q > /dev/null
    expect "$(field "$id" size)" 2 size
    size=$(lvm lvs --noheadings --units b --nosuffix -o lv_size "$2/volume-$id" | tr -d ' ')
    expect "$size" 2147483648 "LV size"
    expect "$(blockdev --getsize64 "$p")" 2147483648 "device size"
    expect "$(marker "$p")" kept "data after the extend"
    if $V extend "$id" --size 1 -q 2>/dev/null; then echo "shrank a volume"; return 1; fi
    # resume: 2 -> 3 GiB; rollback: 3 -> 4 GiB undone (the LV shrunk back).
    for how in resume rollback; do
        now=$(field "$id" size)
        if VOLCTL_CRASH_AT=volume_extend/ExtendOnBackend/success $V extend "$id" --size $((now + 1)) -q 2>/dev/null; then
            echo "did not crash"; return 1
        fi
        $V $how --all -q > /dev/null
        want=$now; [ $how = resume ] && want=$((now + 1))
        expect "$(field "$id" size)" $want "size after $how"
        size=$(lvm lvs --noheadings --units b --nosuffix -o lv_size "$2/volume-$id" | tr -d ' ')
        expect "$size" $((want << 30)) "LV size after $how"
        expect "$(marker "$p")" kept "data after $how"
        $V check -q > /dev/null
    done
    $V delete "$id" -q > /dev/null
    no_volume_lvs "$2"
}

# export: an LV written to a raw and a compressed qcow2 file, equal to it.
export_lv() {
    id=$($V create --size 1 --type "$1" -q)
    p=$(field "$id" path)
    mark "$p" exported
    $V export "$id" /tmp/export.raw -q > /dev/null
    qemu-img compare -q -f raw -F raw "$p" /tmp/export.raw
    $V export "$id" /tmp/export.qcow2 --format qcow2 --compress -q > /dev/null
    qemu-img compare -q -f raw -F qcow2 "$p" /tmp/export.qcow2
    expect "$(field "$id" status)" available status
    rm -f /tmp/export.raw /tmp/export.qcow2
    $V delete "$id" -q > /dev/null
}

# snapshot revert: thin swaps a thin snapshot of the snapshot in (same
# path, the snapshot's data); thick refuses (exit 2) and changes nothing.
revert_lv() {
    id=$($V create --size 1 --type "$1" -q)
    p=$(field "$id" path)
    mark "$p" before
    s=$($V snapshot create "$id" -q)
    mark "$p" after
    if [ "$1" = thin ]; then
        $V snapshot revert "$s" -q > /dev/null
        expect "$(field "$id" path)" "$p" path
        expect "$(marker "$p")" before "data after the revert"
        expect "$(field "$id" status)" available status
        lv_present "$2/volume-$id"
        if lvm lvs --noheadings -o lv_name "$2" | grep -q "volume-$id\."; then
            echo "a revert copy was left"; lvm lvs "$2"; return 1
        fi
        # Attached (read-only), with --force: the same path, the same mode.
        mark "$p" after
        $V attach "$id" --read-only -q > /dev/null
        if $V snapshot revert "$s" -q > /dev/null 2>&1; then echo "an attached volume was reverted without --force"; return 1; fi
        expect "$(marker "$p")" after "data after a refused revert"
        $V snapshot revert "$s" --force -q > /dev/null
        expect "$(marker "$p")" before "data after a forced revert"
        expect "$(field "$id" status)" in-use "status after a forced revert"
        expect "$(permission "$2/volume-$id")" r "permission after a forced revert"
        $V detach "$id" -q > /dev/null
        expect "$(permission "$2/volume-$id")" w "permission after detach"
    else
        rc=0; $V snapshot revert "$s" -q 2>/dev/null || rc=$?
        expect "$rc" 2 "thick revert refused"
        expect "$(marker "$p")" after "data unchanged"
    fi
    $V check -q > /dev/null
    $V snapshot delete "$s" -q > /dev/null
    $V delete "$id" -q > /dev/null
    no_volume_lvs "$2"
}

# manage/unmanage: an LV made with lvm itself taken in (renamed, tagged,
# its data kept) and given up again (renamed unmanaged-<id>, untagged).
manage_lv() {
    if [ "$1" = thin ]; then lvm lvcreate -q -y -V 1g -T "$2/pool0" -n legacy > /dev/null
    else lvm lvcreate -q -y -L 1g -n legacy "$2" > /dev/null; fi
    mark "/dev/$2/legacy" legacy
    id=$($V manage legacy --backend "$1" -q)
    expect "$(field "$id" path)" "/dev/$2/volume-$id" path
    expect "$(marker "/dev/$2/volume-$id")" legacy "data kept"
    absent "$2/legacy"
    $V check -q > /dev/null
    kept=$($V unmanage "$id" -q)
    expect "$kept" "/dev/$2/unmanaged-$id" "unmanaged path"
    expect "$(marker "$kept")" legacy "data kept after unmanage"
    $V check -q > /dev/null
    lvm lvremove -q -y "$2/unmanaged-$id" > /dev/null
    # The other kind of LV for this backend is refused.
    other=vg1; [ "$2" = vg1 ] && other=vg0
    rc=0; $V manage "$other/x" --backend "$1" -q 2>/dev/null || rc=$?
    [ "$rc" != 0 ] || { echo "managed an LV of another VG"; return 1; }
    no_volume_lvs "$2"
}

# migrate: loopback -> thick -> thin -> loopback, the data along. The
# volume's type pins it to its backend (volume_backend_name), so a plain
# migrate to another is refused (exit 4); retype --migrate moves it.
migrate_lv() {
    id=$($V create --size 1 --type loop -q)
    mark "$(field "$id" path)" moving
    rc=0; $V migrate "$id" --backend thick -q 2>/dev/null || rc=$?
    expect "$rc" 4 "migrate against the volume's type"
    for to in thick:vg0 thin:vg1; do
        t=${to%%:*}; vg=${to##*:}
        $V retype "$id" --type "$t" --migrate -q > /dev/null
        expect "$(field "$id" path)" "/dev/$vg/volume-$id" "path on $t"
        expect "$(marker "/dev/$vg/volume-$id")" moving "data on $t"
        $V check -q > /dev/null
    done
    $V retype "$id" --type loop --migrate -q > /dev/null
    expect "$(marker "$(field "$id" path)")" moving "data back on loop"
    absent "vg1/volume-$id"
    absent "vg0/volume-$id"
    $V check -q > /dev/null
    $V delete "$id" -q > /dev/null
}

# attach --read-only on an LV: the LV's permission becomes read-only (so a
# write fails and the data stays), a change of mode is refused, and detach
# makes it writable again; --partscan is refused on an LV (exit 2).
attach_lv() {
    id=$($V create --size 1 --type "$1" -q)
    lv="$2/volume-$id"
    p=$(field "$id" path)
    mark "$p" before
    expect "$($V attach "$id" --read-only -q)" "$p" device
    expect "$(permission "$lv")" r "permission while attached read-only"
    if mark "$p" after; then echo "a write to a read-only LV succeeded"; return 1; fi
    expect "$(marker "$p")" before "data under a read-only attachment"
    expect "$($V attach "$id" --read-only -q)" "$p" "attaching again, same mode"
    if $V attach "$id" -q > /tmp/attach.out 2>&1; then echo "a change of mode was accepted"; return 1; fi
    grep -q 'detach it first' /tmp/attach.out
    $V detach "$id" -q > /dev/null
    expect "$(permission "$lv")" w "permission after detach"
    mark "$p" after
    expect "$(marker "$p")" after "data written after detach"
    rc=0; $V attach "$id" --partscan -q > /tmp/attach.out 2>&1 || rc=$?
    expect "$rc" 2 "exit code of --partscan on an LV"
    grep -q kpartx /tmp/attach.out
    expect "$(field "$id" status)" available "status after a refused attach"
    $V delete "$id" -q > /dev/null
    absent "$lv"
}

# attach --partscan of a loopback volume with an MBR: the kernel shows its
# partition; a mounted partition holds the device (no detach, no delete).
partscan_loop() {
    id=$($V create --size 1 --type loop -q)
    p=$(field "$id" path)
    # One Linux partition (type 0x83) at sector 2048, 8192 sectors long.
    printf '\203' | dd of="$p" bs=1 seek=450 conv=notrunc 2>/dev/null
    printf '\000\010\000\000\000\040\000\000' | dd of="$p" bs=1 seek=454 conv=notrunc 2>/dev/null
    printf '\125\252' | dd of="$p" bs=1 seek=510 conv=notrunc 2>/dev/null
    dev=$($V attach "$id" --partscan -q)
    n=${dev#/dev/}
    expect "$(cat "/sys/block/$n/${n}p1/size")" 8192 "partition size"
    i=0; while [ ! -b "${dev}p1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    mke2fs -q "${dev}p1"
    mkdir -p /tmp/pmnt
    mount -t ext4 "${dev}p1" /tmp/pmnt
    rc=0; $V detach "$id" -q > /tmp/detach.out 2>&1 || rc=$?
    umount /tmp/pmnt
    expect "$rc" 6 "exit code of detaching a volume whose partition is mounted"
    grep -q "its partition ${n}p1 mounted at /tmp/pmnt" /tmp/detach.out
    $V detach "$id" -q > /dev/null
    [ ! -e "/sys/block/$n/${n}p1" ] || { echo "the partition outlived the detach"; return 1; }
    $V delete "$id" -q > /dev/null
}

make_image() {
    dd if=/dev/urandom of=/tmp/pattern bs=1M count=8 2>/dev/null
    qemu-img create -q -f raw /tmp/img.raw 96M
    for at in 0 30 70; do dd if=/tmp/pattern of=/tmp/img.raw bs=1M seek=$at conv=notrunc 2>/dev/null; done
    qemu-img convert -f raw -O qcow2 /tmp/img.raw /tmp/img.qcow2
    $V image import /tmp/img.qcow2 -q > /dev/null
}

image() {
    # Thin snapshots are cheap copies: the first use fills the cache and
    # the others hit it. On a thick VG copies are plain: an uncompressed
    # image is converted each time and never cached.
    for i in 1 2 3; do
        id=$($V create --from-image img.qcow2 --type "$1" -q)
        expect "$(field "$id" status)" available status
        qemu-img compare -q -f qcow2 -F raw /tmp/img.qcow2 "$(field "$id" path)"
        $V delete "$id" -q > /dev/null
    done
    cache_lv="$2/cache-$($V image show img.qcow2 | awk '$1 == "id" { print $2 }')"
    if [ "$1" = thin ]; then
        $V image show img.qcow2 | grep "cached_on" | grep -q "$1 (3 uses)"
        lv_present "$cache_lv"
    else
        $V image show img.qcow2 | grep "cached_on" | grep -vq "$1 ("
        if lvs "$cache_lv" > /dev/null 2>&1; then echo "an uncompressed image was cached on a thick VG"; return 1; fi
    fi
    no_volume_lvs "$2"
}

snapshot_and_clone() {
    id=$($V create --size 1 --type "$1" -q)
    p=$(field "$id" path)
    mark "$p" before
    s=$($V snapshot create "$id" -q)
    lv_present "$2/snap-$s"
    mark "$p" after
    from_snap=$($V create --from-snapshot "$s" -q)
    expect "$(marker "$(field "$from_snap" path)")" before "the snapshot keeps its data"
    clone=$($V create --from-volume "$id" -q)
    cp=$(field "$clone" path)
    expect "$(marker "$cp")" after "a clone has its source's data"
    mark "$cp" clone
    expect "$(marker "$p")" after "the source does not follow its clone"
    mark "$p" source
    expect "$(marker "$cp")" clone "the clone does not follow its source"
    if $V delete "$id" -q 2>/dev/null; then echo "deleted a volume with a snapshot"; return 1; fi
    $V delete "$from_snap" "$clone" -q > /dev/null
    $V snapshot delete "$s" -q > /dev/null
    absent "$2/snap-$s"
    $V delete "$id" -q > /dev/null
    no_volume_lvs "$2"
}

reschedule_from_a_full_vg() {
    # The request fits `thick` (vg0, weighed first) or `loop`. Between
    # scheduling and creation vg0 fills up: lvcreate fails for lack of
    # space, the volume is rescheduled onto `loop`, nothing is left in vg0.
    rm -f /tmp/pause
    VOLCTL_PAUSE_AT=volume_create_manager/ExtractVolumeRef/success VOLCTL_PAUSE_FILE=/tmp/pause \
        $V create --size 1 --type resched > /tmp/resched.id 2> /tmp/resched.err &
    pid=$!
    i=0; while [ ! -e /tmp/pause ] && [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i+1)); done
    if [ ! -e /tmp/pause ]; then echo "never paused"; cat /tmp/resched.err; return 1; fi
    lvm lvcreate -y -l 100%FREE -n filler vg0 > /dev/null
    rm /tmp/pause
    rc=0; wait $pid || rc=$?
    lvm lvremove -y vg0/filler > /dev/null
    # The volume group changed behind volctl's back: refresh its figures.
    $V backend list -q > /dev/null
    cat /tmp/resched.err
    expect $rc 0 "create's exit code"
    id=$(cat /tmp/resched.id)
    expect "$(field "$id" backend)" loop backend
    expect "$(field "$id" attempts)" 2 attempts
    grep -q "rescheduling (attempt 2 of 3): thick failed" /tmp/resched.err
    $V events --volume "$id" | grep -q 'volume.reschedule.*insufficient free space'
    no_volume_lvs vg0
    $V delete "$id" -q > /dev/null
}

crash_then() { # type point resume|rollback [create args...]
    type=$1; point=$2; how=$3; shift 3
    before=$(ids)
    if VOLCTL_CRASH_AT="$point" $V create --type "$type" "$@" -q > /dev/null 2>&1; then
        echo "did not crash at $point"; return 1
    fi
    $V flow list -q | grep -q 'gone: orphaned'
    if [ "$how" = resume ]; then
        $V resume --all -q
        id=$(new_id "$before" "$(ids)")
        [ "$(field "$id" status)" = available ] || $V show "$id" -q
        expect "$(field "$id" status)" available "after resume"
        p=$(field "$id" path)
        case "$*" in
            *from-image*) qemu-img compare -q -f qcow2 -F raw /tmp/img.qcow2 "$p" ;;
            *) cmp -n 1048576 "$p" /dev/zero ;;
        esac
        $V delete "$id" -q > /dev/null
    else
        $V rollback --all -q
        id=$(new_id "$before" "$(ids)")
        if [ -n "$id" ]; then expect "$(field "$id" status)" error "after rollback"; $V delete "$id" -q; fi
    fi
    $V check -q
}

quota_and_check_are_exact() {
    a=$($V create --size 1 --type thick -q)
    b=$($V create --size 2 --type thin -q)
    s=$($V snapshot create "$b" -q)
    $V quota show -q | awk '$1 == "volumes" { print $3 }' | grep -qx 2
    $V quota show -q | awk '$1 == "gigabytes" { print $3 }' | grep -qx 5
    $V quota show -q | awk '$1 == "snapshots" { print $3 }' | grep -qx 1
    $V check -q
    # An LV of volctl's that belongs to no volume is found, and repaired.
    lvm lvcreate -y -V 1G --thinpool vg1/pool0 -n volume-00000000-0000-0000-0000-000000000000 > /dev/null
    if $V check -q > /tmp/check.out; then echo "check missed an orphan LV"; return 1; fi
    grep -q 'volume-00000000-0000-0000-0000-000000000000 on backend thin belongs to no volume' /tmp/check.out
    # Repair moves it aside (renamed, never removed); purge deletes it.
    $V check --repair -q
    absent vg1/volume-00000000-0000-0000-0000-000000000000
    lv_present vg1/orphan-volume-00000000-0000-0000-0000-000000000000
    $V check --purge-orphans -q
    absent vg1/orphan-volume-00000000-0000-0000-0000-000000000000
    $V snapshot delete "$s" -q > /dev/null
    $V delete "$a" "$b" -q > /dev/null
    $V check -q
}

bench() {
    for type in thin thick loop; do
        for i in 1 2 3 4 5 6 7; do
            t0=$(now_us); id=$($V create --size 1 --type $type -q); t1=$(now_us)
            echo $(( (t1 - t0) / 1000 ))
            $V delete "$id" -q > /dev/null
        done | median > /tmp/m
        echo "VMBENCH create_size1_${type}_ms $(cat /tmp/m)"
    done
    # A 1 GiB volume holding 256 MiB of data: thin clone against thick copy.
    for type in thin thick; do
        src=$($V create --size 1 --type $type -q)
        p=$(field "$src" path)
        for i in $(seq 0 31); do dd if=/tmp/pattern of="$p" bs=1M seek=$((i * 8)) conv=notrunc 2>/dev/null; done
        sync
        echo "VMINIT bench: $type source written"
        for i in 1 2 3; do
            t0=$(now_us); c=$($V create --from-volume "$src" -q); t1=$(now_us)
            echo $(( (t1 - t0) / 1000 ))
            $V delete "$c" -q > /dev/null
        done | median > /tmp/m
        echo "VMBENCH clone_256mib_data_${type}_ms $(cat /tmp/m)"
        if [ "$type" = thin ]; then
            # Revert of the same volume to a snapshot of it: a thin snapshot
            # of the snapshot, swapped in (thick LVM refuses a revert).
            s=$($V snapshot create "$src" -q)
            for i in 1 2 3; do
                t0=$(now_us); $V snapshot revert "$s" -q > /dev/null; t1=$(now_us)
                echo $(( (t1 - t0) / 1000 ))
            done | median > /tmp/m
            echo "VMBENCH revert_256mib_data_thin_ms $(cat /tmp/m)"
            $V snapshot delete "$s" -q > /dev/null
        fi
        $V delete "$src" -q > /dev/null
    done
}

# --- the list ----------------------------------------------------------------

$V type list -q > /dev/null
# A second store (another state directory) on the same VGs: every VG is
# claimed by the first store's tag, so it refuses, and touches nothing.
second_store_refused() {
    # Only the LVM backends, so that it is their claim that refuses.
    printf '[[backend]]\nname = "thick"\ndriver = "lvm"\nvolume_group = "vg0"\n[[backend]]\nname = "thin"\ndriver = "lvm"\nvolume_group = "vg1"\nthin_pool = "pool0"\n[[volume_type]]\nname = "thick"\nextra_specs = { volume_backend_name = "thick" }\n[[volume_type]]\nname = "thin"\nextra_specs = { volume_backend_name = "thin" }\n' > /tmp/second.toml
    export VOLCTL_CONFIG=/tmp/second.toml
    before=$(lvm lvs --noheadings -o lv_name | sort)
    lvm vgs --noheadings -o vg_tags vg0 | grep -q volctl_store_
    for t in thick thin; do
        if VOLCTL_STATE_DIR=/tmp/state2 $V create --size 1 --type $t -q > /tmp/second.out 2>&1; then
            echo "a second store created a volume on $t"; return 1
        fi
        grep -q 'belongs to another volctl store' /tmp/second.out
    done
    VOLCTL_STATE_DIR=/tmp/state2 $V check -q > /tmp/second.out 2>&1 || true
    grep -q 'belongs to another volctl store' /tmp/second.out
    VOLCTL_STATE_DIR=/tmp/state2 $V check --repair -q > /dev/null 2>&1 || true
    expect "$(lvm lvs --noheadings -o lv_name | sort)" "$before" "LVs after the second store"
}

run raw_thick raw thick vg0
run raw_thin raw thin vg1
run extents_thick extents thick vg0
run extents_thin extents thin vg1
run extend_thick extend thick vg0
run extend_thin extend thin vg1
run export_thick export_lv thick vg0
run export_thin export_lv thin vg1
run revert_thick revert_lv thick vg0
run revert_thin revert_lv thin vg1
run manage_thick manage_lv thick vg0
run manage_thin manage_lv thin vg1
run migrate_lv migrate_lv
run attach_thick attach_lv thick vg0
run attach_thin attach_lv thin vg1
run partscan_loop partscan_loop
make_image
run image_thick image thick vg0
run image_thin image thin vg1
run snapshot_and_clone_thick snapshot_and_clone thick vg0
run snapshot_and_clone_thin snapshot_and_clone thin vg1
run reschedule_from_a_full_vg reschedule_from_a_full_vg
for type in thick thin; do
    for point in volume_create_api/QuotaReserve/success \
                 volume_create_scheduler/ScheduleCreateVolume/success \
                 volume_create_manager/CreateVolumeFromSpec/running \
                 volume_create_manager/CreateVolumeFromSpec/success; do
        tag=$(echo "$point" | tr '/' '_')
        run "crash_${type}_${tag}_resume" crash_then $type $point resume --size 1
        run "crash_${type}_${tag}_rollback" crash_then $type $point rollback --size 1
    done
done
# In the middle of an image copy (thick: a thin copy is a snapshot, with
# nothing to interrupt).
run crash_thick_mid_image_copy_resume crash_then thick volume_create_manager/CreateVolumeFromSpec/progress resume --from-image img.qcow2
run crash_thick_mid_image_copy_rollback crash_then thick volume_create_manager/CreateVolumeFromSpec/progress rollback --from-image img.qcow2
run second_store_refused second_store_refused
run quota_and_check_are_exact quota_and_check_are_exact
run final_check $V check -q
if [ -z "$only" ] || echo bench | grep -qE "$only"; then
    # What the pools hold before the figures (so a slow or stuck bench can
    # be told from a full pool); the bench is bounded like every scenario.
    # Bounded: after a hung bench the disk may not answer, and the run
    # must still end (and say so).
    timeout 60 lvm lvs -a -o lv_name,lv_size,data_percent,metadata_percent vg1 2>&1 | sed 's/^/VMINIT pool /'
    bench &
    bench_pid=$!
    ( sleep 600; echo "VMBENCH stopped: still running after 600 s"; kill -9 $bench_pid ) &
    watchdog=$!
    wait $bench_pid
    kill $watchdog 2>/dev/null
    # Bounded: after a hung bench the disk may not answer, and the run
    # must still end (and say so).
    timeout 60 lvm lvs -a -o lv_name,lv_size,data_percent,metadata_percent vg1 2>&1 | sed 's/^/VMINIT pool /'
fi
