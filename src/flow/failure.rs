//! What a task failure looks like once it has left the task: a serialisable
//! value that can be stored, shown, handed to reverts and matched by kind.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A failure of a task, of a revert, or of the flow as a whole.
///
/// `kind` is a stable machine-readable code. The engine uses the kinds listed
/// as constants below; applications map their own typed error enums onto
/// kinds of their own (and back), so decisions such as "reschedule on a
/// backend fault" are made on kinds, never by parsing messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// Stable code of the failure's kind.
    pub kind: String,
    /// Human-readable explanation.
    pub message: String,
    /// The atom (task or retry controller) that failed, filled by the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atom: Option<String>,
    /// Structured detail for programs (for example the figures behind a
    /// scheduling decision).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

impl Failure {
    /// The flow was cancelled cooperatively.
    pub const CANCELLED: &'static str = "cancelled";
    /// The task was running when its process died; it is being rolled back.
    pub const INTERRUPTED: &'static str = "interrupted";
    /// The flow was rolled back on request.
    pub const ROLLED_BACK: &'static str = "rolled_back";
    /// A task panicked.
    pub const PANIC: &'static str = "panic";
    /// A task's input did not have the type it expected.
    pub const BAD_INPUT: &'static str = "bad_input";
    /// A task did not provide a symbol it declared.
    pub const MISSING_OUTPUT: &'static str = "missing_output";

    /// A failure of the given kind.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            kind: kind.into(),
            message: message.into(),
            atom: None,
            details: Value::Null,
        }
    }

    /// Attaches structured details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// The cooperative-cancellation failure.
    pub fn cancelled() -> Self {
        Failure::new(Self::CANCELLED, "cancelled")
    }

    /// Whether this failure is of `kind`.
    pub fn is(&self, kind: &str) -> bool {
        self.kind == kind
    }

    pub(crate) fn at(mut self, atom: &str) -> Self {
        if self.atom.is_none() {
            self.atom = Some(atom.to_string());
        }
        self
    }

    /// Converts a panic payload into a failure.
    pub(crate) fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        Failure::new(Self::PANIC, format!("panicked: {msg}"))
    }
}
