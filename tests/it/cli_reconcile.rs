//! `volctl reconcile` and the `[recovery]` policy: orphans settled by the
//! built-in rules, a revert that keeps failing retried then left for a
//! person (with nothing else held up), commands that settle an orphan of
//! their volume, bad rules, and reconciles racing each other. (Every
//! operation's crash points are reconciled under resume, leave and rollback
//! policies by `every_crash_point`.)

use crate::cli_support::*;
use serde_json::Value;

const NO_GRACE: &str = "[recovery]\ngrace = \"0s\"\n";

/// What the built-in rules must decide for a flow or request of a create:
/// undone before it got past scheduling, else finished.
fn builtin_create_verdict(flow: &str) -> &'static str {
    match flow {
        "volume_create_api" | "volume_create_scheduler" => "rollback",
        _ => "resume",
    }
}

#[test]
fn crash_at_every_step_of_a_create_then_reconcile_by_the_built_in_policy() {
    let points = {
        let v = Volctl::new();
        trace_points(&v, &["create", "--size", "1"])
    };
    assert!(points.len() > 30, "{points:?}");
    for point in &points {
        let v = Volctl::new();
        crash_at(&v, &["create", "--size", "1"], point);
        let decided = reconcile_under(&v, "");
        for d in &decided {
            let flow = d["flow"].as_str().unwrap();
            assert_eq!(
                d["decision"],
                builtin_create_verdict(flow),
                "after {point}: {d}"
            );
            assert!(d["rule"].as_str().unwrap().starts_with("built-in "), "{d}");
            assert!(d.get("error").is_none(), "after {point}: {d}");
        }
        // Finished when its last decision finished it; gone or in `error`
        // (its quota back) when undone.
        let vols = v.json(&["list"]);
        let vols = vols.as_array().unwrap();
        let resumed = decided.last().is_some_and(|d| d["decision"] == "resume");
        let crashed_done = point.ends_with("volume_create_manager/success");
        let available = vols.iter().filter(|x| x["status"] == "available").count();
        assert_eq!(
            available,
            usize::from(resumed || crashed_done || point.starts_with("volume_create_manager")),
            "after {point}: {vols:?} from {decided:?}"
        );
        assert_eq!(v.usage("volumes"), (available as i64, 0), "after {point}");
        check_passes(&v, &format!("reconcile after {point}"));
        let again = reconcile_under(&v, "");
        assert!(again.is_empty(), "after {point}: again {again:?}");
    }
}

/// The decision about `flow_id` in a reconcile's output.
fn about<'a>(ds: &'a Value, flow_id: &str) -> &'a Value {
    ds.as_array()
        .unwrap()
        .iter()
        .find(|d| d["flow_id"] == flow_id)
        .unwrap_or_else(|| panic!("no decision about {flow_id}: {ds}"))
}

fn orphan_of(v: &Volctl, name_part: &str) -> String {
    let flows = v.json(&["flow", "list"]);
    flows
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"].as_str().unwrap().contains(name_part))
        .unwrap_or_else(|| panic!("no unfinished {name_part} flow: {flows}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_revert_that_keeps_failing_is_retried_with_back_off_then_left_for_a_person() {
    if !need_root("a_revert_that_keeps_failing_is_retried_with_back_off_then_left_for_a_person") {
        return;
    }
    let v = Volctl::new();
    v.json(&["create", "--size", "1", "--name", "keep"]);
    assert!(crash_at(
        &v,
        &["create", "--size", "1", "--name", "doomed"],
        "volume_create_manager/CreateVolumeFromSpec/success"
    ));
    let doomed = orphan_of(&v, "manager");
    // A second orphan, of another volume: the failing revert must not hold
    // it up.
    let rename = trace_points(&v, &["rename", "keep", "tmp"]);
    let task_point = rename
        .iter()
        .find(|p| p.matches('/').count() == 2 && p.ends_with("/running"))
        .unwrap();
    assert!(crash_at(&v, &["rename", "tmp", "kept"], task_point));
    let renaming = orphan_of(&v, "rename");

    // The backend turns read-only: undoing the doomed create cannot
    // remove its file.
    let ro = ReadOnly::new(&v.state.join("backends/default"));
    let retry = "[recovery]\ngrace = \"0s\"\nrevert_retries = 2\nrevert_backoff = \"0s\"\n";
    let policy = "create = \"rollback\"";
    let r = reconcile_run(&v, retry, policy);
    assert_eq!(r.code, 7, "a revert failed: {}{}", r.stdout, r.stderr);
    let ds = r.json();
    let d = about(&ds, &doomed);
    assert_eq!(d["decision"], "rollback", "{d}");
    assert_eq!(d["result"], "revert_failed", "{d}");
    assert_eq!(d["rule"], "recovery.policy \"create\" = rollback", "{d}");
    let d = about(&ds, &renaming);
    assert_eq!(
        (&d["decision"], &d["result"]),
        (&Value::from("resume"), &Value::from("success")),
        "the other orphan is settled in the same run: {d}"
    );
    assert_eq!(v.json(&["show", "kept"])["name"], "kept");

    // Within its back-off it waits.
    let r = reconcile_run(
        &v,
        "[recovery]\ngrace = \"0s\"\nrevert_retries = 2\nrevert_backoff = \"1h\"\n",
        policy,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ds = r.json();
    let d = about(&ds, &doomed);
    assert_eq!(d["decision"], "wait", "{d}");
    assert!(d["reason"].as_str().unwrap().contains("try 1 of 2"), "{d}");

    // Tried again twice, then marked for a person.
    for attempt in 1..=2 {
        let r = reconcile_run(&v, retry, policy);
        assert_eq!(r.code, 7, "try {attempt}: {}", r.stderr);
        let ds = r.json();
        let d = about(&ds, &doomed);
        assert_eq!(d["decision"], "retry_revert", "try {attempt}: {d}");
        assert_eq!(d["result"], "revert_failed", "try {attempt}: {d}");
        assert_eq!(d["revert_tries"], attempt, "try {attempt}: {d}");
    }
    let r = reconcile_run(&v, retry, policy);
    assert_eq!(r.code, 0, "nothing more is tried: {}", r.stderr);
    let ds = r.json();
    let d = about(&ds, &doomed);
    assert_eq!(d["decision"], "needs_person", "{d}");
    assert!(
        d["reason"].as_str().unwrap().contains("volctl rollback"),
        "{d}"
    );
    let flows = v.json(&["flow", "list"]);
    let f = flows
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == doomed.as_str())
        .unwrap();
    assert_eq!(f["needs_person"], true, "{f}");
    assert!(v.ok(&["flow", "list"]).contains("needs a person"));
    let events = v.json(&["events"]);
    let marked: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "flow.needs_person")
        .collect();
    assert_eq!(marked.len(), 1, "one event when it was marked: {events}");
    assert_eq!(marked[0]["payload"]["flow_id"], doomed.as_str());
    assert_eq!(marked[0]["payload"]["tries"], 2);
    assert!(
        marked[0]["payload"]["failure"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("read-only"),
        "the failure says why: {}",
        marked[0]
    );
    let r = v.run(&["check"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stdout.contains("no-flow-needs-person") && r.stdout.contains(&doomed),
        "{}",
        r.stdout
    );

    // Once the cause is gone a person rolls it back, and all is well.
    drop(ro);
    v.ok(&["rollback", &doomed]);
    check_passes(&v, "after the person's rollback");
    let shown = v.json(&["flow", "show", &doomed]);
    let decisions: Vec<&str> = shown["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["payload"]["decision"]
                .as_str()
                .unwrap_or(e["type"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        decisions,
        [
            "rollback",
            "retry_revert",
            "retry_revert",
            "flow.needs_person"
        ],
        "flow show tells what was decided: {shown}"
    );
    let text = v.ok(&["flow", "show", &doomed]);
    assert!(
        text.contains("reconcile: retry_revert by recovery.policy \"create\" = rollback"),
        "{text}"
    );
    assert!(reconcile_under(&v, "").is_empty());
}

#[test]
fn a_command_settles_an_orphan_of_its_volume_by_the_policy() {
    let v = Volctl::new();
    let id = id_of(&v.json(&["create", "--size", "1", "--name", "data"]));
    let points = trace_points(&v, &["extend", "data", "--size", "2"]);
    let point = points
        .iter()
        .find(|p| p.contains("/ExtendOnBackend/success"))
        .unwrap_or_else(|| panic!("{points:?}"));
    assert!(crash_at(&v, &["extend", "data", "--size", "3"], point));

    // Within the grace period (30 s by default) the command refuses, and
    // says why and what settles it.
    let r = v.run(&["rename", "data", "other"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr.contains("stopped half-way") && r.stderr.contains("recovery.grace"),
        "{}",
        r.stderr
    );
    // A policy that leaves it: still refused, saying so.
    let cfg = v.path("leave.toml");
    std::fs::write(
        &cfg,
        format!("{NO_GRACE}[recovery.policy]\nextend = \"leave\"\n"),
    )
    .unwrap();
    let r: Run = v
        .cmd(&["rename", "data", "other"])
        .env("VOLCTL_CONFIG", &cfg)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(r.stderr.contains("leaves it for a person"), "{}", r.stderr);
    let r: Run = v
        .cmd(&["rename", "data", "other"])
        .env("VOLCTL_CONFIG", &cfg)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 6, "refused again: {}", r.stderr);
    // Past the grace period the built-in rule finishes the extend first,
    // then the command runs.
    let cfg = v.path("now.toml");
    std::fs::write(&cfg, NO_GRACE).unwrap();
    let r: Run = v
        .cmd(&["rename", "data", "other", "--json"])
        .env("VOLCTL_CONFIG", &cfg)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let x = v.json(&["show", &id]);
    assert_eq!(
        (x["name"].as_str(), x["size"].as_u64()),
        (Some("other"), Some(3))
    );
    let events = v.json(&["events", "--volume", &id]);
    let settled: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "flow.reconcile")
        .collect();
    // The `leave` is recorded once (not at every refusal), then the resume.
    let told: Vec<(&str, &str)> = settled
        .iter()
        .map(|e| {
            (
                e["payload"]["decision"].as_str().unwrap(),
                e["payload"]["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        told,
        [
            ("leave", "recovery.policy \"extend\" = leave"),
            ("resume", "built-in extend = resume")
        ],
        "{events}"
    );
    check_passes(&v, "after the settling rename");

    // A delete that stopped half-way is finished by the delete asked again.
    let points = trace_points(&v, &["delete", "other"]);
    let v = Volctl::with_config(NO_GRACE);
    v.json(&["create", "--size", "1", "--name", "gone"]);
    let point = points
        .iter()
        .find(|p| p.matches('/').count() == 2 && p.ends_with("/success"))
        .unwrap();
    assert!(crash_at(&v, &["delete", "gone"], point));
    let r = v.run(&["delete", "gone"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(v.json(&["list"]), Value::Array(vec![]));
    check_passes(&v, "after the second delete");
}

#[test]
fn nothing_to_do_is_quiet_and_a_bad_rule_is_refused_naming_it() {
    let v = Volctl::new();
    let r = v.run(&["reconcile"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("nothing to reconcile"), "{}", r.stderr);
    assert_eq!(v.json(&["reconcile"]), Value::Array(vec![]));

    for (rule, says) in [
        ("crate = \"resume\"", "no operation `crate`"),
        ("create = \"finish\"", "finish"),
    ] {
        let v = Volctl::with_config(&format!("[recovery.policy]\n{rule}\n"));
        let r = v.run(&["reconcile"]);
        assert_eq!(r.code, 2, "{rule}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{rule}: {}", r.stderr);
    }
    // A step the operation does not have is refused by every command as
    // soon as the store opens (not first when an orphan needs the rule),
    // and nothing is done.
    let v = Volctl::with_config(
        "[recovery]\ngrace = \"0s\"\n[recovery.policy]\n\"create/Nope\" = \"resume\"\n",
    );
    for args in [&["create", "--size", "1"][..], &["reconcile"], &["list"]] {
        let r = v.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("create/Nope") && r.stderr.contains("CreateVolumeFromSpec"),
            "{args:?} names the rule and the steps there are: {}",
            r.stderr
        );
    }
    // Without the bad rule: the refused create left nothing.
    let r: Run = v
        .cmd(&["flow", "list", "--all", "--json"])
        .env_remove("VOLCTL_CONFIG")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.json(),
        Value::Array(vec![]),
        "the refused create left no flow"
    );
}

#[test]
fn reconciles_racing_each_other_settle_each_orphan_once() {
    let v = Volctl::with_config(NO_GRACE);
    for _ in 0..6 {
        assert!(crash_at(
            &v,
            &["create", "--size", "1"],
            "volume_create_manager/CreateVolumeFromSpec/success"
        ));
    }
    let runs: Vec<_> = (0..3)
        .map(|_| {
            v.cmd(&["reconcile", "--json"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in runs {
        assert!(c.wait().unwrap().success());
    }
    let vols = v.json(&["list"]);
    assert_eq!(vols.as_array().unwrap().len(), 6);
    assert!(
        vols.as_array()
            .unwrap()
            .iter()
            .all(|x| x["status"] == "available")
    );
    assert_eq!(v.usage("volumes"), (6, 0));
    check_passes(&v, "after racing reconciles");
    let events = v.json(&["events"]);
    let resumed = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "flow.reconcile" && e["payload"]["result"] == "success")
        .count();
    assert_eq!(resumed, 6, "each orphan resumed once: {events}");
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn made(v: &Volctl, name: &str) -> String {
    id_of(&v.json(&["create", "--size", "1M", "--name", name]))
}

fn names(v: &Volctl, what: &[&str]) -> Vec<String> {
    v.json(what)
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The flows no other crash test covers, each crashed at every step and
/// reconciled (resume; leave then rollback): the store and the backend end
/// consistent, and a resumed one did its work.
#[test]
fn crash_at_every_step_of_the_other_operations_then_reconcile() {
    every_crash_point(
        Volctl::new,
        |v| made(v, "d"),
        |_, id| strings(&["delete", id]),
        "volume_delete",
        |v, id, s| {
            if s.resume {
                assert_ne!(v.run(&["show", id]).code, 0, "{}: still there", s.what);
            }
        },
    );
    every_crash_point(
        Volctl::new,
        |v| made(v, "old"),
        |_, id| strings(&["rename", id, "new"]),
        "volume_rename",
        |v, id, s| {
            let name = v.json(&["show", id])["name"].clone();
            assert_eq!(name, if s.done() { "new" } else { "old" }, "{}", s.what);
        },
    );
    every_crash_point(
        Volctl::new,
        |v| made(v, "l"),
        |_, id| strings(&["label", id, "a=b"]),
        "volume_label",
        |v, id, s| {
            let a = v.json(&["show", id])["labels"]["a"].clone();
            let want = if s.done() {
                Value::from("b")
            } else {
                Value::Null
            };
            assert_eq!(a, want, "{}", s.what);
        },
    );
    every_crash_point(
        Volctl::new,
        |v| made(v, "src"),
        |_, id| strings(&["snapshot", "create", id, "--name", "s"]),
        "snapshot_create",
        |v, _, s| {
            let snaps = names(v, &["snapshot", "list"]);
            assert_eq!(
                snaps.contains(&"s".to_string()),
                s.done(),
                "{}: {snaps:?}",
                s.what
            );
        },
    );
    every_crash_point(
        Volctl::new,
        |v| {
            let id = made(v, "src");
            v.json(&["snapshot", "create", &id, "--name", "s"]);
        },
        |_, _| strings(&["snapshot", "delete", "s"]),
        "snapshot_delete",
        |v, _, s| {
            if s.resume {
                assert!(names(v, &["snapshot", "list"]).is_empty(), "{}", s.what);
            }
        },
    );
    let image = |v: &Volctl| {
        let img = v.path("disk.qcow2");
        let ok = command("qemu-img")
            .args(["create", "-q", "-f", "qcow2", img.to_str().unwrap(), "8M"])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        img.to_str().unwrap().to_string()
    };
    every_crash_point(
        Volctl::new,
        image,
        |_, img| strings(&["image", "import", img, "--name", "img"]),
        "image_import",
        |v, _, s| {
            let imgs = names(v, &["image", "list"]);
            assert_eq!(
                imgs.contains(&"img".to_string()),
                s.done(),
                "{}: {imgs:?}",
                s.what
            );
        },
    );
    every_crash_point(
        Volctl::new,
        |v| {
            let img = image(v);
            v.json(&["image", "import", &img, "--name", "img"]);
        },
        |_, _| strings(&["image", "delete", "img"]),
        "image_delete",
        |v, _, s| {
            if s.resume {
                assert!(names(v, &["image", "list"]).is_empty(), "{}", s.what);
            }
        },
    );
}

/// Attach and detach, crashed at every step and reconciled: a resumed
/// attach has its device, a rolled-back one none; no loop device is left
/// behind either way (`check` counts them).
#[test]
fn crash_at_every_step_of_attach_and_detach_then_reconcile() {
    if !need_root("crash_at_every_step_of_attach_and_detach_then_reconcile") {
        return;
    }
    let device = |v: &Volctl, id: &str| v.json(&["show", id])["device"].clone();
    every_crash_point(
        Volctl::new,
        |v| {
            let id = made(v, "a");
            (Cleanup::of(v), id)
        },
        |_, (_, id)| strings(&["attach", id]),
        "volume_attach",
        |v, (_, id), s| {
            assert_eq!(!device(v, id).is_null(), s.done(), "{}", s.what);
        },
    );
    every_crash_point(
        Volctl::new,
        |v| {
            let id = made(v, "a");
            v.json(&["attach", &id]);
            (Cleanup::of(v), id)
        },
        |_, (_, id)| strings(&["detach", id]),
        "volume_detach",
        |v, (_, id), s| {
            if s.resume {
                assert!(device(v, id).is_null(), "{}", s.what);
            }
        },
    );
}

#[test]
fn crash_at_every_step_of_an_apply_then_reconcile_settles_its_own_flows_first() {
    const PLAN: &str = "[[volume]]\nname = \"ci-scratch\"\nsize = 1\n";
    let plan = |v: &Volctl| {
        let f = v.path("plan.toml");
        std::fs::write(&f, PLAN).unwrap();
        f.to_str().unwrap().to_string()
    };
    let points = {
        let v = Volctl::new();
        let f = plan(&v);
        trace_points(&v, &["apply", "-f", &f])
    };
    assert!(
        points
            .iter()
            .any(|p| p.starts_with("volume_create_manager/CreateVolumeFromSpec/")),
        "the apply's create runs inside it: {points:?}"
    );
    for point in &points {
        let v = Volctl::new();
        let f = plan(&v);
        if !crash_at(&v, &["apply", "-f", &f], point) {
            continue;
        }
        // Resumed before its create, the apply would wait on it (600 s)
        // and fail: the create is settled first. Its flows follow its rule
        // (built-in: resume), even a create not yet scheduled.
        let unfinished = v.json(&["flow", "list"]).as_array().unwrap().len();
        let ds = reconcile_under(&v, "");
        assert!(
            ds.len() >= unfinished,
            "{point}: {unfinished} stopped: {ds:?}"
        );
        for d in &ds {
            assert!(d["error"].is_null(), "{point}: {d}");
            assert_eq!(d["decision"], "resume", "{point}: {d}");
            assert_eq!(d["rule"], "built-in apply = resume", "{point}: {d}");
        }
        check_passes(&v, point);
        assert_eq!(
            reconcile_under(&v, ""),
            Vec::<Value>::new(),
            "{point}: again"
        );
        let again = v.json(&["apply", "-f", &f]);
        assert_eq!(
            again["volumes"][0]["name"], "ci-scratch",
            "{point}: {again}"
        );
        assert_eq!(
            v.json(&["show", "ci-scratch"])["status"],
            "available",
            "{point}"
        );
    }
}
