//! Backends: where volumes live. A [`Driver`] per configured backend.

pub mod loopback;
pub mod loopdev;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::config::{BackendConfig, Config, DriverKind};
use crate::error::{Error, Result};

/// What a backend reports about itself.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stats {
    /// Capacity, GiB.
    pub total_gb: f64,
    /// Free space, GiB.
    pub free_gb: f64,
    /// Whether volumes are thin (sparse).
    pub thin: bool,
}

/// A backend's operations. Every operation is idempotent — keyed by the
/// volume id, never by a user-given name — because a flow that died while
/// running one runs it again.
pub trait Driver: Send + Sync {
    /// The backend's configuration.
    fn config(&self) -> &BackendConfig;

    /// The backend's name.
    fn name(&self) -> &str {
        self.config().name()
    }

    /// Capacity and free space.
    fn stats(&self) -> Result<Stats>;

    /// Where the volume `id`'s backend object is (file path or LV path).
    fn object_path(&self, id: &str) -> String;

    /// Creates an empty volume of `size_gb` GiB; returns its object path.
    fn create(&self, id: &str, size_gb: u64) -> Result<String>;

    /// Removes the volume's backend object; nothing to do if it is gone.
    fn delete(&self, id: &str) -> Result<()>;

    /// The size in bytes of the volume's object, if it exists.
    fn object_size(&self, id: &str) -> Result<Option<u64>>;

    /// Ids of every volume object on the backend.
    fn list_objects(&self) -> Result<Vec<String>>;

    /// Exposes the volume as a block device; returns its path.
    fn attach(&self, id: &str) -> Result<String>;

    /// Removes the block device `device` of the volume.
    fn detach(&self, id: &str, device: &str) -> Result<()>;
}

/// Capabilities every backend has, besides configured ones, for matching
/// volume type extra specs.
pub fn builtin_capabilities(cfg: &BackendConfig) -> BTreeMap<String, String> {
    let mut c = cfg.capabilities.clone();
    let bool_str = |b: bool| if b { "True" } else { "False" }.to_string();
    c.entry("volume_backend_name".into())
        .or_insert_with(|| cfg.name().to_string());
    c.entry("driver".into())
        .or_insert_with(|| cfg.driver.to_string());
    c.entry("thin_provisioning_support".into())
        .or_insert_with(|| bool_str(cfg.thin));
    c.entry("thick_provisioning_support".into())
        .or_insert_with(|| bool_str(!cfg.thin));
    c
}

/// The configured backends.
#[derive(Clone)]
pub struct Backends {
    drivers: Vec<Arc<dyn Driver>>,
}

impl Backends {
    /// A driver for every configured backend.
    pub fn from_config(cfg: &Config) -> Result<Backends> {
        let drivers = cfg
            .backends
            .iter()
            .map(|b| -> Result<Arc<dyn Driver>> {
                match b.driver {
                    DriverKind::Loopback => Ok(Arc::new(loopback::Loopback::new(b.clone()))),
                    DriverKind::Lvm => Err(Error::invalid(format!(
                        "backend `{}`: the lvm driver is not available in this build",
                        b.name()
                    ))),
                }
            })
            .collect::<Result<_>>()?;
        Ok(Backends { drivers })
    }

    /// From ready-made drivers (tests).
    pub fn from_drivers(drivers: Vec<Arc<dyn Driver>>) -> Self {
        Backends { drivers }
    }

    /// All drivers, in configuration order.
    pub fn all(&self) -> &[Arc<dyn Driver>] {
        &self.drivers
    }

    /// The driver of backend `name`.
    pub fn get(&self, name: &str) -> Result<&Arc<dyn Driver>> {
        self.drivers
            .iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "backend `{name}` is not in the configuration (known: {})",
                    self.drivers
                        .iter()
                        .map(|d| d.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}
