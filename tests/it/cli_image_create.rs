//! `volctl image create --from-volume|--from-snapshot` (Cinder's
//! upload-to-image) for real: the image holds the volume's data and new
//! volumes made from it do too; refusals leave nothing; a crash at every
//! step, then resume or roll back.

use std::os::unix::fs::FileExt;

use crate::cli_support::*;
use serde_json::Value;

const DATA: &[u8] = b"the golden disk's data";

/// A 1 GiB volume with data at 0 and at 700 MiB.
fn golden(v: &Volctl) -> (String, String) {
    let x = v.json(&["create", "--size", "1", "--name", "golden"]);
    let path = x["path"].as_str().unwrap().to_string();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all_at(DATA, 0).unwrap();
    f.write_all_at(DATA, 700 << 20).unwrap();
    // Enough data that a copy reports progress midway.
    f.write_all_at(&vec![7u8; 24 << 20], 64 << 20).unwrap();
    (id_of(&x), path)
}

fn has_data(path: &str) -> bool {
    let f = std::fs::File::open(path).unwrap();
    [0u64, 700 << 20].iter().all(|&off| {
        let mut buf = vec![0u8; DATA.len()];
        f.read_exact_at(&mut buf, off).unwrap();
        buf == DATA
    })
}

fn catalog(v: &Volctl) -> Vec<String> {
    Volctl::files(&v.state.join("images"))
}

#[test]
fn an_image_made_from_a_volume_or_a_snapshot_makes_volumes_with_its_data() {
    let v = Volctl::new();
    let (id, _) = golden(&v);
    let img = v.json(&[
        "image",
        "create",
        "--name",
        "base",
        "--from-volume",
        "golden",
    ]);
    assert_eq!(img["name"], "base");
    assert_eq!(img["format"], "raw");
    assert_eq!(img["status"], "active");
    assert_eq!(img["virtual_size"], 1u64 << 30);
    assert_eq!(v.json(&["show", &id])["status"], "available");
    let made = v.json(&["create", "--from-image", "base"]);
    assert!(has_data(made["path"].as_str().unwrap()));
    assert_eq!(made["size"], 1);

    // From a snapshot, as qcow2 (the volume changed since: the image has
    // the snapshot's data).
    v.ok(&["snapshot", "create", "golden", "--name", "s1"]);
    let path = v.json(&["show", &id])["path"].as_str().unwrap().to_string();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .write_all_at(b"changed after the snapshot", 0)
        .unwrap();
    let img2 = v.json(&[
        "image",
        "create",
        "--name",
        "base2",
        "--from-snapshot",
        "s1",
        "--format",
        "qcow2",
    ]);
    assert_eq!(img2["format"], "qcow2");
    let made2 = v.json(&["create", "--from-image", "base2", "--size", "2"]);
    assert!(has_data(made2["path"].as_str().unwrap()));
    assert_eq!(made2["size"], 2);
    assert_eq!(
        v.json(&["snapshot", "show", "s1"])["status"],
        "available",
        "the snapshot is settled"
    );
    check_passes(&v, "after images made from a volume and a snapshot");
}

#[test]
fn refused_image_creates_leave_nothing() {
    let v = Volctl::new();
    let (id, _) = golden(&v);
    v.ok(&["image", "create", "--name", "base", "--from-volume", &id]);
    let files = catalog(&v);
    let images = v.json(&["image", "list"]);

    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["image", "create", "--name", "base", "--from-volume", &id],
            6,
            "already exists",
        ),
        (
            &["image", "create", "--name", "x", "--from-volume", "nosuch"],
            5,
            "nosuch",
        ),
        (
            &[
                "image",
                "create",
                "--name",
                "bad\u{1}name",
                "--from-volume",
                &id,
            ],
            2,
            "name",
        ),
        (
            &[
                "image",
                "create",
                "--name",
                "x",
                "--from-volume",
                &id,
                "--format",
                "vmdk",
            ],
            2,
            "vmdk",
        ),
    ];
    for (args, code, says) in cases {
        let r = v.run(args);
        assert_eq!(r.code, *code, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert_eq!(catalog(&v), files, "{args:?} left a catalog file");
        assert_eq!(v.json(&["image", "list"]), images, "{args:?}");
        assert_eq!(v.json(&["show", &id])["status"], "available", "{args:?}");
    }
    check_passes(&v, "after refused image creates");
}

#[test]
fn an_in_use_volume_is_refused_and_a_snapshot_of_it_is_the_way() {
    if !need_root("an_in_use_volume_is_refused_and_a_snapshot_of_it_is_the_way") {
        return;
    }
    let v = Volctl::new();
    let _c = Cleanup::of(&v);
    let (id, _) = golden(&v);
    v.ok(&["attach", &id]);
    let r = v.run(&["image", "create", "--name", "base", "--from-volume", &id]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("in use"), "{}", r.stderr);
    assert!(r.stderr.contains("snapshot"), "{}", r.stderr);
    assert_eq!(v.json(&["image", "list"]), Value::Array(vec![]));
    assert!(catalog(&v).is_empty(), "{:?}", catalog(&v));
    assert_eq!(v.json(&["show", &id])["status"], "in-use");
    v.ok(&["snapshot", "create", &id, "--name", "s", "--force"]);
    v.ok(&["image", "create", "--name", "base", "--from-snapshot", "s"]);
    v.ok(&["detach", &id]);
    check_passes(&v, "after an image of an in-use volume's snapshot");
}

#[test]
fn crash_at_every_step_of_an_image_create_then_resume_or_roll_back() {
    every_crash_point(
        Volctl::new,
        golden,
        |_, _| {
            [
                "image",
                "create",
                "--name",
                "base",
                "--from-volume",
                "golden",
            ]
            .map(String::from)
            .to_vec()
        },
        "image_from_volume/RegisterImage",
        |v, (id, _), s| {
            let what = &s.what;
            assert_eq!(v.json(&["show", id])["status"], "available", "{what}");
            let images = v.json(&["image", "list"]);
            if s.done() {
                assert_eq!(images.as_array().unwrap().len(), 1, "{what}: {images}");
                let made = v.json(&["create", "--from-image", "base"]);
                assert!(has_data(made["path"].as_str().unwrap()), "{what}");
            } else {
                assert_eq!(images, Value::Array(vec![]), "{what}");
                assert!(catalog(v).is_empty(), "{what}: {:?}", catalog(v));
            }
        },
    );
}
