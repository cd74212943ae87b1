//! The rename flow (`volume_rename`): one task, RenameVolume, that checks
//! the new name and records it. Its backend object keeps its name (objects
//! are named by id), so nothing outside the store changes.
//!
//! Initial store: `volume_id`, `new_name`.

use std::sync::Arc;

use crate::api::check_name;
use crate::error::Error;
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::service::Service;
use crate::store::events::{self, Event};
use crate::store::volumes;
use crate::symbols::{NEW_NAME, VOLUME, VOLUME_ID};
use crate::task_signature;

/// The flow's name.
pub const FLOW: &str = "volume_rename";

/// The rename flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW).add(RenameVolume(svc.clone()))
}

/// The flow's initial store.
pub fn inputs(volume_id: &str, new_name: &str) -> Values {
    outputs()
        .with(VOLUME_ID, volume_id.to_string())
        .with(NEW_NAME, new_name.to_string())
}

/// Checks the name (as `create --name` does) and records it, with an event.
/// Revert: the old name back.
pub struct RenameVolume(pub Arc<Service>);

impl Task for RenameVolume {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("putting the old name back".to_string())
    }

    task_signature!("RenameVolume", requires: [VOLUME_ID, NEW_NAME], provides: [VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id = ctx.get(VOLUME_ID)?;
        let name = check_name(Some(&ctx.get(NEW_NAME)?))?
            .ok_or_else(|| Error::invalid("a volume's new name may not be empty"))?;
        let conn = self.0.store.db().lock();
        let v = volumes::require(&conn, &id)?;
        volumes::claim_name(&conn, &v.project, &name, Some(&id))?;
        volumes::set_name(&conn, &id, Some(&name))?;
        events::emit(
            &conn,
            Some(&id),
            &Event::VolumeRename {
                from: v.name.clone(),
                to: name,
            },
        )?;
        Ok(outputs().with(VOLUME, v))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let Some(v) = ctx.result(VOLUME) {
            volumes::set_name(&self.0.store.db().lock(), &v.id, v.name.as_deref())?;
        }
        Ok(())
    }
}
