//! volctl as a Container Storage Interface (CSI v1.12) driver: `volctl csi
//! serve` answers the Identity, Controller and Node services over a unix
//! socket, one process per node ("distributed provisioning": the
//! external-provisioner runs beside it with `--node-deployment`).
//!
//! Every RPC that changes something runs volctl's own operations ([`Ops`]),
//! so it is a recorded, resumable flow like a CLI command, and the CLI and
//! the server share one store. Each call runs on a blocking thread; the
//! store's connection serialises what must be.
//!
//! - [`identity`]: plugin name, capabilities, probe.
//! - [`controller`]: volumes (by name, idempotent), snapshots, capacity,
//!   expansion — volctl volumes of one project.
//! - [`node`]: staging (attach, make the filesystem, mount), publishing
//!   (bind mounts, raw block device nodes), stats, online growth.
//! - [`status`]: volctl's error kinds as gRPC codes.
//! - [`server`]: the socket and the runtime.
//!
//! [`Ops`]: crate::ops::Ops

pub mod controller;
pub mod identity;
pub mod mounts;
pub mod node;
pub mod server;
pub mod status;

/// The messages and services generated from `proto/csi.proto`.
#[allow(missing_docs, clippy::all)]
pub mod proto {
    tonic::include_proto!("csi.v1");
}

use std::sync::Arc;

use crate::ops::Ops;
use crate::service::Service;

/// The driver's name, as Kubernetes' CSIDriver object and StorageClasses
/// name it.
pub const DRIVER_NAME: &str = "csi.volctl.io";

/// The topology key: a volume is on one node.
pub const TOPOLOGY_KEY: &str = "topology.volctl.io/node";

/// The label that records how a CSI volume is accessed (`block` or
/// `mount`), so a retried create with another access type is refused.
pub const ACCESS_LABEL: &str = "csi.volctl.io/access";

/// The label that records a mount volume's filesystem type.
pub const FS_TYPE_LABEL: &str = "csi.volctl.io/fs-type";

/// The driver's state, shared by the three services.
#[derive(Clone)]
pub struct Driver {
    svc: Arc<Service>,
    node_id: String,
    project: String,
    max_volumes: i64,
}

impl Driver {
    /// A driver for node `node_id` over `svc`'s store; its volumes belong
    /// to `project`.
    pub fn new(svc: Arc<Service>, node_id: &str, project: &str, max_volumes: i64) -> Driver {
        Driver {
            svc,
            node_id: node_id.to_string(),
            project: project.to_string(),
            max_volumes,
        }
    }

    /// Operations for one call (flows owned by this process).
    fn ops(&self) -> Ops {
        let engine = self.svc.engine();
        // The crash tests stop the server dead inside a call's flow.
        #[cfg(feature = "test-hooks")]
        let engine = engine.with_listener(Arc::new(crate::testhooks::Hooks));
        Ops::new(self.svc.clone(), engine)
    }

    /// The topology of everything this driver makes: this node.
    fn topology(&self) -> proto::Topology {
        proto::Topology {
            segments: [(TOPOLOGY_KEY.to_string(), self.node_id.clone())].into(),
        }
    }
}

/// Runs `f` on a blocking thread (volctl's operations block: SQLite,
/// qemu-img, losetup) and answers with its result.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, tonic::Status> + Send + 'static,
) -> Result<tonic::Response<T>, tonic::Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| tonic::Status::internal(format!("the call's thread failed: {e}")))?
        .map(tonic::Response::new)
}
