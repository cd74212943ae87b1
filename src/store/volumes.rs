//! Volume rows.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::now;
use crate::backends::AttachMode;
use crate::error::{Error, Result};
use crate::units::Bytes;

crate::string_enum! {
    /// A volume's life-cycle state (Cinder's names).
    VolumeStatus {
        /// The create flows are running.
        Creating = "creating",
        /// An image is being copied into it.
        Downloading = "downloading",
        /// Ready.
        Available = "available",
        /// Attached to a device.
        InUse = "in-use",
        /// Being attached.
        Attaching = "attaching",
        /// Being detached.
        Detaching = "detaching",
        /// Being deleted.
        Deleting = "deleting",
        /// Being grown (`extend`).
        Extending = "extending",
        /// Being written to a file (`export`).
        Exporting = "exporting",
        /// A snapshot's data is being put back into it.
        Reverting = "reverting",
        /// Being given up, its data kept (`unmanage`).
        Unmanaging = "unmanaging",
        /// Being moved to another backend (`migrate`).
        Migrating = "migrating",
        /// Creation failed; nothing is left on a backend and it holds no quota.
        Error = "error",
        /// Deletion failed part-way; delete it again.
        ErrorDeleting = "error_deleting",
    }
}

impl VolumeStatus {
    /// The status in a sentence (`volume X is in error`, `... is being
    /// deleted`): one wording for every message.
    pub fn phrase(self) -> &'static str {
        match self {
            VolumeStatus::Creating => "being created",
            VolumeStatus::Downloading => "being filled from an image (downloading)",
            VolumeStatus::Available => "available",
            VolumeStatus::InUse => "in use",
            VolumeStatus::Attaching => "being attached",
            VolumeStatus::Detaching => "being detached",
            VolumeStatus::Deleting => "being deleted",
            VolumeStatus::Extending => "being extended",
            VolumeStatus::Exporting => "being exported",
            VolumeStatus::Reverting => "being reverted to a snapshot",
            VolumeStatus::Unmanaging => "being unmanaged",
            VolumeStatus::Migrating => "being migrated",
            VolumeStatus::Error => "in error",
            VolumeStatus::ErrorDeleting => "in error_deleting (a delete stopped part-way)",
        }
    }
}

crate::string_enum! {
    /// What a volume is made from.
    SourceKind {
        /// Empty.
        Raw = "raw",
        /// A copy of a snapshot.
        Snapshot = "snapshot",
        /// A clone of another volume.
        Volume = "volume",
        /// An image from the catalog.
        Image = "image",
    }
}

/// A volume's labels: key → value, ordered by key.
pub type Labels = std::collections::BTreeMap<String, String>;

/// A volume row. Its JSON form is volctl's stable output shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// Unique id (a UUID).
    pub id: String,
    /// Optional name (not unique).
    pub name: Option<String>,
    /// Its size: `size_bytes` in JSON, with `size` in GiB beside it (a
    /// fraction when not whole GiB, see [`crate::units::Bytes::gib_json`]).
    #[serde(flatten, with = "crate::units::size_fields")]
    pub size: Bytes,
    /// Life-cycle state.
    pub status: VolumeStatus,
    /// Backend it lives on, once scheduled.
    pub backend: Option<String>,
    /// Its backend object: a file or a logical volume.
    pub path: Option<String>,
    /// The loop device it is attached to.
    pub device: Option<String>,
    /// How it is attached, while it is (`attach --read-only`, `--partscan`).
    pub attach_mode: Option<AttachMode>,
    /// The user's labels (`create --label k=v`, `volctl label`).
    #[serde(default)]
    pub labels: Labels,
    /// When `gc` may delete it (RFC 3339; `create --ttl`, `--expires-at`).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// When it became available.
    pub launched_at: Option<String>,
    /// Owning project.
    pub project: String,
    /// Volume type name.
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// Volume type id.
    pub type_id: Option<String>,
    /// Availability zone.
    pub zone: Option<String>,
    /// What it was made from.
    pub source_kind: SourceKind,
    /// The snapshot, volume or image it was made from.
    pub source_id: Option<String>,
    /// Why it is in `error`.
    pub error: Option<String>,
    /// Scheduling attempts so far.
    pub attempts: u32,
    /// Whether its quota is committed (in use).
    #[serde(skip)]
    pub quota_held: bool,
    /// Its uncommitted reservation, between quota reserve and commit.
    #[serde(skip)]
    pub reservation: Option<String>,
}

const COLUMNS: &str = "id, name, size, status, backend, path, device, created_at, updated_at,
    launched_at, project, type_name, type_id, zone, source_kind, source_id, error, attempts,
    quota_held, reservation, attach_read_only, attach_partscan, labels, expires_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Volume> {
    Ok(Volume {
        id: r.get(0)?,
        name: r.get(1)?,
        size: Bytes(r.get::<_, i64>(2)? as u64),
        status: r.get(3)?,
        backend: r.get(4)?,
        path: r.get(5)?,
        device: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        launched_at: r.get(9)?,
        project: r.get(10)?,
        type_name: r.get(11)?,
        type_id: r.get(12)?,
        zone: r.get(13)?,
        source_kind: r.get(14)?,
        source_id: r.get(15)?,
        error: r.get(16)?,
        attempts: r.get(17)?,
        quota_held: r.get(18)?,
        reservation: r.get(19)?,
        attach_mode: match (r.get::<_, Option<bool>>(20)?, r.get::<_, Option<bool>>(21)?) {
            (Some(read_only), Some(partscan)) => Some(AttachMode {
                read_only,
                partscan,
            }),
            _ => None,
        },
        labels: {
            let text: String = r.get(22)?;
            serde_json::from_str(&text).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(22, rusqlite::types::Type::Text, e.into())
            })?
        },
        expires_at: r.get(23)?,
    })
}

/// Inserts a new volume row (status as given, normally `creating`).
pub fn insert(conn: &Connection, v: &Volume) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO volumes ({COLUMNS}) VALUES
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)"
    ))?
    .execute(params![
        v.id,
        v.name,
        v.size.get() as i64,
        v.status,
        v.backend,
        v.path,
        v.device,
        v.created_at,
        v.updated_at,
        v.launched_at,
        v.project,
        v.type_name,
        v.type_id,
        v.zone,
        v.source_kind,
        v.source_id,
        v.error,
        v.attempts,
        v.quota_held,
        v.reservation,
        v.attach_mode.map(|m| m.read_only),
        v.attach_mode.map(|m| m.partscan),
        serde_json::to_string(&v.labels).map_err(Error::from)?,
        v.expires_at,
    ])?;
    Ok(())
}

/// The volume with this id, if any.
pub fn get(conn: &Connection, id: &str) -> Result<Option<Volume>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM volumes WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// The volume of `project` named `name`, other than `except` (a volume
/// being renamed), if there is one: names are unique per project.
pub fn named(
    conn: &Connection,
    project: &str,
    name: &str,
    except: Option<&str>,
) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM volumes WHERE project = ?1 AND name = ?2 AND id IS NOT ?3 LIMIT 1",
        )?
        .query_row(params![project, name, except], |r| r.get(0))
        .optional()?)
}

/// Refuses (conflict, exit 6) a name another volume of the project has.
/// Called inside the write transaction that sets the name, so two
/// processes cannot both take it.
pub fn claim_name(
    conn: &Connection,
    project: &str,
    name: &str,
    except: Option<&str>,
) -> Result<()> {
    match named(conn, project, name, except)? {
        Some(id) => Err(Error::conflict(format!(
            "a volume named `{name}` already exists in project {project} ({id}): names are unique per project"
        ))
        .with_details(serde_json::json!({ "name_taken": { "name": name, "volume": id } }))),
        None => Ok(()),
    }
}

/// Names held by more than one volume of a project (from before names
/// were unique): (project, name, ids).
pub fn duplicate_names(conn: &Connection) -> Result<Vec<(String, String, Vec<String>)>> {
    let mut st = conn.prepare(
        "SELECT project, name, group_concat(id, ' ') FROM volumes WHERE name IS NOT NULL
         GROUP BY project, name HAVING count(*) > 1 ORDER BY project, name",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .map(|(p, n, ids)| (p, n, ids.split(' ').map(String::from).collect()))
        .collect())
}

/// The volume with this id, or an error naming it.
pub fn require(conn: &Connection, id: &str) -> Result<Volume> {
    get(conn, id)?.ok_or_else(|| Error::not_found(format!("volume {id} does not exist")))
}

/// Finds a volume by id, unique id prefix (8+ characters) or unique name,
/// within `project` (another project's volumes are not found) or, with
/// `None`, in every project.
pub fn find(conn: &Connection, project: Option<&str>, key: &str) -> Result<Volume> {
    if let Some(v) = get(conn, key)?
        && project.is_none_or(|p| v.project == p)
    {
        return Ok(v);
    }
    let mut matches = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM volumes WHERE name = ?1 AND (?2 IS NULL OR project = ?2)"
        ))?
        .query_map(params![key, project], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // An id prefix as a range of the primary key (ids are lowercase hex
    // and dashes, all below `~`): an index search, not a scan.
    if matches.is_empty() && crate::api::looks_like_id_prefix(key) {
        matches = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM volumes WHERE id >= ?1 AND id < ?1 || '~'
                 AND (?2 IS NULL OR project = ?2)"
            ))?
            .query_map(params![key, project], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
    }
    match matches.len() {
        0 => Err(Error::not_found(format!(
            "no volume with id or name `{key}`"
        ))),
        1 => Ok(matches.remove(0)),
        _ => {
            let ids: Vec<&str> = matches.iter().map(|v| v.id.as_str()).collect();
            Err(Error::invalid(format!(
                "`{key}` names {} volumes ({}); use an id",
                ids.len(),
                ids.join(", ")
            )))
        }
    }
}

/// All volumes, oldest first; of one project if given.
pub fn list(conn: &Connection, project: Option<&str>) -> Result<Vec<Volume>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM volumes WHERE ?1 IS NULL OR project = ?1 ORDER BY created_at, rowid"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_map([project], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Forgets a device that no longer backs the volume: an `in-use` volume
/// becomes `available` (other statuses are left as they are).
pub fn clear_stale_device(conn: &Connection, id: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE volumes SET device = NULL, attach_read_only = NULL, attach_partscan = NULL,
           status = CASE status WHEN ?3 THEN ?4 ELSE status END,
           updated_at = ?2 WHERE id = ?1",
    )?
    .execute(params![
        id,
        now(),
        VolumeStatus::InUse,
        VolumeStatus::Available
    ])?;
    Ok(())
}

/// Sets the status (and clears or sets the error message).
pub fn set_status(
    conn: &Connection,
    id: &str,
    status: VolumeStatus,
    error: Option<&str>,
) -> Result<()> {
    let n = conn
        .prepare_cached(
            "UPDATE volumes SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
        )?
        .execute(params![id, status, error, now()])?;
    if n == 0 {
        return Err(Error::not_found(format!("volume {id} does not exist")));
    }
    Ok(())
}

/// Records the scheduling decision (or clears it with `None`).
pub fn set_backend(
    conn: &Connection,
    id: &str,
    backend: Option<&str>,
    zone: Option<&str>,
    attempts: u32,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE volumes SET backend = ?2, zone = coalesce(?3, zone), attempts = ?4, updated_at = ?5
         WHERE id = ?1",
    )?
    .execute(params![id, backend, zone, attempts, now()])?;
    Ok(())
}

/// Records the backend object of a created volume and makes it available.
pub fn set_created(conn: &Connection, id: &str, path: &str) -> Result<()> {
    let t = now();
    conn.prepare_cached(
        "UPDATE volumes SET status = ?4, path = ?2, error = NULL, updated_at = ?3,
         launched_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, path, t, VolumeStatus::Available])?;
    Ok(())
}

/// Records (or clears) the loop device a volume is attached to; its status
/// follows (`in-use` or `available`). Clearing it clears the attach mode.
pub fn set_device(conn: &Connection, id: &str, device: Option<&str>) -> Result<()> {
    let status = if device.is_some() {
        VolumeStatus::InUse
    } else {
        VolumeStatus::Available
    };
    conn.prepare_cached(
        "UPDATE volumes SET device = ?2, status = ?3, updated_at = ?4,
           attach_read_only = CASE WHEN ?2 IS NULL THEN NULL ELSE attach_read_only END,
           attach_partscan = CASE WHEN ?2 IS NULL THEN NULL ELSE attach_partscan END
         WHERE id = ?1",
    )?
    .execute(params![id, device, status, now()])?;
    Ok(())
}

/// Replaces a volume's labels.
pub fn set_labels(conn: &Connection, id: &str, labels: &Labels) -> Result<()> {
    conn.prepare_cached("UPDATE volumes SET labels = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![
            id,
            serde_json::to_string(labels).map_err(Error::from)?,
            now()
        ])?;
    Ok(())
}

/// The volumes whose expiry is at or before `now` (as stored), of
/// `project` or of every project; oldest expiry first.
pub fn expired(conn: &Connection, project: Option<&str>, now: &str) -> Result<Vec<Volume>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM volumes WHERE expires_at IS NOT NULL AND expires_at <= ?1
             AND (?2 IS NULL OR project = ?2) ORDER BY expires_at, rowid"
        ))?
        .query_map(params![now, project], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Records how a volume is attached.
pub fn set_attach_mode(conn: &Connection, id: &str, mode: AttachMode) -> Result<()> {
    conn.prepare_cached(
        "UPDATE volumes SET attach_read_only = ?2, attach_partscan = ?3 WHERE id = ?1",
    )?
    .execute(params![id, mode.read_only, mode.partscan])?;
    Ok(())
}

/// Records quota bookkeeping on the row.
pub fn set_quota_state(
    conn: &Connection,
    id: &str,
    quota_held: bool,
    reservation: Option<&str>,
) -> Result<()> {
    conn.prepare_cached("UPDATE volumes SET quota_held = ?2, reservation = ?3 WHERE id = ?1")?
        .execute(params![id, quota_held, reservation])?;
    Ok(())
}

/// Removes the row.
pub fn delete(conn: &Connection, id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM volumes WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Records (or clears) the backend a volume is being migrated to.
pub fn set_migrating_to(conn: &Connection, id: &str, backend: Option<&str>) -> Result<()> {
    conn.prepare_cached("UPDATE volumes SET migrating_to = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, backend, now()])?;
    Ok(())
}

/// Records a volume's backend, zone and object after a migration.
pub fn set_location(
    conn: &Connection,
    id: &str,
    backend: &str,
    zone: &str,
    path: &str,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE volumes SET backend = ?2, zone = ?3, path = ?4, updated_at = ?5 WHERE id = ?1",
    )?
    .execute(params![id, backend, zone, path, now()])?;
    Ok(())
}

/// Records a volume's type.
pub fn set_type(
    conn: &Connection,
    id: &str,
    type_name: Option<&str>,
    type_id: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE volumes SET type_name = ?2, type_id = ?3, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![id, type_name, type_id, now()])?;
    Ok(())
}

/// Records a volume's name.
pub fn set_name(conn: &Connection, id: &str, name: Option<&str>) -> Result<()> {
    conn.prepare_cached("UPDATE volumes SET name = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, name, now()])?;
    Ok(())
}

/// Records a volume's new size.
pub fn set_size(conn: &Connection, id: &str, size: Bytes) -> Result<()> {
    conn.prepare_cached("UPDATE volumes SET size = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, size.get() as i64, now()])?;
    Ok(())
}

/// How many volumes are being made from `source` right now (a source in
/// use may not be deleted).
pub fn in_flight_from(conn: &Connection, kind: SourceKind, source_id: &str) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM volumes WHERE source_kind = ?1 AND source_id = ?2
             AND status IN (?3, ?4)",
        )?
        .query_row(
            params![
                kind,
                source_id,
                VolumeStatus::Creating,
                VolumeStatus::Downloading
            ],
            |r| r.get(0),
        )?;
    Ok(n as u64)
}

/// How many volumes live on a backend.
pub fn count_on_backend(conn: &Connection, backend: &str) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM volumes WHERE backend = ?1 AND status != ?2")?
        .query_row(params![backend, VolumeStatus::Error], |r| r.get(0))?;
    Ok(n as u64)
}
