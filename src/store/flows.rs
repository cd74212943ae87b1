//! What the application records about each flow beside the engine's own
//! record: which operation it is and what it is about.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Result;

crate::string_enum! {
    /// The operation a flow carries out.
    Operation {
        /// Create a volume (the api, scheduler and manager flows).
        Create = "create",
        /// Delete a volume.
        Delete = "delete",
        /// Attach a volume to a device.
        Attach = "attach",
        /// Detach a volume.
        Detach = "detach",
        /// Grow a volume.
        Extend = "extend",
        /// Rename a volume.
        Rename = "rename",
        /// Change a volume's labels.
        Label = "label",
        /// Make a declared set of volumes so (`volctl apply`).
        Apply = "apply",
        /// Write a volume or snapshot to a file.
        Export = "export",
        /// Take an existing object in as a volume.
        Manage = "manage",
        /// Move a volume to another backend.
        Migrate = "migrate",
        /// Give a volume another volume type.
        Retype = "retype",
        /// Forget a volume, keeping its data.
        Unmanage = "unmanage",
        /// Snapshot a volume.
        Snapshot = "snapshot",
        /// Delete a snapshot.
        SnapshotDelete = "snapshot_delete",
        /// Put a snapshot's data back into its volume.
        SnapshotRevert = "snapshot_revert",
        /// Import an image into the catalog.
        ImageImport = "image_import",
        /// Make an image from a volume or a snapshot.
        ImageCreate = "image_create",
        /// Delete an image.
        ImageDelete = "image_delete",
    }
}

/// A flow's application metadata, stored as the engine's `meta` JSON (the
/// shape `flow show --json` prints). The volume is also an indexed column
/// of the flows table (`flows.volume_id`, generated from it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowMeta {
    /// What the flow does; `None` for a flow recorded without metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// The volume it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_id: Option<String>,
    /// The snapshot it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// The image it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// The topic of the cast it consumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cast: Option<String>,
    /// The operation this flow is a part of (an `apply`'s id), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

impl FlowMeta {
    /// An operation on a volume.
    pub fn volume(operation: Operation, volume_id: &str) -> Self {
        FlowMeta {
            operation: Some(operation),
            volume_id: Some(volume_id.to_string()),
            ..FlowMeta::default()
        }
    }

    /// An operation on a snapshot (of `volume_id`, when known).
    pub fn snapshot(operation: Operation, snapshot_id: &str, volume_id: Option<&str>) -> Self {
        FlowMeta {
            operation: Some(operation),
            snapshot_id: Some(snapshot_id.to_string()),
            volume_id: volume_id.map(str::to_string),
            ..FlowMeta::default()
        }
    }

    /// An operation on an image.
    pub fn image(operation: Operation, image_id: &str) -> Self {
        FlowMeta {
            operation: Some(operation),
            image_id: Some(image_id.to_string()),
            ..FlowMeta::default()
        }
    }

    /// Reads a recorded flow's metadata (anything unreadable reads as none:
    /// the engine's record is what matters for resuming it).
    pub fn of(meta: &Value) -> Self {
        FlowMeta::deserialize(meta).unwrap_or_default()
    }

    /// As the engine records it.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Whether it is a step of creating a volume.
    pub fn is_create(&self) -> bool {
        self.operation == Some(Operation::Create)
    }
}

/// Ids of the flows about a volume, oldest first.
pub fn of_volume(conn: &rusqlite::Connection, volume_id: &str) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached("SELECT id FROM flows WHERE volume_id = ?1 ORDER BY created_at, rowid")?
        .query_map([volume_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// The owners of the unfinished flows about a volume (`None`: a flow
/// recorded without one).
pub fn unfinished_owners(
    conn: &rusqlite::Connection,
    volume_id: &str,
) -> Result<Vec<Option<String>>> {
    Ok(conn
        .prepare_cached(
            "SELECT owner FROM flows WHERE volume_id = ?1 AND state NOT IN ('success', 'reverted')",
        )?
        .query_map([volume_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// What reconciliation recorded about a flow whose revert failed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RevertTries {
    /// How many times reconciliation tried the revert again.
    pub tries: u32,
    /// Marked as needing a person (tried `revert_retries` times).
    pub needs_person: bool,
}

/// The flow's record of revert retries (none: zero, unmarked).
pub fn revert_tries(conn: &rusqlite::Connection, flow_id: &str) -> Result<RevertTries> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT revert_tries, needs_person FROM flow_recovery WHERE flow_id = ?1")?
        .query_row([flow_id], |r| {
            Ok(RevertTries {
                tries: r.get(0)?,
                needs_person: r.get(1)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// Counts one more retry of the flow's revert; returns the count.
pub fn count_revert_try(conn: &rusqlite::Connection, flow_id: &str) -> Result<u32> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO flow_recovery (flow_id, revert_tries) VALUES (?1, 1)
             ON CONFLICT (flow_id) DO UPDATE SET revert_tries = revert_tries + 1
             RETURNING revert_tries",
        )?
        .query_row([flow_id], |r| r.get(0))?)
}

/// Marks the flow as needing a person.
pub fn mark_needs_person(conn: &rusqlite::Connection, flow_id: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO flow_recovery (flow_id, needs_person) VALUES (?1, 1)
         ON CONFLICT (flow_id) DO UPDATE SET needs_person = 1",
    )?
    .execute([flow_id])?;
    Ok(())
}

/// The flows marked as needing a person.
pub fn needing_person(conn: &rusqlite::Connection) -> Result<std::collections::BTreeSet<String>> {
    Ok(conn
        .prepare_cached("SELECT flow_id FROM flow_recovery WHERE needs_person")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}
