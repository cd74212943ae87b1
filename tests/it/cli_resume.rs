//! Crash at every step. For each kind of create, the points are taken from
//! a traced run of the flows themselves (so a new task is covered without
//! touching this test); then, for every point, the binary is made to stop
//! dead there (`abort()`: no unwinding, no destructors) and the flow is
//! resumed — the volume ends `available` with its data — or rolled back —
//! the volume is gone or in `error`, its quota returned, nothing of it on
//! the backend — and `volctl check` passes either way.

use std::collections::BTreeSet;
use std::os::unix::fs::FileExt;

use crate::cli_support::*;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Raw,
    Image,
    Snapshot,
    Clone,
}

const PATTERN: &[u8] = b"the source's data";

/// A fresh state with what `kind` needs; returns the create arguments.
fn setup(kind: Kind) -> (Volctl, Vec<String>) {
    let v = Volctl::with_config("[quota]\nvolumes = -1\ngigabytes = -1\nsnapshots = -1\n");
    let args: Vec<&str> = match kind {
        Kind::Raw => vec!["create", "--size", "1"],
        Kind::Image => {
            let img = v.path("img.qcow2");
            let run = |args: &[&str]| {
                assert!(
                    command(args[0])
                        .args(&args[1..])
                        .output()
                        .unwrap()
                        .status
                        .success()
                )
            };
            run(&[
                "qemu-img",
                "create",
                "-q",
                "-f",
                "qcow2",
                img.to_str().unwrap(),
                "96M",
            ]);
            // Data through most of it, so the copy reports progress.
            run(&[
                "qemu-io",
                "-c",
                "write -P 0x5a 0 80M",
                img.to_str().unwrap(),
            ]);
            v.json(&["image", "import", img.to_str().unwrap()]);
            vec!["create", "--from-image", "img.qcow2"]
        }
        Kind::Snapshot | Kind::Clone => {
            let src = v.json(&["create", "--size", "1", "--name", "src"]);
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(src["path"].as_str().unwrap())
                .unwrap();
            f.write_all_at(PATTERN, 1 << 20).unwrap();
            f.sync_all().unwrap();
            if kind == Kind::Snapshot {
                v.json(&["snapshot", "create", "src", "--name", "snap"]);
                vec!["create", "--from-snapshot", "snap"]
            } else {
                vec!["create", "--from-volume", "src"]
            }
        }
    };
    (v, args.into_iter().map(String::from).collect())
}

/// The points a create passes, in order, from a traced run.
fn points(kind: Kind) -> Vec<String> {
    let (v, args) = setup(kind);
    let trace = v.path("trace");
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = v
        .cmd(&a)
        .env("VOLCTL_TRACE_POINTS", &trace)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut seen = BTreeSet::new();
    std::fs::read_to_string(trace)
        .unwrap()
        .lines()
        .filter(|p| seen.insert(p.to_string()))
        .map(String::from)
        .collect()
}

fn sources(v: &Volctl) -> Vec<String> {
    v.json(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["name"] == "src")
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

/// The volume the crashed create was making, if its row exists.
fn new_volume(v: &Volctl) -> Option<Value> {
    let src = sources(v);
    v.json(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|x| !src.contains(&x["id"].as_str().unwrap().to_string()))
        .cloned()
}

fn has_its_data(v: &Volctl, kind: Kind, vol: &Value) -> bool {
    let path = vol["path"].as_str().unwrap();
    match kind {
        Kind::Raw => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 1 << 30,
        Kind::Image => command("qemu-img")
            .args([
                "compare",
                "-q",
                "-f",
                "qcow2",
                "-F",
                "raw",
                v.path("img.qcow2").to_str().unwrap(),
                path,
            ])
            .status()
            .unwrap()
            .success(),
        Kind::Snapshot | Kind::Clone => {
            let mut buf = vec![0u8; PATTERN.len()];
            std::fs::File::open(path)
                .unwrap()
                .read_exact_at(&mut buf, 1 << 20)
                .unwrap();
            buf == PATTERN
        }
    }
}

fn crash_at(v: &Volctl, args: &[String], point: &str) {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let r: Run = v
        .cmd(&a)
        .env("VOLCTL_CRASH_AT", point)
        .output()
        .unwrap()
        .into();
    assert!(
        r.code != 0
            && r.stderr
                .contains(&format!("test hook: crashing at {point}")),
        "did not crash at {point}: {}\n{}",
        r.code,
        r.stderr
    );
}

fn every_point(kind: Kind) {
    let points = points(kind);
    assert!(
        points.len() > 30,
        "{kind:?}: only {} points: {points:?}",
        points.len()
    );
    for flow in [
        "volume_create_api",
        "volume_create_scheduler",
        "volume_create_manager",
    ] {
        assert!(
            points.iter().any(|p| p.starts_with(flow)),
            "{kind:?}: no point in {flow}"
        );
    }
    if kind == Kind::Image {
        assert!(
            points.contains(&"volume_create_manager/CreateVolumeFromSpec/progress".to_string()),
            "a point in the middle of the image copy: {points:?}"
        );
    }
    for point in &points {
        // Crash, then resume.
        let (v, args) = setup(kind);
        crash_at(&v, &args, point);
        let r = v.run(&["resume", "--all"]);
        assert_eq!(r.code, 0, "{kind:?} resume after {point}: {}", r.stderr);
        let vol =
            new_volume(&v).unwrap_or_else(|| panic!("{kind:?} {point}: no volume after resume"));
        assert_eq!(
            vol["status"], "available",
            "{kind:?} resume after {point}: {vol}"
        );
        assert!(
            has_its_data(&v, kind, &vol),
            "{kind:?} resume after {point}: wrong data"
        );
        check_passes(&v, &format!("{kind:?} resume after {point}"));

        // Crash, then roll back.
        let (v, args) = setup(kind);
        crash_at(&v, &args, point);
        // By the volume's id (from the orphaned flow when there is no row
        // yet), so its queued requests go too.
        let orphan = v
            .json(&["flow", "list"])
            .as_array()
            .unwrap()
            .first()
            .cloned();
        let casts_left = v.run(&["check"]).stdout.contains("is queued");
        let target = orphan
            .as_ref()
            .and_then(|f| f["meta"]["volume_id"].as_str().map(String::from))
            .or_else(|| new_volume(&v).map(|x| x["id"].as_str().unwrap().to_string()));
        match target {
            Some(id) if orphan.is_some() || casts_left => {
                let r = v.run(&["rollback", &id]);
                assert_eq!(r.code, 0, "{kind:?} rollback after {point}: {}", r.stderr);
            }
            _ => {
                let r = v.run(&["rollback", "--all"]);
                assert_eq!(
                    r.code, 0,
                    "{kind:?} rollback --all after {point}: {}",
                    r.stderr
                );
            }
        }
        let finished = point == "volume_create_manager/success";
        match new_volume(&v) {
            None => {}
            Some(vol) if vol["status"] == "error" => {}
            Some(vol) => assert!(
                finished && vol["status"] == "available",
                "{kind:?} rollback after {point}: {vol}"
            ),
        }
        let live_src = sources(&v).len() as i64;
        let expect = if finished { live_src + 1 } else { live_src };
        assert_eq!(
            v.usage("volumes"),
            (expect, 0),
            "{kind:?} rollback after {point}: quota"
        );
        let objects: Vec<String> = Volctl::files(&v.state.join("backends/default"))
            .into_iter()
            .filter(|f| f.starts_with("volume-"))
            .collect();
        assert_eq!(
            objects.len() as i64,
            expect,
            "{kind:?} rollback after {point}: {objects:?}"
        );
        check_passes(&v, &format!("{kind:?} rollback after {point}"));
    }
}

#[test]
fn crash_at_every_step_of_a_raw_create() {
    every_point(Kind::Raw);
}

#[test]
fn crash_at_every_step_of_a_create_from_image() {
    every_point(Kind::Image);
}

#[test]
fn crash_at_every_step_of_a_create_from_snapshot() {
    every_point(Kind::Snapshot);
}

#[test]
fn crash_at_every_step_of_a_clone() {
    every_point(Kind::Clone);
}
