//! `volctl manage` and `unmanage` for real on the loopback backend: an
//! existing raw file taken in (renamed, marked, quota charged) and given up
//! again (renamed `unmanaged-<id>`, quota returned, data kept); everything
//! that is not a plain raw file of this backend refused, changing nothing;
//! a crash at every step.

use std::os::unix::fs::FileExt;

use crate::cli_support::*;

const DATA: &[u8] = b"a disk made without volctl";

fn backend_dir(v: &Volctl) -> std::path::PathBuf {
    v.state.join("backends/default")
}

/// A 1 GiB raw file with data, in the default backend's directory.
fn foreign_file(v: &Volctl, name: &str) -> std::path::PathBuf {
    v.json(&["backend", "list"]); // the directory, claimed
    let dir = backend_dir(v);
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(1 << 30).unwrap();
    f.write_all_at(DATA, 1 << 20).unwrap();
    p
}

fn has_data(path: &str) -> bool {
    let mut buf = vec![0u8; DATA.len()];
    std::fs::File::open(path)
        .unwrap()
        .read_exact_at(&mut buf, 1 << 20)
        .unwrap();
    buf == DATA
}

#[test]
fn manage_takes_a_raw_file_in_and_unmanage_gives_it_back() {
    let v = Volctl::new();
    let p = foreign_file(&v, "legacy.img");
    let x = v.json(&[
        "manage",
        p.to_str().unwrap(),
        "--backend",
        "default",
        "--name",
        "legacy",
    ]);
    let id = x["id"].as_str().unwrap().to_string();
    assert_eq!(
        (x["size"].as_u64(), x["status"].as_str()),
        (Some(1), Some("available"))
    );
    let path = x["path"].as_str().unwrap().to_string();
    assert!(path.ends_with(&format!("volume-{id}")), "{path}");
    assert!(!p.exists(), "renamed");
    assert!(has_data(&path));
    assert_eq!(v.usage("gigabytes"), (1, 0));
    assert_eq!(v.usage("volumes"), (1, 0));
    check_passes(&v, "after manage");
    // A managed volume is a volume like any other.
    v.json(&["snapshot", "create", "legacy", "--name", "s"]);
    v.ok(&["snapshot", "delete", "s"]);

    let r = v.json(&["unmanage", "legacy"]);
    let kept = r["path"].as_str().unwrap().to_string();
    assert!(kept.ends_with(&format!("unmanaged-{id}")), "{kept}");
    assert!(has_data(&kept), "the data is kept");
    assert_eq!(v.run(&["show", &id]).code, 5);
    assert_eq!(v.usage("gigabytes"), (0, 0));
    assert_eq!(v.usage("volumes"), (0, 0));
    check_passes(&v, "after unmanage: the file is no object of this store's");
    // And it can be taken in again.
    let x = v.json(&["manage", &kept, "--backend", "default"]);
    assert!(has_data(x["path"].as_str().unwrap()));
    check_passes(&v, "after managing it again");
}

#[test]
fn manage_refuses_what_is_not_a_plain_raw_file_of_the_backend() {
    let v = Volctl::new();
    let odd = foreign_file(&v, "odd.img");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&odd)
        .unwrap()
        .set_len((1 << 30) + 512)
        .unwrap();
    let outside = v.path("outside.img");
    std::fs::write(&outside, vec![0u8; 4096]).unwrap();
    let qcow = backend_dir(&v).join("disk.qcow2");
    let ok = command("qemu-img")
        .args(["create", "-q", "-f", "qcow2", qcow.to_str().unwrap(), "1G"])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let linked = foreign_file(&v, "linked.img");
    std::fs::hard_link(&linked, v.path("second-name.img")).unwrap();
    let own = v.json(&["create", "--size", "1"])["path"]
        .as_str()
        .unwrap()
        .to_string();
    for (object, says) in [
        (odd.to_str().unwrap(), "whole number of MiB"),
        (outside.to_str().unwrap(), "directory"),
        (qcow.to_str().unwrap(), "qcow2"),
        (linked.to_str().unwrap(), "single name"),
        (own.as_str(), "volctl's own name"),
    ] {
        let r = v.run(&["manage", object, "--backend", "default"]);
        assert_eq!(r.code, 2, "{object}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{object}: {}", r.stderr);
    }
    let r = v.run(&["manage", "/nonexistent", "--backend", "nope"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(odd.exists() && outside.exists() && qcow.exists() && linked.exists());
    assert_eq!(
        v.json(&["list"]).as_array().unwrap().len(),
        1,
        "only the volume made above"
    );
    assert_eq!(v.usage("gigabytes"), (1, 0));
}

#[test]
fn crash_at_every_step_of_manage_and_unmanage_then_resume_or_roll_back() {
    every_crash_point(
        Volctl::new,
        |v| foreign_file(v, "legacy.img"),
        |_, p| {
            let p = p.to_string_lossy().into_owned();
            vec!["manage".into(), p, "--backend".into(), "default".into()]
        },
        "volume_manage/",
        |v, p, s| {
            let what = &s.what;
            let vols = v.json(&["list"]);
            let vols = vols.as_array().unwrap();
            if s.done() {
                assert_eq!(vols.len(), 1, "{what}");
                assert!(has_data(vols[0]["path"].as_str().unwrap()), "{what}");
                assert_eq!(v.usage("gigabytes"), (1, 0), "{what}");
            } else {
                assert!(vols.is_empty(), "{what}: {vols:?}");
                assert!(
                    has_data(p.to_str().unwrap()),
                    "{what}: the file back as it was"
                );
                assert_eq!(v.usage("gigabytes"), (0, 0), "{what}");
            }
        },
    );
    every_crash_point(
        Volctl::new,
        |v| id_of(&v.json(&["create", "--size", "1"])),
        |_, id| vec!["unmanage".into(), id.clone()],
        "volume_unmanage/",
        |v, id, s| {
            let what = &s.what;
            let files = Volctl::files(&backend_dir(v));
            if s.done() {
                assert_eq!(v.run(&["show", id]).code, 5, "{what}");
                assert_eq!(files, [format!("unmanaged-{id}")], "{what}");
                assert_eq!(v.usage("gigabytes"), (0, 0), "{what}");
            } else {
                assert_eq!(v.json(&["show", id])["status"], "available", "{what}");
                assert_eq!(files, [format!("volume-{id}")], "{what}");
                assert_eq!(v.usage("gigabytes"), (1, 0), "{what}");
            }
        },
    );
}
