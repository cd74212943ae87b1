#!/usr/bin/env bash
# Creates from images on ext4 (no reflink: the default filesystem of most
# hosts), through the release binary, side by side with a bare `qemu-img
# convert` of the same image onto the same filesystem.
#
# On a loop-mounted ext4 (so the host's filesystem does not matter), for a
# 512 MiB qcow2 image half data, half zeros, uncompressed and
# zlib-compressed, each round (5; medians printed):
#   bare     qemu-img convert -O raw of the image, synced
#   first    volctl create --from-image: a miss. Uncompressed, a bare
#            conversion into the volume; compressed, that and then a copy
#            of the volume into the image cache (ext4 copies are plain:
#            see "The image cache" in the README)
#   second   the next create: uncompressed, a miss that fills the cache
#            (the image's second use); compressed, a hit (a copy of the
#            cached raw image)
#   third    the one after: a hit
# Each round starts from an empty store, so every first create is a miss.
#
# Run as root: benches/ext4-images.sh  (needs mkfs.ext4, qemu-img, cargo)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=$PWD/target/release/volctl
tmp=$(mktemp -d)
mnt=$tmp/ext4
cleanup() { umount "$mnt" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
truncate -s 8G "$tmp/ext4.img"
mkfs.ext4 -q -F "$tmp/ext4.img"
mkdir -p "$mnt"
mount -o loop "$tmp/ext4.img" "$mnt"

# 256 MiB of data that compresses as binaries and text do (random bytes
# written as base64: zlib makes it about 3/4 of its size, and decompressing
# costs what a cloud image's does), then 256 MiB of zeros.
head -c 192M /dev/urandom | base64 -w 0 > "$tmp/half.raw"
truncate -s 512M "$tmp/half.raw"
qemu-img convert -f raw -O qcow2 "$tmp/half.raw" "$tmp/plain.qcow2"
qemu-img convert -c -f raw -O qcow2 "$tmp/half.raw" "$tmp/zlib.qcow2"
rm "$tmp/half.raw"

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for kind in plain zlib; do
    img=$tmp/$kind.qcow2
    : > "$tmp/bare" ; : > "$tmp/first"; : > "$tmp/second"; : > "$tmp/third"
    for round in 1 2 3 4 5; do
        state=$mnt/state-$kind-$round
        mkdir -p "$mnt/backend-$kind-$round"
        cat > "$tmp/config.toml" <<EOF
[quota]
volumes = -1
gigabytes = -1
[[backend]]
name = "b"
driver = "loopback"
path = "$mnt/backend-$kind-$round"
EOF
        export VOLCTL_STATE_DIR=$state VOLCTL_CONFIG=$tmp/config.toml
        "$bin" image import "$img" --name img -q > /dev/null
        sync
        t=$(now); qemu-img convert -f qcow2 -O raw "$img" "$mnt/bare-$round.raw"; sync; awk -v a="$(now)" -v b="$t" 'BEGIN { print a - b }' >> "$tmp/bare"
        rm "$mnt/bare-$round.raw"
        for step in first second third; do
            t=$(now); "$bin" create --from-image img -q > /dev/null; sync; awk -v a="$(now)" -v b="$t" 'BEGIN { print a - b }' >> "$tmp/$step"
        done
        unset VOLCTL_STATE_DIR VOLCTL_CONFIG
        # A scratch filesystem: the round's store and volumes just go.
        rm -rf "$state" "$mnt/backend-$kind-$round"
    done
    b=$(median < "$tmp/bare"); f=$(median < "$tmp/first"); s=$(median < "$tmp/second"); h=$(median < "$tmp/third")
    printf "%-6s bare %.3f s  first (miss) %.3f s = %3.0f%% of bare's throughput  second %.3f s  third (hit) %.3f s\n" \
        "$kind" "$b" "$f" "$(awk -v b="$b" -v f="$f" 'BEGIN { print 100 * b / f }')" "$s" "$h"
done
