//! The persisted state of flows and their atoms.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::failure::Failure;
use super::task::Values;

use crate::string_enum;

string_enum! {
    /// The state of one atom (task or retry controller).
    ///
    /// `pending → running → success | failure → reverting → reverted |
    /// revert_failed`.
    AtomState {
        /// Not started (or reset by a retry controller).
        Pending = "pending",
        /// Started; if the process died, it is run again on resumption.
        Running = "running",
        /// Finished; its result is recorded.
        Success = "success",
        /// Failed; its failure is recorded.
        Failure = "failure",
        /// Its revert has started.
        Reverting = "reverting",
        /// Its revert finished.
        Reverted = "reverted",
        /// Its revert failed; both failures are kept.
        RevertFailed = "revert_failed",
    }
}

impl AtomState {
    /// Whether an atom in this state may be recorded next in `next`: the
    /// engine's one statement of the state machine. An atomic task's
    /// `running` and a revert's `reverting` may be skipped over (recorded in
    /// the same transaction as what follows them); a retry controller's
    /// reset of its body to `pending` for a new attempt is not a transition
    /// of the atoms' own.
    pub fn can_become(self, next: AtomState) -> bool {
        use AtomState::*;
        let revert = matches!(next, Reverting | Reverted | RevertFailed);
        match self {
            Pending => matches!(next, Running | Success | Failure | Reverted),
            // Running again: resumed after its process died.
            Running => matches!(next, Running | Success | Failure) || revert,
            Success | Failure => revert,
            // Again: a revert resumed after its process died or failed.
            Reverting | RevertFailed => revert,
            Reverted => false,
        }
    }

    /// Started and not yet reverted: what a revert must undo.
    pub fn needs_revert(self) -> bool {
        matches!(
            self,
            AtomState::Running
                | AtomState::Success
                | AtomState::Failure
                | AtomState::Reverting
                | AtomState::RevertFailed
        )
    }

    /// Part of a revert in progress or done.
    pub fn is_reverting(self) -> bool {
        matches!(
            self,
            AtomState::Reverting | AtomState::Reverted | AtomState::RevertFailed
        )
    }
}

string_enum! {
    /// The state of a whole flow.
    FlowState {
        /// Created, nothing run yet.
        Pending = "pending",
        /// Running forward.
        Running = "running",
        /// Every atom succeeded.
        Success = "success",
        /// A failure happened; completed atoms are being reverted.
        Reverting = "reverting",
        /// Fully reverted.
        Reverted = "reverted",
        /// A revert failed: the flow stopped reverting there; resumable.
        RevertFailed = "revert_failed",
    }
}

impl FlowState {
    /// `success` or `reverted`: nothing left to do.
    pub fn is_finished(self) -> bool {
        matches!(self, FlowState::Success | FlowState::Reverted)
    }
}

string_enum! {
    /// What an atom is.
    AtomKind {
        /// A task.
        Task = "task",
        /// A retry controller around a subflow.
        Retry = "retry",
    }
}

/// The recorded state of one atom.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AtomRecord {
    /// Unique name within the flow.
    pub name: String,
    /// Task or retry controller.
    pub kind: AtomKind,
    /// Current state.
    pub state: AtomState,
    /// Position in the flow's history: set when the atom starts and again
    /// when it completes; reverts go in decreasing `seq`.
    pub seq: u64,
    /// How many times it was started.
    pub attempts: u32,
    /// A task's outputs; a retry controller's failure history.
    pub result: Option<Value>,
    /// Its own failure, if it failed.
    pub failure: Option<Failure>,
    /// The failure of its revert, if that failed.
    pub revert_failure: Option<Failure>,
    /// When it last started.
    pub started_at: Option<Micros>,
    /// When it last finished (or its revert did).
    pub finished_at: Option<Micros>,
}

impl AtomRecord {
    /// A fresh, pending atom.
    pub fn pending(name: &str, kind: AtomKind) -> Self {
        AtomRecord {
            name: name.to_string(),
            kind,
            state: AtomState::Pending,
            seq: 0,
            attempts: 0,
            result: None,
            failure: None,
            revert_failure: None,
            started_at: None,
            finished_at: None,
        }
    }
}

/// The recorded state of a flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowRecord {
    /// Unique id.
    pub id: String,
    /// The flow definition's name (used to rebuild it on resumption).
    pub name: String,
    /// Current state.
    pub state: FlowState,
    /// The initial store of named values.
    pub inputs: Values,
    /// The failures that made it revert.
    pub failures: Vec<Failure>,
    /// The failure of a revert, when `state` is `revert_failed`.
    pub revert_failure: Option<Failure>,
    /// Opaque data for the application (what the flow is about).
    pub meta: Value,
    /// Who runs it (the application decides what an owner is and whether
    /// it is alive); `None` when nobody claimed it.
    pub owner: Option<String>,
    /// When it was made.
    pub created_at: Micros,
    /// When it last changed.
    pub updated_at: Micros,
}

/// A point in time as the engine records it: Unix time in microseconds
/// (an integer column in the store). Its JSON form is RFC 3339 with
/// microseconds (`2026-12-01T19:50:09.196248Z`); an integer is read too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub i64);

impl Micros {
    /// Microseconds since the Unix epoch.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// As a [`std::time::SystemTime`] (the epoch for a time before it).
    pub fn system_time(self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_micros(self.0.max(0) as u64)
    }
}

impl std::fmt::Display for Micros {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}",
            humantime::format_rfc3339_micros(self.system_time())
        )
    }
}

impl Serialize for Micros {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Micros {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Integer(i64),
            Text(String),
        }
        match Wire::deserialize(d)? {
            Wire::Integer(n) => Ok(Micros(n)),
            Wire::Text(t) => {
                let at = humantime::parse_rfc3339_weak(&t).map_err(serde::de::Error::custom)?;
                let us = at
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_micros() as i64)
                    .unwrap_or(0);
                Ok(Micros(us))
            }
        }
    }
}

impl rusqlite::ToSql for Micros {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl rusqlite::types::FromSql for Micros {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        i64::column_result(v).map(Micros)
    }
}

/// Now.
pub fn now_us() -> Micros {
    Micros(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::AtomState::{self, *};

    #[test]
    fn the_state_machine_allows_forward_runs_and_reverts_only() {
        for (from, to) in [
            (Pending, Running),
            (Running, Success),
            (Running, Running),
            (Success, Reverting),
            (Reverting, Reverted),
            (Reverting, RevertFailed),
            (RevertFailed, Reverting),
        ] {
            assert!(from.can_become(to), "{from} → {to}");
        }
        for (from, to) in [
            (Success, Running),
            (Success, Failure),
            (Reverted, Running),
            (Reverted, Reverting),
            (Reverting, Success),
            (RevertFailed, Success),
        ] {
            assert!(!from.can_become(to), "{from} → {to}");
        }
        let _: &[AtomState] = AtomState::ALL;
    }
}
