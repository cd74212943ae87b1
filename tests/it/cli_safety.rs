//! Never hand out, detach or delete the wrong data: stale loop device
//! records, mounted volumes, projects, planted files and directories. Each
//! case was reproduced on an earlier volctl, where it lost or exposed data.

use std::path::Path;

use crate::cli_support::*;
use serde_json::Value;

#[test]
fn a_stale_loop_device_record_is_never_trusted() {
    if !need_root("a_stale_loop_device_record_is_never_trusted") {
        return;
    }
    let v = Volctl::new();
    let _c = Cleanup::of(&v);
    let vm1 = v.json(&["create", "--size", "1", "--name", "vm1"]);
    let vm2 = v.json(&["create", "--size", "1", "--name", "vm2"]);
    let dev1 = v.json(&["attach", "vm1"])["device"]
        .as_str()
        .unwrap()
        .to_string();
    // What a reboot (or someone's losetup -d) does behind volctl's back.
    losetup_d(&dev1);
    // vm2 may well get the same number now.
    let dev2 = v.json(&["attach", "vm2"])["device"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(backing(&dev2).as_deref(), vm2["path"].as_str());

    // show and list treat vm1's record as stale: detached.
    let s = v.json(&["show", "vm1"]);
    assert_eq!(s["device"], Value::Null, "{s}");
    assert_eq!(s["status"], "available", "{s}");
    let listed = v.json(&["list"]);
    let l1 = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == vm1["id"])
        .unwrap();
    assert_eq!(l1["device"], Value::Null);

    // Attaching vm1 again gives it a device of its own, bound to its file.
    let a1 = v.json(&["attach", "vm1"]);
    let new1 = a1["device"].as_str().unwrap();
    assert_ne!(new1, dev2, "vm1 must never be handed vm2's device");
    assert_eq!(backing(new1).as_deref(), vm1["path"].as_str());
    assert_eq!(
        backing(&dev2).as_deref(),
        vm2["path"].as_str(),
        "vm2 keeps its device"
    );

    // Stale again; detach and delete of vm1 never touch vm2's device.
    losetup_d(new1);
    v.ok(&["detach", "vm1"]);
    assert_eq!(backing(&dev2).as_deref(), vm2["path"].as_str());
    v.ok(&["attach", "vm1"]);
    let d = v.json(&["show", "vm1"])["device"]
        .as_str()
        .unwrap()
        .to_string();
    losetup_d(&d);
    v.ok(&["delete", "vm1"]);
    assert_eq!(
        backing(&dev2).as_deref(),
        vm2["path"].as_str(),
        "deleting vm1 left vm2 attached"
    );
    v.ok(&["delete", "--force", &id_of(&vm2)]);
    assert_eq!(backing(&dev2), None);
}

#[test]
fn attach_all_re_establishes_attachments_after_a_reboot() {
    if !need_root("attach_all_re_establishes_attachments_after_a_reboot") {
        return;
    }
    let v = Volctl::new();
    let _c = Cleanup::of(&v);
    let a = v.json(&["create", "--size", "1", "--attach"]);
    let b = v.json(&["create", "--size", "1", "--attach"]);
    let c = v.json(&["create", "--size", "1"]);
    for x in [&a, &b] {
        losetup_d(x["device"].as_str().unwrap());
    }
    let out = v.ok(&["attach", "--all"]);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("attached again"), "{out}");
    for x in [&a, &b] {
        let s = v.json(&["show", x["id"].as_str().unwrap()]);
        assert_eq!(s["status"], "in-use");
        assert_eq!(
            backing(s["device"].as_str().unwrap()).as_deref(),
            x["path"].as_str()
        );
    }
    assert_eq!(v.json(&["show", &id_of(&c)])["device"], Value::Null);
    // Nothing to do the second time.
    let out = v.ok(&["attach", "--all"]);
    assert!(!out.contains("again"), "{out}");
    v.ok(&["delete", "--force", &id_of(&a), &id_of(&b), &id_of(&c)]);
}

#[test]
fn a_mounted_volume_is_never_detached_or_deleted() {
    if !need_root("a_mounted_volume_is_never_detached_or_deleted") {
        return;
    }
    let v = Volctl::new();
    let _c = Cleanup::of(&v);
    let vol = v.json(&["create", "--size", "1", "--attach", "--name", "data"]);
    let dev = vol["device"].as_str().unwrap().to_string();
    sh("mkfs.ext4", &["-q", &dev]);
    let mnt = v.path("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    sh("mount", &[&dev, mnt.to_str().unwrap()]);
    let m = Umount(mnt.clone());
    std::fs::write(mnt.join("precious"), b"keep me").unwrap();

    let r = v.run(&["delete", "data"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("in use"), "{}", r.stderr);
    for args in [&["delete", "--force", "data"][..], &["detach", "data"][..]] {
        let r = v.run(args);
        assert_eq!(r.code, 6, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("mounted at {}", mnt.display())),
            "{args:?} says what holds it: {}",
            r.stderr
        );
    }
    let s = v.json(&["show", "data"]);
    assert_eq!(
        s["status"], "in-use",
        "a refused command changes nothing: {s}"
    );
    assert_eq!(backing(&dev).as_deref(), vol["path"].as_str());
    assert_eq!(std::fs::read(mnt.join("precious")).unwrap(), b"keep me");
    assert_eq!(v.usage("volumes"), (1, 0));

    // A snapshot of a volume in use needs --force, and says why.
    let r = v.run(&["snapshot", "create", "data"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr.contains("crash") || r.stderr.contains("consistent"),
        "{}",
        r.stderr
    );
    v.ok(&["snapshot", "create", "data", "--force", "--name", "s"]);
    v.ok(&["snapshot", "delete", "s"]);

    drop(m);
    v.ok(&["delete", "--force", "data"]);
    assert_eq!(backing(&dev), None);
    assert_eq!(v.usage("volumes"), (0, 0));
}

#[test]
fn a_device_held_open_elsewhere_is_not_detached() {
    if !need_root("a_device_held_open_elsewhere_is_not_detached") {
        return;
    }
    let v = Volctl::new();
    let _c = Cleanup::of(&v);
    let vol = v.json(&["create", "--size", "1", "--attach"]);
    let dev = vol["device"].as_str().unwrap().to_string();
    let id = id_of(&vol);
    // A process (a VM, dd) with the device open, not exclusively.
    let held = std::fs::File::open(&dev).unwrap();
    let r = v.run(&["detach", &id]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("open in another process"), "{}", r.stderr);
    assert_eq!(backing(&dev).as_deref(), vol["path"].as_str());
    drop(held);
    // And no deferred detach was left armed: it is still bound after the
    // holder closed it.
    assert_eq!(backing(&dev).as_deref(), vol["path"].as_str());
    v.ok(&["detach", &id]);
    assert_eq!(backing(&dev), None);
    v.ok(&["delete", &id]);
}

#[test]
fn projects_isolate() {
    let v = Volctl::new();
    let ci = v.json(&[
        "create",
        "--size",
        "1",
        "--name",
        "ci-disk",
        "--project",
        "ci",
    ]);
    let id = id_of(&ci);
    for args in [
        vec!["show", id.as_str()],
        vec!["show", "ci-disk"],
        vec!["show", &id[..8]],
        vec!["delete", id.as_str()],
        vec!["attach", id.as_str()],
        vec!["detach", id.as_str()],
        vec!["snapshot", "create", id.as_str()],
        vec!["create", "--from-volume", id.as_str()],
    ] {
        let r = v.run(&args);
        assert_eq!(r.code, 5, "{args:?} from project default: {}", r.stderr);
    }
    assert_eq!(v.json(&["show", &id, "--project", "ci"])["id"], ci["id"]);
    assert!(v.json(&["list"]).as_array().unwrap().is_empty());
    let out = v.ok(&["list", "--all-projects"]);
    assert!(out.lines().next().unwrap().contains("PROJECT"), "{out}");
    assert!(out.contains(" ci"), "{out}");
    v.ok(&["delete", &id, "--project", "ci"]);
}

/// Random create/attach/detach/delete with `losetup -d` behind volctl's
/// back: no command ever reports or acts on a device that does not back
/// the volume.
#[test]
fn property_no_command_acts_on_a_device_that_does_not_back_the_volume() {
    if !need_root("property_no_command_acts_on_a_device_that_does_not_back_the_volume") {
        return;
    }
    let v = Volctl::with_config("[quota]\nvolumes = -1\ngigabytes = -1\n");
    let _c = Cleanup::of(&v);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut vols: Vec<(String, String)> = Vec::new(); // (id, path)
    for step in 0..120 {
        let op = next(6);
        if vols.is_empty() || op == 0 {
            let x = v.json(&["create", "--size", "1"]);
            vols.push((id_of(&x), x["path"].as_str().unwrap().to_string()));
            continue;
        }
        let i = next(vols.len() as u64) as usize;
        let (id, path) = vols[i].clone();
        match op {
            1 | 2 => {
                let a = v.json(&["attach", &id]);
                let dev = a["device"].as_str().unwrap();
                assert_eq!(
                    backing(dev).as_deref(),
                    Some(path.as_str()),
                    "step {step}: attach"
                );
            }
            3 => {
                v.ok(&["detach", &id]);
            }
            4 => {
                // Behind volctl's back: unbind some volume's device.
                if let Some(dev) = v.json(&["show", &id])["device"].as_str() {
                    losetup_d(dev);
                }
            }
            _ => {
                v.ok(&["delete", "--force", &id]);
                vols.remove(i);
            }
        }
        // After every step: every device volctl reports backs its volume,
        // and every other volume's file is still where it was.
        for x in v.json(&["list"]).as_array().unwrap() {
            if let Some(dev) = x["device"].as_str() {
                assert_eq!(
                    backing(dev).as_deref(),
                    x["path"].as_str(),
                    "step {step}: {} reports {dev}",
                    x["id"]
                );
            }
        }
        for (_, p) in &vols {
            assert!(Path::new(p).exists(), "step {step}: {p} vanished");
        }
    }
    // `check` flags records made stale behind volctl's back; `attach --all`
    // re-establishes them, after which everything agrees.
    v.ok(&["attach", "--all"]);
    let r = v.run(&["check"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

/// Runs volctl with a watchdog: a hang fails the test instead of blocking
/// the suite.
fn run_bounded(v: &Volctl, args: &[&str], umask: Option<u32>) -> Run {
    use std::os::unix::process::CommandExt;
    let mut c = v.cmd(args);
    if let Some(m) = umask {
        // SAFETY: umask is async-signal-safe.
        unsafe {
            c.pre_exec(move || {
                libc::umask(m);
                Ok(())
            });
        }
    }
    let child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(120)) {
        Ok(out) => out.unwrap().into(),
        Err(_) => {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("volctl {args:?} hung");
        }
    }
}

#[test]
fn a_state_directory_someone_else_can_write_is_refused() {
    if !need_root("a_state_directory_someone_else_can_write_is_refused") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let v = Volctl::new();
    let marker = v.path("pwned");
    // What a local user plants under /tmp: a state directory with a config
    // whose event sink runs their command.
    std::fs::create_dir_all(&v.state).unwrap();
    std::fs::write(
        v.state.join("config.toml"),
        format!("[events]\nexec = \"touch {}\"\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&v.state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let r = v.run(&["create", "--size", "1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("writable by group or others")
            && r.stderr.contains(&v.state.display().to_string()),
        "{}",
        r.stderr
    );
    assert!(!marker.exists(), "root ran the planted command");
    assert!(!v.state.join("volctl.db").exists(), "nothing was created");

    // Owned by someone else (nobody), even with a strict mode.
    std::fs::set_permissions(&v.state, std::fs::Permissions::from_mode(0o700)).unwrap();
    nix::unistd::chown(&v.state, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let r = v.run(&["list"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not owned by this user or root"),
        "{}",
        r.stderr
    );
    assert!(!marker.exists());

    // A config file others can write, and a symlinked one, are refused too.
    nix::unistd::chown(&v.state, Some(nix::unistd::Uid::from_raw(0)), None).unwrap();
    let cfg = v.state.join("config.toml");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o666)).unwrap();
    let r = v.run(&["list"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("config") && r.stderr.contains("writable by group or others"),
        "{}",
        r.stderr
    );
    std::fs::remove_file(&cfg).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &cfg).unwrap();
    let r = v.run(&["list"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert!(!marker.exists());
}

#[test]
fn everything_volctl_makes_is_private_whatever_the_umask() {
    use std::os::unix::fs::MetadataExt;
    let v = Volctl::with_config("[events]\njsonl = \"@/events.jsonl\"\n");
    let r = run_bounded(&v, &["create", "--size", "1"], Some(0));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
    for d in ["", "backends", "backends/default", "locks"] {
        assert_eq!(mode(&v.state.join(d)), 0o700, "{d}/");
    }
    assert_eq!(mode(&v.state.join("volctl.db")), 0o600);
    assert_eq!(mode(&v.path("events.jsonl")), 0o600);
    for f in Volctl::files(&v.state.join("backends/default")) {
        assert_eq!(
            mode(&v.state.join("backends/default").join(&f)),
            0o600,
            "{f}"
        );
    }
}

#[test]
fn a_config_that_is_not_a_file_is_refused_not_read_forever() {
    let v = Volctl::new();
    for cfg in ["/dev/zero", "/dev/stdin"] {
        let r = run_bounded(&v, &["--config", cfg, "list"], None);
        assert_eq!(r.code, 2, "{cfg}: {}", r.stderr);
        assert!(
            r.stderr.contains("not a regular file") || r.stderr.contains("symbolic link"),
            "{cfg}: {}",
            r.stderr
        );
    }
    let fifo = v.path("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let r = run_bounded(&v, &["--config", fifo.to_str().unwrap(), "list"], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
}

#[test]
fn a_hung_event_sink_does_not_block_commands() {
    let v = Volctl::with_config("[events]\nexec = \"sleep 600\"\nexec_timeout_seconds = 1\n");
    let r = run_bounded(&v, &["create", "--size", "1"], None);
    assert_eq!(r.code, 0, "the volume was created: {}", r.stderr);
    assert!(
        r.stderr.contains("did not finish within 1 s"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    // Its events are still pending: a working sink gets them later.
    let out = v.path("got.jsonl");
    std::fs::write(
        v.config.as_ref().unwrap(),
        format!("[events]\nexec = \"cat > {}\"\n", out.display()),
    )
    .unwrap();
    assert_eq!(run_bounded(&v, &["list"], None).code, 0);
    let got = std::fs::read_to_string(&out).unwrap();
    assert!(got.contains("volume.create.end"), "{got}");
}

#[test]
fn a_lost_database_is_an_error_never_a_fresh_empty_store() {
    let v = Volctl::new();
    let vol = v.json(&["create", "--size", "1", "--name", "keep"]);
    let path = vol["path"].as_str().unwrap().to_string();
    for f in ["volctl.db", "volctl.db-wal", "volctl.db-shm"] {
        let _ = std::fs::remove_file(v.state.join(f));
    }
    for args in [
        &["list"][..],
        &["check", "--repair"][..],
        &["create", "--size", "1"][..],
    ] {
        let r = v.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("no database") && r.stderr.contains("Restore"),
            "{}",
            r.stderr
        );
    }
    assert!(Path::new(&path).exists(), "the volume's data is untouched");
    assert!(
        !v.state.join("volctl.db").exists(),
        "no fresh database was made"
    );
    // An emptied (truncated) database file is as lost.
    std::fs::write(v.state.join("volctl.db"), b"").unwrap();
    let r = v.run(&["list"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no database"), "{}", r.stderr);
}

#[test]
fn a_database_from_elsewhere_is_refused_by_the_backends_it_does_not_own() {
    let v = Volctl::new();
    let vol = v.json(&["create", "--size", "1"]);
    // Another store's database put in its place (a wrong restore).
    let other = Volctl::new();
    other.ok(&["list"]);
    for f in ["volctl.db", "volctl.db-wal", "volctl.db-shm"] {
        let _ = std::fs::remove_file(v.state.join(f));
        if other.state.join(f).exists() {
            std::fs::copy(other.state.join(f), v.state.join(f)).unwrap();
        }
    }
    for args in [&["list"][..], &["check", "--repair"][..]] {
        let r = v.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("belongs to another volctl store"),
            "{}",
            r.stderr
        );
    }
    assert!(Path::new(vol["path"].as_str().unwrap()).exists());
}

#[test]
fn two_stores_never_share_a_backend() {
    let shared = tempfile::tempdir().unwrap();
    let cfg = format!(
        "[[backend]]\nname = \"b\"\ndriver = \"loopback\"\npath = \"{}\"\n",
        shared.path().join("pool").display()
    );
    let a = Volctl::with_config(&cfg);
    let b = Volctl::with_config(&cfg);
    let vol = a.json(&["create", "--size", "1"]);
    let path = vol["path"].as_str().unwrap().to_string();
    // b claims nothing (a's marker is there): every command of b refuses.
    for args in [
        &["create", "--size", "1"][..],
        &["check", "--repair"][..],
        &["list"][..],
    ] {
        let r = b.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("belongs to another volctl store"),
            "{}",
            r.stderr
        );
    }
    assert!(
        Path::new(&path).exists(),
        "b's repair left a's volume alone"
    );
    assert_eq!(a.run(&["check"]).code, 0);

    // One configuration naming the same directory twice is an error.
    let twice = Volctl::with_config(&format!(
        "{cfg}[[backend]]\nname = \"c\"\ndriver = \"loopback\"\npath = \"{}\"\n",
        shared.path().join("pool").display()
    ));
    let r = twice.run(&["list"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("use the same directory"), "{}", r.stderr);
}

#[test]
fn repair_moves_orphans_aside_and_only_purge_deletes_them() {
    let v = Volctl::new();
    let keep = v.json(&["create", "--size", "1"]);
    let dir = v.state.join("backends/default");
    let orphan = dir.join("volume-00000000-0000-0000-0000-000000000000");
    std::fs::write(&orphan, b"someone's data").unwrap();
    let r = v.run(&["check"]);
    assert_eq!(r.code, 1);
    let r = v.run(&["check", "--repair"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("aside"), "{}", r.stdout);
    assert!(!orphan.exists());
    let moved = Volctl::files(&dir.join(".orphans"));
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(
        std::fs::read(dir.join(".orphans").join(&moved[0])).unwrap(),
        b"someone's data",
        "moved, not destroyed"
    );
    assert!(Path::new(keep["path"].as_str().unwrap()).exists());
    v.ok(&["check", "--purge-orphans"]);
    assert!(Volctl::files(&dir.join(".orphans")).is_empty());

    // Most objects foreign (a wrong database, say): repair refuses.
    for i in 0..5 {
        std::fs::write(
            dir.join(format!("volume-00000000-0000-0000-0000-00000000000{i}")),
            b"x",
        )
        .unwrap();
    }
    let r = v.run(&["check", "--repair"]);
    assert_eq!(r.code, 6, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("wrong database"), "{}", r.stderr);
    let objects = Volctl::files(&dir)
        .into_iter()
        .filter(|f| f.starts_with("volume-"))
        .count();
    assert_eq!(objects, 6, "nothing moved");
}

#[test]
fn a_database_replaced_under_a_running_command_stops_it() {
    let v = Volctl::new();
    v.ok(&["list"]);
    let (child, pause) = spawn_paused(
        &v,
        &["create", "--size", "1"],
        "volume_create_api/ExtractVolumeRequest/success",
    );
    let db = v.state.join("volctl.db");
    std::fs::rename(&db, v.path("elsewhere.db")).unwrap();
    std::fs::write(&db, b"").unwrap();
    std::fs::remove_file(&pause).unwrap();
    let r: Run = child.wait_with_output().unwrap().into();
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("replaced or removed"), "{}", r.stderr);
}

#[test]
fn a_read_only_or_foreign_state_directory_gets_errors_never_panics() {
    if !need_root("a_read_only_or_foreign_state_directory_gets_errors_never_panics") {
        return;
    }
    use std::os::unix::process::CommandExt;
    let v = Volctl::new();
    let vol = v.json(&["create", "--size", "1", "--name", "x"]);
    let cases: [&[&str]; 6] = [
        &["list"],
        &["show", "x"],
        &["check"],
        &["flow", "list"],
        &["create", "--size", "1"],
        &["delete", "x"],
    ];
    let judge = |who: &str, args: &[&str], r: Run| {
        assert_ne!(r.code, 101, "{who} {args:?} panicked: {}", r.stderr);
        assert!(
            !r.stderr.contains("panicked"),
            "{who} {args:?}: {}",
            r.stderr
        );
        if r.code != 0 {
            let j: Value = serde_json::from_str(r.stdout.trim())
                .unwrap_or_else(|e| panic!("{who} {args:?}: no JSON error ({e}): {}", r.stdout));
            assert!(j["error"]["message"].is_string(), "{j}");
        }
    };
    {
        let _ro = ReadOnly::new(&v.state);
        for args in cases {
            let mut a = args.to_vec();
            a.push("--json");
            judge("read-only", args, v.run(&a));
        }
        let r = v.run(&["list", "--json"]);
        assert_eq!(
            r.code, 0,
            "reading works on a read-only store: {}",
            r.stderr
        );
    }
    // An unprivileged user (nobody) on root's state directory. The binary
    // is copied where nobody may run it: the checkout may be in a
    // directory only root can enter.
    use std::os::unix::fs::PermissionsExt;
    let exe_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(exe_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = exe_dir.path().join("volctl");
    std::fs::copy(bin(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    for args in cases {
        let mut a = args.to_vec();
        a.push("--json");
        let r: Run = std::process::Command::new(&exe)
            .args(&a)
            .env("VOLCTL_STATE_DIR", &v.state)
            .env_remove("VOLCTL_PROJECT")
            .env_remove("VOLCTL_CONFIG")
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap()
            .into();
        judge("nobody", args, r);
    }
    assert!(Path::new(vol["path"].as_str().unwrap()).exists());
}

/// The store fills up in the middle of a create: the command does not
/// claim "failed, everything reverted" (exit 1) — it exits 7 naming the
/// flow, which resumes once there is room again.
#[test]
fn a_store_that_fails_mid_flow_is_interrupted_not_failed() {
    if !need_root("a_store_that_fails_mid_flow_is_interrupted_not_failed") {
        return;
    }
    let v = Volctl::with_config(
        "[[backend]]\nname = \"b\"\ndriver = \"loopback\"\npath = \"@/b\"\ncapacity_gb = 100\n",
    );
    let _b = tmpfs(&v.path("b"), "200g");
    let _s = tmpfs(&v.state, "3m");
    v.json(&["create", "--size", "1"]);
    let (child, pause) = spawn_paused(
        &v,
        &["create", "--size", "1"],
        "volume_create_api/VolumeCast/success",
    );
    // Fill the store's filesystem.
    let filler = v.state.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 << 10];
        while f.write_all(&block).is_ok() {}
    }
    std::fs::remove_file(&pause).unwrap();
    let r: Run = child.wait_with_output().unwrap().into();
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(
        r.stderr.contains("recording flow") && r.stderr.contains("volctl resume"),
        "{}",
        r.stderr
    );
    std::fs::remove_file(&filler).unwrap();
    let r = v.run(&["resume", "--all"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let list = v.json(&["list"]);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|x| x["status"] == "available"),
        "{list}"
    );
    assert_eq!(v.run(&["check"]).code, 0);
}

/// Killed after binding the device but before recording it: rollback finds
/// the device by the volume's file and unbinds it; resume adopts it.
#[test]
fn an_attach_killed_after_binding_is_rolled_back_or_resumed_cleanly() {
    if !need_root("an_attach_killed_after_binding_is_rolled_back_or_resumed_cleanly") {
        return;
    }
    let v = Volctl::new();
    let _c = Cleanup::of(&v);
    let vol = v.json(&["create", "--size", "1"]);
    let id = id_of(&vol);
    let path = vol["path"].as_str().unwrap().to_string();
    let bound = || {
        let out = command("losetup").args(["-j", &path]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    for (round, then) in ["rollback", "resume", "rollback", "resume"]
        .iter()
        .enumerate()
    {
        let r: Run = v
            .cmd(&["attach", &id])
            .env("VOLCTL_CRASH_AT", "volume_attach/AttachDevice/progress")
            .output()
            .unwrap()
            .into();
        assert!(
            r.code != 0 && r.stderr.contains("crashing at"),
            "round {round}: {}",
            r.stderr
        );
        assert_eq!(
            bound(),
            1,
            "round {round}: the device was bound before the crash"
        );
        let r = v.run(&[then, "--all"]);
        assert_eq!(r.code, 0, "round {round} {then}: {}{}", r.stdout, r.stderr);
        let s = v.json(&["show", &id]);
        if *then == "rollback" {
            assert_eq!(bound(), 0, "round {round}: rollback left the device bound");
            assert_eq!(s["status"], "available", "{s}");
        } else {
            assert_eq!(bound(), 1, "round {round}: resume made a second device");
            assert_eq!(s["status"], "in-use", "{s}");
            assert_eq!(
                backing(s["device"].as_str().unwrap()).as_deref(),
                Some(path.as_str())
            );
            v.ok(&["detach", &id]);
            assert_eq!(bound(), 0);
        }
    }
    assert_eq!(v.run(&["check"]).code, 0);
}
