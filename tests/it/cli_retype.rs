//! `volctl retype`: the type (and its typed quota) changed in place when the
//! backend satisfies it; refused with every backend's verdicts when not; with
//! `--migrate` moved first to a backend that does, data along.

use std::os::unix::fs::FileExt;

use crate::cli_support::*;

const TIERS: &str = "[quota]\n[[backend]]\nname = \"hdd\"\ndriver = \"loopback\"\npath = \"@/hdd\"\ncapabilities = { tier = \"hdd\" }\n[[backend]]\nname = \"ssd\"\ndriver = \"loopback\"\npath = \"@/ssd\"\ncapabilities = { tier = \"ssd\", fast = \"yes\" }\n[[volume_type]]\nname = \"slow\"\nextra_specs = { \"capabilities:tier\" = \"hdd\" }\n[[volume_type]]\nname = \"any\"\nextra_specs = {}\n[[volume_type]]\nname = \"fast\"\nextra_specs = { \"capabilities:tier\" = \"ssd\" }\n";

#[test]
fn retype_in_place_moves_the_typed_quota() {
    let v = Volctl::with_config(TIERS);
    let id = v.json(&["create", "--size", "2", "--type", "slow"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(v.usage("gigabytes_slow"), (2, 0));
    let x = v.json(&["retype", &id, "--type", "any"]);
    assert_eq!(
        (x["type"].as_str(), x["backend"].as_str()),
        (Some("any"), Some("hdd"))
    );
    assert_eq!(v.usage("gigabytes_slow"), (0, 0));
    assert_eq!(v.usage("gigabytes_any"), (2, 0));
    assert_eq!(v.usage("volumes_any"), (1, 0));
    assert_eq!(v.usage("gigabytes"), (2, 0), "the untyped figure unchanged");
    let events = v.ok(&["events", "--volume", &id, "--json"]);
    assert!(events.contains("\"volume.retype\""), "{events}");
    check_passes(&v, "after an in-place retype");
}

#[test]
fn retype_to_a_type_its_backend_cannot_serve_needs_migrate() {
    let v = Volctl::with_config(TIERS);
    let x = v.json(&["create", "--size", "1", "--type", "slow"]);
    let (id, path) = (
        x["id"].as_str().unwrap().to_string(),
        x["path"].as_str().unwrap().to_string(),
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .write_all_at(b"tiered", 1 << 20)
        .unwrap();
    let r = v.run(&["retype", &id, "--type", "fast"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("--migrate") && r.stderr.contains("ssd"),
        "{}",
        r.stderr
    );
    assert_eq!(v.json(&["show", &id])["type"], "slow", "unchanged");
    let x = v.json(&["retype", &id, "--type", "fast", "--migrate"]);
    assert_eq!(
        (x["type"].as_str(), x["backend"].as_str()),
        (Some("fast"), Some("ssd"))
    );
    let mut buf = [0u8; 6];
    std::fs::File::open(x["path"].as_str().unwrap())
        .unwrap()
        .read_exact_at(&mut buf, 1 << 20)
        .unwrap();
    assert_eq!(&buf, b"tiered");
    assert_eq!(v.usage("gigabytes_fast"), (1, 0));
    assert_eq!(v.usage("gigabytes_slow"), (0, 0));
    let r = v.run(&["retype", &id, "--type", "nope"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    check_passes(&v, "after a retype with migration");
}
