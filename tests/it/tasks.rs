//! Each task of the api, scheduler, manager and delete flows alone: given
//! inputs → outputs and effects; its revert given its result or failure.

use std::sync::Arc;
use volctl::dispatch::{self, Message, Topic};
use volctl::symbols::*;
use volctl::units::Bytes;

use serde_json::json;
use volctl::api::create_volume::*;
use volctl::api::{CreateRequest, VolumeRequest};
use volctl::error::{Error, ErrorKind};
use volctl::flow::{Failure, Outcome, Task, Values, ValuesExt, execute_task, outputs, revert_task};
use volctl::manager::ManagerRequest;
use volctl::manager::create_volume::*;
use volctl::manager::delete_volume::{DeleteEntry, DeleteStart};
use volctl::quota::Reservation;
use volctl::scheduler::create_volume::*;
use volctl::scheduler::{Retry, SchedulerRequest};
use volctl::service::Service;
use volctl::store::volumes::{self, SourceKind, VolumeStatus};
use volctl::store::{events, types};

struct Env {
    dir: tempfile::TempDir,
    svc: Arc<Service>,
}

fn env(config: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    let text = config.replace("@", &dir.path().display().to_string());
    // The backends' directories, made as an operator would (volctl makes
    // only those inside its state directory).
    for line in text.lines() {
        if let Some(d) = line
            .trim()
            .strip_prefix("path = \"")
            .and_then(|p| p.strip_suffix('"'))
        {
            std::fs::create_dir_all(d).unwrap();
        }
    }
    std::fs::write(&cfg, text).unwrap();
    let svc = Service::open(&dir.path().join("state"), Some(&cfg)).unwrap();
    Env { dir, svc }
}

const TWO_BACKENDS: &str = r#"
[quota]
volumes = 5
gigabytes = 100
[[backend]]
name = "a"
driver = "loopback"
path = "@/a"
capacity_gb = 50
availability_zone = "z1"
capabilities = { tier = "ssd" }
[[backend]]
name = "b"
driver = "loopback"
path = "@/b"
capacity_gb = 20
availability_zone = "z2"
[[volume_type]]
name = "fast"
extra_specs = { "capabilities:tier" = "ssd" }
"#;

fn kind(f: Failure) -> ErrorKind {
    Error::from_failure(&f).kind
}

fn usage(e: &Env, resource: &str) -> (i64, i64) {
    let u = e.svc.quota().usage(&e.svc.store.db().lock(), "p").unwrap();
    // Size resources count bytes; these tests speak whole GiB.
    u.get(resource)
        .map(|u| {
            if u.sizes {
                (u.in_use >> 30, u.reserved >> 30)
            } else {
                (u.in_use, u.reserved)
            }
        })
        .unwrap_or((0, 0))
}

fn request(e: &Env, size: u64) -> VolumeRequest {
    let req = CreateRequest {
        size: Some(Bytes::gib(size)),
        project: "p".into(),
        ..Default::default()
    };
    ExtractVolumeRequest(e.svc.clone()).extract(&req).unwrap()
}

/// Runs the api tasks up to and including `upto` for a new volume; returns
/// the accumulated store.
fn api_until(e: &Env, size: u64, upto: usize) -> Values {
    let tasks: Vec<Box<dyn Task>> = vec![
        Box::new(ExtractVolumeRequest(e.svc.clone())),
        Box::new(QuotaReserve(e.svc.clone())),
        Box::new(EntryCreate(e.svc.clone())),
        Box::new(QuotaCommit(e.svc.clone())),
        Box::new(VolumeCast(e.svc.clone())),
    ];
    let mut store = inputs(
        "vol-1",
        &CreateRequest {
            size: Some(Bytes::gib(size)),
            project: "p".into(),
            ..Default::default()
        },
    );
    for t in tasks.iter().take(upto + 1) {
        let out = execute_task(t.as_ref(), &store).unwrap();
        store.extend(out);
    }
    store
}

#[test]
fn extract_volume_request_normalises_and_validates() {
    let e = env(TWO_BACKENDS);
    let t = ExtractVolumeRequest(e.svc.clone());
    let ok = CreateRequest {
        size: Some(Bytes::gib(3)),
        name: Some("data".into()),
        volume_type: Some("fast".into()),
        zone: Some("z1".into()),
        project: "p".into(),
        source: None,
        ..Default::default()
    };
    let out = execute_task(&t, &outputs().with(REQUEST, &ok)).unwrap();
    let r: VolumeRequest = serde_json::from_value(out["volume_request"].clone()).unwrap();
    assert_eq!(r.size, Bytes::gib(3));
    assert_eq!(r.type_name.as_deref(), Some("fast"));
    assert_eq!(r.extra_specs["capabilities:tier"], "ssd");
    assert_eq!(r.zone.as_deref(), Some("z1"));
    assert_eq!(r.source_kind, SourceKind::Raw);

    let bad =
        |req: CreateRequest| kind(execute_task(&t, &outputs().with(REQUEST, &req)).unwrap_err());
    assert_eq!(
        bad(CreateRequest {
            size: Some(Bytes::gib(0)),
            ..ok.clone()
        }),
        ErrorKind::Invalid
    );
    assert_eq!(
        bad(CreateRequest {
            size: None,
            ..ok.clone()
        }),
        ErrorKind::Invalid
    );
    assert_eq!(
        bad(CreateRequest {
            size: Some(Bytes(u64::MAX)),
            ..ok.clone()
        }),
        ErrorKind::Invalid
    );
    assert_eq!(
        bad(CreateRequest {
            zone: Some("mars".into()),
            ..ok.clone()
        }),
        ErrorKind::Invalid
    );
    assert_eq!(
        bad(CreateRequest {
            volume_type: Some("slow".into()),
            ..ok.clone()
        }),
        ErrorKind::NotFound
    );
    assert_eq!(
        bad(CreateRequest {
            name: Some("a\nb".into()),
            ..ok.clone()
        }),
        ErrorKind::Invalid
    );
    assert_eq!(
        bad(CreateRequest {
            project: "a b".into(),
            ..ok.clone()
        }),
        ErrorKind::Invalid
    );
}

#[test]
fn quota_reserve_reserves_and_its_revert_releases() {
    let e = env(TWO_BACKENDS);
    let t = QuotaReserve(e.svc.clone());
    let ins = outputs().with(VOLUME_REQUEST, request(&e, 4));
    let out = execute_task(&t, &ins).unwrap();
    let r: Reservation = serde_json::from_value(out["reservation"].clone()).unwrap();
    assert_eq!(
        r.deltas,
        vec![
            ("volumes".to_string(), 1),
            ("gigabytes".to_string(), 4 << 30)
        ]
    );
    assert_eq!(usage(&e, "gigabytes"), (0, 4));
    revert_task(
        &t,
        &ins,
        &Outcome::Success(out),
        &[Failure::new("x", "later")],
    )
    .unwrap();
    assert_eq!(usage(&e, "gigabytes"), (0, 0));

    // Over quota: nothing reserved; its revert with its own failure does nothing.
    let big = outputs().with(VOLUME_REQUEST, request(&e, 101));
    let f = execute_task(&t, &big).unwrap_err();
    assert_eq!(kind(f.clone()), ErrorKind::OverQuota);
    revert_task(&t, &big, &Outcome::Failure(f.clone()), &[f]).unwrap();
    assert_eq!(usage(&e, "gigabytes"), (0, 0));
}

#[test]
fn entry_create_makes_a_creating_row_and_its_revert_removes_it() {
    let e = env(TWO_BACKENDS);
    let store = api_until(&e, 2, 1);
    let t = EntryCreate(e.svc.clone());
    let out = execute_task(&t, &store).unwrap();
    let v = volumes::require(&e.svc.store.db().lock(), "vol-1").unwrap();
    assert_eq!(v.status, VolumeStatus::Creating);
    assert_eq!(v.size, Bytes::gib(2));
    assert!(!v.quota_held);
    assert!(v.reservation.is_some());
    revert_task(&t, &store, &Outcome::Success(out), &[]).unwrap();
    assert!(
        volumes::get(&e.svc.store.db().lock(), "vol-1")
            .unwrap()
            .is_none()
    );
}

#[test]
fn quota_commit_commits_and_its_revert_uncommits() {
    let e = env(TWO_BACKENDS);
    let store = api_until(&e, 2, 2);
    let t = QuotaCommit(e.svc.clone());
    let out = execute_task(&t, &store).unwrap();
    assert_eq!(usage(&e, "gigabytes"), (2, 0));
    assert!(
        volumes::require(&e.svc.store.db().lock(), "vol-1")
            .unwrap()
            .quota_held
    );
    revert_task(&t, &store, &Outcome::Success(out), &[]).unwrap();
    assert_eq!(
        usage(&e, "gigabytes"),
        (0, 2),
        "back to reserved, for QuotaReserve's revert"
    );
    let v = volumes::require(&e.svc.store.db().lock(), "vol-1").unwrap();
    assert!(!v.quota_held && v.reservation.is_some());
    // Given its own failure, there is nothing to undo.
    revert_task(
        &t,
        &store,
        &Outcome::Failure(Failure::new("internal", "x")),
        &[],
    )
    .unwrap();
    assert_eq!(usage(&e, "gigabytes"), (0, 2));
}

#[test]
fn volume_cast_queues_for_the_scheduler_and_its_revert_dequeues() {
    let e = env(TWO_BACKENDS);
    let store = api_until(&e, 2, 3);
    let t = VolumeCast(e.svc.clone());
    let out = execute_task(&t, &store).unwrap();
    let queued = dispatch::list(&e.svc.store.db().lock()).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].message.topic(), Topic::Scheduler);
    assert_eq!(queued[0].id, out["cast_id"].as_i64().unwrap());
    let Message::Schedule(msg) = queued[0].message.clone() else {
        panic!("not a scheduler cast: {:?}", queued[0])
    };
    assert_eq!(msg.volume_id, "vol-1");
    assert_eq!(msg.retry, Retry::first());
    revert_task(&t, &store, &Outcome::Success(out), &[]).unwrap();
    assert!(dispatch::list(&e.svc.store.db().lock()).unwrap().is_empty());
}

/// The api flow's effects, and its cast taken off the queue (as the
/// scheduler does).
fn scheduler_request(e: &Env, size: u64, retry: Retry) -> (Values, SchedulerRequest) {
    let store = api_until(e, size, 4);
    let cast = store["cast_id"].as_i64().unwrap();
    dispatch::take(&e.svc.store.db().lock(), cast)
        .unwrap()
        .unwrap();
    let msg = SchedulerRequest {
        volume_id: "vol-1".into(),
        request: serde_json::from_value(store["volume_request"].clone()).unwrap(),
        retry,
    };
    (
        outputs()
            .with(SCHEDULER_SPEC, &msg)
            .with(SCHEDULER_REQUEST, &msg),
        msg,
    )
}

#[test]
fn extract_scheduler_spec_checks_the_volume() {
    let e = env(TWO_BACKENDS);
    let (ins, _) = scheduler_request(&e, 1, Retry::first());
    let t = ExtractSchedulerSpec(e.svc.clone());
    assert!(execute_task(&t, &ins).is_ok());
    volumes::set_status(
        &e.svc.store.db().lock(),
        "vol-1",
        VolumeStatus::Available,
        None,
    )
    .unwrap();
    assert_eq!(
        kind(execute_task(&t, &ins).unwrap_err()),
        ErrorKind::Conflict
    );
    volumes::delete(&e.svc.store.db().lock(), "vol-1").unwrap();
    assert_eq!(
        kind(execute_task(&t, &ins).unwrap_err()),
        ErrorKind::NotFound
    );
}

#[test]
fn change_status_on_failure_errors_the_volume_returns_quota_and_notifies() {
    let e = env(TWO_BACKENDS);
    let (ins, _) = scheduler_request(&e, 3, Retry::first());
    let t = ChangeStatusNotifyOnFailure(e.svc.clone());
    let out = execute_task(&t, &ins).unwrap();
    assert_eq!(
        volumes::require(&e.svc.store.db().lock(), "vol-1")
            .unwrap()
            .status,
        VolumeStatus::Creating
    );
    assert_eq!(usage(&e, "gigabytes"), (3, 0));
    let why = Failure::new("no_valid_backend", "nothing fits");
    revert_task(&t, &ins, &Outcome::Success(out), &[why]).unwrap();
    let v = volumes::require(&e.svc.store.db().lock(), "vol-1").unwrap();
    assert_eq!(v.status, VolumeStatus::Error);
    assert_eq!(v.error.as_deref(), Some("nothing fits"));
    assert_eq!(usage(&e, "gigabytes"), (0, 0));
    assert_eq!(usage(&e, "volumes"), (0, 0));
    let evs = events::list(&e.svc.store.db().lock(), 0, Some("vol-1")).unwrap();
    let last = evs.last().unwrap();
    assert_eq!(last.kind, "scheduler.create_volume");
    assert_eq!(last.payload["reason"], "nothing fits");
}

#[test]
fn schedule_create_volume_records_the_choice_and_casts_to_the_manager() {
    let e = env(TWO_BACKENDS);
    let (ins, _) = scheduler_request(&e, 10, Retry::first());
    let t = ScheduleCreateVolume(e.svc.clone());
    let out = execute_task(&t, &ins).unwrap();
    assert_eq!(out["backend"], "a", "most free capacity");
    let v = volumes::require(&e.svc.store.db().lock(), "vol-1").unwrap();
    assert_eq!(v.backend.as_deref(), Some("a"));
    assert_eq!(v.zone.as_deref(), Some("z1"));
    let queued = dispatch::list(&e.svc.store.db().lock()).unwrap();
    assert_eq!(
        queued.last().unwrap().message.topic(),
        Topic::Manager("a".into())
    );
    revert_task(&t, &ins, &Outcome::Success(out), &[]).unwrap();
    assert_eq!(
        volumes::require(&e.svc.store.db().lock(), "vol-1")
            .unwrap()
            .backend,
        None
    );
    assert!(
        dispatch::list(&e.svc.store.db().lock())
            .unwrap()
            .iter()
            .all(|c| c.message.topic() != Topic::Manager("a".into()))
    );

    // A tried backend is skipped.
    let e = env(TWO_BACKENDS);
    let (ins, _) = scheduler_request(
        &e,
        10,
        Retry {
            attempt: 2,
            tried: vec!["a".into()],
            failures: vec!["a failed".into()],
        },
    );
    assert_eq!(
        execute_task(&ScheduleCreateVolume(e.svc.clone()), &ins).unwrap()["backend"],
        "b"
    );
}

#[test]
fn schedule_create_volume_explains_no_valid_backend() {
    let e = env(TWO_BACKENDS);
    // 50 GiB * 20 = 1000 virtual on a, 400 on b; the quota allows 100.
    e.svc
        .quota()
        .set_limit(&e.svc.store.db().lock(), "p", "gigabytes", -1)
        .unwrap();
    let (ins, _) = scheduler_request(&e, 1001, Retry::first());
    let f = execute_task(&ScheduleCreateVolume(e.svc.clone()), &ins).unwrap_err();
    assert_eq!(kind(f.clone()), ErrorKind::NoValidBackend);
    assert!(f.message.contains("a (rejected)"), "{}", f.message);
    assert!(f.message.contains("needs 1001 GiB, virtual free 1000 GiB (total 50, reserved 0 %, provisioned 0, ratio 20)"), "{}", f.message);
    assert!(
        f.message
            .contains("needs 1001 GiB, virtual free 400 GiB (total 20"),
        "{}",
        f.message
    );
    assert_eq!(f.details["chosen"], json!(null));
    assert_eq!(f.details["backends"].as_array().unwrap().len(), 2);
}

fn manager_request(e: &Env, size: u64, backend: &str, attempt: u32) -> Values {
    let (_, msg) = scheduler_request(e, size, Retry::first());
    volumes::set_backend(
        &e.svc.store.db().lock(),
        "vol-1",
        Some(backend),
        None,
        attempt,
    )
    .unwrap();
    let m = ManagerRequest {
        volume_id: msg.volume_id,
        backend: backend.into(),
        request: msg.request,
        retry: Retry {
            attempt,
            tried: vec![],
            failures: vec![],
        },
    };
    outputs().with(MANAGER_REQUEST, &m)
}

#[test]
fn extract_volume_ref_fails_for_a_deleted_volume() {
    let e = env(TWO_BACKENDS);
    let ins = manager_request(&e, 1, "a", 1);
    let t = ExtractVolumeRef(e.svc.clone());
    let out = execute_task(&t, &ins).unwrap();
    assert_eq!(out["volume"]["id"], "vol-1");
    volumes::delete(&e.svc.store.db().lock(), "vol-1").unwrap();
    assert_eq!(
        kind(execute_task(&t, &ins).unwrap_err()),
        ErrorKind::NotFound
    );
}

#[test]
fn on_failure_reschedule_reschedules_backend_faults_while_attempts_remain() {
    let e = env(TWO_BACKENDS);
    let ins = manager_request(&e, 2, "a", 1);
    let t = OnFailureReschedule(e.svc.clone());
    let out = execute_task(&t, &ins).unwrap();
    let fault = Failure::new("backend", "disk on fire");
    revert_task(&t, &ins, &Outcome::Success(out.clone()), &[fault]).unwrap();
    let v = volumes::require(&e.svc.store.db().lock(), "vol-1").unwrap();
    assert_eq!(v.status, VolumeStatus::Creating);
    assert_eq!(v.backend, None);
    assert_eq!(usage(&e, "gigabytes"), (2, 0), "still held");
    let next = dispatch::next_for_volume(&e.svc.store.db().lock(), "vol-1")
        .unwrap()
        .unwrap();
    let Message::Schedule(msg) = next.message else {
        panic!("not a scheduler cast: {next:?}")
    };
    assert_eq!(msg.retry.attempt, 2);
    assert_eq!(msg.retry.tried, ["a"]);
    assert!(msg.retry.failures[0].contains("disk on fire"));
    let ev = events::list(&e.svc.store.db().lock(), 0, Some("vol-1")).unwrap();
    let ev = ev.last().unwrap();
    assert_eq!(ev.kind, "volume.reschedule");
    assert_eq!(ev.payload["from"], "a");
    assert_eq!(ev.payload["attempt"], 2);
}

#[test]
fn on_failure_reschedule_gives_up_on_data_faults_and_on_the_last_attempt() {
    for (failure, attempt) in [
        (Failure::new("invalid", "bad request"), 1),
        (Failure::new("backend", "fire"), 3),
    ] {
        let e = env(TWO_BACKENDS);
        let ins = manager_request(&e, 2, "a", attempt);
        let t = OnFailureReschedule(e.svc.clone());
        let out = execute_task(&t, &ins).unwrap();
        revert_task(
            &t,
            &ins,
            &Outcome::Success(out),
            std::slice::from_ref(&failure),
        )
        .unwrap();
        let v = volumes::require(&e.svc.store.db().lock(), "vol-1").unwrap();
        assert_eq!(v.status, VolumeStatus::Error, "{failure:?}");
        assert!(v.error.unwrap().contains(&failure.message));
        assert_eq!(usage(&e, "gigabytes"), (0, 0), "quota returned");
        assert!(
            dispatch::next_for_volume(&e.svc.store.db().lock(), "vol-1")
                .unwrap()
                .is_none()
        );
        let ev = events::list(&e.svc.store.db().lock(), 0, Some("vol-1")).unwrap();
        assert_eq!(ev.last().unwrap().kind, "volume.create.error");
    }
}

#[test]
fn create_volume_from_spec_makes_a_sparse_file_and_its_revert_removes_it() {
    let e = env(TWO_BACKENDS);
    let mut store = manager_request(&e, 3, "b", 1);
    for t in [
        Box::new(ExtractVolumeRef(e.svc.clone())) as Box<dyn Task>,
        Box::new(ExtractVolumeSpec(e.svc.clone())),
        Box::new(NotifyVolumeAction(e.svc.clone())),
    ] {
        store.extend(execute_task(t.as_ref(), &store).unwrap());
    }
    let spec: VolumeSpec = serde_json::from_value(store["volume_spec"].clone()).unwrap();
    assert_eq!(
        (spec.kind, spec.size, spec.backend.as_str()),
        (SourceKind::Raw, Bytes::gib(3), "b")
    );
    let t = CreateVolumeFromSpec(e.svc.clone());
    let out = execute_task(&t, &store).unwrap();
    let path = std::path::PathBuf::from(out["path"].as_str().unwrap());
    assert_eq!(path, e.dir.path().join("b/volume-vol-1"));
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.len(), 3 << 30);
    assert!(std::os::unix::fs::MetadataExt::blocks(&meta) < 16, "sparse");
    // Run again (a resumed flow): same result.
    assert_eq!(execute_task(&t, &store).unwrap(), out);
    store.extend(out.clone());

    let fin = CreateVolumeOnFinish(e.svc.clone());
    execute_task(&fin, &store).unwrap();
    let v = volumes::require(&e.svc.store.db().lock(), "vol-1").unwrap();
    assert_eq!(v.status, VolumeStatus::Available);
    assert_eq!(v.path.as_deref(), path.to_str());
    let kinds: Vec<String> = events::list(&e.svc.store.db().lock(), 0, Some("vol-1"))
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["volume.create.start", "volume.create.end"]);

    revert_task(&t, &store, &Outcome::Success(out), &[]).unwrap();
    assert!(!path.exists());
    // The revert after its own failure (partial file) removes it too.
    std::fs::write(&path, b"partial").unwrap();
    revert_task(
        &t,
        &store,
        &Outcome::Failure(Failure::new("no_space", "full")),
        &[],
    )
    .unwrap();
    assert!(!path.exists());
}

#[test]
fn create_volume_from_spec_fails_as_a_backend_fault_on_an_unusable_path() {
    let e = env(TWO_BACKENDS);
    // Replaced by a file after the configuration was loaded.
    std::fs::remove_dir(e.dir.path().join("a")).unwrap();
    std::fs::write(e.dir.path().join("a"), "not a directory").unwrap();
    let mut store = manager_request(&e, 1, "a", 1);
    for t in [
        Box::new(ExtractVolumeRef(e.svc.clone())) as Box<dyn Task>,
        Box::new(ExtractVolumeSpec(e.svc.clone())),
    ] {
        store.extend(execute_task(t.as_ref(), &store).unwrap());
    }
    let f = execute_task(&CreateVolumeFromSpec(e.svc.clone()), &store).unwrap_err();
    assert_eq!(kind(f.clone()), ErrorKind::Backend);
    assert!(
        e.svc.config.policy.reschedule.contains(&kind(f)),
        "a backend fault reschedules by default"
    );
}

#[test]
fn delete_tasks_refuse_busy_volumes_and_release_quota_with_the_row() {
    let e = env(TWO_BACKENDS);
    let _ = api_until(&e, 4, 4);
    let ins = outputs().with(VOLUME_ID, "vol-1".to_string());
    let start = DeleteStart(e.svc.clone());
    assert_eq!(
        kind(execute_task(&start, &ins).unwrap_err()),
        ErrorKind::Conflict,
        "creating"
    );
    volumes::set_status(
        &e.svc.store.db().lock(),
        "vol-1",
        VolumeStatus::Available,
        None,
    )
    .unwrap();
    let out = execute_task(&start, &ins).unwrap();
    assert_eq!(
        volumes::require(&e.svc.store.db().lock(), "vol-1")
            .unwrap()
            .status,
        VolumeStatus::Deleting
    );
    // Its revert marks the failed delete.
    revert_task(
        &start,
        &ins,
        &Outcome::Success(out.clone()),
        &[Failure::new("backend", "busy")],
    )
    .unwrap();
    let v = volumes::require(&e.svc.store.db().lock(), "vol-1").unwrap();
    assert_eq!(v.status, VolumeStatus::ErrorDeleting);
    assert_eq!(v.error.as_deref(), Some("busy"));

    let mut store = ins.clone();
    store.extend(out);
    assert_eq!(usage(&e, "gigabytes"), (4, 0));
    execute_task(&DeleteEntry(e.svc.clone()), &store).unwrap();
    assert!(
        volumes::get(&e.svc.store.db().lock(), "vol-1")
            .unwrap()
            .is_none()
    );
    assert_eq!(usage(&e, "gigabytes"), (0, 0));
    assert_eq!(usage(&e, "volumes"), (0, 0));
}

#[test]
fn config_types_are_synced_into_the_store() {
    let e = env(TWO_BACKENDS);
    let all = types::list(&e.svc.store.db().lock()).unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].from_config);
    let err = e
        .svc
        .store
        .db()
        .immediate(|c| types::delete(c, "fast"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
}
