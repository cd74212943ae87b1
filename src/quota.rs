//! Quotas: reserve → commit, or roll back; reservations expire.
//!
//! Per project, limits come from `volctl quota set` (the `quotas` table) or
//! the configuration's defaults; per-type counters (`volumes_<type>`,
//! `gigabytes_<type>`, `snapshots_<type>`) are unlimited unless set.
//! Usage (`in_use + reserved`) changes only inside the caller's write
//! transaction, and every failure is an error: nothing is swallowed, so usage
//! always equals a recount of what exists.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::config::QuotaDefaults;
use crate::error::{Error, ErrorKind, Result};
use crate::store::{new_id, unix_now};
use crate::units::Bytes;

/// The resources with a default limit.
pub const BASE_RESOURCES: [&str; 3] = ["volumes", "gigabytes", "snapshots"];

/// Checks that `resource` is one quotas count: a base resource,
/// `per_volume_gigabytes`, or a base resource of an existing volume type
/// (`gigabytes_fast`). A limit on anything else would never apply.
pub fn check_resource(conn: &Connection, resource: &str) -> Result<()> {
    if BASE_RESOURCES.contains(&resource) || resource == "per_volume_gigabytes" {
        return Ok(());
    }
    let types = crate::store::types::list(conn)?;
    let mut known: Vec<String> = BASE_RESOURCES
        .iter()
        .chain(["per_volume_gigabytes"].iter())
        .map(|r| r.to_string())
        .collect();
    for t in &types {
        known.extend(BASE_RESOURCES.iter().map(|r| format!("{r}_{}", t.name)));
    }
    if known.iter().any(|k| k == resource) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "unknown quota resource `{resource}`{}; the resources are volumes, gigabytes, snapshots, \
         per_volume_gigabytes, and volumes_TYPE, gigabytes_TYPE, snapshots_TYPE for an existing \
         volume type",
        crate::suggest::did_you_mean(resource, known.iter().map(String::as_str))
    )))
}

/// A set of changes to usage, by resource.
pub type Deltas = Vec<(String, i64)>;

/// Whether `resource` counts sizes: its usage is in bytes (so many small
/// volumes add up exactly), its limit in GiB (what people set).
pub fn counts_bytes(resource: &str) -> bool {
    resource == "gigabytes" || resource.starts_with("gigabytes_")
}

/// A limit as set (GiB for the size resources) in the unit usage is
/// counted in (bytes for those). Unlimited (-1) stays -1.
fn limit_in_usage_units(resource: &str, limit: i64) -> i64 {
    if limit >= 0 && counts_bytes(resource) {
        limit.saturating_mul(1 << 30)
    } else {
        limit
    }
}

fn bytes_delta(size: Bytes) -> i64 {
    i64::try_from(size.get()).unwrap_or(i64::MAX)
}

/// The usage a volume of `size` and type `type_name` counts for.
pub fn volume_deltas(size: Bytes, type_name: Option<&str>) -> Deltas {
    let mut d = vec![
        ("volumes".to_string(), 1),
        ("gigabytes".to_string(), bytes_delta(size)),
    ];
    if let Some(t) = type_name {
        d.push((format!("volumes_{t}"), 1));
        d.push((format!("gigabytes_{t}"), bytes_delta(size)));
    }
    d
}

/// The usage a snapshot of `size` of a volume of type `type_name` counts
/// for (its size counts against `gigabytes`).
pub fn snapshot_deltas(size: Bytes, type_name: Option<&str>) -> Deltas {
    let mut d = vec![
        ("snapshots".to_string(), 1),
        ("gigabytes".to_string(), bytes_delta(size)),
    ];
    if let Some(t) = type_name {
        d.push((format!("snapshots_{t}"), 1));
        d.push((format!("gigabytes_{t}"), bytes_delta(size)));
    }
    d
}

/// Negates every delta.
pub fn negate(d: &Deltas) -> Deltas {
    d.iter().map(|(r, n)| (r.clone(), -n)).collect()
}

/// A reservation made by [`Quota::reserve`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "ReservationRecord", into = "ReservationRecord")]
pub struct Reservation {
    /// Its id.
    pub id: String,
    /// The project.
    pub project: String,
    /// What it reserves.
    pub deltas: Deltas,
}

/// A reservation as a flow records it. One recorded before sizes were
/// bytes (no `sizes_in_bytes`) has whole GiB for the size resources: it is
/// read as bytes, as the store's own copy was migrated.
#[derive(Serialize, Deserialize)]
struct ReservationRecord {
    id: String,
    project: String,
    deltas: Deltas,
    #[serde(default)]
    sizes_in_bytes: bool,
}

impl From<ReservationRecord> for Reservation {
    fn from(r: ReservationRecord) -> Self {
        let deltas = if r.sizes_in_bytes {
            r.deltas
        } else {
            r.deltas
                .into_iter()
                .map(|(res, d)| {
                    let d = if counts_bytes(&res) {
                        d.saturating_mul(1 << 30)
                    } else {
                        d
                    };
                    (res, d)
                })
                .collect()
        };
        Reservation {
            id: r.id,
            project: r.project,
            deltas,
        }
    }
}

impl From<Reservation> for ReservationRecord {
    fn from(r: Reservation) -> Self {
        ReservationRecord {
            id: r.id,
            project: r.project,
            deltas: r.deltas,
            sizes_in_bytes: true,
        }
    }
}

/// One resource's figures, in its unit: a count, or for the size
/// resources (`gigabytes`, `gigabytes_<type>`) a size. Its JSON form gives
/// sizes in GiB (a fraction when not whole, see
/// [`crate::units::Bytes::gib_json`]) with `in_use_bytes` and
/// `reserved_bytes` beside them.
#[derive(Clone, Debug, PartialEq)]
pub struct Usage {
    /// Hard limit (GiB for a size resource); -1 is unlimited.
    pub limit: i64,
    /// Committed (bytes for a size resource).
    pub in_use: i64,
    /// Reserved, not yet committed (bytes for a size resource).
    pub reserved: i64,
    /// Whether this is a size resource.
    pub sizes: bool,
}

impl Usage {
    /// `n` of this resource, for people (`3`, `1.5 GiB`).
    pub fn show(&self, n: i64) -> String {
        if self.sizes {
            Bytes(n.max(0) as u64).human()
        } else {
            n.to_string()
        }
    }
}

impl Serialize for Usage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("limit", &self.limit)?;
        if self.sizes {
            let gib = |n: i64| Bytes(n.max(0) as u64).gib_json();
            m.serialize_entry("in_use", &gib(self.in_use))?;
            m.serialize_entry("reserved", &gib(self.reserved))?;
            m.serialize_entry("in_use_bytes", &self.in_use)?;
            m.serialize_entry("reserved_bytes", &self.reserved)?;
        } else {
            m.serialize_entry("in_use", &self.in_use)?;
            m.serialize_entry("reserved", &self.reserved)?;
        }
        m.end()
    }
}

/// A recorded usage figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageRow {
    /// The project.
    pub project: String,
    /// The resource.
    pub resource: String,
    /// Committed.
    pub in_use: i64,
    /// Reserved.
    pub reserved: i64,
}

/// One resource of a recorded reservation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReservationRow {
    /// The reservation.
    pub id: String,
    /// The project.
    pub project: String,
    /// The resource.
    pub resource: String,
    /// How much.
    pub delta: i64,
    /// Unix seconds.
    pub expire: i64,
}

/// The quota engine, given the configured defaults.
#[derive(Clone, Copy, Debug)]
pub struct Quota<'a> {
    defaults: &'a QuotaDefaults,
}

/// `n` of `resource` in its usage unit, for people (`3 volumes`,
/// `512 MiB`; a negative `n` with its sign).
pub fn amount(resource: &str, n: i64) -> String {
    if n < 0 {
        return format!("-{}", amount(resource, n.saturating_neg()));
    }
    if counts_bytes(resource) {
        Bytes(n as u64).human()
    } else if resource.starts_with("volumes") {
        format!("{n} volume{}", if n == 1 { "" } else { "s" })
    } else if resource.starts_with("snapshots") {
        format!("{n} snapshot{}", if n == 1 { "" } else { "s" })
    } else {
        n.to_string()
    }
}

impl<'a> Quota<'a> {
    /// The engine with `defaults`.
    pub fn new(defaults: &'a QuotaDefaults) -> Self {
        Quota { defaults }
    }

    /// The limit of `resource` for `project`.
    pub fn limit(&self, conn: &Connection, project: &str, resource: &str) -> Result<i64> {
        let set: Option<i64> = conn
            .prepare_cached("SELECT hard_limit FROM quotas WHERE project = ?1 AND resource = ?2")?
            .query_row([project, resource], |r| r.get(0))
            .optional()?;
        Ok(set.unwrap_or(match resource {
            "volumes" => self.defaults.volumes,
            "gigabytes" => self.defaults.gigabytes,
            "snapshots" => self.defaults.snapshots,
            "per_volume_gigabytes" => self.defaults.per_volume_gigabytes,
            _ => -1,
        }))
    }

    /// Sets a project's limit (-1: unlimited).
    pub fn set_limit(
        &self,
        conn: &Connection,
        project: &str,
        resource: &str,
        limit: i64,
    ) -> Result<()> {
        if limit < -1 {
            return Err(Error::invalid(format!(
                "quota limit for {resource} must be -1 (unlimited) or more, not {limit}"
            )));
        }
        check_resource(conn, resource)?;
        conn.prepare_cached(
            "INSERT INTO quotas (project, resource, hard_limit) VALUES (?1, ?2, ?3)
             ON CONFLICT (project, resource) DO UPDATE SET hard_limit = excluded.hard_limit",
        )?
        .execute(params![project, resource, limit])?;
        Ok(())
    }

    /// Removes `project`'s own limit on `resource` (the default applies
    /// again); removing one that is not set is not an error.
    pub fn unset_limit(&self, conn: &Connection, project: &str, resource: &str) -> Result<()> {
        conn.prepare_cached("DELETE FROM quotas WHERE project = ?1 AND resource = ?2")?
            .execute(params![project, resource])?;
        Ok(())
    }

    fn usage_of(conn: &Connection, project: &str, resource: &str) -> Result<(i64, i64)> {
        Ok(conn
            .prepare_cached(
                "SELECT in_use, reserved FROM quota_usages WHERE project = ?1 AND resource = ?2",
            )?
            .query_row([project, resource], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((0, 0)))
    }

    fn add_usage(
        conn: &Connection,
        project: &str,
        resource: &str,
        in_use: i64,
        reserved: i64,
    ) -> Result<()> {
        let (u, r) = Self::usage_of(conn, project, resource)?;
        if u + in_use < 0 || r + reserved < 0 {
            return Err(Error::internal(format!(
                "quota usage of {resource} in project {project} would become negative \
                 (in use {u}{in_use:+}, reserved {r}{reserved:+}): the store is inconsistent; run `volctl check`"
            )));
        }
        conn.prepare_cached(
            "INSERT INTO quota_usages (project, resource, in_use, reserved) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (project, resource) DO UPDATE
             SET in_use = in_use + excluded.in_use, reserved = reserved + excluded.reserved",
        )?
        .execute(params![project, resource, in_use, reserved])?;
        Ok(())
    }

    /// Fails if a single volume of `size` is over the per-volume limit.
    pub fn check_per_volume(&self, conn: &Connection, project: &str, size: Bytes) -> Result<()> {
        let limit = self.limit(conn, project, "per_volume_gigabytes")?;
        if limit >= 0 && size > Bytes::gib(limit as u64) {
            return Err(Error::new(
                ErrorKind::OverQuota,
                format!(
                    "per-volume quota exceeded in project {project}: requested {}, \
                     the largest volume allowed is {limit} GiB",
                    size.human()
                ),
            ));
        }
        Ok(())
    }

    /// Reserves `deltas` for `project`, or fails saying what was requested,
    /// the limit and what is used. Run it inside a write transaction.
    pub fn reserve(
        &self,
        conn: &Connection,
        project: &str,
        deltas: &Deltas,
    ) -> Result<Reservation> {
        // Cinder expires reservations periodically; volctl has no daemon, so
        // every reserve does it first (an index lookup when none expired),
        // and a reservation left by a process that vanished can never hold
        // quota past its expiry.
        self.expire(conn)?;
        for (resource, delta) in deltas.iter().filter(|(_, d)| *d > 0) {
            let limit = limit_in_usage_units(resource, self.limit(conn, project, resource)?);
            if limit < 0 {
                continue;
            }
            let (in_use, reserved) = Self::usage_of(conn, project, resource)?;
            if in_use + reserved + delta > limit {
                return Err(Error::new(
                    ErrorKind::OverQuota,
                    format!(
                        "quota exceeded for {resource} in project {project}: requested {}, \
                         quota is {} and {} {} been consumed{}",
                        amount(resource, *delta),
                        amount(resource, limit),
                        amount(resource, in_use),
                        if in_use == 1 { "has" } else { "have" },
                        if reserved > 0 {
                            format!(
                                " ({} more reserved by creates in progress)",
                                amount(resource, reserved)
                            )
                        } else {
                            String::new()
                        }
                    ),
                )
                .with_details(serde_json::json!({
                    "resource": resource, "requested": delta, "limit": limit,
                    "in_use": in_use, "reserved": reserved,
                    "unit": if counts_bytes(resource) { "bytes" } else { "count" },
                })));
            }
        }
        let r = Reservation {
            id: new_id(),
            project: project.to_string(),
            deltas: deltas.clone(),
        };
        self.insert_reservation(conn, &r)?;
        Ok(r)
    }

    fn insert_reservation(&self, conn: &Connection, r: &Reservation) -> Result<()> {
        let expire = unix_now() + self.defaults.reservation_expire as i64;
        for (resource, delta) in &r.deltas {
            conn.prepare_cached(
                "INSERT INTO reservations (id, project, resource, delta, expire) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![r.id, r.project, resource, delta, expire])?;
            Self::add_usage(conn, &r.project, resource, 0, *delta)?;
        }
        Ok(())
    }

    /// The stored rows of a reservation.
    fn stored(conn: &Connection, id: &str) -> Result<Option<Reservation>> {
        let rows: Vec<(String, String, i64)> = conn
            .prepare_cached("SELECT project, resource, delta FROM reservations WHERE id = ?1")?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows.first().map(|(p, _, _)| Reservation {
            id: id.to_string(),
            project: p.clone(),
            deltas: rows.iter().map(|(_, r, d)| (r.clone(), *d)).collect(),
        }))
    }

    /// Moves a reservation into use. A reservation that is gone (expired) is
    /// an error, never ignored.
    pub fn commit(&self, conn: &Connection, id: &str) -> Result<()> {
        let r = Self::stored(conn, id)?.ok_or_else(|| {
            Error::internal(format!(
                "quota reservation {id} no longer exists (expired?)"
            ))
        })?;
        for (resource, delta) in &r.deltas {
            Self::add_usage(conn, &r.project, resource, *delta, -delta)?;
        }
        conn.prepare_cached("DELETE FROM reservations WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }

    /// Releases a reservation (nothing to do if it is already gone).
    pub fn rollback(&self, conn: &Connection, id: &str) -> Result<()> {
        if let Some(r) = Self::stored(conn, id)? {
            for (resource, delta) in &r.deltas {
                Self::add_usage(conn, &r.project, resource, 0, -delta)?;
            }
            conn.prepare_cached("DELETE FROM reservations WHERE id = ?1")?
                .execute([id])?;
        }
        Ok(())
    }

    /// Undoes a commit: the usage goes back to being reserved under the same
    /// reservation id, so a later rollback releases it.
    pub fn uncommit(&self, conn: &Connection, r: &Reservation) -> Result<()> {
        if Self::stored(conn, &r.id)?.is_some() {
            return Ok(());
        }
        for (resource, delta) in &r.deltas {
            Self::add_usage(conn, &r.project, resource, -delta, 0)?;
        }
        self.insert_reservation(conn, r)
    }

    /// Changes committed usage by `deltas` (a volume's recorded size
    /// changed). Increases are checked against the limits as a
    /// reservation is; decreases give usage back.
    pub fn adjust(&self, conn: &Connection, project: &str, deltas: &Deltas) -> Result<()> {
        let up: Deltas = deltas.iter().filter(|(_, d)| *d > 0).cloned().collect();
        let down: Deltas = deltas
            .iter()
            .filter(|(_, d)| *d < 0)
            .map(|(r, d)| (r.clone(), -d))
            .collect();
        if !up.is_empty() {
            let r = self.reserve(conn, project, &up)?;
            self.commit(conn, &r.id)?;
        }
        self.release(conn, project, &down)
    }

    /// Gives back usage that was in use (a deleted or failed volume).
    pub fn release(&self, conn: &Connection, project: &str, deltas: &Deltas) -> Result<()> {
        for (resource, delta) in deltas {
            Self::add_usage(conn, project, resource, -delta, 0)?;
        }
        Ok(())
    }

    /// Rolls back every reservation past its expiry; returns their ids.
    pub fn expire(&self, conn: &Connection) -> Result<Vec<String>> {
        let ids = self.expired(conn)?;
        for id in &ids {
            self.rollback_abandoned(conn, id)?;
        }
        Ok(ids)
    }

    /// Rolls back a reservation nobody will commit, and forgets it on the
    /// volume that recorded it.
    pub fn rollback_abandoned(&self, conn: &Connection, id: &str) -> Result<()> {
        self.rollback(conn, id)?;
        conn.prepare_cached("UPDATE volumes SET reservation = NULL WHERE reservation = ?1")?
            .execute([id])?;
        Ok(())
    }

    /// Every recorded usage figure.
    pub fn all_usages(&self, conn: &Connection) -> Result<Vec<UsageRow>> {
        Ok(conn
            .prepare_cached("SELECT project, resource, in_use, reserved FROM quota_usages")?
            .query_map([], |r| {
                Ok(UsageRow {
                    project: r.get(0)?,
                    resource: r.get(1)?,
                    in_use: r.get(2)?,
                    reserved: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Every reservation line (one per resource of each reservation).
    pub fn all_reservations(&self, conn: &Connection) -> Result<Vec<ReservationRow>> {
        Ok(conn
            .prepare_cached("SELECT id, project, resource, delta, expire FROM reservations")?
            .query_map([], |r| {
                Ok(ReservationRow {
                    id: r.get(0)?,
                    project: r.get(1)?,
                    resource: r.get(2)?,
                    delta: r.get(3)?,
                    expire: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Overwrites a usage figure (repair, from a recount).
    pub fn set_usage(&self, conn: &Connection, u: &UsageRow) -> Result<()> {
        conn.prepare_cached(
            "INSERT INTO quota_usages (project, resource, in_use, reserved) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (project, resource) DO UPDATE SET in_use = excluded.in_use, reserved = excluded.reserved",
        )?
        .execute(rusqlite::params![u.project, u.resource, u.in_use, u.reserved])?;
        Ok(())
    }

    /// Reservations past their expiry.
    pub fn expired(&self, conn: &Connection) -> Result<Vec<String>> {
        Ok(conn
            .prepare_cached("SELECT DISTINCT id FROM reservations WHERE expire < ?1")?
            .query_map([unix_now()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// A project's figures, per resource: the base resources always, others
    /// when used or limited.
    pub fn usage(&self, conn: &Connection, project: &str) -> Result<BTreeMap<String, Usage>> {
        let mut out = BTreeMap::new();
        for r in BASE_RESOURCES.iter().chain(["per_volume_gigabytes"].iter()) {
            out.insert(
                r.to_string(),
                Usage {
                    limit: self.limit(conn, project, r)?,
                    in_use: 0,
                    reserved: 0,
                    sizes: counts_bytes(r),
                },
            );
        }
        let rows: Vec<(String, i64, i64)> = conn
            .prepare_cached(
                "SELECT resource, in_use, reserved FROM quota_usages WHERE project = ?1",
            )?
            .query_map([project], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (resource, in_use, reserved) in rows {
            let limit = self.limit(conn, project, &resource)?;
            let sizes = counts_bytes(&resource);
            out.insert(
                resource,
                Usage {
                    limit,
                    in_use,
                    reserved,
                    sizes,
                },
            );
        }
        let limits: Vec<(String, i64)> = conn
            .prepare_cached("SELECT resource, hard_limit FROM quotas WHERE project = ?1")?
            .query_map([project], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (resource, limit) in limits {
            let sizes = counts_bytes(&resource);
            out.entry(resource)
                .or_insert(Usage {
                    limit,
                    in_use: 0,
                    reserved: 0,
                    sizes,
                })
                .limit = limit;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn setup() -> (tempfile::TempDir, Store, QuotaDefaults) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let defaults = QuotaDefaults {
            volumes: 3,
            gigabytes: 10,
            ..QuotaDefaults::default()
        };
        (dir, store, defaults)
    }

    fn figures(q: &Quota<'_>, store: &Store, r: &str) -> (i64, i64) {
        let u = q.usage(&store.db().lock(), "p").unwrap();
        let u = &u[r];
        // Size resources count bytes; these tests speak whole GiB.
        if u.sizes {
            (u.in_use >> 30, u.reserved >> 30)
        } else {
            (u.in_use, u.reserved)
        }
    }

    #[test]
    fn reserve_commit_rollback_uncommit_release() {
        let (_d, store, defaults) = setup();
        let q = Quota::new(&defaults);
        let conn = store.db().lock();
        let r = q
            .reserve(&conn, "p", &volume_deltas(Bytes::gib(4), Some("fast")))
            .unwrap();
        drop(conn);
        assert_eq!(figures(&q, &store, "gigabytes"), (0, 4));
        assert_eq!(figures(&q, &store, "gigabytes_fast"), (0, 4));
        let conn = store.db().lock();
        q.commit(&conn, &r.id).unwrap();
        drop(conn);
        assert_eq!(figures(&q, &store, "gigabytes"), (4, 0));
        let conn = store.db().lock();
        assert!(
            q.commit(&conn, &r.id).is_err(),
            "a commit of a gone reservation is an error"
        );
        q.uncommit(&conn, &r).unwrap();
        drop(conn);
        assert_eq!(figures(&q, &store, "gigabytes"), (0, 4));
        let conn = store.db().lock();
        q.rollback(&conn, &r.id).unwrap();
        q.rollback(&conn, &r.id).unwrap();
        drop(conn);
        assert_eq!(figures(&q, &store, "gigabytes"), (0, 0));
        assert_eq!(figures(&q, &store, "volumes_fast"), (0, 0));

        let conn = store.db().lock();
        let r = q
            .reserve(&conn, "p", &volume_deltas(Bytes::gib(1), None))
            .unwrap();
        q.commit(&conn, &r.id).unwrap();
        q.release(&conn, "p", &r.deltas).unwrap();
        assert!(
            q.release(&conn, "p", &r.deltas).is_err(),
            "usage never goes negative"
        );
    }

    #[test]
    fn expired_reservations_are_rolled_back_by_the_next_reserve() {
        let (_d, store, defaults) = setup();
        let q = Quota::new(&defaults);
        let conn = store.db().lock();
        // A create that vanished long ago left 8 of the 10 GiB reserved.
        let old = q
            .reserve(&conn, "p", &volume_deltas(Bytes::gib(8), None))
            .unwrap();
        conn.execute(
            "UPDATE reservations SET expire = 1 WHERE id = ?1",
            [&old.id],
        )
        .unwrap();
        let r = q.reserve(&conn, "p", &volume_deltas(Bytes::gib(9), None));
        assert!(
            r.is_ok(),
            "the expired 8 GiB no longer count: {:?}",
            r.err()
        );
        drop(conn);
        assert_eq!(figures(&q, &store, "gigabytes"), (0, 9));
        let conn = store.db().lock();
        assert!(
            q.commit(&conn, &old.id).is_err(),
            "an expired reservation cannot be committed"
        );
        assert!(q.expired(&conn).unwrap().is_empty());
    }

    #[test]
    fn small_volumes_count_exactly_against_gigabytes() {
        let (_d, store, mut defaults) = setup();
        defaults.gigabytes = 1;
        defaults.volumes = -1;
        let q = Quota::new(&defaults);
        let conn = store.db().lock();
        for _ in 0..4 {
            q.reserve(&conn, "p", &volume_deltas(Bytes::mib(256), None))
                .expect("four 256 MiB volumes fit in 1 GiB");
        }
        let e = q
            .reserve(&conn, "p", &volume_deltas(Bytes::mib(1), None))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::OverQuota);
        assert!(
            e.message.contains(
                "requested 1 MiB, quota is 1 GiB and 0 B have been consumed (1 GiB more reserved"
            ),
            "{}",
            e.message
        );
        let u = &q.usage(&conn, "p").unwrap()["gigabytes"];
        assert_eq!((u.in_use, u.reserved), (0, 1 << 30));
        let json = serde_json::to_value(u).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"limit": 1, "in_use": 0, "reserved": 1,
                "in_use_bytes": 0, "reserved_bytes": 1 << 30})
        );
    }

    #[test]
    fn reservations_recorded_in_gib_read_as_bytes() {
        let legacy = r#"{"id":"r","project":"p","deltas":[["volumes",1],["gigabytes",2],["gigabytes_fast",2]]}"#;
        let r: Reservation = serde_json::from_str(legacy).unwrap();
        assert_eq!(
            r.deltas,
            vec![
                ("volumes".to_string(), 1),
                ("gigabytes".to_string(), 2 << 30),
                ("gigabytes_fast".to_string(), 2 << 30)
            ]
        );
        let again: Reservation = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(again, r, "a new record is read as written");
    }

    #[test]
    fn over_quota_says_requested_limit_and_used() {
        let (_d, store, defaults) = setup();
        let q = Quota::new(&defaults);
        let conn = store.db().lock();
        let r = q
            .reserve(&conn, "p", &volume_deltas(Bytes::gib(7), None))
            .unwrap();
        q.commit(&conn, &r.id).unwrap();
        q.reserve(&conn, "p", &volume_deltas(Bytes::gib(2), None))
            .unwrap();
        let e = q
            .reserve(&conn, "p", &volume_deltas(Bytes::gib(2), None))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::OverQuota);
        assert!(
            e.message.contains(
                "requested 2 GiB, quota is 10 GiB and 7 GiB have been consumed (2 GiB more reserved"
            ),
            "{}",
            e.message
        );
        drop(conn);
        assert_eq!(
            figures(&q, &store, "gigabytes"),
            (7, 2),
            "a refused reserve changes nothing"
        );
        let conn = store.db().lock();
        q.reserve(&conn, "p", &volume_deltas(Bytes::gib(1), None))
            .unwrap();
        let e = q
            .reserve(&conn, "p", &vec![("volumes".to_string(), 1)])
            .unwrap_err();
        assert!(
            e.message.contains("quota exceeded for volumes in project p: requested 1 volume, quota is 3 volumes and 1 volume has been consumed (2 volumes more reserved"),
            "{}",
            e.message
        );
    }

    #[test]
    fn limits_per_project_and_per_volume() {
        let (_d, store, defaults) = setup();
        let q = Quota::new(&defaults);
        let conn = store.db().lock();
        q.set_limit(&conn, "p", "gigabytes", 100).unwrap();
        q.set_limit(&conn, "p", "per_volume_gigabytes", 5).unwrap();
        q.reserve(&conn, "p", &volume_deltas(Bytes::gib(50), None))
            .unwrap();
        assert_eq!(
            q.check_per_volume(&conn, "p", Bytes::gib(6))
                .unwrap_err()
                .kind,
            ErrorKind::OverQuota
        );
        q.check_per_volume(&conn, "p", Bytes::gib(5)).unwrap();
        assert!(
            q.check_per_volume(&conn, "p", Bytes::gib(5).saturating_add(Bytes::mib(1)))
                .is_err(),
            "5 GiB and 1 MiB is over a 5 GiB per-volume limit"
        );
        q.check_per_volume(&conn, "other", Bytes::gib(500)).unwrap();
        assert!(q.set_limit(&conn, "p", "volumes", -2).is_err());
        assert!(
            q.set_limit(&conn, "p", "gigabytes_gold", 3).is_err(),
            "no such type yet: the limit would never apply"
        );
        crate::store::types::create(&conn, "gold", &Default::default()).unwrap();
        q.set_limit(&conn, "p", "gigabytes_gold", 3).unwrap();
        assert_eq!(q.usage(&conn, "p").unwrap()["gigabytes_gold"].limit, 3);
        assert_eq!(
            q.reserve(&conn, "p", &volume_deltas(Bytes::gib(4), Some("gold")))
                .unwrap_err()
                .kind,
            ErrorKind::OverQuota
        );
    }
}
