//! Volume types and their extra specs.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{new_id, now};
use crate::config::{VolumeTypeConfig, valid_name};
use crate::db::Db;
use crate::error::{Error, Result};

/// A volume type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeType {
    /// Unique id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Extra specs matched against backend capabilities.
    pub extra_specs: BTreeMap<String, String>,
    /// Defined in the configuration file (not deletable with the CLI).
    pub from_config: bool,
    /// RFC 3339.
    pub created_at: String,
}

const COLUMNS: &str = "id, name, extra_specs, from_config, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(VolumeType, String)> {
    Ok((
        VolumeType {
            id: r.get(0)?,
            name: r.get(1)?,
            extra_specs: BTreeMap::new(),
            from_config: r.get(3)?,
            created_at: r.get(4)?,
        },
        r.get(2)?,
    ))
}

fn parse((mut t, specs): (VolumeType, String)) -> Result<VolumeType> {
    t.extra_specs = serde_json::from_str(&specs)?;
    Ok(t)
}

/// All types, by name.
pub fn list(conn: &Connection) -> Result<Vec<VolumeType>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM volume_types ORDER BY name"))?
        .query_map([], from_row)?
        .map(|r| parse(r?))
        .collect()
}

/// The type with this name or id.
pub fn find(conn: &Connection, key: &str) -> Result<VolumeType> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM volume_types WHERE name = ?1 OR id = ?1"
        ))?
        .query_row([key], from_row)
        .optional()?;
    match row {
        Some(r) => parse(r),
        None => Err(Error::not_found(format!("no volume type `{key}`"))),
    }
}

/// The extra spec that sets a type's wipe policy (`none`, `discard`,
/// `zero`), overriding its backend's.
pub const WIPE_SPEC: &str = "volctl:wipe";

/// The scopes an extra spec's key may have (`scope:key`): `capabilities:`
/// keys are matched against backend capabilities (as unscoped keys are),
/// `volctl:` keys are volctl's own settings.
pub const SPEC_SCOPES: [&str; 2] = ["capabilities", "volctl"];

/// volctl's own extra specs.
pub const VOLCTL_SPECS: [&str; 1] = [WIPE_SPEC];

/// Checks an extra spec's key: a scope volctl does not know, or a
/// `volctl:` key it does not have, would be silently ignored by the
/// scheduler, so the type would schedule anywhere.
pub fn check_spec_key(key: &str) -> std::result::Result<(), String> {
    let Some((scope, _)) = key.split_once(':') else {
        return Ok(());
    };
    if !SPEC_SCOPES.contains(&scope) {
        return Err(format!(
            "extra spec `{key}`: unknown scope `{scope}`{}; the scopes are `capabilities:` \
             (matched against backend capabilities, as a key without a scope is) and `volctl:`",
            crate::suggest::did_you_mean(scope, SPEC_SCOPES)
        ));
    }
    if scope == "volctl" && !VOLCTL_SPECS.contains(&key) {
        return Err(format!(
            "extra spec `{key}`: volctl has no such setting{}; it has {}",
            crate::suggest::did_you_mean(key, VOLCTL_SPECS),
            VOLCTL_SPECS.map(|k| format!("`{k}`")).join(", ")
        ));
    }
    Ok(())
}

impl VolumeType {
    /// The wipe policy the type sets, if any.
    pub fn wipe(&self) -> Result<Option<crate::config::Wipe>> {
        self.extra_specs
            .get(WIPE_SPEC)
            .map(|w| {
                w.parse().map_err(|e| {
                    Error::invalid(format!(
                        "volume type `{}`: {WIPE_SPEC} = `{w}`: {e} (none, discard or zero)",
                        self.name
                    ))
                })
            })
            .transpose()
    }
}

/// Creates a type.
pub fn create(
    conn: &Connection,
    name: &str,
    extra_specs: &BTreeMap<String, String>,
) -> Result<VolumeType> {
    if !valid_name(name) {
        return Err(Error::invalid(format!(
            "volume type name `{name}` must be 1-64 letters, digits, `-`, `_` or `.`"
        )));
    }
    if find(conn, name).is_ok() {
        return Err(Error::conflict(format!(
            "volume type `{name}` already exists"
        )));
    }
    for key in extra_specs.keys() {
        check_spec_key(key).map_err(Error::invalid)?;
    }
    let t = VolumeType {
        id: new_id(),
        name: name.to_string(),
        extra_specs: extra_specs.clone(),
        from_config: false,
        created_at: now(),
    };
    t.wipe()?;
    insert(conn, &t)?;
    Ok(t)
}

fn insert(conn: &Connection, t: &VolumeType) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO volume_types ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
    ))?
    .execute(params![
        t.id,
        t.name,
        serde_json::to_string(&t.extra_specs)?,
        t.from_config,
        t.created_at
    ])?;
    Ok(())
}

/// Deletes a type no volume uses.
pub fn delete(conn: &Connection, key: &str) -> Result<VolumeType> {
    let t = find(conn, key)?;
    if t.from_config {
        return Err(Error::conflict(format!(
            "volume type `{}` is defined in the configuration file; remove it there",
            t.name
        )));
    }
    let users: i64 = conn
        .prepare_cached("SELECT count(*) FROM volumes WHERE type_id = ?1")?
        .query_row([&t.id], |r| r.get(0))?;
    if users > 0 {
        return Err(Error::conflict(format!(
            "volume type `{}` is used by {users} volume(s)",
            t.name
        )));
    }
    conn.prepare_cached("DELETE FROM volume_types WHERE id = ?1")?
        .execute([&t.id])?;
    Ok(t)
}

/// Makes the stored config-defined types match the configuration. Writes
/// only when something differs, so the common case costs one read.
pub fn sync_config(db: &Db, wanted: &[VolumeTypeConfig]) -> Result<()> {
    let differs = |conn: &Connection| -> Result<bool> {
        let have: Vec<VolumeType> = list(conn)?.into_iter().filter(|t| t.from_config).collect();
        Ok(have.len() != wanted.len()
            || wanted.iter().any(|w| {
                !have
                    .iter()
                    .any(|h| h.name == *w.name.get_ref() && h.extra_specs == w.extra_specs)
            }))
    };
    if !differs(&db.lock())? {
        return Ok(());
    }
    db.immediate(|conn| {
        for w in wanted {
            let name = w.name.get_ref();
            match find(conn, name) {
                Ok(t) => {
                    conn.prepare_cached(
                        "UPDATE volume_types SET extra_specs = ?2, from_config = 1 WHERE id = ?1",
                    )?
                    .execute(params![t.id, serde_json::to_string(&w.extra_specs)?])?;
                }
                Err(_) => insert(
                    conn,
                    &VolumeType {
                        id: new_id(),
                        name: name.clone(),
                        extra_specs: w.extra_specs.clone(),
                        from_config: true,
                        created_at: now(),
                    },
                )?,
            }
        }
        // Types dropped from the configuration become ordinary types (volumes
        // may still use them).
        for t in list(conn)? {
            if t.from_config && !wanted.iter().any(|w| *w.name.get_ref() == t.name) {
                conn.prepare_cached("UPDATE volume_types SET from_config = 0 WHERE id = ?1")?
                    .execute([&t.id])?;
            }
        }
        Ok(())
    })
}
