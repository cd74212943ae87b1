//! The schema, as a list of migrations applied in order. The database's
//! `user_version` is the number of migrations applied.

use crate::db::Db;
use crate::error::{Error, Result};

/// Migration 1: volumes, types, quotas, reservations, casts and events. The flow tables come from the
/// flow engine's own schema.
const V1: &str = "
CREATE TABLE volume_types (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    extra_specs TEXT NOT NULL DEFAULT '{}',
    from_config INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);
CREATE TABLE volumes (
    id          TEXT PRIMARY KEY,
    name        TEXT,
    project     TEXT NOT NULL,
    size        INTEGER NOT NULL,
    status      TEXT NOT NULL,
    type_id     TEXT,
    type_name   TEXT,
    zone        TEXT,
    backend     TEXT,
    path        TEXT,
    device      TEXT,
    source_kind TEXT NOT NULL DEFAULT 'raw',
    source_id   TEXT,
    quota_held  INTEGER NOT NULL DEFAULT 0,
    reservation TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    launched_at TEXT
);
CREATE INDEX volumes_name ON volumes(name);
-- Covers the scheduler's provisioned-capacity sum.
CREATE INDEX volumes_backend ON volumes(backend, status, size);
CREATE INDEX volumes_project ON volumes(project);
CREATE TABLE quotas (
    project     TEXT NOT NULL,
    resource    TEXT NOT NULL,
    hard_limit  INTEGER NOT NULL,
    PRIMARY KEY (project, resource)
) WITHOUT ROWID;
CREATE TABLE quota_usages (
    project     TEXT NOT NULL,
    resource    TEXT NOT NULL,
    in_use      INTEGER NOT NULL DEFAULT 0,
    reserved    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project, resource)
) WITHOUT ROWID;
CREATE TABLE reservations (
    id          TEXT NOT NULL,
    project     TEXT NOT NULL,
    resource    TEXT NOT NULL,
    delta       INTEGER NOT NULL,
    expire      INTEGER NOT NULL,
    PRIMARY KEY (id, resource)
) WITHOUT ROWID;
CREATE INDEX reservations_expire ON reservations(expire);
CREATE TABLE backends (
    name        TEXT PRIMARY KEY,
    driver      TEXT NOT NULL,
    stats       TEXT,
    stats_at    INTEGER
);
CREATE TABLE casts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    topic       TEXT NOT NULL,
    volume_id   TEXT,
    payload     TEXT NOT NULL,
    owner       TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX casts_volume ON casts(volume_id);
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    type        TEXT NOT NULL,
    volume_id   TEXT,
    payload     TEXT NOT NULL
);
CREATE INDEX events_volume ON events(volume_id);
";

/// Migration 2: snapshots, the image catalog and the image cache.
const V2: &str = "
CREATE TABLE snapshots (
    id          TEXT PRIMARY KEY,
    name        TEXT,
    volume_id   TEXT NOT NULL,
    project     TEXT NOT NULL,
    size        INTEGER NOT NULL,
    status      TEXT NOT NULL,
    backend     TEXT NOT NULL,
    path        TEXT,
    type_name   TEXT,
    quota_held  INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX snapshots_volume ON snapshots(volume_id);
CREATE INDEX snapshots_name ON snapshots(name);
-- Covers the scheduler's provisioned-capacity sum.
CREATE INDEX snapshots_backend ON snapshots(backend, status, size);
CREATE INDEX volumes_source ON volumes(source_id);
CREATE TABLE images (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    format       TEXT NOT NULL,
    virtual_size INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    path         TEXT NOT NULL,
    status       TEXT NOT NULL,
    source       TEXT,
    created_at   TEXT NOT NULL
);
CREATE TABLE image_cache (
    backend     TEXT NOT NULL,
    image_id    TEXT NOT NULL,
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    hits        INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    last_used   INTEGER NOT NULL,
    PRIMARY KEY (backend, image_id)
) WITHOUT ROWID;
";

/// Migration 3: how far each event sink has been fed.
const V3: &str = "
CREATE TABLE event_cursors (
    sink        TEXT PRIMARY KEY,
    last_id     INTEGER NOT NULL
);
";

/// The store's identity: a random id, made once, with which it claims its
/// backends (so two state directories never share one, and a backend's
/// objects are never taken for another store's).
const V4: &str = "
CREATE TABLE store_meta (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
ALTER TABLE image_cache ADD COLUMN fingerprint TEXT;
";

/// The volume a flow is about, as an indexed column (generated from the
/// flow's metadata, so the engine's record stays the engine's).
const V5: &str = "
ALTER TABLE flows ADD COLUMN volume_id TEXT
    GENERATED ALWAYS AS (json_extract(meta, '$.volume_id')) VIRTUAL;
CREATE INDEX flows_by_volume ON flows (volume_id);
";

/// The backend a volume is being migrated to: its space counts there while
/// the copy runs, so no create takes it meanwhile.
const V6: &str = "
ALTER TABLE volumes ADD COLUMN migrating_to TEXT;
";

/// How an attached volume is attached (`attach --read-only`, `--partscan`),
/// so `attach --all` binds it again the same way; NULL while detached.
const V7: &str = "
ALTER TABLE volumes ADD COLUMN attach_read_only INTEGER;
ALTER TABLE volumes ADD COLUMN attach_partscan INTEGER;
UPDATE volumes SET attach_read_only = 0, attach_partscan = 0 WHERE device IS NOT NULL;
";

/// Names are unique per project: looked up by (project, name) on every
/// create and rename. Not a UNIQUE index: a store from before may hold
/// duplicates, which are kept (and reported, see [`migrate`]). Volumes get
/// labels (a JSON object) and an expiry (RFC 3339, for `gc`).
const V8: &str = "
CREATE INDEX volumes_project_name ON volumes(project, name);
CREATE INDEX snapshots_project_name ON snapshots(project, name);
ALTER TABLE volumes ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE volumes ADD COLUMN expires_at TEXT;
CREATE INDEX volumes_expiry ON volumes(expires_at) WHERE expires_at IS NOT NULL;
";

/// Sizes are bytes (volumes have MiB granularity): volume and snapshot
/// sizes, and the usage and reservations of the `gigabytes` resources,
/// were whole GiB. Quota limits stay GiB (what people set).
const V9: &str = "
UPDATE volumes SET size = size * 1073741824;
UPDATE snapshots SET size = size * 1073741824;
UPDATE quota_usages SET in_use = in_use * 1073741824, reserved = reserved * 1073741824
 WHERE resource = 'gigabytes' OR resource LIKE 'gigabytes^_%' ESCAPE '^';
UPDATE reservations SET delta = delta * 1073741824
 WHERE resource = 'gigabytes' OR resource LIKE 'gigabytes^_%' ESCAPE '^';
";

/// What is provisioned on each backend, kept by triggers in the
/// transactions that change it (a create never sums every volume): a
/// volume counts on its backend and, while it migrates, on its target too
/// (unless in `error`); a snapshot and an image cache entry on theirs.
/// `check` compares it with a recount. And an index for the flows not yet
/// finished, which commands look up (never a scan of every flow).
///
/// The triggers use no conflict clause (`OR IGNORE`): SQLite would apply
/// the firing statement's instead (an upsert's, an `OR REPLACE`).
const V10: &str = "
CREATE TABLE backend_provisioned (
    backend     TEXT PRIMARY KEY NOT NULL,
    bytes       INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO backend_provisioned (backend, bytes)
    SELECT b, sum(size) FROM (
        SELECT backend AS b, size FROM volumes WHERE backend IS NOT NULL AND status != 'error'
        UNION ALL
        SELECT migrating_to, size FROM volumes
            WHERE migrating_to IS NOT NULL AND migrating_to IS NOT backend AND status != 'error'
        UNION ALL SELECT backend, size FROM snapshots
        UNION ALL SELECT backend, size FROM image_cache)
    GROUP BY b;

CREATE TRIGGER volumes_provisioned_insert AFTER INSERT ON volumes
WHEN NEW.status != 'error' BEGIN
    INSERT INTO backend_provisioned (backend, bytes) SELECT NEW.backend, 0
        WHERE NEW.backend IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backend_provisioned WHERE backend = NEW.backend);
    INSERT INTO backend_provisioned (backend, bytes) SELECT NEW.migrating_to, 0
        WHERE NEW.migrating_to IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backend_provisioned WHERE backend = NEW.migrating_to);
    UPDATE backend_provisioned SET bytes = bytes + NEW.size
        WHERE backend IN (NEW.backend, NEW.migrating_to);
END;
CREATE TRIGGER volumes_provisioned_delete AFTER DELETE ON volumes
WHEN OLD.status != 'error' BEGIN
    UPDATE backend_provisioned SET bytes = bytes - OLD.size
        WHERE backend IN (OLD.backend, OLD.migrating_to);
END;
CREATE TRIGGER volumes_provisioned_update
AFTER UPDATE OF size, status, backend, migrating_to ON volumes BEGIN
    UPDATE backend_provisioned SET bytes = bytes - OLD.size
        WHERE OLD.status != 'error' AND backend IN (OLD.backend, OLD.migrating_to);
    INSERT INTO backend_provisioned (backend, bytes) SELECT NEW.backend, 0
        WHERE NEW.backend IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backend_provisioned WHERE backend = NEW.backend);
    INSERT INTO backend_provisioned (backend, bytes) SELECT NEW.migrating_to, 0
        WHERE NEW.migrating_to IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backend_provisioned WHERE backend = NEW.migrating_to);
    UPDATE backend_provisioned SET bytes = bytes + NEW.size
        WHERE NEW.status != 'error' AND backend IN (NEW.backend, NEW.migrating_to);
END;

CREATE TRIGGER snapshots_provisioned_insert AFTER INSERT ON snapshots BEGIN
    INSERT INTO backend_provisioned (backend, bytes) SELECT NEW.backend, 0
        WHERE NEW.backend IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backend_provisioned WHERE backend = NEW.backend);
    UPDATE backend_provisioned SET bytes = bytes + NEW.size WHERE backend = NEW.backend;
END;
CREATE TRIGGER snapshots_provisioned_delete AFTER DELETE ON snapshots BEGIN
    UPDATE backend_provisioned SET bytes = bytes - OLD.size WHERE backend = OLD.backend;
END;
CREATE TRIGGER snapshots_provisioned_update AFTER UPDATE OF size, backend ON snapshots BEGIN
    UPDATE backend_provisioned SET bytes = bytes - OLD.size WHERE backend = OLD.backend;
    INSERT INTO backend_provisioned (backend, bytes) SELECT NEW.backend, 0
        WHERE NEW.backend IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backend_provisioned WHERE backend = NEW.backend);
    UPDATE backend_provisioned SET bytes = bytes + NEW.size WHERE backend = NEW.backend;
END;

CREATE TRIGGER image_cache_provisioned_insert AFTER INSERT ON image_cache BEGIN
    INSERT INTO backend_provisioned (backend, bytes) SELECT NEW.backend, 0
        WHERE NEW.backend IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backend_provisioned WHERE backend = NEW.backend);
    UPDATE backend_provisioned SET bytes = bytes + NEW.size WHERE backend = NEW.backend;
END;
CREATE TRIGGER image_cache_provisioned_delete AFTER DELETE ON image_cache BEGIN
    UPDATE backend_provisioned SET bytes = bytes - OLD.size WHERE backend = OLD.backend;
END;
CREATE TRIGGER image_cache_provisioned_update AFTER UPDATE OF size, backend ON image_cache BEGIN
    UPDATE backend_provisioned SET bytes = bytes - OLD.size WHERE backend = OLD.backend;
    INSERT INTO backend_provisioned (backend, bytes) SELECT NEW.backend, 0
        WHERE NEW.backend IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backend_provisioned WHERE backend = NEW.backend);
    UPDATE backend_provisioned SET bytes = bytes + NEW.size WHERE backend = NEW.backend;
END;

CREATE INDEX IF NOT EXISTS flows_unfinished ON flows(created_at)
    WHERE state NOT IN ('success', 'reverted');
CREATE INDEX volumes_reservation ON volumes(reservation) WHERE reservation IS NOT NULL;
CREATE INDEX flows_finished ON flows(updated_at) WHERE state IN ('success', 'reverted');
CREATE INDEX events_at ON events(at);
";

/// What decides whether filling the image cache pays on a backend without
/// cheap copies: whether an image is compressed (from `qemu-img check` at
/// import; images imported before count as uncompressed) and how many
/// volumes were made from it.
const V11: &str = "
ALTER TABLE images ADD COLUMN compressed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
";

/// Reconciliation's record of flows whose revert failed (how often it was
/// tried again; whether a person must look), and an index for the
/// decisions `flow show` lists.
const V12: &str = "
CREATE TABLE flow_recovery (
    flow_id      TEXT PRIMARY KEY,
    revert_tries INTEGER NOT NULL DEFAULT 0,
    needs_person INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX events_flow ON events(json_extract(payload, '$.flow_id'))
    WHERE type IN ('flow.reconcile', 'flow.needs_person');
";

/// The migrations, oldest first.
fn migrations() -> Vec<String> {
    vec![
        format!("{}\n{V1}", crate::flow::SQLITE_SCHEMA),
        V2.to_string(),
        V3.to_string(),
        V4.to_string(),
        V5.to_string(),
        V6.to_string(),
        V7.to_string(),
        V8.to_string(),
        V9.to_string(),
        V10.to_string(),
        V11.to_string(),
        V12.to_string(),
    ]
}

/// The schema version this build writes.
pub fn current_version() -> i64 {
    migrations().len() as i64
}

fn version(conn: &rusqlite::Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the database up to the current schema. Cheap when it already is;
/// safe when several processes open a new database at once.
pub fn migrate(db: &Db) -> Result<()> {
    let want = current_version();
    let have = version(&db.lock())?;
    if have == want {
        return Ok(());
    }
    if have > want {
        return Err(newer(have, want));
    }
    db.immediate(|conn| {
        let have = version(conn)?;
        if have > want {
            return Err(newer(have, want));
        }
        for m in migrations().iter().skip(have as usize) {
            conn.execute_batch(m)?;
        }
        conn.execute_batch(&format!("PRAGMA user_version = {want}"))?;
        if have < 8 {
            for (project, name, ids) in super::volumes::duplicate_names(conn)? {
                tracing::warn!(
                    "volumes {} of project {project} share the name `{name}` (names are unique \
                     now; these are kept): rename all but one, by id",
                    ids.join(", ")
                );
            }
        }
        Ok(())
    })
}

fn newer(have: i64, want: i64) -> Error {
    Error::invalid(format!(
        "the database has schema version {have}, newer than this volctl's ({want}): use a newer volctl"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store written by a volctl of schema version 8 (sizes in GiB) reads
    /// as bytes after the migration: volumes, snapshots, the usage and
    /// reservations of the size resources; counts and limits unchanged.
    #[test]
    fn sizes_in_gib_become_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("volctl.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for m in migrations().iter().take(8) {
                conn.execute_batch(m).unwrap();
            }
            conn.execute_batch(
                "PRAGMA user_version = 8;
                 INSERT INTO volumes (id, project, size, status, quota_held, created_at, updated_at)
                   VALUES ('v', 'p', 3, 'available', 1, 't', 't');
                 INSERT INTO snapshots (id, volume_id, project, size, status, backend, created_at, updated_at)
                   VALUES ('s', 'v', 'p', 3, 'available', 'b', 't', 't');
                 INSERT INTO quotas VALUES ('p', 'gigabytes', 10);
                 INSERT INTO quota_usages VALUES ('p', 'volumes', 1, 1), ('p', 'gigabytes', 6, 2),
                   ('p', 'gigabytes_fast', 6, 2), ('p', 'snapshots', 1, 0);
                 INSERT INTO reservations VALUES ('r', 'p', 'volumes', 1, 0), ('r', 'p', 'gigabytes', 2, 0),
                   ('r', 'p', 'gigabytes_fast', 2, 0);",
            )
            .unwrap();
        }
        let db = Db::open(&path).unwrap();
        migrate(&db).unwrap();
        let conn = db.lock();
        let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(one("SELECT size FROM volumes"), 3 << 30);
        assert_eq!(one("SELECT size FROM snapshots"), 3 << 30);
        assert_eq!(one("SELECT hard_limit FROM quotas"), 10, "limits stay GiB");
        let usage = |r: &str| -> (i64, i64) {
            conn.query_row(
                "SELECT in_use, reserved FROM quota_usages WHERE resource = ?1",
                [r],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap()
        };
        assert_eq!(usage("gigabytes"), (6 << 30, 2 << 30));
        assert_eq!(usage("gigabytes_fast"), (6 << 30, 2 << 30));
        assert_eq!(usage("volumes"), (1, 1));
        assert_eq!(usage("snapshots"), (1, 0));
        let delta = |r: &str| -> i64 {
            conn.query_row(
                "SELECT delta FROM reservations WHERE resource = ?1",
                [r],
                |row| row.get(0),
            )
            .unwrap()
        };
        assert_eq!(delta("gigabytes"), 2 << 30);
        assert_eq!(delta("gigabytes_fast"), 2 << 30);
        assert_eq!(delta("volumes"), 1);
        drop(conn);
        migrate(&db).unwrap();
        assert_eq!(
            db.lock()
                .query_row("SELECT size FROM volumes", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            3 << 30,
            "a second migrate changes nothing"
        );
    }

    /// The kept provisioned figures follow every change of the rows that
    /// make them, as a recount would.
    #[test]
    fn provisioned_figures_follow_every_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        let conn = store.db().lock();
        let same = |what: &str| {
            for b in ["a", "b"] {
                assert_eq!(
                    crate::store::provisioned(&conn, b).unwrap(),
                    crate::store::provisioned_recount(&conn, b).unwrap(),
                    "backend {b} after {what}"
                );
            }
        };
        let steps = [
            "INSERT INTO volumes (id, project, size, status, created_at, updated_at)
               VALUES ('v', 'p', 100, 'creating', 't', 't')",
            "UPDATE volumes SET backend = 'a' WHERE id = 'v'",
            "UPDATE volumes SET size = 300 WHERE id = 'v'",
            "UPDATE volumes SET migrating_to = 'b' WHERE id = 'v'",
            "UPDATE volumes SET status = 'error' WHERE id = 'v'",
            "UPDATE volumes SET status = 'available', migrating_to = NULL, backend = 'b' WHERE id = 'v'",
            "INSERT INTO volumes (id, project, size, status, backend, created_at, updated_at)
               VALUES ('w', 'p', 7, 'available', 'a', 't', 't')",
            "UPDATE volumes SET migrating_to = 'a' WHERE id = 'w'",
            "INSERT INTO snapshots (id, volume_id, project, size, status, backend, created_at, updated_at)
               VALUES ('s', 'v', 'p', 300, 'available', 'b', 't', 't')",
            "INSERT INTO image_cache (backend, image_id, path, size, created_at, last_used)
               VALUES ('a', 'i', '/x', 50, 't', 0)",
            "UPDATE image_cache SET size = 60",
            "INSERT INTO image_cache (backend, image_id, path, size, created_at, last_used)
               VALUES ('a', 'i', '/y', 70, 't', 0)
             ON CONFLICT (backend, image_id) DO UPDATE SET size = excluded.size",
            "DELETE FROM snapshots",
            "DELETE FROM volumes WHERE id = 'v'",
            "INSERT INTO volumes (id, project, size, status, backend, created_at, updated_at)
               VALUES ('e', 'p', 9, 'error', 'a', 't', 't')",
            "DELETE FROM volumes",
            "DELETE FROM image_cache",
        ];
        for sql in steps {
            conn.execute_batch(sql).unwrap();
            same(sql);
        }
        assert_eq!(crate::store::provisioned(&conn, "a").unwrap().get(), 0);
    }
}
