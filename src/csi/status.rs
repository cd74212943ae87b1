//! volctl's error kinds as gRPC status codes, the one mapping every RPC
//! uses: Kubernetes retries, reschedules elsewhere or gives up by the code.

use tonic::{Code, Status};

use crate::error::{Error, ErrorKind};

/// The code for an error of `kind`: no backend or over quota is
/// `RESOURCE_EXHAUSTED` (the scheduler tries another node); an operation
/// already running on the object is `ABORTED` (retry later).
pub fn code(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::Invalid | ErrorKind::BadImage => Code::InvalidArgument,
        ErrorKind::OverQuota | ErrorKind::NoValidBackend | ErrorKind::NoSpace => {
            Code::ResourceExhausted
        }
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::Conflict | ErrorKind::Interrupted => Code::Aborted,
        ErrorKind::Cancelled => Code::Cancelled,
        ErrorKind::TimedOut => Code::DeadlineExceeded,
        ErrorKind::Transient => Code::Unavailable,
        ErrorKind::Backend | ErrorKind::Internal => Code::Internal,
    }
}

/// A volctl error as a status.
pub fn status(e: Error) -> Status {
    Status::new(code(e.kind), e.message)
}

/// `INVALID_ARGUMENT` naming what is wrong.
pub fn invalid(what: impl Into<String>) -> Status {
    Status::invalid_argument(what)
}

/// Converts volctl results in `?`.
pub trait OrStatus<T> {
    /// The error as a status.
    fn or_status(self) -> Result<T, Status>;
}

impl<T> OrStatus<T> for crate::error::Result<T> {
    fn or_status(self) -> Result<T, Status> {
        self.map_err(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_the_code_kubernetes_acts_on() {
        assert_eq!(code(ErrorKind::NoValidBackend), Code::ResourceExhausted);
        assert_eq!(code(ErrorKind::OverQuota), Code::ResourceExhausted);
        assert_eq!(code(ErrorKind::Invalid), Code::InvalidArgument);
        assert_eq!(code(ErrorKind::NotFound), Code::NotFound);
        assert_eq!(code(ErrorKind::Conflict), Code::Aborted);
        for k in ErrorKind::ALL {
            assert_ne!(code(k), Code::Ok, "{k:?}");
        }
    }
}
