//! The socket and the runtime of `volctl csi serve`.
//!
//! The endpoint is a unix socket (`unix:///PATH` as the kubelet and the
//! sidecars name it, or a bare path). Its directory must exist and must
//! not be writable by others (the socket accepts calls that make and
//! delete volumes as root). A file already at the path is replaced only
//! when it is a socket: one left by an earlier server that died.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

use super::Driver;
use super::proto::controller_server::ControllerServer;
use super::proto::identity_server::IdentityServer;
use super::proto::node_server::NodeServer;

/// How many calls may run volctl operations at once (each holds a blocking
/// thread while it waits for the store, qemu-img or losetup). More wait
/// for a thread; the provisioner's retries keep asking.
pub const MAX_CONCURRENT_CALLS: usize = 128;

/// The socket path named by `endpoint`: `unix:///run/csi/csi.sock`,
/// `unix:/run/csi/csi.sock` or `/run/csi/csi.sock`.
pub fn socket_path(endpoint: &str) -> Result<PathBuf> {
    let path = match endpoint.split_once("://") {
        Some(("unix", rest)) => rest,
        Some((scheme, _)) => {
            return Err(Error::invalid(format!(
                "--endpoint {endpoint}: only unix sockets are served (unix:///PATH), not `{scheme}`"
            )));
        }
        None => endpoint.strip_prefix("unix:").unwrap_or(endpoint),
    };
    let path = Path::new(path);
    if !path.is_absolute() {
        return Err(Error::invalid(format!(
            "--endpoint {endpoint}: the socket path must be absolute (unix:///PATH)"
        )));
    }
    Ok(path.to_path_buf())
}

/// Makes the socket at `path`: refuses a directory others may write to,
/// and anything at the path that is not a stale socket.
fn bind(path: &Path) -> Result<(tokio::net::UnixListener, (u64, u64))> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::invalid(format!("socket {}: no directory", path.display())))?;
    let meta = std::fs::metadata(dir).map_err(|e| {
        Error::invalid(format!(
            "socket {}: its directory {}: {e}",
            path.display(),
            dir.display()
        ))
    })?;
    let mode = meta.permissions().mode();
    let me = nix::unistd::geteuid().as_raw();
    if mode & 0o022 != 0 || (meta.uid() != me && meta.uid() != 0) {
        return Err(Error::invalid(format!(
            "socket {}: its directory {} (mode {:o}, owner uid {}) must be owned by this user or root and writable by nobody else: another user could take the socket's place",
            path.display(),
            dir.display(),
            mode & 0o7777,
            meta.uid()
        )));
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            // A live server answers on it: do not steal its socket.
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(Error::conflict(format!(
                    "socket {}: another server is listening on it",
                    path.display()
                )));
            }
            std::fs::remove_file(path).map_err(Error::from_io)?;
        }
        Ok(_) => {
            return Err(Error::invalid(format!(
                "socket {}: something that is not a socket is there; volctl will not replace it",
                path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::from_io(e)),
    }
    // Made with no access for others from the start (not chmod'ed after):
    // only its owner (root, the sidecars beside it) may call.
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let bound = tokio::net::UnixListener::bind(path);
    nix::sys::stat::umask(old);
    let listener = bound.map_err(|e| Error::invalid(format!("socket {}: {e}", path.display())))?;
    let meta = std::fs::symlink_metadata(path).map_err(Error::from_io)?;
    Ok((listener, (meta.dev(), meta.ino())))
}

/// Removes the socket at `path` if it is still the one bound (`id`: its
/// device and inode), never what replaced it.
fn remove_socket(path: &Path, id: (u64, u64)) {
    if let Ok(m) = std::fs::symlink_metadata(path)
        && m.file_type().is_socket()
        && (m.dev(), m.ino()) == id
    {
        let _ = std::fs::remove_file(path);
    }
}

/// Serves the Identity, Controller and Node services on `endpoint` until
/// SIGTERM or SIGINT; then removes the socket.
pub fn serve(driver: Driver, endpoint: &str) -> Result<()> {
    let path = socket_path(endpoint)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(MAX_CONCURRENT_CALLS)
        .enable_all()
        .build()
        .map_err(Error::from_io)?;
    // Bound outside the serving future: a socket this call did not make is
    // never removed.
    let (listener, socket_id) = runtime.block_on(async { bind(&path) })?;
    let served = runtime.block_on(async {
        let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
        tracing::info!(socket = %path.display(), "serving CSI");
        eprintln!("volctl csi: serving on {}", path.display());
        let shutdown = async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async {
                    match term.as_mut() {
                        Some(t) => { t.recv().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => {}
            }
        };
        tonic::transport::Server::builder()
            .add_service(IdentityServer::new(driver.clone()))
            .add_service(ControllerServer::new(driver.clone()))
            .add_service(NodeServer::new(driver))
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
            .map_err(|e| Error::internal(format!("the CSI server failed: {e}")))
    });
    remove_socket(&path, socket_id);
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_name_unix_sockets_by_absolute_path() {
        for e in [
            "unix:///run/csi.sock",
            "unix:/run/csi.sock",
            "/run/csi.sock",
        ] {
            assert_eq!(socket_path(e).unwrap(), Path::new("/run/csi.sock"), "{e}");
        }
        for (e, says) in [
            ("tcp://127.0.0.1:10000", "only unix sockets"),
            ("unix://csi.sock", "absolute"),
            ("csi.sock", "absolute"),
        ] {
            let err = socket_path(e).unwrap_err();
            assert!(err.message.contains(says), "{e}: {}", err.message);
        }
    }
}
