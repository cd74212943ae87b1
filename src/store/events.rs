//! The event log: what happened to volumes, in order.

use crate::units::Bytes;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::now;
use super::volumes::SourceKind;
use crate::backends::Format;
use crate::error::{ErrorKind, Result};

crate::string_enum! {
    /// Every type of event volctl records: the catalogue (the README lists
    /// the same, checked by a test). Stored and shown by its dotted name.
    EventType {
        /// A manager started making a volume.
        VolumeCreateStart = "volume.create.start",
        /// A volume is available.
        VolumeCreateEnd = "volume.create.end",
        /// A create failed (or was cancelled, or rolled back).
        VolumeCreateError = "volume.create.error",
        /// The scheduler decided (or found no backend).
        SchedulerCreateVolume = "scheduler.create_volume",
        /// A manager failed and the create goes back to the scheduler.
        VolumeReschedule = "volume.reschedule",
        /// A delete started.
        VolumeDeleteStart = "volume.delete.start",
        /// A volume is gone.
        VolumeDeleteEnd = "volume.delete.end",
        /// A delete failed part-way.
        VolumeDeleteError = "volume.delete.error",
        /// A volume started to grow.
        VolumeExtendStart = "volume.extend.start",
        /// A volume grew.
        VolumeExtendEnd = "volume.extend.end",
        /// Growing a volume failed (and was reverted as far as is safe).
        VolumeExtendError = "volume.extend.error",
        /// A volume was attached to a device.
        VolumeAttach = "volume.attach",
        /// A volume was detached from its device.
        VolumeDetach = "volume.detach",
        /// A volume was renamed.
        VolumeRename = "volume.rename",
        /// A volume's labels changed.
        VolumeLabel = "volume.label",
        /// A volume or a snapshot of it was written to a file.
        VolumeExport = "volume.export",
        /// An existing object was taken in as a volume.
        VolumeManage = "volume.manage",
        /// A volume moved to another backend.
        VolumeMigrate = "volume.migrate",
        /// A volume got another volume type.
        VolumeRetype = "volume.retype",
        /// A volume was forgotten, its data kept.
        VolumeUnmanage = "volume.unmanage",
        /// A recorded device no longer backs its volume and was forgotten.
        VolumeDeviceStale = "volume.device.stale",
        /// A snapshot is being made.
        SnapshotCreateStart = "snapshot.create.start",
        /// A snapshot is available.
        SnapshotCreateEnd = "snapshot.create.end",
        /// Making a snapshot failed.
        SnapshotCreateError = "snapshot.create.error",
        /// A snapshot's data was put back into its volume.
        SnapshotRevert = "snapshot.revert",
        /// A snapshot delete started.
        SnapshotDeleteStart = "snapshot.delete.start",
        /// A snapshot is gone.
        SnapshotDeleteEnd = "snapshot.delete.end",
        /// An image entered the catalog.
        ImageImport = "image.import",
        /// An image left the catalog.
        ImageDelete = "image.delete",
        /// A backend's image cache gained an entry.
        ImageCacheFill = "image.cache.fill",
        /// A backend's image cache lost an entry.
        ImageCacheEvict = "image.cache.evict",
        /// Reconciliation settled a flow (or queued request) by policy.
        FlowReconcile = "flow.reconcile",
        /// A flow's revert failed past its retries: a person must look.
        FlowNeedsPerson = "flow.needs_person",
    }
}

/// An event to record, with its typed payload: the one definition of what
/// each event type carries (its payload's JSON is the variant's fields).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// `volume.create.start`
    VolumeCreateStart {
        /// Its size (`size` GiB and `size_bytes`).
        #[serde(flatten, with = "crate::units::size_fields")]
        size: Bytes,
        /// The backend making it.
        backend: String,
        /// What it is made from.
        kind: SourceKind,
        /// The source's id.
        source_id: Option<String>,
    },
    /// `volume.create.end`
    VolumeCreateEnd {
        /// Its labels.
        #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        labels: crate::store::volumes::Labels,
        /// Its size (`size` GiB and `size_bytes`).
        #[serde(flatten, with = "crate::units::size_fields")]
        size: Bytes,
        /// Its backend.
        backend: String,
        /// Its backend object.
        path: String,
    },
    /// `volume.create.error`
    VolumeCreateError {
        /// What kind of failure (`cancelled` when the user stopped it).
        kind: ErrorKind,
        /// Why.
        reason: String,
        /// The backend that failed, if one did.
        #[serde(skip_serializing_if = "Option::is_none")]
        backend: Option<String>,
        /// The attempt that failed, if a backend did.
        #[serde(skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
    },
    /// `scheduler.create_volume`
    SchedulerCreateVolume {
        /// Which attempt.
        attempt: u32,
        /// What every backend's filters said.
        report: Value,
        /// Why no backend was chosen.
        reason: String,
    },
    /// `volume.reschedule`
    VolumeReschedule {
        /// The backend that failed.
        from: String,
        /// The attempt about to start.
        attempt: u32,
        /// The limit.
        max_attempts: u32,
        /// Why the backend failed.
        reason: String,
        /// Its failure's kind.
        kind: ErrorKind,
    },
    /// `volume.delete.start`
    VolumeDeleteStart {
        /// Its size (`size` GiB and `size_bytes`).
        #[serde(flatten, with = "crate::units::size_fields")]
        size: Bytes,
        /// Its backend, if it reached one.
        backend: Option<String>,
    },
    /// `volume.delete.end`
    VolumeDeleteEnd {
        /// Its size (`size` GiB and `size_bytes`).
        #[serde(flatten, with = "crate::units::size_fields")]
        size: Bytes,
        /// Its backend, if it reached one.
        backend: Option<String>,
    },
    /// `volume.delete.error`
    VolumeDeleteError {
        /// Why, if known.
        reason: Option<String>,
    },
    /// `volume.extend.start`
    VolumeExtendStart {
        /// Its size now (`size` GiB and `size_bytes`).
        #[serde(flatten, with = "crate::units::size_fields")]
        size: Bytes,
        /// The size asked for, GiB (see [`Bytes::gib_json`]).
        #[serde(serialize_with = "crate::units::serialize_gib")]
        new_size: Bytes,
        /// The size asked for, bytes.
        new_size_bytes: Bytes,
    },
    /// `volume.extend.end`
    VolumeExtendEnd {
        /// Its size now (`size` GiB and `size_bytes`).
        #[serde(flatten, with = "crate::units::size_fields")]
        size: Bytes,
    },
    /// `volume.extend.error`
    VolumeExtendError {
        /// Why, if known.
        reason: Option<String>,
        /// The size it is left with (the new size when its grown object
        /// could not be shrunk back safely).
        #[serde(flatten, with = "crate::units::size_fields")]
        size: Bytes,
    },
    /// `volume.attach`
    VolumeAttach {
        /// The device.
        device: String,
        /// How (absent from events recorded before modes existed).
        #[serde(default)]
        mode: crate::backends::AttachMode,
    },
    /// `volume.detach`
    VolumeDetach {
        /// The device it had.
        device: Option<String>,
    },
    /// `volume.label`
    VolumeLabel {
        /// Labels set (added or replaced).
        set: crate::store::volumes::Labels,
        /// Labels removed.
        removed: Vec<String>,
    },
    /// `volume.rename`
    VolumeRename {
        /// The name it had.
        from: Option<String>,
        /// The name it has.
        to: String,
    },
    /// `volume.export`
    VolumeExport {
        /// The snapshot exported, if it was one.
        snapshot_id: Option<String>,
        /// The file written.
        file: String,
        /// Its format.
        format: Format,
        /// Its size, bytes.
        bytes: u64,
    },
    /// `volume.manage`
    VolumeManage {
        /// The object's own name before.
        from: String,
        /// Its size (`size` GiB and `size_bytes`).
        #[serde(flatten, with = "crate::units::size_fields")]
        size: Bytes,
    },
    /// `volume.migrate`
    VolumeMigrate {
        /// The backend it left.
        from: String,
        /// The backend it is on.
        to: String,
    },
    /// `volume.retype`
    VolumeRetype {
        /// The type it had.
        from: Option<String>,
        /// The type it has.
        to: String,
    },
    /// `volume.unmanage`
    VolumeUnmanage {
        /// Where its data is now.
        path: String,
    },
    /// `volume.device.stale`
    VolumeDeviceStale {
        /// The device forgotten.
        device: Option<String>,
    },
    /// `snapshot.create.start`
    SnapshotCreateStart {
        /// The snapshot.
        snapshot_id: String,
        /// Its size (`size` GiB and `size_bytes`).
        #[serde(flatten, with = "crate::units::size_fields")]
        size: Bytes,
    },
    /// `snapshot.create.end`
    SnapshotCreateEnd {
        /// The snapshot.
        snapshot_id: String,
        /// Its size (`size` GiB and `size_bytes`).
        #[serde(flatten, with = "crate::units::size_fields")]
        size: Bytes,
        /// Its backend object.
        path: String,
    },
    /// `snapshot.create.error`
    SnapshotCreateError {
        /// The snapshot.
        snapshot_id: String,
        /// Why, if known.
        reason: Option<String>,
    },
    /// `snapshot.revert`
    SnapshotRevert {
        /// The snapshot.
        snapshot_id: String,
    },
    /// `snapshot.delete.start`
    SnapshotDeleteStart {
        /// The snapshot.
        snapshot_id: String,
    },
    /// `snapshot.delete.end`
    SnapshotDeleteEnd {
        /// The snapshot.
        snapshot_id: String,
        /// Its size (`size` GiB and `size_bytes`).
        #[serde(flatten, with = "crate::units::size_fields")]
        size: Bytes,
    },
    /// `image.import`
    ImageImport {
        /// The image.
        image_id: String,
        /// Its name.
        name: String,
        /// Its format.
        format: Format,
        /// Bytes of the disk it holds.
        virtual_size: u64,
    },
    /// `image.delete`
    ImageDelete {
        /// The image.
        image_id: String,
        /// Its name.
        name: String,
    },
    /// `image.cache.fill`
    ImageCacheFill {
        /// The backend whose cache it is.
        backend: String,
        /// The image.
        image_id: String,
        /// Bytes.
        size: u64,
    },
    /// `image.cache.evict`
    ImageCacheEvict {
        /// The backend whose cache it is.
        backend: String,
        /// The image.
        image_id: String,
        /// Bytes.
        size: u64,
    },
    /// `flow.reconcile`
    FlowReconcile {
        /// The flow (absent for a queued request).
        flow_id: Option<String>,
        /// Its definition (for a request: the flow that consumes it).
        flow: String,
        /// What was decided.
        decision: crate::reconcile::Verdict,
        /// The rule that decided it.
        rule: String,
        /// Why, in words.
        reason: String,
        /// The flow's state after.
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<crate::flow::FlowState>,
        /// Why carrying it out failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// `flow.needs_person`
    FlowNeedsPerson {
        /// The flow.
        flow_id: String,
        /// Its definition.
        flow: String,
        /// How many times its revert was tried again.
        tries: u32,
        /// Why its revert failed, the last time.
        failure: String,
        /// The failures that made it revert.
        failures: Vec<String>,
    },
}

impl Event {
    /// A `volume.create.error` of `kind` that names no backend.
    pub fn create_error(kind: ErrorKind, reason: &str) -> Event {
        Event::VolumeCreateError {
            kind,
            reason: reason.to_string(),
            backend: None,
            attempt: None,
        }
    }

    /// Its type.
    pub fn kind(&self) -> EventType {
        use EventType as T;
        match self {
            Event::VolumeCreateStart { .. } => T::VolumeCreateStart,
            Event::VolumeCreateEnd { .. } => T::VolumeCreateEnd,
            Event::VolumeCreateError { .. } => T::VolumeCreateError,
            Event::SchedulerCreateVolume { .. } => T::SchedulerCreateVolume,
            Event::VolumeReschedule { .. } => T::VolumeReschedule,
            Event::VolumeDeleteStart { .. } => T::VolumeDeleteStart,
            Event::VolumeDeleteEnd { .. } => T::VolumeDeleteEnd,
            Event::VolumeDeleteError { .. } => T::VolumeDeleteError,
            Event::VolumeExtendStart { .. } => T::VolumeExtendStart,
            Event::VolumeExtendEnd { .. } => T::VolumeExtendEnd,
            Event::VolumeExtendError { .. } => T::VolumeExtendError,
            Event::VolumeAttach { .. } => T::VolumeAttach,
            Event::VolumeDetach { .. } => T::VolumeDetach,
            Event::VolumeRename { .. } => T::VolumeRename,
            Event::VolumeLabel { .. } => T::VolumeLabel,
            Event::VolumeExport { .. } => T::VolumeExport,
            Event::VolumeManage { .. } => T::VolumeManage,
            Event::VolumeMigrate { .. } => T::VolumeMigrate,
            Event::VolumeRetype { .. } => T::VolumeRetype,
            Event::VolumeUnmanage { .. } => T::VolumeUnmanage,
            Event::VolumeDeviceStale { .. } => T::VolumeDeviceStale,
            Event::SnapshotCreateStart { .. } => T::SnapshotCreateStart,
            Event::SnapshotCreateEnd { .. } => T::SnapshotCreateEnd,
            Event::SnapshotCreateError { .. } => T::SnapshotCreateError,
            Event::SnapshotRevert { .. } => T::SnapshotRevert,
            Event::SnapshotDeleteStart { .. } => T::SnapshotDeleteStart,
            Event::SnapshotDeleteEnd { .. } => T::SnapshotDeleteEnd,
            Event::ImageImport { .. } => T::ImageImport,
            Event::ImageDelete { .. } => T::ImageDelete,
            Event::ImageCacheFill { .. } => T::ImageCacheFill,
            Event::ImageCacheEvict { .. } => T::ImageCacheEvict,
            Event::FlowReconcile { .. } => T::FlowReconcile,
            Event::FlowNeedsPerson { .. } => T::FlowNeedsPerson,
        }
    }
}

/// One recorded event, as read back (the shape `events --json` prints and
/// sinks receive).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Position in the log.
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// `volume.create.start`, `scheduler.create_volume`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The volume concerned.
    pub volume_id: Option<String>,
    /// Event-specific fields.
    pub payload: Value,
}

/// Records an event (in the caller's transaction); returns it as stored.
pub fn emit(conn: &Connection, volume_id: Option<&str>, event: &Event) -> Result<EventRecord> {
    let kind = event.kind();
    let payload = serde_json::to_value(event)?;
    let at = now();
    conn.prepare_cached(
        "INSERT INTO events (at, type, volume_id, payload) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        at,
        kind.as_str(),
        volume_id,
        serde_json::to_string(&payload)?
    ])?;
    Ok(EventRecord {
        id: conn.last_insert_rowid(),
        at,
        kind: kind.to_string(),
        volume_id: volume_id.map(str::to_string),
        payload,
    })
}

/// How far sink `sink` has been fed (the last event id it got; 0: none).
pub fn cursor(conn: &Connection, sink: &str) -> Result<i64> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT last_id FROM event_cursors WHERE sink = ?1")?
        .query_row([sink], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Records that sink `sink` got every event up to `last`.
pub fn set_cursor(conn: &Connection, sink: &str, last: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO event_cursors (sink, last_id) VALUES (?1, ?2)
         ON CONFLICT (sink) DO UPDATE SET last_id = excluded.last_id",
    )?
    .execute(params![sink, last])?;
    Ok(())
}

/// The events about a flow (reconciliation's decisions), oldest first.
pub fn of_flow(conn: &Connection, flow_id: &str) -> Result<Vec<EventRecord>> {
    conn.prepare_cached(
        "SELECT id, at, type, volume_id, payload FROM events
         WHERE type IN ('flow.reconcile', 'flow.needs_person')
           AND json_extract(payload, '$.flow_id') = ?1 ORDER BY id",
    )?
    .query_map([flow_id], raw_row)?
    .map(|r| r?.read())
    .collect()
}

/// Events after `after_id`, oldest first, optionally of one volume.
pub fn list(conn: &Connection, after_id: i64, volume_id: Option<&str>) -> Result<Vec<EventRecord>> {
    conn.prepare_cached(
        "SELECT id, at, type, volume_id, payload FROM events
         WHERE id > ?1 AND (?2 IS NULL OR volume_id = ?2) ORDER BY id",
    )?
    .query_map(params![after_id, volume_id], raw_row)?
    .map(|r| r?.read())
    .collect()
}

/// A row of `SELECT id, at, type, volume_id, payload`, payload unparsed.
struct RawRow(i64, String, String, Option<String>, String);

fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow(
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
    ))
}

impl RawRow {
    fn read(self) -> Result<EventRecord> {
        Ok(EventRecord {
            id: self.0,
            at: self.1,
            kind: self.2,
            volume_id: self.3,
            payload: serde_json::from_str(&self.4)?,
        })
    }
}

#[cfg(test)]
mod catalogue_tests {
    use super::EventType;

    #[test]
    fn the_readme_lists_exactly_the_event_catalogue() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("### Events")
            .nth(1)
            .expect("README has an Events section")
            .split("\n#")
            .next()
            .unwrap_or_default();
        let listed: Vec<&str> = section
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
            .collect();
        let all: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            listed, all,
            "README's event table differs from EventType::ALL"
        );
    }
}
