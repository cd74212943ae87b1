//! The volume manager: creating, deleting, attaching and detaching volumes
//! on their backend.

pub mod attach_volume;
pub mod create_volume;
pub mod delete_volume;
pub mod export_volume;
pub mod extend_volume;
pub mod label_volume;
pub mod manage_volume;
pub mod migrate_volume;
pub mod rename_volume;
pub mod retype_volume;
pub mod revert_snapshot;
pub mod snapshot;

use serde::{Deserialize, Serialize};

use crate::api::VolumeRequest;
use crate::scheduler::Retry;

/// The request the scheduler casts to a backend's manager.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManagerRequest {
    /// The volume.
    pub volume_id: String,
    /// The backend chosen.
    pub backend: String,
    /// What to create.
    pub request: VolumeRequest,
    /// Attempts so far.
    pub retry: Retry,
}
