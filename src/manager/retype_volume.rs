//! The retype flow (`volume_retype`): one task, RetypeVolume, that gives a
//! volume another volume type. Its backend must satisfy the new type's
//! extra specs (`retype --migrate` first moves the volume to a backend that
//! does, with the migrate flow). The type-specific quota moves with it:
//! `volumes_<new>`/`gigabytes_<new>` reserved and committed, the old
//! type's released, in one transaction.
//!
//! Initial store: `volume_id`, `new_type`.

use std::sync::Arc;

use crate::error::{Error, ErrorKind};
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::quota::{Deltas, volume_deltas};
use crate::scheduler::filters::{Want, capabilities};
use crate::service::Service;
use crate::store::events::{self, Event};
use crate::store::types;
use crate::store::volumes::{self, Volume, VolumeStatus};
use crate::symbols::{NEW_TYPE, VOLUME, VOLUME_ID};
use crate::task_signature;

/// The flow's name.
pub const FLOW: &str = "volume_retype";

/// The retype flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW).add(RetypeVolume(svc.clone()))
}

/// The flow's initial store.
pub fn inputs(volume_id: &str, new_type: &str) -> Values {
    outputs()
        .with(VOLUME_ID, volume_id.to_string())
        .with(NEW_TYPE, new_type.to_string())
}

/// The quota a volume counts for under type `t` beyond the untyped figures.
fn typed_deltas(v: &Volume, t: Option<&str>) -> Deltas {
    volume_deltas(v.size, t)
        .into_iter()
        .filter(|(r, _)| r.contains('_'))
        .collect()
}

/// Whether backend `backend` satisfies type `type_name`'s extra specs; the
/// reason when not.
pub fn backend_satisfies(
    svc: &Service,
    conn: &rusqlite::Connection,
    backend: &str,
    type_name: &str,
) -> Result<Result<(), String>, Error> {
    let t = types::find(conn, type_name)?;
    let c = crate::scheduler::candidate(svc, conn, backend)?;
    let want = Want {
        extra_specs: t.extra_specs,
        ..Want::default()
    };
    let (ok, why) = capabilities(&want, &c);
    Ok(if ok { Ok(()) } else { Err(why) })
}

/// Checks the volume (available or in use) and that its backend satisfies
/// the new type, moves the typed quota and records the type. Revert: the
/// old type and quota back.
pub struct RetypeVolume(pub Arc<Service>);

impl Task for RetypeVolume {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("putting the old type and its quota back".to_string())
    }

    task_signature!("RetypeVolume", requires: [VOLUME_ID, NEW_TYPE], provides: [VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id = ctx.get(VOLUME_ID)?;
        let new_type = ctx.get(NEW_TYPE)?;
        let conn = self.0.store.db().lock();
        let v = volumes::require(&conn, &id)?;
        if !matches!(v.status, VolumeStatus::Available | VolumeStatus::InUse) {
            return Err(Error::conflict(format!(
                "volume {id} is {}; only an available or in-use volume can be retyped",
                v.status.phrase()
            ))
            .into());
        }
        let t = types::find(&conn, &new_type)?;
        let backend = v.backend.as_deref().unwrap_or_default();
        if let Err(why) = backend_satisfies(&self.0, &conn, backend, &t.name)? {
            return Err(Error::new(
                ErrorKind::NoValidBackend,
                format!(
                    "volume {id}'s backend `{backend}` does not satisfy type `{}`: {why}; \
                     `volctl retype --migrate` moves it to one that does",
                    t.name
                ),
            )
            .into());
        }
        let quota = self.0.quota();
        let r = quota.reserve(&conn, &v.project, &typed_deltas(&v, Some(&t.name)))?;
        quota.commit(&conn, &r.id)?;
        quota.release(&conn, &v.project, &typed_deltas(&v, v.type_name.as_deref()))?;
        volumes::set_type(&conn, &id, Some(&t.name), Some(&t.id))?;
        events::emit(
            &conn,
            Some(&id),
            &Event::VolumeRetype {
                from: v.type_name.clone(),
                to: t.name,
            },
        )?;
        Ok(outputs().with(VOLUME, v))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let Some(v) = ctx.result(VOLUME) else {
            return Ok(());
        };
        let new_type = ctx.get(NEW_TYPE)?;
        let conn = self.0.store.db().lock();
        let quota = self.0.quota();
        quota.release(&conn, &v.project, &typed_deltas(&v, Some(&new_type)))?;
        let back = crate::quota::negate(&typed_deltas(&v, v.type_name.as_deref()));
        quota.release(&conn, &v.project, &back)?;
        volumes::set_type(&conn, &v.id, v.type_name.as_deref(), v.type_id.as_deref())?;
        Ok(())
    }
}
