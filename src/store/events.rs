//! The event log: what happened to volumes, in order.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::now;
use crate::error::Result;

/// Every type of event volctl records: the catalogue (the README lists the
/// same, checked by a test). Stored and shown by its dotted name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `volume.create.start`
    VolumeCreateStart,
    /// `volume.create.end`
    VolumeCreateEnd,
    /// `volume.create.error`
    VolumeCreateError,
    /// `scheduler.create_volume`
    SchedulerCreateVolume,
    /// `volume.reschedule`
    VolumeReschedule,
    /// `volume.delete.start`
    VolumeDeleteStart,
    /// `volume.delete.end`
    VolumeDeleteEnd,
    /// `volume.delete.error`
    VolumeDeleteError,
    /// `volume.device.stale`
    VolumeDeviceStale,
    /// `snapshot.create.start`
    SnapshotCreateStart,
    /// `snapshot.create.end`
    SnapshotCreateEnd,
    /// `snapshot.create.error`
    SnapshotCreateError,
    /// `snapshot.delete.start`
    SnapshotDeleteStart,
    /// `snapshot.delete.end`
    SnapshotDeleteEnd,
    /// `image.import`
    ImageImport,
    /// `image.delete`
    ImageDelete,
    /// `image.cache.fill`
    ImageCacheFill,
    /// `image.cache.evict`
    ImageCacheEvict,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 18] = [
        EventType::VolumeCreateStart,
        EventType::VolumeCreateEnd,
        EventType::VolumeCreateError,
        EventType::SchedulerCreateVolume,
        EventType::VolumeReschedule,
        EventType::VolumeDeleteStart,
        EventType::VolumeDeleteEnd,
        EventType::VolumeDeleteError,
        EventType::VolumeDeviceStale,
        EventType::SnapshotCreateStart,
        EventType::SnapshotCreateEnd,
        EventType::SnapshotCreateError,
        EventType::SnapshotDeleteStart,
        EventType::SnapshotDeleteEnd,
        EventType::ImageImport,
        EventType::ImageDelete,
        EventType::ImageCacheFill,
        EventType::ImageCacheEvict,
    ];

    /// The stored (dotted) name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::VolumeCreateStart => "volume.create.start",
            EventType::VolumeCreateEnd => "volume.create.end",
            EventType::VolumeCreateError => "volume.create.error",
            EventType::SchedulerCreateVolume => "scheduler.create_volume",
            EventType::VolumeReschedule => "volume.reschedule",
            EventType::VolumeDeleteStart => "volume.delete.start",
            EventType::VolumeDeleteEnd => "volume.delete.end",
            EventType::VolumeDeleteError => "volume.delete.error",
            EventType::VolumeDeviceStale => "volume.device.stale",
            EventType::SnapshotCreateStart => "snapshot.create.start",
            EventType::SnapshotCreateEnd => "snapshot.create.end",
            EventType::SnapshotCreateError => "snapshot.create.error",
            EventType::SnapshotDeleteStart => "snapshot.delete.start",
            EventType::SnapshotDeleteEnd => "snapshot.delete.end",
            EventType::ImageImport => "image.import",
            EventType::ImageDelete => "image.delete",
            EventType::ImageCacheFill => "image.cache.fill",
            EventType::ImageCacheEvict => "image.cache.evict",
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
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

/// Appends an event; returns it as stored.
pub fn append(
    conn: &Connection,
    kind: EventType,
    volume_id: Option<&str>,
    payload: Value,
) -> Result<Event> {
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
    Ok(Event {
        id: conn.last_insert_rowid(),
        at,
        kind: kind.to_string(),
        volume_id: volume_id.map(str::to_string),
        payload,
    })
}

/// Events after `after_id`, oldest first, optionally of one volume.
pub fn list(conn: &Connection, after_id: i64, volume_id: Option<&str>) -> Result<Vec<Event>> {
    conn.prepare_cached(
        "SELECT id, at, type, volume_id, payload FROM events
         WHERE id > ?1 AND (?2 IS NULL OR volume_id = ?2) ORDER BY id",
    )?
    .query_map(params![after_id, volume_id], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, String>(4)?,
        ))
    })?
    .map(|r| {
        let (id, at, kind, volume_id, payload) = r?;
        Ok(Event {
            id,
            at,
            kind,
            volume_id,
            payload: serde_json::from_str(&payload)?,
        })
    })
    .collect()
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
