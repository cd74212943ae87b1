//! `volctl extend` for real on the loopback backend: the data kept, the
//! new size seen by a reader of the attached device without a detach, quota
//! and `check` exact, bad requests leaving nothing behind; and a crash at
//! every step of the extend flow, then resume or roll back.

use std::os::unix::fs::FileExt;

use crate::cli_support::*;

const DATA: &[u8] = b"data written before the extend";

fn volume(v: &Volctl, size: &str) -> (String, String) {
    let x = v.json(&["create", "--size", size]);
    let path = x["path"].as_str().unwrap().to_string();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all_at(DATA, 4096).unwrap();
    (x["id"].as_str().unwrap().to_string(), path)
}

fn has_data(path: &str) -> bool {
    let mut buf = vec![0u8; DATA.len()];
    std::fs::File::open(path)
        .unwrap()
        .read_exact_at(&mut buf, 4096)
        .unwrap();
    buf == DATA
}

#[test]
fn extend_grows_the_file_keeps_the_data_and_charges_the_difference() {
    let v = Volctl::new();
    let (id, path) = volume(&v, "1");
    let x = v.json(&["extend", &id, "--size", "3"]);
    assert_eq!(
        (x["size"].as_u64(), x["status"].as_str()),
        (Some(3), Some("available"))
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 3 << 30);
    assert!(has_data(&path));
    assert_eq!(v.usage("gigabytes"), (3, 0));
    assert_eq!(v.usage("volumes"), (1, 0));
    // Asking again for the size it has: nothing to do, success.
    let again = v.json(&["extend", &id, "--size", "3"]);
    assert_eq!(again["size"], 3);
    // `events --json` prints one object per line.
    let kinds: Vec<String> = v
        .json(&["events", "--volume", &id])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].to_string())
        .collect();
    assert!(
        kinds.ends_with(&[
            "\"volume.extend.start\"".into(),
            "\"volume.extend.end\"".into()
        ]),
        "{kinds:?}"
    );
    check_passes(&v, "after extend");
}

#[test]
fn bad_extends_are_refused_with_their_exit_code_and_leave_nothing() {
    let v = Volctl::with_config(
        "[quota]\ngigabytes = 4\n[[backend]]\nname = \"a\"\ndriver = \"loopback\"\npath = \"@/a\"\ncapacity_gb = 6\nmax_over_subscription_ratio = 1.0\n",
    );
    let (id, path) = volume(&v, "2");
    for (args, code, says) in [
        (vec!["extend", &id, "--size", "1"], 2, "shrinking"),
        (vec!["extend", &id, "--size", "5"], 3, "quota"),
        (
            vec!["extend", "no-such-volume", "--size", "5"],
            5,
            "no-such-volume",
        ),
    ] {
        let r = v.run(&args);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
    let r = v.run(&["extend", &id, "--size", "0"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let x = v.json(&["show", &id]);
    assert_eq!(
        (x["size"].as_u64(), x["status"].as_str()),
        (Some(2), Some("available"))
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 << 30);
    assert_eq!(v.usage("gigabytes"), (2, 0), "no reservation left");
    check_passes(&v, "after refused extends");

    // No room on its backend: no valid backend (4), named.
    let v = Volctl::with_config(
        "[[backend]]\nname = \"a\"\ndriver = \"loopback\"\npath = \"@/a\"\ncapacity_gb = 3\nthin = true\nmax_over_subscription_ratio = 1.0\n",
    );
    let (id, _) = volume(&v, "2");
    let r = v.run(&["extend", &id, "--size", "8"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("backend `a`"), "{}", r.stderr);
    check_passes(&v, "after a capacity refusal");
}

#[test]
fn an_attached_volume_grows_in_place_and_its_reader_sees_the_new_size() {
    if !need_root("an_attached_volume_grows_in_place") {
        return;
    }
    let v = Volctl::new();
    let (id, path) = volume(&v, "1");
    let dev = v.json(&["attach", &id])["device"]
        .as_str()
        .unwrap()
        .to_string();
    let size = |dev: &str| -> u64 {
        let out = command("blockdev")
            .args(["--getsize64", dev])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    assert_eq!(size(&dev), 1 << 30);
    let x = v.json(&["extend", &id, "--size", "2"]);
    assert_eq!(
        (x["status"].as_str(), x["device"].as_str()),
        (Some("in-use"), Some(dev.as_str()))
    );
    assert_eq!(
        size(&dev),
        2 << 30,
        "the device shows the new size without a detach"
    );
    assert!(has_data(&path));
    check_passes(&v, "after an online extend");
    v.ok(&["detach", &id]);
}

#[test]
fn crash_at_every_step_of_an_extend_then_resume_or_roll_back() {
    every_crash_point(
        Volctl::new,
        |v| volume(v, "1"),
        |_, (id, _)| ["extend", id, "--size", "2"].map(String::from).to_vec(),
        "volume_extend/ExtendOnBackend",
        |v, (id, path), s| {
            let what = &s.what;
            let x = v.json(&["show", id]);
            assert_eq!(x["status"], "available", "{what}: {x}");
            let size = x["size"].as_u64().unwrap();
            assert_eq!(size, if s.done() { 2 } else { 1 }, "{what}: {x}");
            assert_eq!(std::fs::metadata(path).unwrap().len(), size << 30, "{what}");
            assert!(has_data(path), "{what}: data");
            assert_eq!(v.usage("gigabytes"), (size as i64, 0), "{what}: quota");
        },
    );
}

#[test]
fn rename_records_the_new_name_and_refuses_a_bad_one() {
    let v = Volctl::new();
    let (id, _) = volume(&v, "1");
    let x = v.json(&["rename", &id, "scratch"]);
    assert_eq!(x["name"], "scratch");
    assert_eq!(v.json(&["show", "scratch"])["id"], id.as_str());
    let r = v.run(&["rename", "scratch", "8a6c2f0e-1d8a-4e0b-9a51-3c1f2b7d9e44"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("looks like an id"), "{}", r.stderr);
    assert_eq!(v.json(&["show", &id])["name"], "scratch", "unchanged");
    let events = v.ok(&["events", "--volume", &id, "--json"]);
    assert!(events.contains("\"volume.rename\""), "{events}");
    check_passes(&v, "after rename");
}
