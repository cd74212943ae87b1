//! The api side of volctl: validating requests and handing them on.

pub mod create_volume;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::volumes::SourceKind;
use crate::units::Bytes;

/// Largest volume: 1 PiB (the bound keeps byte counts far from overflow).
pub const MAX_SIZE: Bytes = Bytes::gib(1 << 20);

/// What the user asked for, as given.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateRequest {
    /// Size (defaults to the source's when there is one); rounded up to a
    /// whole MiB.
    #[serde(flatten, with = "crate::units::size_fields::opt")]
    pub size: Option<Bytes>,
    /// Optional name.
    pub name: Option<String>,
    /// Volume type name or id.
    pub volume_type: Option<String>,
    /// Availability zone.
    pub zone: Option<String>,
    /// Owning project.
    pub project: String,
    /// What to make it from.
    pub source: Option<SourceRef>,
    /// Labels.
    #[serde(default)]
    pub labels: crate::store::volumes::Labels,
    /// When `gc` may delete it (RFC 3339).
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A source named by the user (id or name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "ref")]
pub enum SourceRef {
    /// A snapshot.
    Snapshot(String),
    /// Another volume.
    Volume(String),
    /// An image from the catalog.
    Image(String),
}

/// The normalised request every later task consumes: validated, with the
/// type, zone and source resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeRequest {
    /// Size, a whole number of MiB.
    #[serde(flatten, with = "crate::units::size_fields")]
    pub size: Bytes,
    /// Name.
    pub name: Option<String>,
    /// Owning project.
    pub project: String,
    /// Volume type id.
    pub type_id: Option<String>,
    /// Volume type name.
    pub type_name: Option<String>,
    /// The type's extra specs.
    pub extra_specs: BTreeMap<String, String>,
    /// Zone, if one is required.
    pub zone: Option<String>,
    /// What it is made from.
    pub source_kind: SourceKind,
    /// The source's id.
    pub source_id: Option<String>,
    /// Backend the volume must be created on (that of its source).
    pub pinned_backend: Option<String>,
    /// Labels (checked).
    #[serde(default)]
    pub labels: crate::store::volumes::Labels,
    /// When `gc` may delete it (RFC 3339, checked).
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// Checks a user-given volume (or snapshot, image) name.
pub fn check_name(name: Option<&str>) -> Result<Option<String>> {
    match name {
        None => Ok(None),
        Some(n) if n.is_empty() || n.len() > 255 || n.chars().any(char::is_control) => {
            Err(Error::invalid(format!(
                "name {n:?} must be 1-255 characters without control characters"
            )))
        }
        Some(n) if uuid::Uuid::parse_str(n).is_ok() || looks_like_id_prefix(n) => {
            Err(Error::invalid(format!(
                "name `{n}` looks like an id or an id prefix (8 or more hex digits and dashes), \
                 which lookups would take for one; choose another"
            )))
        }
        Some(n) => Ok(Some(n.to_string())),
    }
}

/// Whether `key` may be taken for an id prefix by the lookups (8 or more
/// hex digits and dashes).
pub fn looks_like_id_prefix(key: &str) -> bool {
    key.len() >= 8 && key.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// Checks a project name.
pub fn check_project(project: &str) -> Result<()> {
    if crate::config::valid_name(project) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "project `{project}` must be 1-64 letters, digits, `-`, `_` or `.`"
        )))
    }
}
