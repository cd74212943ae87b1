//! The scheduler: which backend a volume goes to, and why.

pub mod create_volume;
pub mod filters;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::api::VolumeRequest;
use crate::backends::builtin_capabilities;
use crate::error::Result;
use crate::service::Service;

pub use filters::{Candidate, Decision, Want, schedule};

/// Scheduling attempts of one volume so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    /// This attempt's number, from 1.
    pub attempt: u32,
    /// Backends tried by earlier attempts.
    pub tried: Vec<String>,
    /// Why each earlier attempt failed.
    pub failures: Vec<String>,
}

impl Retry {
    /// The first attempt.
    pub fn first() -> Self {
        Retry {
            attempt: 1,
            ..Retry::default()
        }
    }
}

/// The request the api flow casts to the scheduler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchedulerRequest {
    /// The volume.
    pub volume_id: String,
    /// What to create.
    pub request: VolumeRequest,
    /// Attempts so far.
    pub retry: Retry,
}

impl SchedulerRequest {
    /// What the filters are asked.
    pub fn want(&self) -> Want {
        Want {
            size: self.request.size,
            zone: self.request.zone.clone(),
            extra_specs: self.request.extra_specs.clone(),
            pinned_backend: self.request.pinned_backend.clone(),
            tried: self.retry.tried.clone(),
        }
    }
}

/// What the scheduler knows about every backend now. Run it inside the
/// write transaction that records the decision, so the provisioned figures
/// (in-flight creates included) cannot change underneath.
pub fn candidates(svc: &Service, conn: &Connection) -> Result<Vec<Candidate>> {
    svc.backends
        .all()
        .iter()
        .map(|d| candidate_of(d.as_ref(), conn))
        .collect()
}

/// What the scheduler knows about one backend now (an operation on a
/// volume's own backend, or on a named target, asks only it: reading every
/// backend's stats would cost an lvm2 call per LVM backend for nothing).
pub fn candidate(svc: &Service, conn: &Connection, backend: &str) -> Result<Candidate> {
    candidate_of(svc.backends.get(backend)?.as_ref(), conn)
}

fn candidate_of(d: &dyn crate::backends::Driver, conn: &Connection) -> Result<Candidate> {
    let cfg = d.config();
    Ok(Candidate {
        name: cfg.name().to_string(),
        zone: cfg.availability_zone.clone(),
        stats: stats(d, conn).map_err(|e| e.message),
        provisioned: crate::store::provisioned(conn, cfg.name())?,
        reserved_percentage: cfg.reserved_percentage,
        max_over_subscription_ratio: cfg.max_over_subscription_ratio,
        capabilities: builtin_capabilities(cfg),
    })
}

/// The size a volume of `size` has on `backend`: rounded up to the
/// backend's allocation unit (an LVM VG's extents), with a warning when
/// that changes it. An unreadable backend is an error, not "no rounding":
/// lvm2 would round anyway, and the record would be smaller than the LV.
pub fn allocated_size(
    svc: &Service,
    conn: &Connection,
    backend: &str,
    size: crate::units::Bytes,
    what: &str,
) -> Result<crate::units::Bytes> {
    let unit = stats(svc.backends.get(backend)?.as_ref(), conn)?.allocation_unit;
    let rounded = size.round_up(unit.get());
    if rounded != size {
        tracing::warn!(
            "{what}: {} rounded up to {}, a whole number of extents of backend `{backend}` \
             ({} each)",
            size.human(),
            rounded.human(),
            unit.human()
        );
    }
    Ok(rounded)
}

/// A backend's stats, from the store's cache while fresh (slow drivers).
pub fn stats(
    driver: &dyn crate::backends::Driver,
    conn: &Connection,
) -> Result<crate::backends::Stats> {
    let Some(ttl) = driver.stats_ttl() else {
        return driver.stats();
    };
    let name = driver.name();
    if let Some(s) = crate::store::backends::cached(conn, name, ttl.as_micros() as i64)? {
        return Ok(s);
    }
    let s = driver.stats()?;
    crate::store::backends::save(conn, name, &driver.config().driver.to_string(), &s)?;
    Ok(s)
}

/// The space a volume of `volume_type` (none: no extra specs) could take
/// now, as the scheduler sees it: the virtual free space of every backend
/// whose capabilities the type's extra specs match (in-flight creates
/// counted, as they are in the provisioned figures), summed, and the
/// largest of them. What CSI's `GetCapacity` reports.
pub fn free_for_type(
    svc: &Service,
    volume_type: Option<&str>,
) -> Result<(crate::units::Bytes, crate::units::Bytes)> {
    let conn = svc.store.db().lock();
    let extra_specs = match volume_type {
        Some(t) => crate::store::types::find(&conn, t)?.extra_specs,
        None => Default::default(),
    };
    let want = filters::Want {
        extra_specs,
        ..Default::default()
    };
    let (mut sum, mut largest) = (0u64, 0u64);
    for c in candidates(svc, &conn)? {
        if !filters::capabilities(&want, &c).0 {
            continue;
        }
        let (_, _, free_gib) = filters::capacity(&want, &c);
        // Whole MiB, rounded down: never more than a create could have.
        let free = (free_gib.unwrap_or(0.0).max(0.0) * 1024.0).floor() as u64 * crate::units::MIB;
        sum = sum.saturating_add(free);
        largest = largest.max(free);
    }
    Ok((crate::units::Bytes(sum), crate::units::Bytes(largest)))
}
