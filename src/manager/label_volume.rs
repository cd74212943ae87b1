//! The label flow (`volume_label`): one task, LabelVolume, that changes a
//! volume's labels (`volctl label VOL k=v k2-`) and records the change as
//! an event. Nothing outside the store changes.
//!
//! Initial store: `volume_id`, `label_change`.

use std::sync::Arc;

use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::service::Service;
use crate::store::events::{self, Event};
use crate::store::volumes;
use crate::symbols::{LABEL_CHANGE, VOLUME, VOLUME_ID};
use crate::task_signature;

/// The flow's name.
pub const FLOW: &str = "volume_label";

/// The label flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW).add(LabelVolume(svc.clone()))
}

/// The flow's initial store.
pub fn inputs(volume_id: &str, change: &crate::labels::Change) -> Values {
    outputs()
        .with(VOLUME_ID, volume_id.to_string())
        .with(LABEL_CHANGE, change.clone())
}

/// Applies the change (checked again: a library caller may not have parsed
/// it) and records an event. Revert: the old labels back.
pub struct LabelVolume(pub Arc<Service>);

impl Task for LabelVolume {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("putting the old labels back".to_string())
    }

    task_signature!("LabelVolume", requires: [VOLUME_ID, LABEL_CHANGE], provides: [VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id = ctx.get(VOLUME_ID)?;
        let change = ctx.get(LABEL_CHANGE)?;
        for (k, v) in &change.set {
            crate::labels::check_key(k)?;
            crate::labels::check_value(k, v)?;
        }
        for k in &change.remove {
            crate::labels::check_key(k)?;
        }
        let conn = self.0.store.db().lock();
        let v = volumes::require(&conn, &id)?;
        let labels = change.apply(&v.labels);
        volumes::set_labels(&conn, &id, &labels)?;
        events::emit(
            &conn,
            Some(&id),
            &Event::VolumeLabel {
                set: change.set,
                removed: change.remove,
            },
        )?;
        Ok(outputs().with(VOLUME, v))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let Some(v) = ctx.result(VOLUME) {
            volumes::set_labels(&self.0.store.db().lock(), &v.id, &v.labels)?;
        }
        Ok(())
    }
}
