//! The JSON contract: every command, with `--json`, prints exactly one JSON
//! document on stdout, of the shape the README documents — checked here
//! key by key (no key missing, none extra) and type by type, with an event
//! sink configured that writes to its stdout (which must never reach
//! volctl's). Every subcommand of the CLI must have a case here: a new
//! command without one fails the test.

use std::collections::BTreeSet;

use crate::cli_support::*;
use serde_json::Value;

/// A JSON shape.
#[derive(Clone)]
enum S {
    Str,
    /// An RFC 3339 timestamp.
    Time,
    /// Any number (a GiB figure may be a fraction).
    Num,
    /// An integer (bytes, counts).
    Int,
    Bool,
    /// Anything (recorded flow data, event payloads).
    Any,
    /// The shape, or null.
    Opt(Box<S>),
    /// An object with exactly these keys.
    Obj(Vec<(&'static str, S)>),
    /// An array of the shape (checked on each element; must not be empty,
    /// so the element shape is really checked).
    Arr(Box<S>),
    /// An array that may be empty.
    ArrOrEmpty(Box<S>),
    /// An object of any keys, each value of the shape.
    Map(Box<S>),
    /// A string, number or boolean.
    Scalar,
    /// One of these shapes.
    OneOf(Vec<S>),
}

use S::*;

fn opt(s: S) -> S {
    Opt(Box::new(s))
}
fn arr(s: S) -> S {
    Arr(Box::new(s))
}
fn arr0(s: S) -> S {
    ArrOrEmpty(Box::new(s))
}
fn map(s: S) -> S {
    Map(Box::new(s))
}
fn with(base: S, extra: Vec<(&'static str, S)>) -> S {
    match base {
        Obj(mut keys) => {
            keys.extend(extra);
            Obj(keys)
        }
        _ => unreachable!(),
    }
}

fn check(v: &Value, s: &S, at: &str) -> Result<(), String> {
    let bad = |what: &str| Err(format!("{at}: expected {what}, got {v}"));
    match s {
        Str => v.is_string().then_some(()).map_or(bad("a string"), Ok),
        Time => match v.as_str().map(humantime::parse_rfc3339) {
            Some(Ok(_)) => Ok(()),
            _ => bad("an RFC 3339 time"),
        },
        Num => v.is_number().then_some(()).map_or(bad("a number"), Ok),
        Int => (v.is_i64() || v.is_u64())
            .then_some(())
            .map_or(bad("an integer"), Ok),
        Bool => v.is_boolean().then_some(()).map_or(bad("a boolean"), Ok),
        Any => Ok(()),
        Scalar => (v.is_string() || v.is_number() || v.is_boolean())
            .then_some(())
            .map_or(bad("a string, number or boolean"), Ok),
        Opt(inner) => match v {
            Value::Null => Ok(()),
            _ => check(v, inner, at),
        },
        Obj(keys) => {
            let Some(o) = v.as_object() else {
                return bad("an object");
            };
            let want: BTreeSet<&str> = keys.iter().map(|(k, _)| *k).collect();
            let have: BTreeSet<&str> = o.keys().map(String::as_str).collect();
            if want != have {
                return Err(format!(
                    "{at}: keys differ: missing {:?}, extra {:?}",
                    want.difference(&have).collect::<Vec<_>>(),
                    have.difference(&want).collect::<Vec<_>>()
                ));
            }
            for (k, ks) in keys {
                check(&o[*k], ks, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        Arr(inner) | ArrOrEmpty(inner) => {
            let Some(a) = v.as_array() else {
                return bad("an array");
            };
            if a.is_empty() && matches!(s, Arr(_)) {
                return Err(format!("{at}: an empty array checks nothing"));
            }
            for (i, e) in a.iter().enumerate() {
                check(e, inner, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        Map(inner) => {
            let Some(o) = v.as_object() else {
                return bad("an object");
            };
            for (k, e) in o {
                check(e, inner, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        OneOf(shapes) => {
            let errs: Vec<String> = shapes
                .iter()
                .filter_map(|s| check(v, s, at).err())
                .collect();
            if errs.len() < shapes.len() {
                Ok(())
            } else {
                Err(errs.join("; or "))
            }
        }
    }
}

fn volume() -> S {
    Obj(vec![
        ("id", Str),
        ("name", opt(Str)),
        ("size", Num),
        ("size_bytes", Int),
        ("status", Str),
        ("backend", opt(Str)),
        ("path", opt(Str)),
        ("device", opt(Str)),
        (
            "attach_mode",
            opt(Obj(vec![("read_only", Bool), ("partscan", Bool)])),
        ),
        ("labels", map(Str)),
        ("expires_at", opt(Time)),
        ("created_at", Time),
        ("updated_at", Time),
        ("launched_at", opt(Time)),
        ("project", Str),
        ("type", opt(Str)),
        ("type_id", opt(Str)),
        ("zone", opt(Str)),
        ("source_kind", Str),
        ("source_id", opt(Str)),
        ("error", opt(Str)),
        ("attempts", Int),
    ])
}

fn snapshot() -> S {
    Obj(vec![
        ("id", Str),
        ("name", opt(Str)),
        ("volume_id", Str),
        ("size", Num),
        ("size_bytes", Int),
        ("status", Str),
        ("backend", Str),
        ("path", opt(Str)),
        ("project", Str),
        ("type", opt(Str)),
        ("error", opt(Str)),
        ("created_at", Time),
        ("updated_at", Time),
    ])
}

fn image() -> S {
    Obj(vec![
        ("id", Str),
        ("name", Str),
        ("format", Str),
        ("virtual_size", Int),
        ("size", Int),
        ("path", Str),
        ("status", Str),
        ("source", opt(Str)),
        ("created_at", Time),
        ("compressed", Bool),
        ("uses", Int),
    ])
}

fn cache_entry() -> S {
    Obj(vec![
        ("backend", Str),
        ("image_id", Str),
        ("path", Str),
        ("size", Int),
        ("hits", Int),
        ("created_at", Time),
        ("last_used", Time),
        ("fingerprint", opt(Str)),
    ])
}

fn usage() -> S {
    OneOf(vec![
        Obj(vec![("limit", Int), ("in_use", Int), ("reserved", Int)]),
        Obj(vec![
            ("limit", Int),
            ("in_use", Num),
            ("reserved", Num),
            ("in_use_bytes", Int),
            ("reserved_bytes", Int),
        ]),
    ])
}

fn flow_info() -> S {
    Obj(vec![
        ("id", Str),
        ("name", Str),
        ("state", Str),
        ("inputs", Any),
        ("failures", arr0(Any)),
        ("revert_failure", Any),
        ("meta", Any),
        ("owner", opt(Str)),
        ("created_at", Time),
        ("updated_at", Time),
        ("alive", Bool),
        ("orphaned", Bool),
        ("needs_person", Bool),
    ])
}

fn flow_shown() -> S {
    with(
        flow_info(),
        vec![
            ("decisions", arr0(event_record())),
            (
                "atoms",
                arr(Obj(vec![
                    ("name", Str),
                    ("kind", Str),
                    ("state", Str),
                    ("seq", Int),
                    ("attempts", Int),
                    ("result", Any),
                    ("failure", Any),
                    ("revert_failure", Any),
                    ("started_at", opt(Time)),
                    ("finished_at", opt(Time)),
                ])),
            ),
        ],
    )
}

/// An event as `events` and `flow show` print it.
fn event_record() -> S {
    Obj(vec![
        ("id", Int),
        ("at", Time),
        ("type", Str),
        ("volume_id", opt(Str)),
        ("payload", Any),
    ])
}

fn error_doc() -> S {
    OneOf(vec![
        Obj(vec![(
            "error",
            Obj(vec![("kind", Str), ("message", Str), ("exit_code", Int)]),
        )]),
        Obj(vec![(
            "error",
            Obj(vec![
                ("kind", Str),
                ("message", Str),
                ("exit_code", Int),
                ("details", Any),
            ]),
        )]),
    ])
}

/// Runs `args --json`: one document on stdout, of shape `s`; returns it.
fn one_doc(v: &Volctl, args: &[&str], s: &S, want_ok: bool) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let r = v.run(&a);
    assert_eq!(
        r.code == 0,
        want_ok,
        "volctl {a:?}: exit {}\n{}{}",
        r.code,
        r.stdout,
        r.stderr
    );
    let docs: Vec<Value> = serde_json::Deserializer::from_str(&r.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("volctl {a:?}: stdout is not JSON ({e}):\n{}", r.stdout));
    assert_eq!(
        docs.len(),
        1,
        "volctl {a:?}: {} documents on stdout:\n{}",
        docs.len(),
        r.stdout
    );
    if let Err(e) = check(&docs[0], s, "$") {
        panic!("volctl {a:?}: {e}\n{}", docs[0]);
    }
    docs.into_iter().next().unwrap()
}

/// Every leaf subcommand's path, e.g. `snapshot create`.
fn leaves(c: &clap::Command, prefix: &str, out: &mut BTreeSet<String>) {
    // Hidden commands (the completion helper) are for scripts of volctl's
    // own and print no JSON.
    let subs: Vec<&clap::Command> = c
        .get_subcommands()
        .filter(|s| s.get_name() != "help" && !s.is_hide_set())
        .collect();
    if subs.is_empty() {
        out.insert(prefix.trim().to_string());
    }
    for s in subs {
        leaves(s, &format!("{prefix} {}", s.get_name()), out);
    }
}

#[test]
fn every_command_prints_one_json_document_of_its_documented_shape() {
    if !need_root("every_command_prints_one_json_document_of_its_documented_shape") {
        return;
    }
    // A sink that writes every event to its stdout: none may reach ours.
    let v = Volctl::with_config(
        r#"
[events]
exec = "cat"
[[backend]]
name = "a"
driver = "loopback"
path = "@/a"
capacity_gb = 100
[[backend]]
name = "b"
driver = "loopback"
path = "@/b"
capacity_gb = 100
capabilities = { tier = "ssd", iops = 5000, replicated = true }
"#,
    );
    // Compressed, so that its second use fills the image cache (whose
    // entries `image show` then lists) on any backend.
    let img = v.path("disk.qcow2");
    let raw = v.path("disk.raw");
    std::fs::write(&raw, vec![7u8; 8 << 20]).unwrap();
    sh(
        "qemu-img",
        &[
            "convert",
            "-c",
            "-f",
            "raw",
            "-O",
            "qcow2",
            raw.to_str().unwrap(),
            img.to_str().unwrap(),
        ],
    );
    let mut done = BTreeSet::new();
    let mut run = |cmd: &str, args: &[&str], s: S| -> Value {
        done.insert(cmd.to_string());
        one_doc(&v, args, &s, true)
    };
    let vol = volume();
    run(
        "create",
        &["create", "--size", "8M", "--name", "x", "--label", "k=v"],
        vol.clone(),
    );
    run(
        "create",
        &["create", "--size", "8M", "--name", "x", "--if-not-exists"],
        with(volume(), vec![("existing", Bool)]),
    );
    run("show", &["show", "x"], vol.clone());
    run("list", &["list"], arr(vol.clone()));
    run("extend", &["extend", "x", "--size", "16M"], vol.clone());
    run("label", &["label", "x", "a=b", "k-"], vol.clone());
    run("rename", &["rename", "x", "y"], vol.clone());
    run("attach", &["attach", "y", "--read-only"], vol.clone());
    run("detach", &["detach", "y"], vol.clone());
    run("wait", &["wait", "y", "--for", "available"], vol.clone());
    let export = v.path("out.raw");
    run(
        "export",
        &["export", "y", export.to_str().unwrap()],
        Obj(vec![("file", Str), ("id", arr(Int)), ("bytes", Int)]),
    );
    run(
        "snapshot create",
        &["snapshot", "create", "y", "--name", "s"],
        snapshot(),
    );
    run("snapshot show", &["snapshot", "show", "s"], snapshot());
    run("snapshot list", &["snapshot", "list"], arr(snapshot()));
    run("snapshot revert", &["snapshot", "revert", "s"], vol.clone());
    run(
        "snapshot delete",
        &["snapshot", "delete", "s"],
        Obj(vec![("deleted", arr(Str))]),
    );
    run(
        "image import",
        &["image", "import", img.to_str().unwrap(), "--name", "img"],
        image(),
    );
    run(
        "create",
        &["create", "--from-image", "img", "--name", "fromimg"],
        vol.clone(),
    );
    // The image's second use fills the cache.
    v.json(&["create", "--from-image", "img", "--name", "fromimg2"]);
    run("image list", &["image", "list"], arr(image()));
    run(
        "image show",
        &["image", "show", "img"],
        with(image(), vec![("cache", arr(cache_entry()))]),
    );
    run(
        "image create",
        &["image", "create", "--name", "copy", "--from-volume", "y"],
        image(),
    );
    run("image delete", &["image", "delete", "copy"], image());
    run(
        "backend list",
        &["backend", "list"],
        arr(Obj(vec![
            ("name", Str),
            ("driver", Str),
            ("availability_zone", Str),
            ("thin", Bool),
            ("cheap_copies", Bool),
            ("total_bytes", opt(Int)),
            ("free_bytes", opt(Int)),
            ("provisioned_bytes", Int),
            ("volumes", Int),
            ("max_over_subscription_ratio", Num),
            ("reserved_percentage", Int),
            ("capabilities", map(Scalar)),
            ("error", opt(Str)),
        ])),
    );
    let backends = one_doc(&v, &["backend", "list"], &Any, true);
    assert_eq!(backends[1]["capabilities"]["iops"], 5000, "TOML types kept");
    assert_eq!(backends[1]["capabilities"]["replicated"], true);
    assert_eq!(
        backends[1]["capabilities"]["thin_provisioning_support"],
        true
    );
    let setting = |extra: Vec<(&'static str, S)>| {
        with(
            Obj(vec![("key", Str), ("value", Any), ("source", Str)]),
            extra,
        )
    };
    let setting = OneOf(vec![
        setting(vec![]),
        setting(vec![("file", Str), ("line", Int)]),
        setting(vec![("variable", Str)]),
        setting(vec![("flag", Str)]),
    ]);
    let shown = run(
        "config show",
        &["config", "show"],
        Obj(vec![
            ("state_dir", setting.clone()),
            ("config_file", setting.clone()),
            ("project", setting.clone()),
            ("settings", arr(setting)),
        ]),
    );
    assert_eq!(shown["state_dir"]["source"], "environment");
    assert_eq!(shown["config_file"]["source"], "environment");
    let config = v.config.clone().unwrap();
    run(
        "config check",
        &["config", "check", config.to_str().unwrap()],
        Obj(vec![
            ("file", Str),
            ("valid", Bool),
            ("backends", Int),
            ("volume_types", Int),
        ]),
    );
    run("quota show", &["quota", "show"], map(usage()));
    run(
        "quota unset",
        &["quota", "unset", "snapshots"],
        map(usage()),
    );
    run(
        "quota set",
        &["quota", "set", "--volumes", "50"],
        map(usage()),
    );
    let ty = Obj(vec![
        ("id", Str),
        ("name", Str),
        ("extra_specs", map(Str)),
        ("from_config", Bool),
        ("created_at", Time),
    ]);
    run("type create", &["type", "create", "gold"], ty.clone());
    run("type list", &["type", "list"], arr(ty.clone()));
    run("retype", &["retype", "y", "--type", "gold"], vol.clone());
    let on = one_doc(&v, &["show", "fromimg"], &vol, true)["backend"] == "a";
    let to = if on { "b" } else { "a" };
    run(
        "migrate",
        &["migrate", "fromimg", "--backend", to],
        vol.clone(),
    );
    let obj = v.path("b/adopt.raw");
    std::fs::write(&obj, vec![0u8; 1 << 20]).unwrap();
    run(
        "manage",
        &[
            "manage",
            obj.to_str().unwrap(),
            "--backend",
            "b",
            "--name",
            "adopted",
        ],
        vol.clone(),
    );
    run(
        "unmanage",
        &["unmanage", "adopted"],
        Obj(vec![("id", Str), ("path", Str)]),
    );
    run(
        "check",
        &["check"],
        Obj(vec![
            ("ok", Bool),
            ("violations", arr0(Any)),
            ("repaired", arr0(Any)),
        ]),
    );
    let flow = flow_info();
    run("flow list", &["flow", "list", "--all"], arr(flow));
    let flows = one_doc(&v, &["flow", "list", "--all"], &Any, true);
    let id = flows[0]["id"].as_str().unwrap().to_string();
    run("flow show", &["flow", "show", &id], flow_shown());
    run("flow show", &["flow", "show", "y"], arr(flow_shown()));
    run(
        "flow prune",
        &["flow", "prune", "--older-than", "7d"],
        Obj(vec![("flows", Int), ("events", Int)]),
    );
    run("events", &["events", "--after", "1"], arr(event_record()));
    // resume and rollback: a create stopped dead, then each settles one.
    for (cmd, shape) in [
        (
            "resume",
            Obj(vec![("flow", Str), ("name", Str), ("state", Str)]),
        ),
        ("rollback", Obj(vec![("flow", Str), ("state", Str)])),
    ] {
        crash_at(
            &v,
            &["create", "--size", "1M"],
            "volume_create_manager/CreateVolumeFromSpec/success",
        );
        run(cmd, &[cmd, "--all"], arr(shape));
    }
    // reconcile: a create stopped dead waits out its grace period.
    crash_at(
        &v,
        &["create", "--size", "1M"],
        "volume_create_manager/CreateVolumeFromSpec/success",
    );
    run(
        "reconcile",
        &["reconcile"],
        arr(Obj(vec![
            ("flow_id", opt(Str)),
            ("flow", Str),
            ("operation", opt(Str)),
            ("volume_id", opt(Str)),
            ("state", opt(Str)),
            ("stopped_at", opt(Str)),
            ("decision", Str),
            ("rule", Str),
            ("reason", Str),
        ])),
    );
    v.ok(&["rollback", "--all"]);
    let plan = v.path("plan.toml");
    std::fs::write(
        &plan,
        "[[volume]]\nname = \"p\"\nsize = \"4M\"\nlabels = { job = \"1\" }\n",
    )
    .unwrap();
    run(
        "apply",
        &["apply", "-f", plan.to_str().unwrap()],
        Obj(vec![
            ("dry_run", Bool),
            (
                "volumes",
                arr(Obj(vec![
                    ("action", Str),
                    ("differences", arr0(Str)),
                    ("id", opt(Str)),
                    ("name", Str),
                ])),
            ),
        ]),
    );
    run(
        "gc",
        &["gc", "--dry-run"],
        Obj(vec![
            ("deleted", arr0(Str)),
            (
                "kept",
                arr0(Obj(vec![("id", Str), ("name", opt(Str)), ("reason", Str)])),
            ),
            ("dry_run", Bool),
        ]),
    );
    run(
        "delete",
        &["delete", "p", "gone", "--ignore-not-found"],
        Obj(vec![("deleted", arr(Str)), ("not_found", arr(Str))]),
    );
    run(
        "wait",
        &["wait", "p", "--for", "deleted"],
        Obj(vec![("volume", Str), ("deleted", Bool)]),
    );
    run("type create", &["type", "create", "unused"], ty.clone());
    run("type delete", &["type", "delete", "unused"], ty);

    // Failures are one error document too: a refusal, a usage error clap
    // finds, and a delete of several where one fails (which ids, why).
    for args in [
        &["show", "nothing"][..],
        &["create", "--size", "x"][..],
        &["create", "--bogus"][..],
        &["delete", "y", "nothing"][..],
    ] {
        let doc = one_doc(&v, args, &error_doc(), false);
        assert!(doc["error"]["message"].as_str().unwrap().len() > 3);
    }

    // A server prints no result document; refused, it prints the error
    // document like any command.
    let doc = one_doc(
        &v,
        &[
            "csi",
            "serve",
            "--endpoint",
            "tcp://127.0.0.1:1",
            "--node-id",
            "n",
        ],
        &error_doc(),
        false,
    );
    assert!(doc["error"]["message"].as_str().unwrap().contains("unix"));
    done.insert("csi serve".to_string());

    // Every subcommand was checked.
    let mut all = BTreeSet::new();
    leaves(&volctl::cli::command(), "", &mut all);
    let missing: Vec<&String> = all.iter().filter(|c| !done.contains(*c)).collect();
    assert!(
        missing.is_empty(),
        "commands without a JSON shape check: {missing:?}"
    );
}
