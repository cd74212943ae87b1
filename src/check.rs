//! `volctl check`: proves the store and the backends agree.
//!
//! The invariants are the [`Invariant`] enum, each checked by one function
//! below. Objects and rows that a live process is working on right now are
//! left alone. `--repair` fixes what can be fixed without guessing: usage
//! figures, expired reservations, objects and loop devices without volumes,
//! cache rows without objects, stale device records, volumes stuck in
//! `creating`. Orphaned flows are for `resume` or `rollback`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::backends::{Driver, Obj, ObjectKind};
use crate::dispatch;
use crate::error::Result;
use crate::ops::Ops;
use crate::quota::{Deltas, ReservationRow, UsageRow, amount, snapshot_deltas, volume_deltas};
use crate::service::Service;
use crate::store::flows::FlowMeta;
use crate::store::images::{self, CacheEntry};
use crate::store::snapshots::{self, Snapshot, SnapshotStatus};
use crate::store::unix_now;
use crate::store::volumes::{self, Volume, VolumeStatus};
use crate::units::Bytes;

crate::string_enum! {
    /// What `check` proves; the spelling is the stable name `--json` prints.
    Invariant {
        /// Every unfinished flow has a live owner.
        NoOrphanedFlow = "no-orphaned-flow",
        /// No flow waits for a person: none failed to revert past its
        /// retries.
        NoFlowNeedsPerson = "no-flow-needs-person",
        /// Every queued request has a live owner.
        NoOrphanedRequest = "no-orphaned-request",
        /// No quota reservation is past its expiry.
        NoExpiredReservation = "no-expired-reservation",
        /// Every volume being created has a flow or request to finish it.
        NoVolumeStuckCreating = "no-volume-stuck-creating",
        /// Each project's recorded usage equals a recount.
        UsageEqualsRecount = "usage-equals-recount",
        /// Each backend's kept provisioned figure equals a recount.
        ProvisionedEqualsRecount = "provisioned-equals-recount",
        /// A volume in `error` holds no quota; a live one holds its quota.
        VolumeQuotaMatchesStatus = "volume-quota-matches-status",
        /// Every backend is claimed by this store.
        BackendBelongsToStore = "backend-belongs-to-store",
        /// Every ready volume has its backend object, of its size.
        VolumeHasObject = "volume-has-object",
        /// Every available snapshot has its backend object.
        SnapshotHasObject = "snapshot-has-object",
        /// Every cache entry has its object, of its size.
        CacheEntryHasObject = "cache-entry-has-object",
        /// Every backend object belongs to a volume, snapshot or cache entry.
        NoObjectWithoutRow = "no-object-without-row",
        /// Every loop device exposing a volume is recorded on it.
        NoDeviceWithoutVolume = "no-device-without-volume",
        /// Every recorded device exposes its volume.
        RecordedDeviceExposesVolume = "recorded-device-exposes-volume",
        /// No two volumes (or snapshots) of a project share a name.
        UniqueNames = "unique-names",
    }
}

impl Invariant {
    /// What it means, in words.
    pub fn description(self) -> &'static str {
        match self {
            Invariant::NoOrphanedFlow => "every unfinished flow has a live owner",
            Invariant::NoFlowNeedsPerson => {
                "no flow waits for a person (its revert failed past its retries)"
            }
            Invariant::NoOrphanedRequest => "every queued request has a live owner",
            Invariant::NoExpiredReservation => "no quota reservation is past its expiry",
            Invariant::NoVolumeStuckCreating => {
                "every volume being created has a flow or request to finish it"
            }
            Invariant::UsageEqualsRecount => "recorded quota usage equals a recount",
            Invariant::ProvisionedEqualsRecount => {
                "each backend's provisioned figure equals a recount"
            }
            Invariant::VolumeQuotaMatchesStatus => {
                "a volume in error holds no quota, a live volume holds its quota"
            }
            Invariant::BackendBelongsToStore => "every backend is claimed by this store",
            Invariant::VolumeHasObject => "every ready volume has its object, of its size",
            Invariant::SnapshotHasObject => "every available snapshot has its object",
            Invariant::CacheEntryHasObject => "every cache entry has its object, of its size",
            Invariant::NoObjectWithoutRow => {
                "every backend object belongs to a volume, snapshot or cache entry"
            }
            Invariant::NoDeviceWithoutVolume => "every loop device exposing a volume is recorded",
            Invariant::RecordedDeviceExposesVolume => "every recorded device exposes its volume",
            Invariant::UniqueNames => "no two volumes or snapshots of a project share a name",
        }
    }
}

/// A repair that is safe to make.
#[derive(Clone, Debug, PartialEq)]
enum Fix {
    SetUsage(UsageRow),
    SetProvisioned {
        backend: String,
        bytes: i64,
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
    pub invariant: Invariant,
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
    fn add(&mut self, invariant: Invariant, message: String, fix: Option<Fix>) {
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
    usages: Vec<UsageRow>,
    reservations: Vec<ReservationRow>,
    /// Per backend: the kept provisioned figure and a recount.
    provisioned: Vec<(String, i64, i64)>,
}

fn read(svc: &Service) -> Result<StoreView> {
    let quota = svc.quota();
    svc.store.db().transact(|conn| {
        let view = StoreView {
            volumes: volumes::list(conn, None)?,
            snapshots: snapshots::list(conn, None, None)?,
            cache: images::cache_list(conn, None, None)?,
            usages: quota.all_usages(conn)?,
            reservations: quota.all_reservations(conn)?,
            provisioned: {
                let kept: BTreeMap<String, i64> =
                    crate::store::all_provisioned(conn)?.into_iter().collect();
                let names: BTreeSet<String> = kept
                    .keys()
                    .cloned()
                    .chain(svc.backends.all().iter().map(|d| d.name().to_string()))
                    .collect();
                names
                    .into_iter()
                    .map(|b| {
                        let recount = crate::store::provisioned_recount(conn, &b)?.get() as i64;
                        Ok((b.clone(), kept.get(&b).copied().unwrap_or(0), recount))
                    })
                    .collect::<Result<_>>()?
            },
        };
        Ok((view, false))
    })
}

/// Ids of volumes a live process is working on (left alone).
type Busy = BTreeSet<String>;

/// Checks every invariant.
pub fn check(svc: &Service, ops: &Ops) -> Result<Report> {
    let mut report = Report::default();
    let busy = flows_and_requests(svc, ops, &mut report)?;
    let s = read(svc)?;
    expired_reservations(&s, &mut report);
    stuck_creates(&s, &busy, &mut report);
    volume_quota_matches_status(&s, &mut report);
    usage_equals_recount(&s, &mut report);
    provisioned_equals_recount(&s, &mut report);
    unique_names(&s, &mut report);
    for driver in svc.backends.all() {
        // Another store's backend: its objects are not ours to judge.
        if let Err(e) = driver.claimed() {
            report.add(Invariant::BackendBelongsToStore, e.message, None);
            continue;
        }
        let on = OnBackend::new(&s, driver.name());
        rows_have_objects(driver.as_ref(), &on, &busy, &mut report)?;
        objects_have_rows(svc, driver.as_ref(), &on, &busy, &mut report)?;
        if driver.attachable() {
            devices_match(driver.as_ref(), &on, &busy, &mut report)?;
        }
    }
    Ok(report)
}

/// Names shared within a project (possible only in a store from before
/// names were unique: the migration kept them). Not repaired: which one
/// keeps the name is the user's choice.
fn unique_names(s: &StoreView, report: &mut Report) {
    let mut seen: std::collections::BTreeMap<(&str, &str, &str), Vec<&str>> = Default::default();
    for v in &s.volumes {
        if let Some(n) = &v.name {
            seen.entry(("volume", &v.project, n))
                .or_default()
                .push(&v.id);
        }
    }
    for sn in &s.snapshots {
        if let Some(n) = &sn.name {
            seen.entry(("snapshot", &sn.project, n))
                .or_default()
                .push(&sn.id);
        }
    }
    for ((what, project, name), ids) in seen {
        if ids.len() > 1 {
            report.add(
                Invariant::UniqueNames,
                format!(
                    "{what}s {} of project {project} are all named `{name}` (from before names were unique): \
                     rename all but one, by id",
                    ids.join(", ")
                ),
                None,
            );
        }
    }
}

/// Orphaned flows and queued requests; returns which volumes a live process
/// is working on (and which a resume or rollback will settle).
fn flows_and_requests(svc: &Service, ops: &Ops, report: &mut Report) -> Result<Busy> {
    let mut busy = Busy::new();
    for f in ops.flows(false)? {
        let vol = FlowMeta::of(&f.record.meta).volume_id;
        if f.needs_person {
            report.add(
                Invariant::NoFlowNeedsPerson,
                format!(
                    "flow {} ({}{}) needs a person: its revert failed ({}) and was tried again up to [recovery] revert_retries; fix the cause, then `volctl rollback {}`",
                    f.record.id,
                    f.record.name,
                    vol.as_deref().map(|v| format!(", volume {v}")).unwrap_or_default(),
                    f.record
                        .revert_failure
                        .as_ref()
                        .map(|e| e.message.lines().next().unwrap_or(""))
                        .unwrap_or("?"),
                    f.record.id
                ),
                None,
            );
        } else if f.orphaned {
            report.add(
                Invariant::NoOrphanedFlow,
                format!(
                    "flow {} ({}{}) stopped {} and its process is gone: `volctl reconcile` settles it by policy, or `volctl resume {}` / `volctl rollback {}`",
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
    for c in dispatch::list(&svc.store.db().lock())? {
        if !svc.owner_alive(c.owner.as_deref()) {
            report.add(
                Invariant::NoOrphanedRequest,
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
    Ok(busy)
}

fn expired_reservations(s: &StoreView, report: &mut Report) {
    let now = unix_now();
    let mut seen = BTreeSet::new();
    for r in &s.reservations {
        if r.expire < now && seen.insert(r.id.clone()) {
            report.add(
                Invariant::NoExpiredReservation,
                format!(
                    "quota reservation {} of project {} expired",
                    r.id, r.project
                ),
                Some(Fix::RollbackReservation(r.id.clone())),
            );
        }
    }
}

/// A volume being created must have something to finish it: a flow or a
/// queued request (live, or orphaned and reported as such).
fn stuck_creates(s: &StoreView, busy: &Busy, report: &mut Report) {
    for v in &s.volumes {
        if matches!(v.status, VolumeStatus::Creating | VolumeStatus::Downloading)
            && !busy.contains(&v.id)
        {
            report.add(
                Invariant::NoVolumeStuckCreating,
                format!(
                    "volume {} is {} and nothing will finish it",
                    v.id,
                    v.status.phrase()
                ),
                Some(Fix::FailVolume(v.id.clone())),
            );
        }
    }
}

/// Statuses in which a volume exists on its backend and holds its quota.
fn is_ready(status: VolumeStatus) -> bool {
    matches!(
        status,
        VolumeStatus::Available
            | VolumeStatus::InUse
            | VolumeStatus::Attaching
            | VolumeStatus::Detaching
    )
}

fn volume_quota_matches_status(s: &StoreView, report: &mut Report) {
    for v in &s.volumes {
        if v.status == VolumeStatus::Error && (v.quota_held || v.reservation.is_some()) {
            report.add(
                Invariant::VolumeQuotaMatchesStatus,
                format!("volume {} is in error but holds quota", v.id),
                None,
            );
        }
        if is_ready(v.status) && !v.quota_held {
            report.add(
                Invariant::VolumeQuotaMatchesStatus,
                format!(
                    "volume {} is {} but holds no quota",
                    v.id,
                    v.status.phrase()
                ),
                None,
            );
        }
    }
}

fn add_deltas(into: &mut BTreeMap<(String, String), i64>, project: &str, d: &Deltas) {
    for (r, n) in d {
        *into.entry((project.to_string(), r.clone())).or_default() += n;
    }
}

fn usage_equals_recount(s: &StoreView, report: &mut Report) {
    let mut in_use: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut reserved: BTreeMap<(String, String), i64> = BTreeMap::new();
    for v in s.volumes.iter().filter(|v| v.quota_held) {
        add_deltas(
            &mut in_use,
            &v.project,
            &volume_deltas(v.size, v.type_name.as_deref()),
        );
    }
    for sn in s.snapshots.iter().filter(|x| x.quota_held) {
        add_deltas(
            &mut in_use,
            &sn.project,
            &snapshot_deltas(sn.size, sn.type_name.as_deref()),
        );
    }
    for r in &s.reservations {
        *reserved
            .entry((r.project.clone(), r.resource.clone()))
            .or_default() += r.delta;
    }
    let recorded: BTreeMap<(String, String), (i64, i64)> = s
        .usages
        .iter()
        .map(|u| {
            (
                (u.project.clone(), u.resource.clone()),
                (u.in_use, u.reserved),
            )
        })
        .collect();
    let keys: BTreeSet<(String, String)> = in_use
        .keys()
        .chain(reserved.keys())
        .chain(recorded.keys())
        .cloned()
        .collect();
    for key in keys {
        let want = (
            in_use.get(&key).copied().unwrap_or(0),
            reserved.get(&key).copied().unwrap_or(0),
        );
        let have = recorded.get(&key).copied().unwrap_or((0, 0));
        if want != have {
            let (project, resource) = key;
            report.add(
                Invariant::UsageEqualsRecount,
                format!(
                    "project {project} {resource}: recorded in use {}, reserved {}; recount {}, {}",
                    amount(&resource, have.0),
                    amount(&resource, have.1),
                    amount(&resource, want.0),
                    amount(&resource, want.1)
                ),
                Some(Fix::SetUsage(UsageRow {
                    project,
                    resource,
                    in_use: want.0,
                    reserved: want.1,
                })),
            );
        }
    }
}

fn provisioned_equals_recount(s: &StoreView, report: &mut Report) {
    for (backend, kept, recount) in &s.provisioned {
        if kept != recount {
            report.add(
                Invariant::ProvisionedEqualsRecount,
                format!(
                    "backend {backend}: provisioned recorded as {}, recount {}",
                    Bytes((*kept).max(0) as u64).human(),
                    Bytes((*recount).max(0) as u64).human()
                ),
                Some(Fix::SetProvisioned {
                    backend: backend.clone(),
                    bytes: *recount,
                }),
            );
        }
    }
}

/// The store's rows on one backend.
struct OnBackend<'s> {
    name: &'s str,
    volumes: BTreeMap<&'s str, &'s Volume>,
    snapshots: BTreeMap<&'s str, &'s Snapshot>,
    cache: BTreeMap<&'s str, &'s CacheEntry>,
}

impl<'s> OnBackend<'s> {
    fn new(s: &'s StoreView, name: &'s str) -> Self {
        OnBackend {
            name,
            volumes: s
                .volumes
                .iter()
                .filter(|v| v.backend.as_deref() == Some(name) && v.status != VolumeStatus::Error)
                .map(|v| (v.id.as_str(), v))
                .collect(),
            snapshots: s
                .snapshots
                .iter()
                .filter(|x| x.backend == name)
                .map(|x| (x.id.as_str(), x))
                .collect(),
            cache: s
                .cache
                .iter()
                .filter(|c| c.backend == name)
                .map(|c| (c.image_id.as_str(), c))
                .collect(),
        }
    }
}

/// Every row's object is there, of its size.
fn rows_have_objects(
    driver: &dyn Driver,
    on: &OnBackend<'_>,
    busy: &Busy,
    report: &mut Report,
) -> Result<()> {
    let b = on.name;
    for v in on.volumes.values() {
        if !is_ready(v.status) || busy.contains(&v.id) {
            continue;
        }
        match driver.size(Obj::volume(&v.id))? {
            None => report.add(
                Invariant::VolumeHasObject,
                format!(
                    "volume {} ({}) has no object on backend {b}",
                    v.id, v.status
                ),
                None,
            ),
            Some(n) if n != v.size => report.add(
                Invariant::VolumeHasObject,
                format!("volume {}'s object on {b} is {n}, not {}", v.id, v.size),
                None,
            ),
            Some(_) => {}
        }
    }
    for sn in on
        .snapshots
        .values()
        .filter(|x| x.status == SnapshotStatus::Available)
    {
        if driver.size(Obj::snapshot(&sn.id))?.is_none() {
            report.add(
                Invariant::SnapshotHasObject,
                format!("snapshot {} has no object on backend {b}", sn.id),
                None,
            );
        }
    }
    for c in on.cache.values() {
        if driver.size(Obj::cache(&c.image_id))? != Some(Bytes(c.size)) {
            report.add(
                Invariant::CacheEntryHasObject,
                format!(
                    "cache entry of image {} on {b} has no object of {} bytes",
                    c.image_id, c.size
                ),
                Some(Fix::RemoveCacheRow {
                    backend: b.to_string(),
                    image_id: c.image_id.clone(),
                }),
            );
        }
    }
    Ok(())
}

/// Every object on the backend belongs to a row; one that does not (and
/// that no live process is making) is to be moved aside.
fn objects_have_rows(
    svc: &Service,
    driver: &dyn Driver,
    on: &OnBackend<'_>,
    busy: &Busy,
    report: &mut Report,
) -> Result<()> {
    let b = on.name;
    for kind in [ObjectKind::Volume, ObjectKind::Snapshot, ObjectKind::Cache] {
        for id in driver.list(kind)? {
            let known = match kind {
                ObjectKind::Volume => on.volumes.contains_key(id.as_str()),
                ObjectKind::Snapshot => on.snapshots.contains_key(id.as_str()),
                ObjectKind::Cache => on.cache.contains_key(id.as_str()),
            };
            if known || busy.contains(&id) || !is_orphan(svc, b, kind, &id)? {
                continue;
            }
            let obj = Obj { kind, id: &id };
            let owner = match kind {
                ObjectKind::Volume => "belongs to no volume",
                ObjectKind::Snapshot => "belongs to no snapshot",
                ObjectKind::Cache => "is in no cache entry",
            };
            report.add(
                Invariant::NoObjectWithoutRow,
                format!("{} on backend {b} {owner}", obj.name()),
                Some(Fix::Quarantine {
                    backend: b.to_string(),
                    kind,
                    id: id.clone(),
                }),
            );
        }
    }
    Ok(())
}

/// Whether an object the snapshot of the store does not know is really
/// nobody's: not a cache entry being filled, not a row committed since.
fn is_orphan(svc: &Service, backend: &str, kind: ObjectKind, id: &str) -> Result<bool> {
    // A cache object being filled has no row yet: its filler holds the
    // entry's lock. Never touch it.
    if kind == ObjectKind::Cache
        && crate::locks::FileLock::try_lock(&crate::images::cache_lock(svc, backend, id))
            .map(|l| l.is_none())
            .unwrap_or(true)
    {
        return Ok(false);
    }
    let conn = svc.store.db().lock();
    let exists = match kind {
        ObjectKind::Volume => {
            volumes::get(&conn, id)?.is_some_and(|v| v.status != VolumeStatus::Error)
        }
        ObjectKind::Snapshot => snapshots::get(&conn, id)?.is_some(),
        ObjectKind::Cache => images::cache_get(&conn, backend, id)?.is_some(),
    };
    Ok(!exists)
}

/// Loop devices against the volumes' records (LVs are block devices
/// already: nothing to check).
fn devices_match(
    driver: &dyn Driver,
    on: &OnBackend<'_>,
    busy: &Busy,
    report: &mut Report,
) -> Result<()> {
    let b = on.name;
    let attached = driver.attachments()?;
    for (dev, id) in &attached {
        let recorded = on
            .volumes
            .get(id.as_str())
            .and_then(|v| v.device.as_deref())
            == Some(dev.as_str());
        if !recorded && !busy.contains(id) {
            report.add(
                Invariant::NoDeviceWithoutVolume,
                format!("{dev} exposes volume-{id} on backend {b}, which no volume records"),
                Some(Fix::Detach {
                    backend: b.to_string(),
                    volume_id: id.clone(),
                    device: dev.clone(),
                }),
            );
        }
    }
    for v in on.volumes.values().filter(|v| !busy.contains(&v.id)) {
        if let Some(dev) = &v.device
            && !attached.iter().any(|(d, id)| d == dev && *id == v.id)
        {
            report.add(
                Invariant::RecordedDeviceExposesVolume,
                format!(
                    "volume {} records device {dev}, which does not expose it",
                    v.id
                ),
                Some(Fix::ClearDevice(v.id.clone())),
            );
        }
    }
    Ok(())
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
                svc.store
                    .db()
                    .immediate(|c| quota.rollback_abandoned(c, id))?;
                done.push(format!("rolled back expired reservation {id}"));
            }
            Fix::SetProvisioned { backend, bytes } => {
                svc.store
                    .db()
                    .immediate(|c| crate::store::set_provisioned(c, backend, *bytes))?;
                done.push(format!(
                    "set backend {backend}'s provisioned figure to {}",
                    Bytes((*bytes).max(0) as u64).human()
                ));
            }
            Fix::SetUsage(u) => {
                svc.store.db().immediate(|c| quota.set_usage(c, u))?;
                done.push(format!(
                    "set project {} {} to in use {}, reserved {}",
                    u.project, u.resource, u.in_use, u.reserved
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
                svc.backends.get(backend)?.detach(
                    Obj::volume(volume_id),
                    device,
                    Default::default(),
                )?;
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

#[cfg(test)]
mod tests {
    use super::Invariant;

    #[test]
    fn the_readme_lists_exactly_the_invariants() {
        let readme = include_str!("../README.md");
        let section = readme
            .split("#### Invariants")
            .nth(1)
            .expect("README has an Invariants section")
            .split("\n#")
            .next()
            .unwrap_or_default();
        let listed: Vec<(String, String)> = section
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("| `")?;
                let (name, desc) = rest.split_once("` | ")?;
                Some((name.to_string(), desc.trim_end_matches(" |").to_string()))
            })
            .collect();
        let all: Vec<(String, String)> = Invariant::ALL
            .iter()
            .map(|i| (i.as_str().to_string(), i.description().to_string()))
            .collect();
        assert_eq!(
            listed, all,
            "README's invariant table differs from Invariant::ALL"
        );
    }
}
