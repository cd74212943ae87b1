//! The VM harness's module resolver (`tests/vm/modules.py`) on a made-up
//! kernel tree: the order follows the tree's own dependency data, so a
//! kernel whose modules depend on each other differently is loaded right.

use std::path::Path;
use std::process::Command;

fn tree(dir: &Path, dep: &str, builtin: &str, softdep: &str, alias: &str) {
    std::fs::write(dir.join("modules.dep"), dep).unwrap();
    std::fs::write(dir.join("modules.builtin"), builtin).unwrap();
    std::fs::write(dir.join("modules.softdep"), softdep).unwrap();
    std::fs::write(dir.join("modules.alias"), alias).unwrap();
}

fn resolve(dir: &Path, roots: &[&str]) -> (bool, Vec<String>, String) {
    let out = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vm/modules.py"))
        .arg(dir)
        .args(roots)
        .output()
        .expect("python3 (on every machine of this kind) runs tests/vm/modules.py");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dependencies_come_first_builtins_are_skipped_softdeps_resolve_to_generic() {
    let d = tempfile::tempdir().unwrap();
    tree(
        d.path(),
        "kernel/virtio/virtio.ko.xz: kernel/virtio/virtio_ring.ko.xz\n\
         kernel/virtio/virtio_ring.ko.xz:\n\
         kernel/block/virtio_blk.ko.xz: kernel/virtio/virtio.ko.xz kernel/virtio/virtio_ring.ko.xz\n\
         kernel/md/dm-thin-pool.ko: kernel/lib/libcrc32c.ko kernel/md/dm-mod.ko\n\
         kernel/lib/libcrc32c.ko:\n\
         kernel/crypto/crc32c_generic.ko:\n\
         kernel/crypto/crc32c-intel.ko:\n",
        "kernel/md/dm-mod.ko\n",
        "softdep libcrc32c pre: crc32c\n",
        "alias crc32c crc32c_intel\nalias crc32c crc32c_generic\n",
    );
    let (ok, order, err) = resolve(d.path(), &["virtio_blk", "dm-thin-pool"]);
    assert!(ok, "{err}");
    let pos = |m: &str| {
        order
            .iter()
            .position(|l| l.ends_with(m))
            .unwrap_or_else(|| panic!("{m} missing from {order:?}"))
    };
    assert!(pos("virtio_ring.ko.xz") < pos("/virtio.ko.xz"), "{order:?}");
    assert!(pos("/virtio.ko.xz") < pos("virtio_blk.ko.xz"), "{order:?}");
    assert!(
        pos("crc32c_generic.ko") < pos("libcrc32c.ko"),
        "softdep first: {order:?}"
    );
    assert!(pos("libcrc32c.ko") < pos("dm-thin-pool.ko"), "{order:?}");
    assert!(
        !order.iter().any(|l| l.contains("dm-mod")),
        "built in: {order:?}"
    );
    assert!(!order.iter().any(|l| l.contains("intel")), "{order:?}");
    assert_eq!(order.len(), 6, "each module once: {order:?}");
    assert!(err.contains("dm_mod is built into the kernel"), "{err}");
}

#[test]
fn a_missing_module_is_named() {
    let d = tempfile::tempdir().unwrap();
    tree(d.path(), "kernel/a.ko: kernel/b.ko\n", "", "", "");
    let (ok, _, err) = resolve(d.path(), &["a"]);
    assert!(!ok);
    assert!(
        err.contains("b (needed by a) is neither a module nor built in"),
        "{err}"
    );
}
