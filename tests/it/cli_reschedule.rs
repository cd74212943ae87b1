//! Rescheduling, the failure policy, events and explained scheduling, with
//! real failures: a backend on a tiny filesystem that fills up, a backend
//! made read-only, a backend directory that disappears between scheduling
//! and creation; and a second backend that is fine.

use std::path::Path;
use std::time::Duration;

use crate::cli_support::*;
use serde_json::Value;

/// A tmpfs of 8 MiB at `dir`: it fills up as soon as data is written.
fn tiny_fs(dir: &Path) -> Umount {
    tmpfs(dir, "8m")
}

/// A backend that looks biggest (so it is chosen first) and one that works.
fn two_backends(extra: &str) -> Volctl {
    Volctl::with_config(&format!(
        r#"
{extra}
[[backend]]
name = "broken"
driver = "loopback"
path = "@/broken"
capacity_gb = 1000
[[backend]]
name = "good"
driver = "loopback"
path = "@/good"
capacity_gb = 100
"#
    ))
}

fn events(v: &Volctl, args: &[&str]) -> Vec<Value> {
    let mut a = vec!["events"];
    a.extend_from_slice(args);
    v.json(&a).as_array().unwrap().clone()
}

fn types(evs: &[Value]) -> Vec<String> {
    evs.iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// Checks the one-reschedule outcome: on `good`, nothing on `broken`,
/// figures exact, the reschedule shown and recorded.
fn landed_on_good_after_one_reschedule(v: &Volctl, r: &Run, reason: &str) {
    assert_eq!(r.code, 0, "{}", r.stderr);
    let vol = r.json();
    assert_eq!(vol["backend"], "good");
    assert_eq!(vol["status"], "available");
    assert_eq!(vol["attempts"], 2);
    assert!(
        r.stderr
            .contains("rescheduling (attempt 2 of 3): broken failed:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(reason), "{}", r.stderr);
    assert!(
        Volctl::files(&v.path("broken")).is_empty(),
        "no leftover on the broken backend"
    );
    let volumes_on_good = Volctl::files(&v.path("good"))
        .into_iter()
        .filter(|f| f.starts_with("volume-"))
        .count();
    assert_eq!(volumes_on_good, 1);
    assert_eq!(v.usage("volumes"), (1, 0));
    let size = vol["size_bytes"].as_u64().unwrap();
    assert_eq!(v.usage_bytes("gigabytes"), (size, 0));
    let backends = v.json(&["backend", "list"]);
    assert_eq!(backends[0]["provisioned_bytes"], 0, "broken counts nothing");
    assert!(backends[1]["provisioned_bytes"].as_u64().unwrap() >= size);
    let id = vol["id"].as_str().unwrap();
    let evs = events(v, &["--volume", id]);
    assert_eq!(
        types(&evs),
        [
            "volume.create.start",
            "volume.reschedule",
            "volume.create.start",
            "volume.create.end"
        ]
    );
    assert_eq!(evs[0]["payload"]["backend"], "broken");
    assert_eq!(evs[1]["payload"]["from"], "broken");
    assert_eq!(evs[1]["payload"]["attempt"], 2);
    assert!(
        evs[1]["payload"]["reason"]
            .as_str()
            .unwrap()
            .contains(reason)
    );
    assert_eq!(evs[2]["payload"]["backend"], "good");
}

#[test]
fn a_full_backend_reschedules_onto_the_healthy_one() {
    if !need_root("a_full_backend_reschedules_onto_the_healthy_one") {
        return;
    }
    let v = two_backends("");
    let _fs = tiny_fs(&v.path("broken"));
    // 32 MiB of data will not fit in 8 MiB: the copy fails half-way.
    let img = v.path("data.qcow2");
    sh(
        "qemu-img",
        &["create", "-f", "qcow2", img.to_str().unwrap(), "64M"],
    );
    sh(
        "qemu-io",
        &["-c", "write -P 0x5a 0 32M", img.to_str().unwrap()],
    );
    v.json(&["image", "import", img.to_str().unwrap()]);
    let r = v.run(&["create", "--from-image", "data.qcow2", "--json"]);
    landed_on_good_after_one_reschedule(&v, &r, "No space left on device");
    // The image's data is there.
    let vol = r.json();
    let out = command("qemu-img")
        .args([
            "compare",
            "-f",
            "qcow2",
            "-F",
            "raw",
            img.to_str().unwrap(),
            vol["path"].as_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(out.success());
}

#[test]
fn an_unwritable_backend_reschedules_onto_the_healthy_one() {
    if !need_root("an_unwritable_backend_reschedules_onto_the_healthy_one") {
        return;
    }
    let v = two_backends("");
    let _ro = ReadOnly::new(&v.path("broken"));
    let r = v.run(&["create", "--size", "1", "--json"]);
    landed_on_good_after_one_reschedule(&v, &r, "Read-only file system");
}

/// Runs `create` paused at `point`; `meanwhile` runs during the pause.
fn create_paused_at(v: &Volctl, point: &str, meanwhile: impl FnOnce()) -> Run {
    let (child, pause) = spawn_paused(v, &["create", "--size", "1", "--json"], point);
    meanwhile();
    std::fs::remove_file(&pause).unwrap();
    let mut child = child;
    let t0 = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("volctl did not finish after being released at {point}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap().into()
}

#[test]
fn a_backend_that_disappears_between_scheduling_and_creation_reschedules() {
    let v = two_backends("");
    std::fs::create_dir_all(v.path("broken")).unwrap();
    let r = create_paused_at(&v, "volume_create_manager/ExtractVolumeRef/success", || {
        // Scheduled on `broken`: now its directory goes, and a file takes
        // its place.
        std::fs::remove_dir(v.path("broken")).unwrap();
        std::fs::write(v.path("broken"), "not a directory any more").unwrap();
    });
    std::fs::remove_file(v.path("broken")).unwrap();
    landed_on_good_after_one_reschedule(&v, &r, "is not a directory");
}

#[test]
fn all_backends_broken_ends_in_error_after_exactly_max_attempts() {
    if !need_root("all_backends_broken_ends_in_error_after_exactly_max_attempts") {
        return;
    }
    let v = Volctl::with_config(
        r#"
[[backend]]
name = "b1"
driver = "loopback"
path = "@/b1"
capacity_gb = 300
[[backend]]
name = "b2"
driver = "loopback"
path = "@/b2"
capacity_gb = 200
[[backend]]
name = "b3"
driver = "loopback"
path = "@/b3"
capacity_gb = 100
[[backend]]
name = "b4"
driver = "loopback"
path = "@/b4"
capacity_gb = 50
"#,
    );
    let _ro: Vec<ReadOnly> = ["b1", "b2", "b3", "b4"]
        .iter()
        .map(|b| ReadOnly::new(&v.path(b)))
        .collect();
    let r = v.run(&["create", "--size", "1", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let vol = &v.json(&["list"])[0];
    assert_eq!(vol["status"], "error");
    assert_eq!(vol["attempts"], 3);
    let evs = events(&v, &["--volume", vol["id"].as_str().unwrap()]);
    let starts: Vec<&str> = evs
        .iter()
        .filter(|e| e["type"] == "volume.create.start")
        .map(|e| e["payload"]["backend"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        ["b1", "b2", "b3"],
        "three attempts, each on a different backend"
    );
    assert_eq!(types(&evs).last().unwrap(), "volume.create.error");
    assert_eq!(
        evs.iter()
            .filter(|e| e["type"] == "volume.reschedule")
            .count(),
        2
    );
    assert_eq!(v.usage("volumes"), (0, 0));
    assert_eq!(v.usage("gigabytes"), (0, 0));
    for b in ["b1", "b2", "b3", "b4"] {
        assert!(Volctl::files(&v.path(b)).is_empty());
    }
}

#[test]
fn max_attempts_one_never_reschedules() {
    if !need_root("max_attempts_one_never_reschedules") {
        return;
    }
    let v = two_backends("[scheduler]\nmax_attempts = 1\n");
    let _ro = ReadOnly::new(&v.path("broken"));
    let r = v.run(&["create", "--size", "1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("rescheduling"), "{}", r.stderr);
    let vol = &v.json(&["list"])[0];
    assert_eq!(vol["status"], "error");
    assert_eq!(vol["backend"], "broken");
    assert_eq!(vol["attempts"], 1);
    let evs = events(&v, &[]);
    assert!(!types(&evs).contains(&"volume.reschedule".to_string()));
    assert!(Volctl::files(&v.path("good")).is_empty());
    assert_eq!(v.usage("volumes"), (0, 0));
}

#[test]
fn a_bad_image_never_reschedules() {
    let v = Volctl::with_config(
        r#"
[[backend]]
name = "first"
driver = "loopback"
path = "@/first"
capacity_gb = 1000
[[backend]]
name = "second"
driver = "loopback"
path = "@/second"
capacity_gb = 100
"#,
    );
    let img = v.path("i.qcow2");
    sh(
        "qemu-img",
        &["create", "-f", "qcow2", img.to_str().unwrap(), "64M"],
    );
    sh(
        "qemu-io",
        &["-c", "write -P 0x5a 0 32M", img.to_str().unwrap()],
    );
    let image = v.json(&["image", "import", img.to_str().unwrap()]);
    // The catalog's copy goes bad after import (disk corruption, tampering):
    // its L1 table offset now points far past the end.
    let copy = image["path"].as_str().unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(copy).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0], 40)
        .unwrap();
    drop(f);
    let r = v.run(&["create", "--from-image", "i.qcow2"]);
    assert_ne!(r.code, 0);
    assert!(!r.stderr.contains("rescheduling"), "{}", r.stderr);
    let vol = &v.json(&["list"])[0];
    assert_eq!(vol["status"], "error");
    assert_eq!(vol["attempts"], 1);
    let evs = events(&v, &["--volume", vol["id"].as_str().unwrap()]);
    let last = evs.last().unwrap();
    assert_eq!(last["type"], "volume.create.error");
    assert_eq!(last["payload"]["kind"], "bad_image");
    assert!(Volctl::files(&v.path("second")).is_empty());
    assert!(
        Volctl::files(&v.path("first"))
            .iter()
            .all(|f| !f.starts_with("volume-"))
    );
}

#[test]
fn a_backend_fault_is_retried_in_place_first_when_the_policy_says_so() {
    if !need_root("a_backend_fault_is_retried_in_place_first_when_the_policy_says_so") {
        return;
    }
    let v = two_backends("[policy]\nretry_in_place = { backend = 1 }\nbackoff_ms = 1\n");
    std::fs::create_dir_all(v.path("broken")).unwrap();
    let ro = ReadOnly::new(&v.path("broken"));
    // The first attempt fails on the read-only backend; while the retry
    // controller waits, the backend is repaired; the retry succeeds there.
    let r = create_paused_at(
        &v,
        "volume_create_manager/CreateVolumeFromSpec/failure",
        || drop(ro),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let vol = r.json();
    assert_eq!(
        vol["backend"], "broken",
        "retried in place, not rescheduled"
    );
    assert_eq!(vol["attempts"], 1);
    assert!(r.stderr.contains("retrying (attempt 2)"), "{}", r.stderr);
    assert!(!r.stderr.contains("rescheduling"), "{}", r.stderr);
}

#[test]
fn dry_run_explains_every_filter_with_its_figures_and_creates_nothing() {
    if !need_root("dry_run_explains_every_filter_with_its_figures_and_creates_nothing") {
        return;
    }
    let v = Volctl::with_config(
        r#"
[quota]
gigabytes = -1
[[backend]]
name = "thin"
driver = "loopback"
path = "@/thin"
capacity_gb = 100
reserved_percentage = 5
max_over_subscription_ratio = 20.0
capabilities = { tier = "ssd" }
[[backend]]
name = "thick"
driver = "loopback"
path = "@/thick"
capacity_gb = 10
thin = false
[[backend]]
name = "far"
driver = "loopback"
path = "@/far"
availability_zone = "az2"
"#,
    );
    // Every backend on a filesystem of a known size, so that no figure
    // depends on how full the machine's disk is.
    let _fs = [("thin", "100g"), ("thick", "10g"), ("far", "1t")]
        .map(|(b, size)| tmpfs(&v.path(b), size));
    v.json(&["create", "--size", "1890", "--zone", "nova"]);
    let before = v.json(&["list"]);
    let r = v.run(&["create", "--size", "11", "--zone", "nova", "--dry-run"]);
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    let out = &r.stdout;
    assert!(
        out.contains("request: 11 GiB, type -, zone nova, from raw"),
        "{out}"
    );
    assert!(out.contains("quota: ok"), "{out}");
    assert!(
        out.contains("capacity: needs 11 GiB, virtual free 10 GiB (total 100, reserved 5 %, provisioned 1890, ratio 20)"),
        "{out}"
    );
    assert!(out.contains("capacity: needs 11 GiB, free 10 GiB (thick; total 10, free 10, reserved 0 %, provisioned 0)"), "{out}");
    assert!(
        out.contains("availability_zone: in zone az2, the request wants nova"),
        "{out}"
    );
    assert!(out.contains("would create it on: nothing"), "{out}");

    let r = v.run(&["create", "--size", "10", "--zone", "nova", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("thin (chosen, weight"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("ok   capacity: needs 10 GiB, virtual free 10 GiB"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("would create it on: thin"),
        "{}",
        r.stdout
    );

    let d = v.json(&["create", "--size", "5", "--dry-run"]);
    assert_eq!(d["decision"]["chosen"], "far", "most virtual free space");
    let thin = d["decision"]["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["backend"] == "thin")
        .unwrap();
    assert_eq!(thin["virtual_free_bytes"], 10i64 << 30);
    assert!(thin["weight"].as_f64().unwrap() < 1.0);

    // The real create that finds no backend says the same.
    let real = v.run(&["create", "--size", "11", "--zone", "nova"]);
    assert_eq!(real.code, 4);
    assert!(real.stderr.contains(
        "capacity: needs 11 GiB, virtual free 10 GiB (total 100, reserved 5 %, provisioned 1890, ratio 20)"
    ));
    // Dry runs created nothing and reserved nothing.
    let after: Vec<Value> = v
        .json(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] != "error")
        .cloned()
        .collect();
    assert_eq!(Value::Array(after), before);
    assert_eq!(v.usage("gigabytes"), (1890, 0));
    let r = v.run(&["create", "--size", "1", "--type", "nope", "--dry-run"]);
    assert_eq!(r.code, 5);
}

#[test]
fn events_are_recorded_in_order_and_delivered_to_the_sinks() {
    let v = Volctl::with_config(
        r#"
[quota]
gigabytes = -1
[events]
jsonl = "@/events.jsonl"
exec = "cat >> @/piped.jsonl"
"#,
    );
    let vol = v.json(&["create", "--size", "1", "--name", "e"]);
    let id = vol["id"].as_str().unwrap();
    let snap = v.json(&["snapshot", "create", "e"]);
    v.ok(&["snapshot", "delete", snap["id"].as_str().unwrap()]);
    v.ok(&["delete", "e"]);
    let r = v.run(&["create", "--size", "100000"]);
    assert_eq!(r.code, 4);

    let evs = events(&v, &[]);
    assert_eq!(
        types(&evs),
        [
            "volume.create.start",
            "volume.create.end",
            "snapshot.create.start",
            "snapshot.create.end",
            "snapshot.delete.start",
            "snapshot.delete.end",
            "volume.delete.start",
            "volume.delete.end",
            "scheduler.create_volume",
        ]
    );
    let ids: Vec<i64> = evs.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(evs[..8].iter().all(|e| e["volume_id"] == id));
    assert_eq!(evs[1]["payload"]["backend"], "default");
    assert_eq!(evs[3]["payload"]["snapshot_id"], snap["id"]);
    let sched = &evs[8];
    assert!(
        sched["payload"]["reason"]
            .as_str()
            .unwrap()
            .contains("no valid backend")
    );
    assert_eq!(sched["payload"]["report"]["chosen"], Value::Null);
    for e in &evs {
        assert!(e["at"].as_str().unwrap().ends_with('Z'));
    }
    // Human form, and filtering by volume.
    let text = v.ok(&["events", "--volume", id]);
    assert_eq!(text.lines().count(), 8);
    assert!(text.contains("volume.create.end"));

    // Both sinks got every event, once, in order.
    for sink in ["events.jsonl", "piped.jsonl"] {
        let got: Vec<Value> = std::fs::read_to_string(v.path(sink))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(got, evs, "{sink}");
    }
}
