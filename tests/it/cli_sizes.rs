//! Sizes with units and MiB granularity, through the real binary: what
//! `--size` accepts, what is made (the file's length), how sizes appear in
//! JSON and for people, and the quota counting them exactly.

use crate::cli_support::*;

const MIB: u64 = 1 << 20;

fn file_len(v: &serde_json::Value) -> u64 {
    std::fs::metadata(v["path"].as_str().unwrap())
        .unwrap()
        .len()
}

#[test]
fn sizes_take_binary_units_and_are_whole_mib() {
    let v = Volctl::new();
    for (arg, bytes, gib) in [
        ("512M", 512 * MIB, serde_json::json!(0.5)),
        ("4096K", 4 * MIB, serde_json::json!(0.003906)),
        ("1.5", 1536 * MIB, serde_json::json!(1.5)),
        ("2", 2048 * MIB, serde_json::json!(2)),
        ("1.3G", 1332 * MIB, serde_json::json!(1.300781)),
        ("1MiB", MIB, serde_json::json!(0.000977)),
    ] {
        let vol = v.json(&["create", "--size", arg]);
        assert_eq!(vol["size_bytes"], bytes, "{arg}");
        assert_eq!(vol["size"], gib, "{arg}: GiB, a fraction when not whole");
        assert_eq!(file_len(&vol), bytes, "{arg}: the object is that size");
    }
    let vol = v.json(&["create", "--size", "512M", "--name", "half"]);
    assert!(
        v.ok(&["show", "half"]).contains("512 MiB"),
        "show says 512 MiB"
    );
    assert!(v.ok(&["list"]).contains("512 MiB"), "list says 512 MiB");
    // Growing by less than a GiB.
    let grown = v.json(&["extend", "half", "--size", "768M"]);
    assert_eq!(grown["size_bytes"], 768 * MIB);
    assert_eq!(file_len(&vol), 768 * MIB);
    // A snapshot has its volume's size, exactly.
    let snap = v.json(&["snapshot", "create", "half"]);
    assert_eq!(snap["size_bytes"], 768 * MIB);
    assert_eq!(snap["size"], 0.75);
    for (bad, says) in [
        ("0", "is zero"),
        ("12X", "unknown unit"),
        ("1.2.3", "is not a size"),
        ("-1", "unexpected argument"),
    ] {
        let r = v.run(&["create", "--size", bad]);
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{bad}: {}", r.stderr);
    }
    // 1 byte rounds up to 1 MiB: a volume is at least that.
    let tiny = v.json(&["create", "--size", "1K"]);
    assert_eq!(tiny["size_bytes"], MIB);
    check_passes(&v, "after sized creates");
}

#[test]
fn the_gigabytes_quota_counts_small_volumes_exactly() {
    let v = Volctl::new();
    v.ok(&["quota", "set", "--gigabytes", "1"]);
    for _ in 0..4 {
        v.ok(&["create", "--size", "256M"]);
    }
    assert_eq!(v.usage_bytes("gigabytes"), (1 << 30, 0));
    assert_eq!(v.usage("gigabytes"), (1, 0), "whole GiB in `in_use`");
    let files = Volctl::files(&v.state.join("backends/default"));
    let r = v.run(&["create", "--size", "1M"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("requested 1 MiB, quota is 1 GiB and 1 GiB have been consumed"),
        "{}",
        r.stderr
    );
    // The refusal leaves nothing: no row, no file, no usage.
    assert_eq!(v.json(&["list"]).as_array().unwrap().len(), 4);
    assert_eq!(Volctl::files(&v.state.join("backends/default")), files);
    assert_eq!(v.usage_bytes("gigabytes"), (1 << 30, 0));
    // Half of it back: a 512 MiB volume fits again, shown as a fraction.
    let all = v.json(&["list"]);
    for vol in all.as_array().unwrap().iter().take(2) {
        v.ok(&["delete", &id_of(vol)]);
    }
    let q = v.json(&["quota", "show"]);
    assert_eq!(q["gigabytes"]["in_use"], 0.5);
    assert_eq!(q["gigabytes"]["in_use_bytes"], 512 * MIB);
    v.ok(&["create", "--size", "512M"]);
    check_passes(&v, "after exact quota");
}

#[test]
fn apply_takes_sizes_with_units_and_converges() {
    let v = Volctl::new();
    let file = v.path("plan.toml");
    std::fs::write(
        &file,
        "[[volume]]\nname = \"scratch\"\nsize = \"512M\"\n[[volume]]\nname = \"root\"\nsize = 1.5\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    v.ok(&["apply", "-f", f]);
    assert_eq!(v.json(&["show", "scratch"])["size_bytes"], 512 * MIB);
    assert_eq!(v.json(&["show", "root"])["size_bytes"], 1536 * MIB);
    let again = v.json(&["apply", "-f", f]);
    let actions: Vec<&str> = again["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["unchanged", "unchanged"], "{again}");
    check_passes(&v, "after apply");
}
