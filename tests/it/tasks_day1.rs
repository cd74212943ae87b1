//! The snapshot, attach/detach and image tasks alone: given inputs →
//! outputs and effects; each revert given its result or failure.

use std::sync::Arc;
use volctl::units::Bytes;

use volctl::backends::Obj;
use volctl::error::{Error, ErrorKind};
use volctl::flow::{Failure, Outcome, Task, Values, ValuesExt, execute_task, outputs, revert_task};
use volctl::images::flows::*;
use volctl::manager::attach_volume::*;
use volctl::manager::snapshot::*;
use volctl::ops::Ops;
use volctl::service::Service;
use volctl::store::events;
use volctl::store::images::{self, ImageStatus};
use volctl::store::snapshots::{self, SnapshotStatus};
use volctl::store::volumes::{self, VolumeStatus};
use volctl::symbols::*;

struct Env {
    dir: tempfile::TempDir,
    svc: Arc<Service>,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    let text = format!(
        "[quota]\nvolumes = 5\ngigabytes = 100\nsnapshots = 5\n[[backend]]\nname = \"a\"\ndriver = \"loopback\"\npath = \"{}/a\"\ncapacity_gb = 50\n",
        dir.path().display()
    );
    std::fs::write(&cfg, text).unwrap();
    // The backend's directory, made as an operator would (volctl makes
    // only those inside its state directory).
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    let svc = Service::open(&dir.path().join("state"), Some(&cfg)).unwrap();
    Env { dir, svc }
}

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

/// An available 2 GiB volume of project `p`, made by the real create flows.
fn available_volume(e: &Env) -> String {
    let ops = Ops::new(e.svc.clone(), e.svc.engine());
    let req = volctl::api::CreateRequest {
        size: Some(Bytes::gib(2)),
        project: "p".into(),
        ..Default::default()
    };
    ops.create(&req).unwrap().id
}

fn status(e: &Env, id: &str) -> VolumeStatus {
    volumes::require(&e.svc.store.db().lock(), id)
        .unwrap()
        .status
}

fn run(t: &dyn Task, store: &mut Values) -> Values {
    let out = execute_task(t, store).unwrap();
    store.extend(out.clone());
    out
}

#[test]
fn attach_and_detach_bookkeeping_tasks_and_their_reverts() {
    let e = env();
    let id = available_volume(&e);
    let mut store = outputs().with(VOLUME_ID, id.clone());

    // AttachStart: only an available volume; `attaching`; revert: back.
    let start = AttachStart(e.svc.clone());
    let out = run(&start, &mut store);
    assert_eq!(status(&e, &id), VolumeStatus::Attaching);
    assert_eq!(
        kind(execute_task(&start, &store).unwrap_err()),
        ErrorKind::Conflict,
        "attaching is not available"
    );
    revert_task(&start, &store, &Outcome::Success(out), &[]).unwrap();
    assert_eq!(status(&e, &id), VolumeStatus::Available);
    // A failed AttachStart has nothing to undo.
    revert_task(
        &start,
        &store,
        &Outcome::Failure(Failure::new("x", "y")),
        &[],
    )
    .unwrap();
    assert_eq!(status(&e, &id), VolumeStatus::Available);

    // DetachStart refuses a volume that is not attached.
    let dstart = DetachStart(e.svc.clone());
    assert_eq!(
        kind(execute_task(&dstart, &store).unwrap_err()),
        ErrorKind::Conflict
    );

    // RecordAttachment: the device recorded, `in-use`.
    run(&start, &mut store);
    store = store.with(DEVICE, "/dev/loop-not-a-device".to_string());
    run(&RecordAttachment(e.svc.clone()), &mut store);
    let v = volumes::require(&e.svc.store.db().lock(), &id).unwrap();
    assert_eq!(
        (v.status, v.device.as_deref()),
        (VolumeStatus::InUse, Some("/dev/loop-not-a-device"))
    );

    // DetachStart: `detaching`; revert: `in-use` again.
    let mut dstore = outputs().with(VOLUME_ID, id.clone());
    let out = run(&dstart, &mut dstore);
    assert_eq!(status(&e, &id), VolumeStatus::Detaching);
    revert_task(&dstart, &dstore, &Outcome::Success(out), &[]).unwrap();
    assert_eq!(status(&e, &id), VolumeStatus::InUse);

    // RecordDetachment: no device, `available`.
    run(&RecordDetachment(e.svc.clone()), &mut dstore);
    let v = volumes::require(&e.svc.store.db().lock(), &id).unwrap();
    assert_eq!((v.status, v.device), (VolumeStatus::Available, None));
}

#[test]
fn attach_device_binds_a_loop_device_and_its_revert_unbinds_it() {
    if !crate::cli_support::need_root("attach_device_binds_a_loop_device") {
        return;
    }
    let e = env();
    let id = available_volume(&e);
    let mut store = outputs().with(VOLUME_ID, id.clone());
    run(&AttachStart(e.svc.clone()), &mut store);
    let t = AttachDevice(e.svc.clone());
    let out = execute_task(&t, &store).unwrap();
    let device = out.read(DEVICE).unwrap();
    let driver = e.svc.backends.get("a").unwrap();
    assert!(driver.exposes(Obj::volume(&id), &device).unwrap());
    // The revert of a run killed before its result was recorded finds the
    // device by the volume's file.
    revert_task(
        &t,
        &store,
        &Outcome::Failure(Failure::new("interrupted", "killed")),
        &[],
    )
    .unwrap();
    assert_eq!(driver.device_of(Obj::volume(&id)), None, "unbound");

    // DetachDevice unbinds what a volume records.
    let out = execute_task(&t, &store).unwrap();
    let device = out.read(DEVICE).unwrap();
    let mut v = volumes::require(&e.svc.store.db().lock(), &id).unwrap();
    v.device = Some(device);
    execute_task(&DetachDevice(e.svc.clone()), &outputs().with(VOLUME, v)).unwrap();
    assert_eq!(driver.device_of(Obj::volume(&id)), None, "unbound");
}

#[test]
fn snapshot_create_tasks_take_quota_make_the_object_and_revert_both() {
    let e = env();
    let vol = available_volume(&e);
    let mut store = create_inputs("snap-1", &vol, Some("s1"));
    let entry = SnapshotEntryCreate(e.svc.clone());
    let out = run(&entry, &mut store);
    let snap = snapshots::get(&e.svc.store.db().lock(), "snap-1")
        .unwrap()
        .unwrap();
    assert_eq!(
        (snap.status, snap.size),
        (SnapshotStatus::Creating, Bytes::gib(2))
    );
    assert_eq!(usage(&e, "snapshots"), (1, 0));
    assert_eq!(usage(&e, "gigabytes"), (4, 0), "volume 2 + snapshot 2");

    let backend = CreateSnapshotOnBackend(e.svc.clone());
    let made = run(&backend, &mut store);
    let path = std::path::PathBuf::from(made.read(PATH).unwrap());
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 << 30);
    run(&SnapshotOnFinish(e.svc.clone()), &mut store);
    assert_eq!(
        snapshots::get(&e.svc.store.db().lock(), "snap-1")
            .unwrap()
            .unwrap()
            .status,
        SnapshotStatus::Available
    );

    // Reverts, latest first: the object goes, then the row and its quota.
    revert_task(&backend, &store, &Outcome::Success(made), &[]).unwrap();
    assert!(!path.exists());
    let why = Failure::new("backend", "disk on fire");
    revert_task(
        &entry,
        &store,
        &Outcome::Success(out),
        std::slice::from_ref(&why),
    )
    .unwrap();
    assert!(
        snapshots::get(&e.svc.store.db().lock(), "snap-1")
            .unwrap()
            .is_none()
    );
    assert_eq!(usage(&e, "snapshots"), (0, 0));
    assert_eq!(usage(&e, "gigabytes"), (2, 0));
    let ev = events::list(&e.svc.store.db().lock(), 0, Some(&vol)).unwrap();
    let last = ev.last().unwrap();
    assert_eq!(last.kind, "snapshot.create.error");
    assert_eq!(last.payload["reason"], "disk on fire");

    // Only an available or in-use volume can be snapshotted.
    volumes::set_status(&e.svc.store.db().lock(), &vol, VolumeStatus::Deleting, None).unwrap();
    assert_eq!(
        kind(execute_task(&entry, &store).unwrap_err()),
        ErrorKind::Conflict
    );
}

#[test]
fn snapshot_delete_tasks_refuse_a_busy_snapshot_and_release_its_quota() {
    let e = env();
    let vol = available_volume(&e);
    let ops = Ops::new(e.svc.clone(), e.svc.engine());
    let snap = ops.snapshot_create(&vol, None, false).unwrap();
    let mut store = outputs().with(SNAPSHOT_ID, snap.id.clone());
    let start = SnapshotDeleteStart(e.svc.clone());

    // A volume being made from it: refused, nothing changed.
    let clone = volumes::Volume {
        id: "clone-1".into(),
        source_kind: volumes::SourceKind::Snapshot,
        source_id: Some(snap.id.clone()),
        status: VolumeStatus::Creating,
        ..volumes::require(&e.svc.store.db().lock(), &vol).unwrap()
    };
    volumes::insert(&e.svc.store.db().lock(), &clone).unwrap();
    assert_eq!(
        kind(execute_task(&start, &store).unwrap_err()),
        ErrorKind::Conflict
    );
    volumes::delete(&e.svc.store.db().lock(), "clone-1").unwrap();

    let out = run(&start, &mut store);
    assert_eq!(
        snapshots::get(&e.svc.store.db().lock(), &snap.id)
            .unwrap()
            .unwrap()
            .status,
        SnapshotStatus::Deleting
    );
    // Its revert marks the failed delete, with the reason.
    revert_task(
        &start,
        &store,
        &Outcome::Success(out),
        &[Failure::new("backend", "busy")],
    )
    .unwrap();
    let s = snapshots::get(&e.svc.store.db().lock(), &snap.id)
        .unwrap()
        .unwrap();
    assert_eq!(
        (s.status, s.error.as_deref()),
        (SnapshotStatus::ErrorDeleting, Some("busy"))
    );

    // An error_deleting snapshot can be deleted again.
    let mut store = outputs().with(SNAPSHOT_ID, snap.id.clone());
    run(&start, &mut store);
    let path = std::path::PathBuf::from(s.path.clone().unwrap());
    assert!(path.exists());
    run(&DeleteSnapshotOnBackend(e.svc.clone()), &mut store);
    assert!(!path.exists());
    run(&DeleteSnapshotOnBackend(e.svc.clone()), &mut store); // again: nothing to do
    assert_eq!(usage(&e, "snapshots"), (1, 0));
    run(&SnapshotDeleteEntry(e.svc.clone()), &mut store);
    assert!(
        snapshots::get(&e.svc.store.db().lock(), &snap.id)
            .unwrap()
            .is_none()
    );
    assert_eq!(usage(&e, "snapshots"), (0, 0));
    assert_eq!(usage(&e, "gigabytes"), (2, 0));
}

#[test]
fn image_import_tasks_check_copy_inspect_register_and_revert() {
    let e = env();
    let src = e.dir.path().join("disk.raw");
    std::fs::write(&src, vec![7u8; 1 << 20]).unwrap();
    let mut store = import_inputs("img-1", src.to_str().unwrap(), Some("disk"), None);

    let check = CheckImageFile(e.svc.clone());
    let out = run(&check, &mut store);
    assert_eq!(out.read(IMAGE_NAME).as_deref(), Some("disk"));
    assert_eq!(
        out.read(IMAGE_FORMAT).map(|f| f.to_string()).as_deref(),
        Some("raw")
    );
    // A source that is not a regular file is refused as a bad image.
    let bad = import_inputs("img-x", e.dir.path().to_str().unwrap(), Some("d"), None);
    assert_eq!(
        kind(execute_task(&check, &bad).unwrap_err()),
        ErrorKind::BadImage
    );

    let copy = CopyIntoCatalog(e.svc.clone());
    let copied = run(&copy, &mut store);
    let path = copied.read(IMAGE_PATH).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&src).unwrap());
    assert_eq!(copied.read(IMAGE_BYTES), Some(1 << 20));

    run(&InspectImage(e.svc.clone()), &mut store);
    assert_eq!(store.read(IMAGE_INFO).unwrap().virtual_size, 1 << 20);

    let register = RegisterImage(e.svc.clone());
    let reg = run(&register, &mut store);
    let image = images::get(&e.svc.store.db().lock(), "img-1")
        .unwrap()
        .unwrap();
    assert_eq!(
        (image.name.as_str(), image.status),
        ("disk", ImageStatus::Active)
    );
    // The same name again is a conflict (checked before anything is copied).
    let again = import_inputs("img-2", src.to_str().unwrap(), Some("disk"), None);
    assert_eq!(
        kind(execute_task(&check, &again).unwrap_err()),
        ErrorKind::Conflict
    );

    revert_task(&register, &store, &Outcome::Success(reg), &[]).unwrap();
    assert!(
        images::get(&e.svc.store.db().lock(), "img-1")
            .unwrap()
            .is_none()
    );
    revert_task(&copy, &store, &Outcome::Success(copied), &[]).unwrap();
    assert!(!path.exists());
    assert!(src.exists(), "the user's file is never touched");
}

#[test]
fn image_delete_tasks_refuse_an_image_in_use_and_remove_file_and_row() {
    let e = env();
    let src = e.dir.path().join("disk.raw");
    std::fs::write(&src, vec![1u8; 1 << 20]).unwrap();
    let ops = Ops::new(e.svc.clone(), e.svc.engine());
    let image = ops
        .image_import(src.to_str().unwrap(), Some("disk"), None)
        .unwrap();
    let mut store = outputs().with(IMAGE_ID, image.id.clone());
    let start = ImageDeleteStart(e.svc.clone());

    // A volume being made from it: refused.
    let vol = available_volume(&e);
    let from_image = volumes::Volume {
        id: "from-image".into(),
        source_kind: volumes::SourceKind::Image,
        source_id: Some(image.id.clone()),
        status: VolumeStatus::Downloading,
        ..volumes::require(&e.svc.store.db().lock(), &vol).unwrap()
    };
    volumes::insert(&e.svc.store.db().lock(), &from_image).unwrap();
    assert_eq!(
        kind(execute_task(&start, &store).unwrap_err()),
        ErrorKind::Conflict
    );
    volumes::delete(&e.svc.store.db().lock(), "from-image").unwrap();

    let out = run(&start, &mut store);
    assert_eq!(
        images::get(&e.svc.store.db().lock(), &image.id)
            .unwrap()
            .unwrap()
            .status,
        ImageStatus::Deleting
    );
    // Its revert makes it active again.
    revert_task(&start, &store, &Outcome::Success(out), &[]).unwrap();
    assert_eq!(
        images::get(&e.svc.store.db().lock(), &image.id)
            .unwrap()
            .unwrap()
            .status,
        ImageStatus::Active
    );

    let mut store = outputs().with(IMAGE_ID, image.id.clone());
    run(&start, &mut store);
    run(&PurgeImageCache(e.svc.clone()), &mut store);
    assert!(std::path::Path::new(&image.path).exists());
    run(&DeleteImageFile(e.svc.clone()), &mut store);
    assert!(!std::path::Path::new(&image.path).exists());
    run(&ImageDeleteEntry(e.svc.clone()), &mut store);
    assert!(
        images::get(&e.svc.store.db().lock(), &image.id)
            .unwrap()
            .is_none()
    );
    assert!(src.exists(), "the user's file is never touched");
}
