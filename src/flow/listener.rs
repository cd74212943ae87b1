//! Observers of a running flow. The engine prints nothing itself: consoles,
//! event logs, diagnostics ([`super::TracingListener`]) and test probes are
//! listeners.

use std::time::Duration;

use super::failure::Failure;
use super::state::{AtomKind, AtomState, FlowState};
use super::task::Values;

/// A flow changed state.
#[derive(Debug)]
pub struct FlowEvent<'a> {
    /// The flow's id.
    pub flow_id: &'a str,
    /// The flow definition's name.
    pub flow_name: &'a str,
    /// The new state.
    pub state: FlowState,
    /// The failures that made it revert, if any.
    pub failures: &'a [Failure],
    /// The revert failure, when the state is `revert_failed`.
    pub revert_failure: Option<&'a Failure>,
}

/// An atom changed state (reported after the change was recorded).
#[derive(Debug)]
pub struct AtomEvent<'a> {
    /// The flow's id.
    pub flow_id: &'a str,
    /// The flow definition's name.
    pub flow_name: &'a str,
    /// The atom's name.
    pub atom: &'a str,
    /// Task or retry controller.
    pub kind: AtomKind,
    /// The new state.
    pub state: AtomState,
    /// How many times the atom has been started.
    pub attempt: u32,
    /// For `success`/`failure`: how long the execute took; for
    /// `reverted`/`revert_failed`: how long the revert took.
    pub elapsed: Option<Duration>,
    /// The outputs, on `success`.
    pub outputs: Option<&'a Values>,
    /// The task's failure (on `failure`), or the revert's (on `revert_failed`).
    pub failure: Option<&'a Failure>,
    /// The task's own summary of its outputs.
    pub summary: Option<&'a str>,
    /// On `success`, the task's [`headline`](crate::flow::Task::headline);
    /// on `reverted`, what the revert [undid](crate::flow::Task::undone).
    pub headline: Option<&'a str>,
}

/// A task reported progress.
#[derive(Debug)]
pub struct ProgressEvent<'a> {
    /// The flow's id.
    pub flow_id: &'a str,
    /// The flow definition's name.
    pub flow_name: &'a str,
    /// The atom reporting.
    pub atom: &'a str,
    /// The phase of the task (`""` when it has one phase only).
    pub phase: &'a str,
    /// Units done.
    pub done: u64,
    /// Units in all.
    pub total: u64,
    /// Whether it is the revert (not the execute) making progress.
    pub reverting: bool,
}

/// Receives a flow's transitions. All methods default to doing nothing.
pub trait Listener: Send + Sync {
    /// A flow changed state.
    fn flow_changed(&self, event: &FlowEvent<'_>) {
        let _ = event;
    }
    /// An atom changed state.
    fn atom_changed(&self, event: &AtomEvent<'_>) {
        let _ = event;
    }
    /// A task made progress.
    fn progress(&self, event: &ProgressEvent<'_>) {
        let _ = event;
    }
}
