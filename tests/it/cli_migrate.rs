//! `volctl migrate` for real between two loopback backends: the data equal
//! on the target, the source gone, quota unchanged, `check` passing;
//! refusals that change nothing; a crash at every step then resume or roll
//! back — never losing the data (after the source is deleted a rollback
//! keeps the target).

use std::os::unix::fs::FileExt;

use crate::cli_support::*;

const TWO: &str = "[quota]\nsnapshots = 5\n[[backend]]\nname = \"a\"\ndriver = \"loopback\"\npath = \"@/a\"\n[[backend]]\nname = \"b\"\ndriver = \"loopback\"\npath = \"@/b\"\ncapacity_gb = 3\nthin = true\nmax_over_subscription_ratio = 1.0\n";

fn volume(v: &Volctl) -> (String, Vec<u8>) {
    let x = v.json(&["create", "--size", "1", "--name", "m"]);
    let path = x["path"].as_str().unwrap().to_string();
    assert!(path.contains("/a/"), "{path}");
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let data: Vec<u8> = (0..(4 << 20)).map(|i: u32| (i % 253) as u8 | 1).collect();
    f.write_all_at(&data, 100 << 20).unwrap();
    // More data elsewhere: the copy runs long enough to report progress in
    // its middle (a crash point).
    let filler = vec![0x5au8; 32 << 20];
    for at in [300u64 << 20, 700 << 20] {
        f.write_all_at(&filler, at).unwrap();
    }
    (x["id"].as_str().unwrap().to_string(), data)
}

fn has(path: &str, data: &[u8]) -> bool {
    let mut buf = vec![0u8; data.len()];
    std::fs::File::open(path)
        .and_then(|f| f.read_exact_at(&mut buf, 100 << 20))
        .is_ok()
        && buf == data
}

#[test]
fn migrate_moves_the_data_and_keeps_the_identity() {
    let v = Volctl::with_config(TWO);
    let (id, data) = volume(&v);
    let x = v.json(&["migrate", "m", "--backend", "b"]);
    assert_eq!(
        (x["id"].as_str(), x["name"].as_str()),
        (Some(id.as_str()), Some("m"))
    );
    assert_eq!(
        (x["backend"].as_str(), x["status"].as_str()),
        (Some("b"), Some("available"))
    );
    let path = x["path"].as_str().unwrap();
    assert!(path.contains("/b/") && has(path, &data), "{path}");
    assert!(Volctl::files(&v.path("a")).is_empty(), "the source is gone");
    assert_eq!(v.usage("gigabytes"), (1, 0));
    let events = v.ok(&["events", "--volume", &id, "--json"]);
    assert!(events.contains("\"volume.migrate\""), "{events}");
    check_passes(&v, "after migrate");
    // And back.
    let x = v.json(&["migrate", "m", "--backend", "a"]);
    assert!(has(x["path"].as_str().unwrap(), &data));
    check_passes(&v, "after migrating back");
}

#[test]
fn migrate_refusals_change_nothing() {
    let v = Volctl::with_config(TWO);
    let (id, _) = volume(&v);
    for (args, code, says) in [
        (vec!["migrate", "m", "--backend", "a"], 2, "already"),
        (vec!["migrate", "m", "--backend", "nope"], 5, "nope"),
    ] {
        let r = v.run(&args);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
    v.json(&["snapshot", "create", "m", "--name", "s"]);
    let r = v.run(&["migrate", "m", "--backend", "b"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("snapshots"), "{}", r.stderr);
    v.ok(&["snapshot", "delete", "s"]);
    // No room on the target (3 GiB, over-subscription 1.0).
    let big = v.json(&["create", "--size", "4", "--name", "big"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = v.run(&["migrate", &big, "--backend", "b"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("`b`"), "{}", r.stderr);
    for vol in [&id, &big] {
        let x = v.json(&["show", vol]);
        assert_eq!(
            (x["backend"].as_str(), x["status"].as_str()),
            (Some("a"), Some("available"))
        );
    }
    assert!(Volctl::files(&v.path("b")).is_empty());
    check_passes(&v, "after refusals");
}

#[test]
fn crash_at_every_step_of_a_migrate_then_resume_or_roll_back() {
    every_crash_point(
        || Volctl::with_config(TWO),
        volume,
        |_, _| {
            ["migrate", "m", "--backend", "b"]
                .map(String::from)
                .to_vec()
        },
        "volume_migrate/DeleteSource",
        |v, (id, data), s| {
            let what = &s.what;
            let x = v.json(&["show", id]);
            assert_eq!(x["status"], "available", "{what}: {x}");
            let on = x["backend"].as_str().unwrap();
            if s.resume {
                assert_eq!(on, "b", "{what}");
            }
            assert!(
                has(x["path"].as_str().unwrap(), data),
                "{what}: the data, on {on}"
            );
            let other = if on == "a" { "b" } else { "a" };
            assert!(
                Volctl::files(&v.path(other)).is_empty(),
                "{what}: left on {other}"
            );
            assert_eq!(v.usage("gigabytes"), (1, 0), "{what}");
        },
    );
}
