//! The Node service: a volume staged (its loop device attached or its LV
//! used; a mount volume's filesystem made on first stage and mounted at the
//! staging path), published (bind mounts, read-only honoured; a raw block
//! volume as its device node), measured, grown online, and taken down again.
//! Every call is idempotent: asked twice, the second finds it done.

use std::path::Path;

use tonic::{Request, Response, Status};

use super::controller::{Access, access_of};
use super::mounts;
use super::proto::node_server::Node;
use super::proto::node_service_capability::rpc::Type as Rpc;
use super::proto::*;
use super::status::{OrStatus, invalid};
use super::{ACCESS_LABEL, Driver, FS_TYPE_LABEL, blocking};
use crate::backends::AttachMode;
use crate::store::volumes::{Volume, VolumeStatus};

/// The volume's condition as `check` would judge it: in `error`, or its
/// backend object missing, is abnormal.
pub fn condition(v: &Volume) -> VolumeCondition {
    let abnormal = |message: String| VolumeCondition {
        abnormal: true,
        message,
    };
    if v.status == VolumeStatus::Error {
        return abnormal(format!(
            "volume is in error: {}",
            v.error.as_deref().unwrap_or("?")
        ));
    }
    if let Some(p) = v.path.as_deref()
        && matches!(v.status, VolumeStatus::Available | VolumeStatus::InUse)
        && std::fs::symlink_metadata(p).is_err()
    {
        return abnormal(format!("its backend object {p} is missing"));
    }
    VolumeCondition {
        abnormal: false,
        message: "ok".to_string(),
    }
}

fn required<'a>(value: &'a str, what: &str) -> Result<&'a str, Status> {
    if value.is_empty() {
        Err(invalid(format!("{what} is required")))
    } else {
        Ok(value)
    }
}

impl Driver {
    /// This driver's volume `id`, or NOT_FOUND.
    pub(super) fn known(&self, id: &str) -> Result<Volume, Status> {
        self.volume(id)?
            .ok_or_else(|| Status::not_found(format!("no volume {id}")))
    }

    fn access_for(&self, v: &Volume, cap: Option<&VolumeCapability>) -> Result<Access, Status> {
        let cap = cap.ok_or_else(|| invalid("volume_capability is required"))?;
        access_of(
            std::slice::from_ref(cap),
            v.labels.get(FS_TYPE_LABEL).map(String::as_str),
        )
    }

    fn stage(&self, req: NodeStageVolumeRequest) -> Result<NodeStageVolumeResponse, Status> {
        let id = required(&req.volume_id, "volume_id")?;
        let staging = required(&req.staging_target_path, "staging_target_path")?;
        let staging = mounts::checked(staging, "staging_target_path").or_status()?;
        let v = self.known(id)?;
        let access = self.access_for(&v, req.volume_capability.as_ref())?;
        // A volume made for raw block is never mounted (nor formatted).
        let made_as = v.labels.get(ACCESS_LABEL).map(String::as_str);
        if made_as.is_some_and(|m| m != access.kind()) {
            return Err(Status::failed_precondition(format!(
                "volume {id} was made for {} access, asked {}",
                made_as.unwrap_or_default(),
                access.kind()
            )));
        }
        let ops = self.ops();
        let v = ops.refresh_device(&v.id).or_status()?;
        let attached_here = v.device.is_none();
        let v = match v.device {
            Some(_) => v,
            None => ops.attach(&v.id, AttachMode::default()).or_status()?,
        };
        let staged = self.mount_staged(&v, access, &staging, made_as);
        if staged.is_err() && attached_here {
            // Not left attached by a stage that failed: the kubelet may
            // never unstage it, and the volume could not be deleted.
            let _ = ops.detach(&v.id);
        }
        staged
    }

    /// The second half of a stage: for a mount volume, its filesystem
    /// (made on first use) mounted at `staging`.
    fn mount_staged(
        &self,
        v: &Volume,
        access: Access,
        staging: &Path,
        made_as: Option<&str>,
    ) -> Result<NodeStageVolumeResponse, Status> {
        let id = &v.id;
        let device = v
            .device
            .clone()
            .ok_or_else(|| Status::internal("attached, yet no device"))?;
        let Access::Mount { fs_type, flags } = access else {
            // A raw block volume is published from its device.
            return Ok(NodeStageVolumeResponse {});
        };
        mounts::make_dir(staging).or_status()?;
        if let Some(m) = mounts::mounted_at(staging).or_status()? {
            return if m.source == device {
                Ok(NodeStageVolumeResponse {})
            } else {
                Err(Status::already_exists(format!(
                    "{} already has {} mounted",
                    staging.display(),
                    m.source
                )))
            };
        }
        let fs = match mounts::fs_type_of(&device)
            .map_err(|e| Status::failed_precondition(e.message))?
        {
            Some(found) => found,
            // Only a volume this driver made for a filesystem gets one: an
            // empty-looking volume of the CLI's may hold raw data.
            None if made_as.is_none() => {
                return Err(Status::failed_precondition(format!(
                    "volume {id} has no filesystem and was not made by the CSI driver for one: not formatting it"
                )));
            }
            None => {
                mounts::make_fs(&fs_type, &device).or_status()?;
                fs_type
            }
        };
        mounts::mount_fs(&device, staging, &fs, &flags).or_status()?;
        Ok(NodeStageVolumeResponse {})
    }

    fn unstage(&self, req: NodeUnstageVolumeRequest) -> Result<NodeUnstageVolumeResponse, Status> {
        let id = required(&req.volume_id, "volume_id")?;
        let staging = required(&req.staging_target_path, "staging_target_path")?;
        let staging = mounts::checked(staging, "staging_target_path").or_status()?;
        // Only this volume's own mount is taken down: an unknown volume, or
        // something else mounted at the path, is left alone.
        let v = self.known(id)?;
        let ops = self.ops();
        let device = ops.refresh_device(&v.id).or_status()?.device;
        while let Some(m) = mounts::mounted_at(&staging).or_status()? {
            if device.as_deref() != Some(m.source.as_str()) {
                return Err(Status::failed_precondition(format!(
                    "{} has {} mounted, not volume {id}: left alone",
                    staging.display(),
                    m.source
                )));
            }
            mounts::unmount_one(&staging).or_status()?;
        }
        if let Some(dev) = &device {
            // Still published somewhere (a raw block bind of its node does
            // not hold it open): detached, the number could back another
            // volume, seen through the old bind.
            let used = mounts::uses_of(dev).or_status()?;
            if let Some(at) = used.first() {
                return Err(Status::failed_precondition(format!(
                    "volume {id} ({dev}) is still published at {}: unpublish it first",
                    at.display()
                )));
            }
            ops.detach(&v.id).or_status()?;
        }
        Ok(NodeUnstageVolumeResponse {})
    }

    fn publish(&self, req: NodePublishVolumeRequest) -> Result<NodePublishVolumeResponse, Status> {
        let id = required(&req.volume_id, "volume_id")?;
        let target = required(&req.target_path, "target_path")?;
        let staging = required(&req.staging_target_path, "staging_target_path")?;
        let target = mounts::checked(target, "target_path").or_status()?;
        let staging = mounts::checked(staging, "staging_target_path").or_status()?;
        let v = self.known(id)?;
        let access = self.access_for(&v, req.volume_capability.as_ref())?;
        let read_only = req.readonly
            || req
                .volume_capability
                .as_ref()
                .and_then(|c| c.access_mode.as_ref())
                .is_some_and(|m| {
                    m.mode == volume_capability::access_mode::Mode::SingleNodeReaderOnly as i32
                });
        let device = self.ops().refresh_device(&v.id).or_status()?.device;
        if let Some(m) = mounts::mounted_at(&target).or_status()? {
            // Published before (a retry): the same volume, the same way.
            let ours = device.as_deref().is_some_and(|d| mounts::shows(&m, d));
            if !ours {
                return Err(Status::failed_precondition(format!(
                    "{} has {} mounted, not volume {id}",
                    target.display(),
                    m.source
                )));
            }
            let ro = m.options.iter().any(|o| o == "ro");
            if ro != read_only {
                return Err(Status::already_exists(format!(
                    "volume {id} is published at {} {}",
                    target.display(),
                    if ro { "read-only" } else { "read-write" }
                )));
            }
            return Ok(NodePublishVolumeResponse {});
        }
        match access {
            Access::Block => {
                let device = device.ok_or_else(|| {
                    Status::failed_precondition(format!("volume {id} is not staged on this node"))
                })?;
                mounts::make_file(&target).or_status()?;
                mounts::bind(Path::new(&device), &target, read_only).or_status()?;
            }
            Access::Mount { .. } => {
                // The staging mount must be this volume's own filesystem.
                let staged = mounts::mounted_at(&staging).or_status()?;
                let is_ours = match (&staged, device.as_deref()) {
                    (Some(m), Some(d)) => m.source == d,
                    _ => false,
                };
                if !is_ours {
                    return Err(Status::failed_precondition(format!(
                        "volume {id} is not staged at {}",
                        staging.display()
                    )));
                }
                mounts::make_dir(&target).or_status()?;
                mounts::bind(&staging, &target, read_only).or_status()?;
            }
        }
        Ok(NodePublishVolumeResponse {})
    }

    fn unpublish(
        &self,
        req: NodeUnpublishVolumeRequest,
    ) -> Result<NodeUnpublishVolumeResponse, Status> {
        let id = required(&req.volume_id, "volume_id")?;
        let target = required(&req.target_path, "target_path")?;
        let target = mounts::checked(target, "target_path").or_status()?;
        // An unknown volume's target is not this driver's to take down.
        self.known(id)?;
        mounts::unmount(&target).or_status()?;
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.is_dir() => std::fs::remove_dir(&target)
                .map_err(|e| Error::backend_io(format!("rmdir {}", target.display()), &e))
                .or_status()?,
            Ok(_) => std::fs::remove_file(&target)
                .map_err(|e| Error::backend_io(format!("rm {}", target.display()), &e))
                .or_status()?,
            Err(_) => {}
        }
        Ok(NodeUnpublishVolumeResponse {})
    }

    fn stats(&self, req: NodeGetVolumeStatsRequest) -> Result<NodeGetVolumeStatsResponse, Status> {
        let id = required(&req.volume_id, "volume_id")?;
        let path = required(&req.volume_path, "volume_path")?;
        let v = self.known(id)?;
        let meta = std::fs::metadata(path)
            .map_err(|_| Status::not_found(format!("volume_path {path} does not exist")))?;
        let condition = Some(condition(&v));
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_block_device() || meta.is_file() {
            return Ok(NodeGetVolumeStatsResponse {
                usage: vec![VolumeUsage {
                    total: v.size.get() as i64,
                    unit: volume_usage::Unit::Bytes as i32,
                    ..Default::default()
                }],
                volume_condition: condition,
            });
        }
        let s = nix::sys::statvfs::statvfs(path)
            .map_err(|e| Status::internal(format!("statvfs {path}: {}", e.desc())))?;
        let block = s.fragment_size() as i64;
        let usage = vec![
            VolumeUsage {
                available: s.blocks_available() as i64 * block,
                total: s.blocks() as i64 * block,
                used: (s.blocks() - s.blocks_free()) as i64 * block,
                unit: volume_usage::Unit::Bytes as i32,
            },
            VolumeUsage {
                available: s.files_available() as i64,
                total: s.files() as i64,
                used: (s.files() - s.files_free()) as i64,
                unit: volume_usage::Unit::Inodes as i32,
            },
        ];
        Ok(NodeGetVolumeStatsResponse {
            usage,
            volume_condition: condition,
        })
    }

    fn expand(&self, req: NodeExpandVolumeRequest) -> Result<NodeExpandVolumeResponse, Status> {
        let id = required(&req.volume_id, "volume_id")?;
        let path = required(&req.volume_path, "volume_path")?;
        // An unknown volume is NOT_FOUND whatever the path.
        let v = self.known(id)?;
        let path = mounts::checked(path, "volume_path").or_status()?;
        let meta = std::fs::metadata(&path).map_err(|_| {
            Status::not_found(format!("volume_path {} does not exist", path.display()))
        })?;
        if meta.is_dir() {
            let m = mounts::mounted_at(&path).or_status()?.ok_or_else(|| {
                Status::failed_precondition(format!("nothing is mounted at {}", path.display()))
            })?;
            let device = self
                .ops()
                .refresh_device(&v.id)
                .or_status()?
                .device
                .ok_or_else(|| {
                    Status::failed_precondition(format!("volume {id} is not staged here"))
                })?;
            mounts::grow_fs(&m.fs_type, &device, &path).or_status()?;
        }
        Ok(NodeExpandVolumeResponse {
            capacity_bytes: v.size.get() as i64,
        })
    }
}

use crate::error::Error;

#[tonic::async_trait]
impl Node for Driver {
    async fn node_stage_volume(
        &self,
        request: Request<NodeStageVolumeRequest>,
    ) -> Result<Response<NodeStageVolumeResponse>, Status> {
        let d = self.clone();
        blocking(move || d.stage(request.into_inner())).await
    }

    async fn node_unstage_volume(
        &self,
        request: Request<NodeUnstageVolumeRequest>,
    ) -> Result<Response<NodeUnstageVolumeResponse>, Status> {
        let d = self.clone();
        blocking(move || d.unstage(request.into_inner())).await
    }

    async fn node_publish_volume(
        &self,
        request: Request<NodePublishVolumeRequest>,
    ) -> Result<Response<NodePublishVolumeResponse>, Status> {
        let d = self.clone();
        blocking(move || d.publish(request.into_inner())).await
    }

    async fn node_unpublish_volume(
        &self,
        request: Request<NodeUnpublishVolumeRequest>,
    ) -> Result<Response<NodeUnpublishVolumeResponse>, Status> {
        let d = self.clone();
        blocking(move || d.unpublish(request.into_inner())).await
    }

    async fn node_get_volume_stats(
        &self,
        request: Request<NodeGetVolumeStatsRequest>,
    ) -> Result<Response<NodeGetVolumeStatsResponse>, Status> {
        let d = self.clone();
        blocking(move || d.stats(request.into_inner())).await
    }

    async fn node_expand_volume(
        &self,
        request: Request<NodeExpandVolumeRequest>,
    ) -> Result<Response<NodeExpandVolumeResponse>, Status> {
        let d = self.clone();
        blocking(move || d.expand(request.into_inner())).await
    }

    async fn node_get_capabilities(
        &self,
        _: Request<NodeGetCapabilitiesRequest>,
    ) -> Result<Response<NodeGetCapabilitiesResponse>, Status> {
        let rpc = |t: Rpc| NodeServiceCapability {
            r#type: Some(node_service_capability::Type::Rpc(
                node_service_capability::Rpc { r#type: t as i32 },
            )),
        };
        Ok(Response::new(NodeGetCapabilitiesResponse {
            capabilities: [
                Rpc::StageUnstageVolume,
                Rpc::GetVolumeStats,
                Rpc::ExpandVolume,
                Rpc::VolumeCondition,
            ]
            .into_iter()
            .map(rpc)
            .collect(),
        }))
    }

    async fn node_get_info(
        &self,
        _: Request<NodeGetInfoRequest>,
    ) -> Result<Response<NodeGetInfoResponse>, Status> {
        Ok(Response::new(NodeGetInfoResponse {
            node_id: self.node_id.clone(),
            max_volumes_per_node: self.max_volumes,
            accessible_topology: Some(self.topology()),
        }))
    }
}
