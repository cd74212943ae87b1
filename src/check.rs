//! `volctl check`: proves the store and the backends agree.
//!
//! Invariants: quota usage equals a recount of what holds quota, per
//! project and resource; every volume, snapshot and cache entry has its
//! backend object, of the right size; no backend object, cache object or
//! loop device lacks its volume; no flow or queued request is orphaned; no
//! reservation is past its expiry. Objects and rows that a live process is
//! working on right now are left alone. `--repair` fixes what can be fixed
//! without guessing: usage figures, expired reservations, objects and loop
//! devices without volumes, cache rows without objects, stale device
//! records. Orphaned flows are for `resume` or `rollback`.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;
use serde::Serialize;

use crate::backends::{Obj, ObjectKind};
use crate::dispatch;
use crate::error::Result;
use crate::ops::Ops;
use crate::quota::{Deltas, snapshot_deltas, volume_deltas};
use crate::service::Service;
use crate::store::flows::FlowMeta;
use crate::store::images::{self, CacheEntry};
use crate::store::snapshots::{self, Snapshot, SnapshotStatus};
use crate::store::unix_now;
use crate::store::volumes::{self, Volume, VolumeStatus};

const GIB: u64 = 1 << 30;

/// A repair that is safe to make.
#[derive(Clone, Debug, PartialEq)]
enum Fix {
    SetUsage {
        project: String,
        resource: String,
        in_use: i64,
        reserved: i64,
    },
    RollbackReservation(String),
    /// Move it aside (repair never deletes an object it cannot prove is
    /// not someone's data).
    Quarantine {
        backend: String,
        kind: ObjectKind,
        id: String,
    },
    RemoveCacheRow {
        backend: String,
        image_id: String,
    },
    Detach {
        backend: String,
        volume_id: String,
        device: String,
    },
    ClearDevice(String),
    FailVolume(String),
}

/// One broken invariant.
#[derive(Clone, Debug, Serialize)]
pub struct Violation {
    /// Which invariant.
    pub invariant: &'static str,
    /// What is wrong, in words.
    pub message: String,
    /// Whether `--repair` can fix it.
    pub repairable: bool,
    #[serde(skip)]
    fix: Option<Fix>,
}

/// The outcome of a check.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Every broken invariant.
    pub violations: Vec<Violation>,
    /// What `--repair` did.
    pub repaired: Vec<String>,
}

impl Report {
    fn add(&mut self, invariant: &'static str, message: String, fix: Option<Fix>) {
        self.violations.push(Violation {
            invariant,
            message,
            repairable: fix.is_some(),
            fix,
        });
    }

    /// Whether every invariant holds.
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }
}

/// What the store says, read in one transaction.
struct StoreView {
    volumes: Vec<Volume>,
    snapshots: Vec<Snapshot>,
    cache: Vec<CacheEntry>,
    usages: Vec<(String, String, i64, i64)>,
    reservations: Vec<(String, String, String, i64, i64)>,
}

fn read(conn: &Connection) -> Result<StoreView> {
    let usages = conn
        .prepare("SELECT project, resource, in_use, reserved FROM quota_usages")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let reservations = conn
        .prepare("SELECT id, project, resource, delta, expire FROM reservations")?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(StoreView {
        volumes: volumes::list(conn, None)?,
        snapshots: snapshots::list(conn, None, None)?,
        cache: images::cache_list(conn, None, None)?,
        usages,
        reservations,
    })
}

fn add_deltas(into: &mut BTreeMap<(String, String), i64>, project: &str, d: &Deltas) {
    for (r, n) in d {
        *into.entry((project.to_string(), r.clone())).or_default() += n;
    }
}

/// Checks every invariant.
pub fn check(svc: &Service, ops: &Ops) -> Result<Report> {
    let mut report = Report::default();

    // Flows and queued requests: which volumes a live process is working on,
    // and which flows and casts nobody will finish.
    let mut busy: BTreeSet<String> = BTreeSet::new();
    for f in ops.flows(false)? {
        let vol = FlowMeta::of(&f.record.meta).volume_id;
        if f.orphaned {
            report.add(
                "no orphaned flow",
                format!(
                    "flow {} ({}{}) stopped {} and its process is gone: `volctl resume {}` or `volctl rollback {}`",
                    f.record.id,
                    f.record.name,
                    vol.as_deref().map(|v| format!(", volume {v}")).unwrap_or_default(),
                    f.record.state,
                    f.record.id,
                    f.record.id
                ),
                None,
            );
        }
        busy.extend(vol);
    }
    let conn_guard = svc.store.db().lock();
    for c in dispatch::list(&conn_guard)? {
        let alive = svc.owner_alive(c.owner.as_deref());
        if !alive {
            report.add(
                "no orphaned flow",
                format!(
                    "request {} for {} ({}) is queued and its process is gone: `volctl resume --all` runs it",
                    c.id,
                    c.volume_id(),
                    c.message.topic()
                ),
                None,
            );
        }
        busy.insert(c.volume_id().to_string());
    }
    drop(conn_guard);

    let db = svc.store.db();
    let s = db.transact(|conn| read(conn).map(|s| (s, false)))?;

    // Reservations past expiry.
    let now = unix_now();
    let mut expired = BTreeSet::new();
    for (id, project, _, _, expire) in &s.reservations {
        if *expire < now && expired.insert(id.clone()) {
            report.add(
                "no expired reservation",
                format!("quota reservation {id} of project {project} expired"),
                Some(Fix::RollbackReservation(id.clone())),
            );
        }
    }

    // A volume being created must have something to finish it: a flow or
    // a queued request (live, or orphaned and reported above).
    for v in &s.volumes {
        if matches!(v.status, VolumeStatus::Creating | VolumeStatus::Downloading)
            && !busy.contains(&v.id)
        {
            report.add(
                "no volume stuck in creating",
                format!("volume {} is {} and nothing will finish it", v.id, v.status),
                Some(Fix::FailVolume(v.id.clone())),
            );
        }
    }

    // Quota usage against a recount.
    let mut in_use: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut reserved: BTreeMap<(String, String), i64> = BTreeMap::new();
    for v in &s.volumes {
        if v.quota_held {
            add_deltas(
                &mut in_use,
                &v.project,
                &volume_deltas(v.size, v.type_name.as_deref()),
            );
        }
        if v.status == VolumeStatus::Error && (v.quota_held || v.reservation.is_some()) {
            report.add(
                "usage equals a recount",
                format!("volume {} is in error but holds quota", v.id),
                None,
            );
        }
        let live = matches!(
            v.status,
            VolumeStatus::Available
                | VolumeStatus::InUse
                | VolumeStatus::Attaching
                | VolumeStatus::Detaching
        );
        if live && !v.quota_held {
            report.add(
                "usage equals a recount",
                format!("volume {} is {} but holds no quota", v.id, v.status),
                None,
            );
        }
    }
    for sn in &s.snapshots {
        if sn.quota_held {
            add_deltas(
                &mut in_use,
                &sn.project,
                &snapshot_deltas(sn.size, sn.type_name.as_deref()),
            );
        }
    }
    for (_, project, resource, delta, _) in &s.reservations {
        *reserved
            .entry((project.clone(), resource.clone()))
            .or_default() += delta;
    }
    let mut keys: BTreeSet<(String, String)> =
        in_use.keys().chain(reserved.keys()).cloned().collect();
    let recorded: BTreeMap<(String, String), (i64, i64)> = s
        .usages
        .iter()
        .map(|(p, r, u, res)| ((p.clone(), r.clone()), (*u, *res)))
        .collect();
    keys.extend(recorded.keys().cloned());
    for key in keys {
        let want = (
            in_use.get(&key).copied().unwrap_or(0),
            reserved.get(&key).copied().unwrap_or(0),
        );
        let have = recorded.get(&key).copied().unwrap_or((0, 0));
        if want != have {
            let (project, resource) = key;
            report.add(
                "usage equals a recount",
                format!(
                    "project {project} {resource}: recorded in use {}, reserved {}; recount {}, {}",
                    have.0, have.1, want.0, want.1
                ),
                Some(Fix::SetUsage {
                    project,
                    resource,
                    in_use: want.0,
                    reserved: want.1,
                }),
            );
        }
    }

    // Backend objects against rows, both ways.
    for driver in svc.backends.all() {
        let b = driver.name().to_string();
        // Another store's backend: its objects are not ours to judge.
        if let Err(e) = driver.claimed() {
            report.add("every backend belongs to this store", e.message, None);
            continue;
        }
        let vols: BTreeMap<&str, &Volume> = s
            .volumes
            .iter()
            .filter(|v| v.backend.as_deref() == Some(b.as_str()) && v.status != VolumeStatus::Error)
            .map(|v| (v.id.as_str(), v))
            .collect();
        let snaps: BTreeMap<&str, &Snapshot> = s
            .snapshots
            .iter()
            .filter(|x| x.backend == b)
            .map(|x| (x.id.as_str(), x))
            .collect();
        let cache: BTreeMap<&str, &CacheEntry> = s
            .cache
            .iter()
            .filter(|c| c.backend == b)
            .map(|c| (c.image_id.as_str(), c))
            .collect();

        for v in vols.values() {
            let ready = matches!(
                v.status,
                VolumeStatus::Available
                    | VolumeStatus::InUse
                    | VolumeStatus::Attaching
                    | VolumeStatus::Detaching
            );
            if !ready || busy.contains(&v.id) {
                continue;
            }
            match driver.size(Obj::volume(&v.id))? {
                None => report.add(
                    "every volume has its object",
                    format!(
                        "volume {} ({}) has no object on backend {b}",
                        v.id, v.status
                    ),
                    None,
                ),
                Some(n) if n != v.size * GIB => report.add(
                    "every volume has its object",
                    format!(
                        "volume {}'s object on {b} is {n} bytes, not {} GiB",
                        v.id, v.size
                    ),
                    None,
                ),
                Some(_) => {}
            }
        }
        for sn in snaps
            .values()
            .filter(|x| x.status == SnapshotStatus::Available)
        {
            if driver.size(Obj::snapshot(&sn.id))?.is_none() {
                report.add(
                    "every volume has its object",
                    format!("snapshot {} has no object on backend {b}", sn.id),
                    None,
                );
            }
        }
        for c in cache.values() {
            if driver.size(Obj::cache(&c.image_id))? != Some(c.size) {
                report.add(
                    "every volume has its object",
                    format!(
                        "cache entry of image {} on {b} has no object of {} bytes",
                        c.image_id, c.size
                    ),
                    Some(Fix::RemoveCacheRow {
                        backend: b.clone(),
                        image_id: c.image_id.clone(),
                    }),
                );
            }
        }
        let orphan = |kind: ObjectKind, id: &str, known: bool| -> Result<Option<Fix>> {
            if known || busy.contains(id) {
                return Ok(None);
            }
            // A cache object being filled has no row yet: its filler holds
            // the entry's lock. Never touch it.
            if kind == ObjectKind::Cache
                && crate::locks::FileLock::try_lock(&crate::images::cache_lock(svc, &b, id))
                    .map(|l| l.is_none())
                    .unwrap_or(true)
            {
                return Ok(None);
            }
            // Re-read: a row committed after our snapshot is not an orphan.
            let conn = db.lock();
            let exists = match kind {
                ObjectKind::Volume => {
                    volumes::get(&conn, id)?.is_some_and(|v| v.status != VolumeStatus::Error)
                }
                ObjectKind::Snapshot => snapshots::get(&conn, id)?.is_some(),
                ObjectKind::Cache => images::cache_get(&conn, &b, id)?.is_some(),
            };
            Ok((!exists).then(|| Fix::Quarantine {
                backend: b.clone(),
                kind,
                id: id.to_string(),
            }))
        };
        for id in driver.list(ObjectKind::Volume)? {
            if let Some(fix) = orphan(ObjectKind::Volume, &id, vols.contains_key(id.as_str()))? {
                report.add(
                    "no object without a volume",
                    format!(
                        "{} on backend {b} belongs to no volume",
                        Obj::volume(&id).name()
                    ),
                    Some(fix),
                );
            }
        }
        for id in driver.list(ObjectKind::Snapshot)? {
            if let Some(fix) = orphan(ObjectKind::Snapshot, &id, snaps.contains_key(id.as_str()))? {
                report.add(
                    "no object without a volume",
                    format!(
                        "{} on backend {b} belongs to no snapshot",
                        Obj::snapshot(&id).name()
                    ),
                    Some(fix),
                );
            }
        }
        for id in driver.list(ObjectKind::Cache)? {
            if let Some(fix) = orphan(ObjectKind::Cache, &id, cache.contains_key(id.as_str()))? {
                report.add(
                    "no object without a volume",
                    format!(
                        "{} on backend {b} is in no cache entry",
                        Obj::cache(&id).name()
                    ),
                    Some(fix),
                );
            }
        }

        // Loop devices against the volumes' records (LVs are block devices
        // already: nothing to check).
        if !driver.attachable() {
            continue;
        }
        let attached = driver.attachments()?;
        for (dev, id) in &attached {
            let recorded =
                vols.get(id.as_str()).and_then(|v| v.device.as_deref()) == Some(dev.as_str());
            if !recorded && !busy.contains(id) {
                report.add(
                    "no loop device without a volume",
                    format!("{dev} exposes volume-{id} on backend {b}, which no volume records"),
                    Some(Fix::Detach {
                        backend: b.clone(),
                        volume_id: id.clone(),
                        device: dev.clone(),
                    }),
                );
            }
        }
        for v in vols.values().filter(|v| !busy.contains(&v.id)) {
            if let Some(dev) = &v.device
                && !attached.iter().any(|(d, id)| d == dev && *id == v.id)
            {
                report.add(
                    "no loop device without a volume",
                    format!(
                        "volume {} records device {dev}, which does not expose it",
                        v.id
                    ),
                    Some(Fix::ClearDevice(v.id.clone())),
                );
            }
        }
    }
    Ok(report)
}

/// Makes every safe repair in `report`; returns what it did. Refuses when
/// most of a backend's objects look foreign: that is a sign of the wrong
/// database (or configuration), not of leaks.
pub fn repair(svc: &Service, report: &Report) -> Result<Vec<String>> {
    refuse_mass_quarantine(svc, report)?;
    let quota = svc.quota();
    let mut done = Vec::new();
    // Devices first: a file moved aside could no longer prove which
    // device is bound to it.
    let mut order: Vec<&Violation> = report.violations.iter().collect();
    order.sort_by_key(|v| !matches!(v.fix, Some(Fix::Detach { .. })));
    for v in order {
        let Some(fix) = &v.fix else { continue };
        match fix {
            Fix::RollbackReservation(id) => {
                svc.store.db().immediate(|c| {
                    quota.rollback(c, id)?;
                    c.prepare_cached(
                        "UPDATE volumes SET reservation = NULL WHERE reservation = ?1",
                    )?
                    .execute([id])?;
                    Ok::<_, crate::error::Error>(())
                })?;
                done.push(format!("rolled back expired reservation {id}"));
            }
            Fix::SetUsage {
                project,
                resource,
                in_use,
                reserved,
            } => {
                svc.store.db().immediate(|c| {
                    c.prepare_cached(
                        "INSERT INTO quota_usages (project, resource, in_use, reserved) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (project, resource) DO UPDATE SET in_use = excluded.in_use, reserved = excluded.reserved",
                    )?
                    .execute(rusqlite::params![project, resource, in_use, reserved])?;
                    Ok::<_, crate::error::Error>(())
                })?;
                done.push(format!(
                    "set project {project} {resource} to in use {in_use}, reserved {reserved}"
                ));
            }
            Fix::Quarantine { backend, kind, id } => {
                let obj = Obj { kind: *kind, id };
                let to = svc.backends.get(backend)?.quarantine(obj)?;
                done.push(format!(
                    "moved {} on backend {backend} aside to {to} (`volctl check --purge-orphans` deletes it)",
                    obj.name()
                ));
            }
            Fix::RemoveCacheRow { backend, image_id } => {
                images::cache_remove(&svc.store.db().lock(), backend, image_id)?;
                done.push(format!(
                    "forgot the cache entry of image {image_id} on {backend}"
                ));
            }
            Fix::Detach {
                backend,
                volume_id,
                device,
            } => {
                svc.backends
                    .get(backend)?
                    .detach(Obj::volume(volume_id), device)?;
                done.push(format!("detached {device}"));
            }
            Fix::FailVolume(id) => {
                svc.store.db().immediate(|c| {
                    crate::lifecycle::mark_error(
                        &quota,
                        c,
                        id,
                        "nothing was left to finish creating it",
                        &crate::store::events::Event::create_error(
                            crate::error::ErrorKind::Interrupted,
                            "nothing was left to finish creating it",
                        ),
                    )
                })?;
                done.push(format!(
                    "put volume {id}, stuck in creating, in error (its quota returned)"
                ));
            }
            Fix::ClearDevice(id) => {
                volumes::set_device(&svc.store.db().lock(), id, None)?;
                done.push(format!("cleared the stale device of volume {id}"));
            }
        }
    }
    Ok(done)
}

fn refuse_mass_quarantine(svc: &Service, report: &Report) -> Result<()> {
    let mut orphans: BTreeMap<&str, usize> = BTreeMap::new();
    for v in &report.violations {
        if let Some(Fix::Quarantine { backend, .. }) = &v.fix {
            *orphans.entry(backend.as_str()).or_default() += 1;
        }
    }
    for (backend, n) in orphans {
        let driver = svc.backends.get(backend)?;
        let total: usize = [ObjectKind::Volume, ObjectKind::Snapshot, ObjectKind::Cache]
            .into_iter()
            .map(|k| driver.list(k).map(|v| v.len()))
            .sum::<Result<usize>>()?;
        if n > 2 && n * 2 > total {
            return Err(crate::error::Error::conflict(format!(
                "{n} of the {total} objects on backend {backend} belong to no volume of this store: \
                 that looks like the wrong database or configuration, not leaks; repair does nothing. \
                 Check which state directory owns {backend}"
            )));
        }
    }
    Ok(())
}

/// Deletes every object repair moved aside, on every backend; returns what
/// it deleted.
pub fn purge_orphans(svc: &Service) -> Result<Vec<String>> {
    let mut done = Vec::new();
    for d in svc.backends.all() {
        for name in d.quarantined()? {
            d.purge(&name)?;
            done.push(format!(
                "deleted quarantined {name} from backend {}",
                d.name()
            ));
        }
    }
    Ok(done)
}
