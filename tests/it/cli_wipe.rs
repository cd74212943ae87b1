//! The wipe policy on delete, for real on the loopback backend: what a
//! process still holding the deleted file reads afterwards — the old data
//! (`none`), zeros (`discard`: holes punched; `zero`: data overwritten) —
//! per backend and overridden per volume type.

use std::os::unix::fs::FileExt;

use crate::cli_support::*;

const SECRET: &[u8] = b"data that must not outlive its volume";

/// Creates a volume (of `type_` if given), writes SECRET, deletes it while
/// holding the file open; returns what the open file then reads.
fn after_delete(v: &Volctl, type_: Option<&str>) -> Vec<u8> {
    let mut args = vec!["create", "--size", "1"];
    if let Some(t) = type_ {
        args.extend(["--type", t]);
    }
    let x = v.json(&args);
    let path = x["path"].as_str().unwrap();
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    f.write_all_at(SECRET, 5 << 20).unwrap();
    f.sync_all().unwrap();
    v.ok(&["delete", x["id"].as_str().unwrap()]);
    assert!(!std::path::Path::new(path).exists());
    let mut buf = vec![0xffu8; SECRET.len()];
    f.read_exact_at(&mut buf, 5 << 20).unwrap();
    buf
}

#[test]
fn delete_wipes_as_the_backend_or_the_type_says() {
    let none = Volctl::new();
    assert_eq!(after_delete(&none, None), SECRET, "none: only unlinked");

    for wipe in ["zero", "discard"] {
        let v = Volctl::with_config(&format!(
            "[[backend]]\nname = \"a\"\ndriver = \"loopback\"\npath = \"@/a\"\nwipe = \"{wipe}\"\n"
        ));
        assert_eq!(after_delete(&v, None), vec![0u8; SECRET.len()], "{wipe}");
    }

    // A type's volctl:wipe overrides its backend's.
    let v = Volctl::new();
    v.ok(&["type", "create", "scrubbed", "--spec", "volctl:wipe=zero"]);
    assert_eq!(after_delete(&v, Some("scrubbed")), vec![0u8; SECRET.len()]);
    let r = v.run(&["type", "create", "bad", "--spec", "volctl:wipe=shred"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("volctl:wipe"), "{}", r.stderr);
    let r = Volctl::with_config(
        "[[backend]]\nname = \"a\"\ndriver = \"loopback\"\npath = \"@/a\"\nwipe = \"shred\"\n",
    )
    .run(&["list"]);
    assert_eq!(r.code, 2, "a bad wipe in the configuration: {}", r.stderr);
}
