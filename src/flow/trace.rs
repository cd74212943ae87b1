//! A listener that reports every transition as a `tracing` event (target
//! `volctl::flow`), for diagnostics: flows at `info`, atoms at `debug`,
//! progress at `trace`. Each event carries the flow's id and name, and an
//! atom's attempt and duration, so `VOLCTL_LOG=volctl::flow=debug` shows a
//! run's whole history with its retries and timings.

use super::listener::{AtomEvent, FlowEvent, Listener, ProgressEvent};

/// Reports transitions through `tracing` (cheap when nothing listens).
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingListener;

impl Listener for TracingListener {
    fn flow_changed(&self, e: &FlowEvent<'_>) {
        tracing::info!(
            target: "volctl::flow",
            flow_id = e.flow_id,
            flow = e.flow_name,
            state = %e.state,
            failure = e.failures.first().map(|f| f.to_string()),
            revert_failure = e.revert_failure.map(|f| f.to_string()),
            "flow {}",
            e.state
        );
    }

    fn atom_changed(&self, e: &AtomEvent<'_>) {
        tracing::debug!(
            target: "volctl::flow",
            flow_id = e.flow_id,
            flow = e.flow_name,
            atom = e.atom,
            kind = %e.kind,
            state = %e.state,
            attempt = e.attempt,
            elapsed_ms = e.elapsed.map(|d| d.as_secs_f64() * 1e3),
            failure = e.failure.map(|f| f.to_string()),
            "{} {}",
            e.atom,
            e.state
        );
    }

    fn progress(&self, e: &ProgressEvent<'_>) {
        tracing::trace!(
            target: "volctl::flow",
            flow_id = e.flow_id,
            atom = e.atom,
            done = e.done,
            total = e.total,
            reverting = e.reverting,
            "progress"
        );
    }
}
