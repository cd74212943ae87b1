//! `volctl snapshot revert` for real on the loopback backend: the snapshot's
//! bytes back in the volume, which keeps its id, name and path; any snapshot
//! (not only the latest); refusals that change nothing; a crash at every
//! step then resume or roll back.

use std::os::unix::fs::FileExt;

use crate::cli_support::*;

fn write(path: &str, at: u64, what: &[u8]) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(what, at).unwrap();
    f.sync_all().unwrap();
}

fn read(path: &str, at: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    std::fs::File::open(path)
        .unwrap()
        .read_exact_at(&mut buf, at)
        .unwrap();
    buf
}

/// A volume named `disk` with "first" in snapshot s1 and "second" in s2,
/// then "now" written over both.
fn setup(v: &Volctl) -> (String, String) {
    let x = v.json(&["create", "--size", "1", "--name", "disk"]);
    let (id, path) = (
        x["id"].as_str().unwrap().to_string(),
        x["path"].as_str().unwrap().to_string(),
    );
    write(&path, 1 << 20, b"first ");
    v.json(&["snapshot", "create", "disk", "--name", "s1"]);
    write(&path, 1 << 20, b"second");
    write(&path, 700 << 20, b"only in s2 and later");
    v.json(&["snapshot", "create", "disk", "--name", "s2"]);
    write(&path, 1 << 20, b"now   ");
    (id, path)
}

#[test]
fn revert_puts_any_snapshot_s_data_back_in_place() {
    let v = Volctl::new();
    let (id, path) = setup(&v);
    let x = v.json(&["snapshot", "revert", "s1"]);
    assert_eq!(
        (x["id"].as_str(), x["name"].as_str()),
        (Some(id.as_str()), Some("disk"))
    );
    assert_eq!(x["path"].as_str(), Some(path.as_str()), "same path");
    assert_eq!(x["status"], "available");
    assert_eq!(read(&path, 1 << 20, 6), b"first ");
    assert_eq!(
        read(&path, 700 << 20, 20),
        vec![0u8; 20],
        "what s1 did not have is gone"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 1 << 30);
    // Then the later one: any snapshot, in any order.
    v.json(&["snapshot", "revert", "s2"]);
    assert_eq!(read(&path, 1 << 20, 6), b"second");
    assert_eq!(read(&path, 700 << 20, 20), b"only in s2 and later");
    for s in ["s1", "s2"] {
        assert_eq!(v.json(&["snapshot", "show", s])["status"], "available");
    }
    assert_eq!(
        v.usage("gigabytes"),
        (3, 0),
        "the volume and two snapshots, as before"
    );
    let events = v.ok(&["events", "--volume", &id, "--json"]);
    assert_eq!(events.matches("\"snapshot.revert\"").count(), 2, "{events}");
    let names = Volctl::files(&v.state.join("backends/default"));
    assert!(!names.iter().any(|n| n.contains(".revert")), "{names:?}");
    check_passes(&v, "after reverts");
}

#[test]
fn revert_refuses_an_attached_or_extended_volume_and_changes_nothing() {
    let v = Volctl::new();
    let (id, path) = setup(&v);
    v.json(&["extend", "disk", "--size", "2"]);
    let r = v.run(&["snapshot", "revert", "s1"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("extended"), "{}", r.stderr);
    assert_eq!(read(&path, 1 << 20, 6), b"now   ");
    let r = v.run(&["snapshot", "revert", "no-such-snapshot"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert_eq!(v.json(&["show", &id])["status"], "available");
    check_passes(&v, "after refusals");

    if !need_root("revert_refuses_an_attached_volume") {
        return;
    }
    let v = Volctl::new();
    let (id, path) = setup(&v);
    v.json(&["attach", &id]);
    let r = v.run(&["snapshot", "revert", "s1"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("in use"), "{}", r.stderr);
    assert_eq!(read(&path, 1 << 20, 6), b"now   ");
    assert_eq!(v.json(&["show", &id])["status"], "in-use");
    v.ok(&["detach", &id]);
    check_passes(&v, "after an attached refusal");
}

/// Reads through a block device, bypassing its page cache.
fn read_device(dev: &str, at: u64, len: usize) -> Vec<u8> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(dev)
        .unwrap();
    // O_DIRECT wants an aligned buffer and range.
    let layout = std::alloc::Layout::from_size_align(4096, 4096).unwrap();
    let buf = unsafe { std::slice::from_raw_parts_mut(std::alloc::alloc_zeroed(layout), 4096) };
    let start = at & !4095;
    f.read_exact_at(buf, start).unwrap();
    let off = (at - start) as usize;
    let out = buf[off..off + len].to_vec();
    unsafe { std::alloc::dealloc(buf.as_mut_ptr(), layout) };
    out
}

#[test]
fn a_forced_revert_of_an_attached_volume_keeps_its_device_and_mode() {
    if !need_root("a_forced_revert_of_an_attached_volume_keeps_its_device_and_mode") {
        return;
    }
    let v = Volctl::new();
    let _c = Cleanup::of(&v);
    let (id, path) = setup(&v);
    let dev = v.json(&["attach", &id, "--read-only"])["device"]
        .as_str()
        .unwrap()
        .to_string();
    // The device has read "now" (into its cache, too).
    assert_eq!(read_device(&dev, 1 << 20, 6), b"now   ");
    let x = v.json(&["snapshot", "revert", "s1", "--force"]);
    assert_eq!(x["status"], "in-use", "{x}");
    assert_eq!(x["device"].as_str(), Some(dev.as_str()), "the same device");
    assert_eq!(x["attach_mode"]["read_only"], true, "the same mode: {x}");
    assert_eq!(backing(&dev).as_deref(), Some(path.as_str()));
    assert_eq!(
        read_device(&dev, 1 << 20, 6),
        b"first ",
        "through the device"
    );
    let mut buf = [0u8; 6];
    std::fs::File::open(&dev)
        .unwrap()
        .read_exact_at(&mut buf, 1 << 20)
        .unwrap();
    assert_eq!(&buf, b"first ", "a buffered reader sees it too");
    check_passes(&v, "after a forced revert");

    // Mounted: refused even with --force, nothing changed.
    v.ok(&["detach", &id]);
    let dev = v.json(&["attach", &id])["device"]
        .as_str()
        .unwrap()
        .to_string();
    sh("mkfs.ext4", &["-q", &dev]);
    let mnt = v.path("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    sh("mount", &[&dev, mnt.to_str().unwrap()]);
    let m = Umount(mnt.clone());
    let r = v.run(&["snapshot", "revert", "s2", "--force"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr.contains("mounted at") && r.stderr.contains("even with --force"),
        "{}",
        r.stderr
    );
    let s = v.json(&["show", &id]);
    assert_eq!(
        (s["status"].as_str(), s["device"].as_str()),
        (Some("in-use"), Some(dev.as_str()))
    );
    assert_eq!(v.json(&["snapshot", "show", "s2"])["status"], "available");
    drop(m);
    v.ok(&["detach", &id]);
    check_passes(&v, "after a refused forced revert");
}

#[test]
fn crash_at_every_step_of_a_forced_revert_of_an_attached_volume() {
    if !need_root("crash_at_every_step_of_a_forced_revert_of_an_attached_volume") {
        return;
    }
    every_crash_point(
        Volctl::new,
        |v| {
            let (id, path) = setup(v);
            let dev = v.json(&["attach", &id])["device"]
                .as_str()
                .unwrap()
                .to_string();
            (id, path, dev, Cleanup::of(v))
        },
        |_, _| {
            ["snapshot", "revert", "s1", "--force"]
                .map(String::from)
                .to_vec()
        },
        "snapshot_revert/UnbindForRevert",
        |v, (id, path, _, _), s| {
            let what = &s.what;
            let x = v.json(&["show", id]);
            assert_eq!(x["status"], "in-use", "{what}: {x}");
            let dev = x["device"].as_str().unwrap();
            assert_eq!(backing(dev).as_deref(), Some(path.as_str()), "{what}");
            let data = read_device(dev, 1 << 20, 6);
            if s.resume {
                assert_eq!(data, b"first ", "{what}");
            } else {
                assert!(data == b"first " || data == b"now   ", "{what}: {data:?}");
            }
        },
    );
}

#[test]
fn crash_at_every_step_of_a_revert_then_resume_or_roll_back() {
    every_crash_point(
        Volctl::new,
        setup,
        |_, _| ["snapshot", "revert", "s1"].map(String::from).to_vec(),
        "snapshot_revert/RevertOnBackend",
        |v, (id, path), s| {
            let what = &s.what;
            assert_eq!(v.json(&["show", id])["status"], "available", "{what}");
            let data = read(path, 1 << 20, 6);
            // Old data or the snapshot's, never a mix; resumed: the snapshot's.
            if s.resume {
                assert_eq!(data, b"first ", "{what}");
            } else {
                assert!(data == b"first " || data == b"now   ", "{what}: {data:?}");
            }
            assert_eq!(
                v.json(&["snapshot", "show", "s1"])["status"],
                "available",
                "{what}"
            );
            let names = Volctl::files(&v.state.join("backends/default"));
            assert!(
                !names.iter().any(|n| n.contains(".revert")),
                "{what}: {names:?}"
            );
        },
    );
}

#[test]
fn delete_cascade_removes_the_snapshots_then_the_volume() {
    let v = Volctl::new();
    let (id, _) = setup(&v);
    let r = v.run(&["delete", "disk"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("--cascade"), "{}", r.stderr);
    assert_eq!(v.usage("gigabytes"), (3, 0));
    v.ok(&["delete", "disk", "--cascade"]);
    assert!(v.json(&["list"]).as_array().unwrap().is_empty());
    assert!(v.json(&["snapshot", "list"]).as_array().unwrap().is_empty());
    assert_eq!(v.usage("gigabytes"), (0, 0));
    assert_eq!(v.usage("snapshots"), (0, 0));
    assert!(Volctl::files(&v.state.join("backends/default")).is_empty());
    let events = v.ok(&["events", "--volume", &id, "--json"]);
    assert_eq!(
        events.matches("\"snapshot.delete.end\"").count(),
        2,
        "{events}"
    );
    check_passes(&v, "after a cascade");
}

#[test]
fn crash_at_every_step_of_a_cascade_delete_then_resume_or_roll_back() {
    every_crash_point(
        Volctl::new,
        setup,
        |_, _| ["delete", "disk", "--cascade"].map(String::from).to_vec(),
        "volume_delete_cascade/DeleteSnapshotsOfVolume",
        |v, (id, _), s| {
            let what = &s.what;
            let gone = v.run(&["show", id]).code == 5;
            if s.resume {
                assert!(gone, "{what}: the volume is gone");
            }
            if !gone {
                // Rolled back: the volume stays (error_deleting when it got
                // that far) with whatever snapshots were not yet deleted; a
                // second delete --cascade finishes the job.
                v.ok(&["delete", "disk", "--cascade"]);
            }
            assert_eq!(v.usage("gigabytes"), (0, 0), "{what}: quota");
            assert!(
                v.json(&["snapshot", "list"]).as_array().unwrap().is_empty(),
                "{what}"
            );
            assert!(
                Volctl::files(&v.state.join("backends/default")).is_empty(),
                "{what}"
            );
        },
    );
}
