//! `volctl export` for real: raw and qcow2 (compressed) files equal to the
//! volume (`qemu-img compare`), sparse; never overwriting without --force;
//! snapshots; refusals that leave nothing; and a crash at every step.

use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

use crate::cli_support::*;

fn volume_with_data(v: &Volctl) -> (String, String) {
    volume_with(v, 4096)
}

/// A 1 GiB volume with `len` bytes of data at its start, middle and end.
fn volume_with(v: &Volctl, len: usize) -> (String, String) {
    let x = v.json(&["create", "--size", "1", "--name", "src"]);
    let path = x["path"].as_str().unwrap().to_string();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8 | 1).collect();
    for at in [0u64, 300 << 20, (1 << 30) - len as u64] {
        f.write_all_at(&data, at).unwrap();
    }
    (x["id"].as_str().unwrap().to_string(), path)
}

/// Enough data that qemu-img reports progress in the middle of the copy.
const SLOW: usize = 48 << 20;

fn same(a: &str, fa: &str, b: &Path, fb: &str) -> bool {
    command("qemu-img")
        .args(["compare", "-q", "-f", fa, "-F", fb, a, b.to_str().unwrap()])
        .status()
        .unwrap()
        .success()
}

/// Nothing of an export is left in `dir` but `keep`.
fn only(dir: &Path, keep: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "state" && n != "config.toml" && n != "trace")
        .collect();
    names.sort();
    assert_eq!(names, keep, "files in {}", dir.display());
}

#[test]
fn export_writes_raw_and_qcow2_files_equal_to_the_volume() {
    let v = Volctl::new();
    let (id, path) = volume_with_data(&v);
    let raw = v.path("out.raw");
    let x = v.json(&["export", &id, raw.to_str().unwrap()]);
    assert_eq!(x["bytes"], 1u64 << 30);
    assert!(same(&path, "raw", &raw, "raw"));
    assert!(
        std::fs::metadata(&raw).unwrap().blocks() * 512 < 64 << 20,
        "sparse: zeros are holes"
    );
    let q = v.path("out.qcow2");
    v.json(&[
        "export",
        "src",
        q.to_str().unwrap(),
        "--format",
        "qcow2",
        "--compress",
    ]);
    assert!(same(&path, "raw", &q, "qcow2"));
    assert_eq!(v.json(&["show", &id])["status"], "available");
    let events = v.ok(&["events", "--volume", &id, "--json"]);
    assert_eq!(events.matches("\"volume.export\"").count(), 2, "{events}");
    only(v.dir.path(), &["out.qcow2", "out.raw"]);
    check_passes(&v, "after exports");

    // A snapshot, later overwritten in the volume: the export has the
    // snapshot's data.
    let s = v.json(&["snapshot", "create", &id, "--name", "s1"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .write_all_at(b"changed", 0)
        .unwrap();
    let sf = v.path("snap.raw");
    v.json(&["export", "--snapshot", "s1", sf.to_str().unwrap()]);
    assert!(
        same(raw.to_str().unwrap(), "raw", &sf, "raw"),
        "the snapshot's data"
    );
    assert_eq!(v.json(&["snapshot", "show", &s])["status"], "available");
    check_passes(&v, "after a snapshot export");
}

#[test]
fn export_never_overwrites_without_force_and_bad_requests_leave_nothing() {
    let v = Volctl::new();
    let (id, path) = volume_with_data(&v);
    let out = v.path("out.raw");
    std::fs::write(&out, b"someone's file").unwrap();
    let r = v.run(&["export", &id, out.to_str().unwrap()]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), b"someone's file");
    for (args, code) in [
        (vec!["export", &id, "out.raw", "--compress"], 2),
        (vec!["export", &id, "/nonexistent/dir/x.raw"], 2),
        (vec!["export", "nope", "x.raw"], 5),
        (vec!["export", &id], 2),
    ] {
        let r = v.run(&args);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
    }
    assert_eq!(v.json(&["show", &id])["status"], "available");
    only(v.dir.path(), &["out.raw"]);
    // With --force it is replaced, atomically (a new inode).
    let before = std::fs::metadata(&out).unwrap().ino();
    v.json(&["export", &id, out.to_str().unwrap(), "--force"]);
    assert!(same(&path, "raw", &out, "raw"));
    assert_ne!(std::fs::metadata(&out).unwrap().ino(), before);
    only(v.dir.path(), &["out.raw"]);
    check_passes(&v, "after refusals");
}

#[test]
fn an_in_use_volume_is_exported_only_with_force() {
    if !need_root("an_in_use_volume_is_exported_only_with_force") {
        return;
    }
    let v = Volctl::new();
    let (id, path) = volume_with_data(&v);
    v.json(&["attach", &id]);
    let out = v.path("live.raw");
    let r = v.run(&["export", &id, out.to_str().unwrap()]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("snapshot"), "{}", r.stderr);
    assert!(!out.exists());
    v.json(&["export", &id, out.to_str().unwrap(), "--force"]);
    assert!(same(&path, "raw", &out, "raw"));
    assert_eq!(
        v.json(&["show", &id])["status"],
        "in-use",
        "attached as before"
    );
    v.ok(&["detach", &id]);
    check_passes(&v, "after a forced export");
}

#[test]
fn crash_at_every_step_of_an_export_then_resume_or_roll_back() {
    every_crash_point(
        Volctl::new,
        |v| volume_with(v, SLOW),
        |v, (id, _)| {
            let out = v.path("x.raw").to_string_lossy().into_owned();
            vec!["export".into(), id.clone(), out]
        },
        "volume_export/ExportToFile",
        |v, (id, path), s| {
            let what = &s.what;
            assert_eq!(v.json(&["show", id])["status"], "available", "{what}");
            if s.done() {
                let out = v.path("x.raw");
                assert!(same(path, "raw", &out, "raw"), "{what}: the file");
                only(v.dir.path(), &["x.raw"]);
            } else {
                only(v.dir.path(), &[]);
            }
        },
    );
}
