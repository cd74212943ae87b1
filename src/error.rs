//! volctl's typed errors: every failure has a kind, and the kind decides the
//! exit code and whether a failed create may be rescheduled — never the text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::flow::Failure;

/// Every exit code volctl uses and what it means: the one definition that
/// `volctl --help`, the man page and the README's table are made from or
/// tested against. [`ErrorKind::exit_code`] maps each kind into it.
pub const EXIT_CODES: &[(i32, &str)] = &[
    (0, "success"),
    (
        1,
        "failed: the volume is in `error` (everything it made reverted, quota returned), or an internal error",
    ),
    (2, "invalid input: arguments, configuration, image"),
    (3, "over quota"),
    (
        4,
        "no valid backend (the message lists every backend and why it was rejected)",
    ),
    (5, "not found"),
    (
        6,
        "conflict: wrong state for the operation (e.g. deleting a `creating` volume)",
    ),
    (7, "interrupted: a flow was left to resume or roll back"),
    (
        8,
        "timed out: what `wait` (or `create --if-not-exists`) waited for did not happen in time",
    ),
    (130, "cancelled (Ctrl-C, SIGTERM) and reverted"),
];

/// [`EXIT_CODES`] as the text at the end of `volctl --help`.
pub fn exit_codes_help() -> String {
    let mut s = String::from("Exit codes:");
    for (code, meaning) in EXIT_CODES {
        s.push_str(&format!("\n  {code:<4} {}", meaning.replace('`', "")));
    }
    s
}

/// What went wrong, as a program needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Bad input: arguments, configuration, a request that cannot be met.
    Invalid,
    /// The request would exceed a quota.
    OverQuota,
    /// No backend passes the scheduler's filters.
    NoValidBackend,
    /// A named volume, snapshot, image, type or flow does not exist.
    NotFound,
    /// The object is in a state that does not allow the operation.
    Conflict,
    /// An image is unusable or unsafe (the data is at fault).
    BadImage,
    /// A backend failed (I/O error, missing or unwritable path, tool error).
    Backend,
    /// A backend ran out of space.
    NoSpace,
    /// A passing fault worth retrying in place (device busy, lock timeout).
    Transient,
    /// Cancelled by the user (Ctrl-C, SIGTERM) and reverted.
    Cancelled,
    /// Stopped before finishing; the flow can be resumed or rolled back.
    Interrupted,
    /// A wait for a state ran out of time.
    TimedOut,
    /// A bug or an unexpected condition (database error, broken invariant).
    Internal,
}

impl ErrorKind {
    /// All kinds, for documentation and configuration checks.
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::Invalid,
        ErrorKind::OverQuota,
        ErrorKind::NoValidBackend,
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::BadImage,
        ErrorKind::Backend,
        ErrorKind::NoSpace,
        ErrorKind::Transient,
        ErrorKind::Cancelled,
        ErrorKind::Interrupted,
        ErrorKind::TimedOut,
        ErrorKind::Internal,
    ];

    /// The stable code used in stored failures, JSON and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::OverQuota => "over_quota",
            ErrorKind::NoValidBackend => "no_valid_backend",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::BadImage => "bad_image",
            ErrorKind::Backend => "backend",
            ErrorKind::NoSpace => "no_space",
            ErrorKind::Transient => "transient",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::TimedOut => "timed_out",
            ErrorKind::Internal => "internal",
        }
    }

    /// The process exit code for this kind (documented in the README and
    /// `volctl --help`).
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Invalid | ErrorKind::BadImage => 2,
            ErrorKind::OverQuota => 3,
            ErrorKind::NoValidBackend => 4,
            ErrorKind::NotFound => 5,
            ErrorKind::Conflict => 6,
            ErrorKind::Interrupted => 7,
            ErrorKind::TimedOut => 8,
            ErrorKind::Cancelled => 130,
            ErrorKind::Backend
            | ErrorKind::NoSpace
            | ErrorKind::Transient
            | ErrorKind::Internal => 1,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ErrorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown failure kind `{s}` (known: {})", all.join(", "))
            })
    }
}

/// A volctl error: a kind, a message for people, details for programs.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// The kind.
    pub kind: ErrorKind,
    /// What happened, in words.
    pub message: String,
    /// Structured detail (for example a scheduling report).
    pub details: Value,
    /// The command already printed its outcome (as `check` does): only the
    /// exit code is left to give.
    pub reported: bool,
}

impl std::error::Error for Error {}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `Result` with volctl's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            details: Value::Null,
            reported: false,
        }
    }

    /// Marks the error as already reported by the command.
    pub fn reported(mut self) -> Self {
        self.reported = true;
        self
    }

    /// Attaches structured details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Prefixes the message with context.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// Bad input.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }

    /// Something named does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// Wrong state for the operation.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// A bug or unexpected condition.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// A backend fault from an I/O error, as `no_space` when it is one.
    pub fn backend_io(what: impl fmt::Display, e: &std::io::Error) -> Self {
        let kind = match e.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => ErrorKind::NoSpace,
            Some(libc::EBUSY) | Some(libc::EAGAIN) => ErrorKind::Transient,
            _ => ErrorKind::Backend,
        };
        Self::new(kind, format!("{what}: {e}"))
    }

    /// An I/O error with no better classification.
    pub fn from_io(e: std::io::Error) -> Self {
        Error::internal(e.to_string())
    }

    /// The error a flow failure stands for.
    pub fn from_failure(f: &Failure) -> Self {
        let kind = match f.kind.as_str() {
            Failure::CANCELLED => ErrorKind::Cancelled,
            Failure::INTERRUPTED | Failure::ROLLED_BACK => ErrorKind::Interrupted,
            k => k.parse().unwrap_or(ErrorKind::Internal),
        };
        Error {
            kind,
            message: f.message.clone(),
            details: f.details.clone(),
            reported: false,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::new(e.kind.as_str(), e.message).with_details(e.details)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::internal(format!("database: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::internal(format!("stored data: {e}"))
    }
}

impl From<crate::flow::StoreError> for Error {
    fn from(e: crate::flow::StoreError) -> Self {
        Error::internal(e.to_string())
    }
}

impl From<crate::flow::EngineError> for Error {
    fn from(e: crate::flow::EngineError) -> Self {
        match e {
            crate::flow::EngineError::NotFound(id) => Error::not_found(format!("no flow {id}")),
            other => Error::internal(other.to_string()),
        }
    }
}

/// Turns any error into an internal one with context.
pub trait Context<T> {
    /// Adds what was being done.
    fn ctx(self, what: impl fmt::Display) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn ctx(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().context(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_failures() {
        for k in ErrorKind::ALL {
            let f: Failure = Error::new(k, "m").into();
            assert_eq!(Error::from_failure(&f).kind, k);
            assert_eq!(k.as_str().parse::<ErrorKind>().unwrap(), k);
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert!("nope".parse::<ErrorKind>().unwrap_err().contains("known:"));
    }

    #[test]
    fn io_errors_are_classified() {
        let e = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(Error::backend_io("x", &e).kind, ErrorKind::NoSpace);
        let e = std::io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(Error::backend_io("x", &e).kind, ErrorKind::Backend);
    }

    #[test]
    fn every_kind_s_exit_code_is_documented_and_every_code_is_used() {
        for k in ErrorKind::ALL {
            assert!(
                EXIT_CODES.iter().any(|(c, _)| *c == k.exit_code()),
                "{k}: exit {} is not in EXIT_CODES",
                k.exit_code()
            );
        }
        for (c, meaning) in EXIT_CODES.iter().filter(|(c, _)| *c != 0) {
            assert!(
                ErrorKind::ALL.iter().any(|k| k.exit_code() == *c),
                "exit {c} ({meaning}) has no kind"
            );
        }
    }

    #[test]
    fn the_readme_exit_code_table_is_exit_codes() {
        let readme = include_str!("../README.md");
        let table: Vec<(i32, String)> = readme
            .split("### Exit codes")
            .nth(1)
            .expect("README has an Exit codes section")
            .split("\n#")
            .next()
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                (cells.len() == 4)
                    .then(|| cells[1].parse().ok().map(|c| (c, cells[2].to_string())))?
            })
            .collect();
        let want: Vec<(i32, String)> = EXIT_CODES
            .iter()
            .map(|(c, m)| (*c, m.to_string()))
            .collect();
        assert_eq!(table, want, "README's table differs from error::EXIT_CODES");
    }

    #[test]
    fn exit_codes_are_distinct_for_the_documented_kinds() {
        assert_eq!(ErrorKind::Invalid.exit_code(), 2);
        assert_eq!(ErrorKind::OverQuota.exit_code(), 3);
        assert_eq!(ErrorKind::NoValidBackend.exit_code(), 4);
        assert_eq!(ErrorKind::NotFound.exit_code(), 5);
        assert_eq!(ErrorKind::Backend.exit_code(), 1);
    }
}
