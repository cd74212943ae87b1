//! Interruptions from outside: random SIGKILLs under a concurrent load,
//! Ctrl-C (SIGINT) at several moments of a create from image, SIGTERM, and
//! `check --repair` on damage made by hand.

use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cli_support::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

fn signal(child: &Child, sig: Signal) {
    kill(Pid::from_raw(child.id() as i32), sig).unwrap();
}

fn wait(mut child: Child, secs: u64) -> Run {
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            panic!("volctl did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap().into()
}

#[test]
fn random_sigkills_under_a_concurrent_load_then_resume_and_check() {
    let v = Arc::new(Volctl::with_config(
        "[quota]\nvolumes = -1\ngigabytes = -1\nsnapshots = -1\n",
    ));
    v.ok(&["list"]);
    let running: Arc<Mutex<HashMap<u32, ()>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(Mutex::new(0usize));

    let spawn = |args: Vec<String>| {
        let v = v.clone();
        let running = running.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let mut a: Vec<String> = args.clone();
                // Pick a target for deletes and snapshots among existing volumes.
                if a.iter().any(|x| x == "@pick") {
                    let list: Value =
                        serde_json::from_str(v.run(&["list", "--json"]).stdout.trim())
                            .unwrap_or(Value::Null);
                    let avail: Vec<String> = list
                        .as_array()
                        .map(|l| {
                            l.iter()
                                .filter(|x| x["status"] == "available" || x["status"] == "error")
                                .map(|x| x["id"].as_str().unwrap().to_string())
                                .collect()
                        })
                        .unwrap_or_default();
                    if avail.is_empty() {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    let pick = avail[(n as usize * 7919) % avail.len()].clone();
                    for x in a.iter_mut() {
                        if x == "@pick" {
                            *x = pick.clone();
                        }
                    }
                }
                let refs: Vec<&str> = a.iter().map(String::as_str).collect();
                let child = v
                    .cmd(&refs)
                    .arg("-q")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let pid = child.id();
                running.lock().unwrap().insert(pid, ());
                let out = child.wait_with_output().unwrap();
                running.lock().unwrap().remove(&pid);
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(!err.contains("database is locked"), "{err}");
                assert!(!err.contains("panicked"), "{err}");
            }
        })
    };
    let s = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let workers = vec![
        spawn(s(&["create", "--size", "1"])),
        spawn(s(&["create", "--size", "2"])),
        spawn(s(&["create", "--size", "1", "--attach"])),
        spawn(s(&["delete", "@pick"])),
        spawn(s(&["delete", "@pick"])),
        spawn(s(&["snapshot", "create", "@pick"])),
        spawn(s(&["create", "--from-volume", "@pick"])),
    ];
    // The killer: a SIGKILL at a random moment to a random running volctl.
    let t0 = Instant::now();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    while t0.elapsed() < Duration::from_secs(6) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(5 + seed % 40));
        let pids: Vec<u32> = running.lock().unwrap().keys().copied().collect();
        if let Some(&pid) = pids.get((seed >> 8) as usize % pids.len().max(1)) {
            if kill(Pid::from_raw(pid as i32), Signal::SIGKILL).is_ok() {
                *kills.lock().unwrap() += 1;
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    let kills = *kills.lock().unwrap();
    assert!(kills >= 20, "only {kills} kills");

    // Finish everything that was interrupted, then prove the invariants.
    let r = v.run(&["resume", "--all"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = v.run(&["check"]);
    assert_eq!(r.code, 0, "after {kills} kills:\n{}{}", r.stdout, r.stderr);
    let list = v.json(&["list"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|x| matches!(x["status"].as_str(), Some("available" | "in-use" | "error"))),
        "{list}"
    );
    // Detach what this test attached; no loop device of it may remain.
    for x in list.as_array().unwrap() {
        if x["device"].is_string() {
            v.ok(&["detach", x["id"].as_str().unwrap()]);
        }
    }
    let losetup = command("losetup").arg("-a").output().unwrap();
    let here = v.state.to_string_lossy().into_owned();
    let left: Vec<String> = String::from_utf8_lossy(&losetup.stdout)
        .lines()
        .filter(|l| l.contains(&here))
        .map(String::from)
        .collect();
    assert!(left.is_empty(), "loop devices left: {left:?}");
}

/// A qcow2 image with 200 MiB of data: copying it takes long enough to be
/// interrupted in the middle.
fn big_image(v: &Volctl) {
    let img = v.path("big.qcow2");
    let ok = |args: &[&str]| {
        assert!(
            command(args[0])
                .args(&args[1..])
                .output()
                .unwrap()
                .status
                .success()
        )
    };
    ok(&[
        "qemu-img",
        "create",
        "-q",
        "-f",
        "qcow2",
        img.to_str().unwrap(),
        "256M",
    ]);
    ok(&[
        "qemu-io",
        "-c",
        "write -P 0x3c 0 200M",
        img.to_str().unwrap(),
    ]);
    v.json(&["image", "import", img.to_str().unwrap()]);
}

/// Runs a create from image paused at `point`, sends `signals` there, then
/// releases it.
fn interrupted_create(v: &Volctl, point: &str, signals: &[Signal]) -> Run {
    let pause = v.path("pause");
    let child = v
        .cmd(&["create", "--from-image", "big.qcow2"])
        .env("VOLCTL_PAUSE_AT", point)
        .env("VOLCTL_PAUSE_FILE", &pause)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !pause.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "never reached {point}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    for s in signals {
        signal(&child, *s);
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_file(&pause);
    wait(child, 120)
}

fn nothing_left(v: &Volctl, what: &str) {
    assert_eq!(v.json(&["list"]), serde_json::json!([]), "{what}");
    assert_eq!(v.usage("volumes"), (0, 0), "{what}");
    assert_eq!(v.usage("gigabytes"), (0, 0), "{what}");
    let objects: Vec<String> = Volctl::files(&v.state.join("backends/default"))
        .into_iter()
        .filter(|f| f.starts_with("volume-"))
        .collect();
    assert!(objects.is_empty(), "{what}: {objects:?}");
    check_passes(v, what);
}

#[test]
fn ctrl_c_at_several_moments_of_a_create_from_image_reverts_cleanly() {
    let v = Volctl::new();
    big_image(&v);
    for point in [
        "volume_create_api/QuotaReserve/success",
        "volume_create_api/success",
        "volume_create_scheduler/ScheduleCreateVolume/success",
        "volume_create_manager/NotifyVolumeAction/success",
        "volume_create_manager/CreateVolumeFromSpec/progress",
    ] {
        let r = interrupted_create(&v, point, &[Signal::SIGINT]);
        assert_eq!(r.code, 130, "Ctrl-C at {point}: {}", r.stderr);
        assert!(
            r.stderr.contains("cancelled by you"),
            "{point}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("undoing what was done:\n")
                && r.stderr.contains("returning")
                && r.stderr.contains("quota")
                && r.stderr
                    .ends_with("error: cancelled by you; what was done is undone (exit 130)\n"),
            "{point}: the reverts are shown: {}",
            r.stderr
        );
        assert_eq!(r.stdout, "", "{point}");
        nothing_left(&v, &format!("Ctrl-C at {point}"));
        // No qemu-img left behind, writing anyway.
        let ps = command("pgrep")
            .args(["-f", &format!("convert.*{}", v.state.display())])
            .output()
            .unwrap();
        assert!(ps.stdout.is_empty(), "{point}: qemu-img still running");
    }
}

#[test]
fn sigterm_behaves_like_the_first_ctrl_c() {
    let v = Volctl::new();
    big_image(&v);
    let r = interrupted_create(
        &v,
        "volume_create_manager/CreateVolumeFromSpec/progress",
        &[Signal::SIGTERM],
    );
    assert_eq!(r.code, 130, "{}", r.stderr);
    nothing_left(&v, "SIGTERM mid-copy");
}

#[test]
fn a_second_ctrl_c_stops_at_once_and_leaves_a_resumable_flow() {
    let v = Volctl::new();
    big_image(&v);
    let r = interrupted_create(
        &v,
        "volume_create_manager/CreateVolumeFromSpec/progress",
        &[Signal::SIGINT, Signal::SIGINT],
    );
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(r.stderr.contains("volctl resume"), "{}", r.stderr);
    let flows = v.json(&["flow", "list"]);
    assert_eq!(flows[0]["orphaned"], true, "{flows}");
    let show = v.ok(&["flow", "show", flows[0]["id"].as_str().unwrap()]);
    assert!(
        show.contains("CreateVolumeFromSpec") && show.contains("timeline"),
        "{show}"
    );
    let r = v.run(&["resume", "--all"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let vol = &v.json(&["list"])[0];
    assert_eq!(vol["status"], "available");
    let same = command("qemu-img")
        .args([
            "compare",
            "-q",
            "-f",
            "qcow2",
            "-F",
            "raw",
            v.path("big.qcow2").to_str().unwrap(),
            vol["path"].as_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(same.success(), "the resumed copy is complete");
    check_passes(&v, "after resume");
}

#[test]
fn check_finds_damage_and_repair_fixes_what_is_safe() {
    let v = Volctl::new();
    let a = v.json(&["create", "--size", "1", "--name", "a"]);
    v.json(&["create", "--size", "2", "--name", "b"]);
    check_passes(&v, "clean");
    let dir = v.state.join("backends/default");
    // An object nobody owns, a volume whose object is gone, quota drift.
    std::fs::write(
        dir.join("volume-11111111-2222-3333-4444-555555555555"),
        b"stray",
    )
    .unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(a["path"].as_str().unwrap())
        .unwrap();
    f.set_len(5).unwrap();
    f.write_all_at(b"short", 0).unwrap();
    drop(f);
    let db = rusqlite::Connection::open(v.state.join("volctl.db")).unwrap();
    db.execute(
        "UPDATE quota_usages SET in_use = in_use + 5 * 1073741824 WHERE resource = 'gigabytes'",
        [],
    )
    .unwrap();
    drop(db);

    let r = v.run(&["check", "--json"]);
    assert_eq!(r.code, 1);
    let rep = r.json();
    let msgs: Vec<String> = rep["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(msgs.iter().any(
        |m| m.contains("volume-11111111-2222-3333-4444-555555555555")
            && m.contains("belongs to no volume")
    ));
    assert!(msgs.iter().any(|m| {
        m.contains(&format!("volume {}'s object", a["id"].as_str().unwrap()))
            && m.contains("5 bytes")
    }));
    assert!(
        msgs.iter()
            .any(|m| m
                .contains("gigabytes: recorded in use 8 GiB, reserved 0 B; recount 3 GiB, 0 B"))
    );

    let r = v.run(&["check", "--repair"]);
    assert_eq!(r.code, 1, "the lost data cannot be repaired: {}", r.stdout);
    assert!(
        r.stdout.contains("repaired: moved volume-11111111") && r.stdout.contains("aside"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("repaired: set project default gigabytes to in use 3"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.matches("violation:").count(), 1, "{}", r.stdout);
    assert!(
        !dir.join("volume-11111111-2222-3333-4444-555555555555")
            .exists()
    );
    // Deleting the damaged volume leaves everything consistent.
    v.ok(&["delete", "a"]);
    check_passes(&v, "after deleting the damaged volume");
}

#[test]
fn check_finds_a_loop_device_without_a_volume() {
    if !need_root("check_finds_a_loop_device_without_a_volume") {
        return;
    }
    let v = Volctl::new();
    let vol = v.json(&["create", "--size", "1"]);
    let dev = v
        .ok(&["attach", vol["id"].as_str().unwrap()])
        .trim()
        .to_string();
    // The record of the attachment is lost (as by a crash before it was
    // written, in an older version).
    let db = rusqlite::Connection::open(v.state.join("volctl.db")).unwrap();
    db.execute("UPDATE volumes SET device = NULL, status = 'available'", [])
        .unwrap();
    drop(db);
    let r = v.run(&["check"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains(&format!("{dev} exposes volume-")),
        "{}",
        r.stdout
    );
    let r = v.run(&["check", "--repair"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!("repaired: detached {dev}")),
        "{}",
        r.stdout
    );
}
