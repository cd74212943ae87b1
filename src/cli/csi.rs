//! `volctl csi serve`: volctl as a CSI driver on this node.

use clap::{Args, Subcommand};

use super::Ctx;
use crate::error::Result;

/// The Container Storage Interface driver.
#[derive(Subcommand, Debug)]
pub enum CsiCommand {
    /// Serve the CSI Identity, Controller and Node services on a unix
    /// socket, for this node (one process per node), until SIGTERM
    Serve(ServeArgs),
}

/// `volctl csi serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The socket: unix:///PATH (the kubelet's plugin directory, as
    /// node-driver-registrar and the external-provisioner name it)
    #[arg(long, env = "CSI_ENDPOINT", value_name = "unix:///PATH")]
    pub endpoint: String,
    /// This node's name, as Kubernetes knows it (the topology value and
    /// the node id of NodeGetInfo)
    #[arg(long, env = "KUBE_NODE_NAME", value_name = "NAME")]
    pub node_id: String,
    /// How many volumes may be published on this node (0: no limit)
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_volumes: i64,
}

/// Runs a `volctl csi` command.
pub fn run(ctx: &Ctx, cmd: &CsiCommand) -> Result<()> {
    match cmd {
        CsiCommand::Serve(a) => {
            if a.node_id.trim().is_empty() {
                return Err(crate::error::Error::invalid("--node-id must not be empty"));
            }
            if a.max_volumes < 0 {
                return Err(crate::error::Error::invalid(
                    "--max-volumes must be 0 (no limit) or more",
                ));
            }
            let driver = crate::csi::Driver::new(
                ctx.svc.clone(),
                &a.node_id,
                &ctx.global.project,
                a.max_volumes,
            );
            crate::csi::server::serve(driver, &a.endpoint)
        }
    }
}
