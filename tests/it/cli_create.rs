//! `volctl create` and friends, end to end with the real binary, on real
//! files and loop devices.

use std::path::Path;

use crate::cli_support::*;
use serde_json::Value;

#[test]
fn create_show_list_delete() {
    let v = Volctl::new();
    let vol = v.json(&["create", "--size", "2", "--name", "data"]);
    for key in [
        "id",
        "name",
        "size",
        "status",
        "backend",
        "path",
        "device",
        "created_at",
    ] {
        assert!(vol.get(key).is_some(), "missing {key} in {vol}");
    }
    assert_eq!(vol["name"], "data");
    assert_eq!(vol["size"], 2);
    assert_eq!(vol["status"], "available");
    assert_eq!(vol["backend"], "default");
    assert_eq!(vol["device"], Value::Null);
    let id = vol["id"].as_str().unwrap();
    let path = vol["path"].as_str().unwrap();
    assert_eq!(
        Path::new(path),
        v.state.join(format!("backends/default/volume-{id}"))
    );
    assert_eq!(std::fs::metadata(path).unwrap().len(), 2 << 30);

    // Plain output: one line, the id.
    let out = v.ok(&["create", "--size", "1"]);
    let second = out.trim();
    assert_eq!(second.len(), 36, "{out:?}");

    assert_eq!(v.json(&["show", "data"])["id"], id);
    assert_eq!(v.json(&["show", id])["name"], "data");
    assert_eq!(v.json(&["show", &id[..8]])["id"], id);
    let text = v.ok(&["show", "data"]);
    assert!(
        text.contains("status") && text.contains("available"),
        "{text}"
    );

    let list = v.json(&["list"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let table = v.ok(&["list"]);
    assert!(table.starts_with("ID") && table.contains(id), "{table}");
    assert_eq!(v.usage("volumes"), (2, 0));
    assert_eq!(v.usage("gigabytes"), (3, 0));

    let out = v.ok(&["delete", "data", second]);
    assert_eq!(out.lines().count(), 2);
    assert!(!Path::new(path).exists());
    assert_eq!(v.json(&["list"]), serde_json::json!([]));
    assert_eq!(v.usage("volumes"), (0, 0));
    assert_eq!(v.usage("gigabytes"), (0, 0));
    let r = v.run(&["show", "data"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
}

#[test]
fn progress_goes_to_stderr_the_steps_by_default_every_task_with_v() {
    let v = Volctl::new();
    let r = v.run(&["create", "--size", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "by default, the steps a person cares about: {}",
        r.stderr
    );
    assert_eq!(lines[0], "scheduled on default");
    assert!(
        lines[1].starts_with("volume ") && lines[1].contains(" available: 1 GiB on default at "),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout.lines().count(), 1);
    let r = v.run(&["create", "--size", "1", "-v"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for task in [
        "ExtractVolumeRequest",
        "QuotaReserve",
        "EntryCreate",
        "QuotaCommit",
        "VolumeCast",
        "ExtractSchedulerSpec",
        "ChangeStatusNotifyOnFailure",
        "ScheduleCreateVolume",
        "ExtractVolumeRef",
        "OnFailureReschedule",
        "ExtractVolumeSpec",
        "NotifyVolumeAction",
        "CreateVolumeFromSpec",
        "CreateVolumeOnFinish",
    ] {
        assert_eq!(r.stderr.matches(task).count(), 1, "{task} in\n{}", r.stderr);
    }
    assert_eq!(r.stdout.lines().count(), 1);
    let quiet = v.run(&["create", "--size", "1", "-q"]);
    assert_eq!(quiet.stderr, "");
}

#[test]
fn over_quota_creates_leave_usage_unchanged() {
    let v = Volctl::new();
    v.ok(&["quota", "set", "--volumes", "2", "--gigabytes", "5"]);
    v.ok(&["create", "--size", "3"]);
    let r = v.run(&["create", "--size", "3"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("quota exceeded for gigabytes in project default: requested 3 GiB, quota is 5 GiB and 3 GiB have been consumed"),
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.lines().count(),
        1,
        "a refused request prints only the error: {}",
        r.stderr
    );
    v.ok(&["create", "--size", "1"]);
    let r = v.run(&["create", "--size", "1", "--json"]);
    assert_eq!(r.code, 3);
    let err = r.json();
    assert_eq!(err["error"]["kind"], "over_quota");
    assert_eq!(err["error"]["details"]["resource"], "volumes");
    assert_eq!(err["error"]["exit_code"], 3);
    // Nothing left behind: the usage, the rows and the files are those of
    // the two volumes that fit.
    assert_eq!(v.usage("volumes"), (2, 0));
    assert_eq!(v.usage("gigabytes"), (4, 0));
    assert_eq!(v.json(&["list"]).as_array().unwrap().len(), 2);
    assert_eq!(Volctl::files(&v.state.join("backends/default")).len(), 2);
    let q = v.json(&["quota", "show"]);
    assert_eq!(
        q["volumes"],
        serde_json::json!({"limit": 2, "in_use": 2, "reserved": 0})
    );
}

#[test]
fn bad_input_has_a_clear_message_and_exit_code_and_leaves_nothing() {
    let v = Volctl::new();
    for (args, code, text) in [
        (
            vec!["create", "--size", "0"],
            2,
            "size `0` is zero: a volume is at least 1M",
        ),
        (vec!["create"], 2, "a size (--size) is required"),
        (
            vec!["create", "--size", "1", "--zone", "mars"],
            2,
            "unknown availability zone `mars` (known: nova)",
        ),
        (
            vec!["create", "--size", "1", "--type", "gold"],
            5,
            "no volume type `gold`",
        ),
        (
            vec!["create", "--size", "1", "--project", "a/b"],
            2,
            "project `a/b`",
        ),
        (vec!["create", "--size", "x"], 2, "invalid value 'x'"),
        (
            vec!["delete", "nothing"],
            5,
            "no volume with id or name `nothing`",
        ),
    ] {
        let r = v.run(&args);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(text), "{args:?}: {}", r.stderr);
    }
    assert_eq!(v.json(&["list"]), serde_json::json!([]));
    assert_eq!(v.usage("volumes"), (0, 0));
    assert!(Volctl::files(&v.state.join("backends/default")).is_empty());
}

#[test]
fn a_bad_config_names_file_line_and_key() {
    let v = Volctl::with_config(
        "[[backend]]\nname = \"x\"\ndriver = \"loopback\"\nreserved_percentage = 101\n",
    );
    let r = v.run(&["list"]);
    assert_eq!(r.code, 2);
    let cfg = v.config.as_ref().unwrap().display().to_string();
    assert!(r.stderr.contains(&cfg), "{}", r.stderr);
    assert!(r.stderr.contains("line 4"), "{}", r.stderr);
    assert!(r.stderr.contains("reserved_percentage"), "{}", r.stderr);
}

#[test]
fn no_valid_backend_explains_itself() {
    if !need_root("no_valid_backend_explains_itself") {
        return;
    }
    let v = Volctl::with_config(
        r#"
[quota]
gigabytes = -1
[[backend]]
name = "small"
driver = "loopback"
path = "@/small"
capacity_gb = 10
max_over_subscription_ratio = 2.0
reserved_percentage = 10
[[backend]]
name = "far"
driver = "loopback"
path = "@/far"
availability_zone = "az2"
[[backend]]
name = "plain"
driver = "loopback"
path = "@/plain"
capacity_gb = 100
"#,
    );
    // Filesystems of known sizes: no figure depends on the machine's disk.
    let _fs = [("small", "10g"), ("far", "1t"), ("plain", "100g")]
        .map(|(b, size)| tmpfs(&v.path(b), size));
    v.ok(&["type", "create", "gold", "--spec", "capabilities:tier=gold"]);
    let r = v.run(&[
        "create", "--size", "20", "--zone", "nova", "--type", "gold", "--json",
    ]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    let msg = &r.stderr;
    assert!(msg.contains("no valid backend for volume"), "{msg}");
    assert!(msg.contains("small (rejected)"), "{msg}");
    assert!(msg.contains("capacity: needs 20 GiB, virtual free 18 GiB (total 10, reserved 10 %, provisioned 0, ratio 2)"), "{msg}");
    assert!(
        msg.contains("availability_zone: in zone az2, the request wants nova"),
        "{msg}"
    );
    assert!(
        msg.contains("capabilities: has no capability `tier` (the type requires `gold`)"),
        "{msg}"
    );
    let err = r.json();
    assert_eq!(err["error"]["kind"], "no_valid_backend");
    assert_eq!(
        err["error"]["details"]["backends"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The volume is in error, explained, holding no quota and nothing on disk.
    let list = v.json(&["list"]);
    assert_eq!(list[0]["status"], "error");
    assert!(
        list[0]["error"]
            .as_str()
            .unwrap()
            .contains("small (rejected)")
    );
    assert_eq!(v.usage("volumes"), (0, 0));
    for b in ["small", "far", "plain"] {
        assert!(Volctl::files(&v.path(b)).is_empty(), "{b}");
    }
    // It can be deleted.
    v.ok(&["delete", list[0]["id"].as_str().unwrap()]);
}

#[test]
fn an_unwritable_backend_path_fails_the_volume_with_quota_returned() {
    if !need_root("an_unwritable_backend_path_fails_the_volume_with_quota_returned") {
        return;
    }
    let v = Volctl::with_config(
        r#"
[[backend]]
name = "ro"
driver = "loopback"
path = "@/ro"
"#,
    );
    let _ro = ReadOnly::new(&v.path("ro"));
    let r = v.run(&["create", "--size", "1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("Read-only file system"), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "undoing what was done:\n  removing what was made of the volume on its backend\n"
        ),
        "the reverts, in words: {}",
        r.stderr
    );
    assert!(r.stderr.contains("attempt 1: ro failed"), "{}", r.stderr);
    let list = v.json(&["list"]);
    assert_eq!(list[0]["status"], "error");
    assert_eq!(v.usage("volumes"), (0, 0));
    assert_eq!(v.usage("gigabytes"), (0, 0));
    assert!(Volctl::files(&v.path("ro")).is_empty());
}

#[test]
fn loop_attach_and_detach_for_real() {
    if !need_root("loop_attach_and_detach_for_real") {
        return;
    }
    let v = Volctl::new();
    let out = v.ok(&["create", "--size", "1", "--attach"]);
    let mut words = out.split_whitespace();
    let (id, dev) = (
        words.next().unwrap().to_string(),
        words.next().unwrap().to_string(),
    );
    assert!(dev.starts_with("/dev/loop"), "{out}");
    let vol = v.json(&["show", &id]);
    assert_eq!(vol["status"], "in-use");
    assert_eq!(vol["device"], dev.as_str());
    let backing = |dev: &str| {
        let name = dev.trim_start_matches("/dev/");
        std::fs::read_to_string(format!("/sys/block/{name}/loop/backing_file"))
            .ok()
            .map(|s| s.trim().to_string())
    };
    assert_eq!(backing(&dev).as_deref(), vol["path"].as_str());
    // The device really is the file: write through it, read the file.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().write(true).open(&dev).unwrap();
        f.write_all(b"hello through the loop device").unwrap();
        f.sync_all().unwrap();
    }
    let data = std::fs::read(vol["path"].as_str().unwrap()).unwrap();
    assert!(data.starts_with(b"hello through the loop device"));

    let r = v.run(&["attach", &id]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.trim(), dev, "attaching again is a no-op");

    v.ok(&["detach", &id]);
    assert_eq!(backing(&dev), None, "{dev} released");
    let vol = v.json(&["show", &id]);
    assert_eq!(vol["status"], "available");
    assert_eq!(vol["device"], Value::Null);
    let r = v.run(&["detach", &id]);
    assert_eq!(
        r.code, 0,
        "detaching a detached volume is a no-op, as attaching an attached one: {}",
        r.stderr
    );

    // An attached volume is deleted only with --force, which detaches first.
    let dev2 = v.ok(&["attach", &id]).trim().to_string();
    assert!(backing(&dev2).is_some());
    let r = v.run(&["delete", &id]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr.contains("in use") && r.stderr.contains(&dev2),
        "{}",
        r.stderr
    );
    assert_eq!(
        v.json(&["show", &id])["status"],
        "in-use",
        "a refused delete changes nothing"
    );
    v.ok(&["delete", "--force", &id]);
    assert_eq!(backing(&dev2), None);
    assert!(!Path::new(vol["path"].as_str().unwrap()).exists());
}

#[test]
fn types_and_backends_are_listed() {
    let v = Volctl::with_config(
        r#"
[[backend]]
name = "fast"
driver = "loopback"
path = "@/fast"
capacity_gb = 100
capabilities = { tier = "ssd" }
[[volume_type]]
name = "fast"
extra_specs = { "capabilities:tier" = "ssd" }
"#,
    );
    v.ok(&["type", "create", "bulk", "--spec", "capabilities:tier=hdd"]);
    let types = v.json(&["type", "list"]);
    assert_eq!(types.as_array().unwrap().len(), 2);
    assert_eq!(v.run(&["type", "create", "bulk"]).code, 6);
    assert_eq!(v.run(&["type", "create", "x", "--spec", "novalue"]).code, 2);

    let vol = v.json(&["create", "--size", "5", "--type", "fast"]);
    assert_eq!(vol["type"], "fast");
    assert_eq!(v.usage("gigabytes_fast"), (5, 0));
    assert_eq!(v.run(&["create", "--size", "1", "--type", "bulk"]).code, 4);
    assert_eq!(
        v.run(&["type", "delete", "fast"]).code,
        6,
        "defined in config"
    );

    let b = v.json(&["backend", "list"]);
    let b = &b[0];
    assert_eq!(b["name"], "fast");
    assert_eq!(b["total_bytes"], 100u64 << 30, "integer bytes");
    assert_eq!(b["provisioned_bytes"], 5u64 << 30);
    assert_eq!(b["volumes"], 1);
    assert_eq!(b["capabilities"]["tier"], "ssd");
    let text = v.ok(&["backend", "list"]);
    assert!(
        text.contains("ALLOCATED") && text.contains("tier=ssd"),
        "{text}"
    );
}

#[test]
fn help_documents_exit_codes() {
    let v = Volctl::new();
    let help = v.ok(&["--help"]);
    assert!(
        help.contains("Exit codes:") && help.contains("3    over quota"),
        "{help}"
    );
    assert!(v.ok(&["--version"]).starts_with("volctl "));
}
