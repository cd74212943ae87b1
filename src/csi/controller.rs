//! The Controller service: volumes and snapshots of one project, by name,
//! every call idempotent; capacity as the scheduler counts it.

use std::collections::BTreeMap;

use tonic::{Request, Response, Status};

use super::proto::controller_server::Controller;
use super::proto::controller_service_capability::rpc::Type as Rpc;
use super::proto::volume_capability::access_mode::Mode;
use super::proto::volume_capability::{AccessType, access_mode};
use super::proto::volume_content_source as content;
use super::proto::*;
use super::status::{OrStatus, invalid};
use super::{ACCESS_LABEL, Driver, FS_TYPE_LABEL, TOPOLOGY_KEY, blocking};
use crate::api::{CreateRequest, SourceRef};
use crate::error::ErrorKind;
use crate::store::snapshots::{self, Snapshot};
use crate::store::volumes::{self, Labels, SourceKind, Volume, VolumeStatus};
use crate::units::{Bytes, MIB};

/// The size of a volume whose request names none.
pub const DEFAULT_SIZE: Bytes = Bytes(1 << 30);

/// The filesystem a mount volume gets when nothing names one.
pub const DEFAULT_FS_TYPE: &str = "ext4";

/// The filesystems the node can make and grow.
pub const FS_TYPES: &[&str] = &["ext4", "xfs"];

/// How a volume is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// A raw block device.
    Block,
    /// A filesystem of this type, mounted.
    Mount {
        /// `ext4` or `xfs`.
        fs_type: String,
        /// Mount options asked for.
        flags: Vec<String>,
    },
}

impl Access {
    /// Its spelling in [`ACCESS_LABEL`].
    pub fn kind(&self) -> &'static str {
        match self {
            Access::Block => "block",
            Access::Mount { .. } => "mount",
        }
    }

    /// The filesystem, for a mount volume.
    pub fn fs_type(&self) -> Option<&str> {
        match self {
            Access::Block => None,
            Access::Mount { fs_type, .. } => Some(fs_type),
        }
    }
}

/// One node: every access mode that needs one node's writers or readers.
fn supported(mode: i32) -> bool {
    matches!(
        Mode::try_from(mode),
        Ok(Mode::SingleNodeWriter
            | Mode::SingleNodeReaderOnly
            | Mode::SingleNodeSingleWriter
            | Mode::SingleNodeMultiWriter)
    )
}

/// Why these capabilities cannot be had, if they cannot.
fn unsupported(caps: &[VolumeCapability]) -> Option<String> {
    for c in caps {
        let mode = c.access_mode.as_ref().map(|m| m.mode).unwrap_or(0);
        if !supported(mode) {
            return Some(format!(
                "access mode {} is not supported: a volctl volume is on one node",
                Mode::try_from(mode)
                    .map(|m| m.as_str_name())
                    .unwrap_or("UNKNOWN")
            ));
        }
        match &c.access_type {
            None => return Some("a volume capability needs an access type".into()),
            Some(AccessType::Mount(m))
                if !m.fs_type.is_empty() && !FS_TYPES.contains(&m.fs_type.as_str()) =>
            {
                return Some(format!(
                    "filesystem `{}` is not supported (supported: {})",
                    m.fs_type,
                    FS_TYPES.join(", ")
                ));
            }
            _ => {}
        }
    }
    None
}

/// The access the capabilities ask for (all of them alike), with `fs_type`
/// (from the StorageClass) when the capability names none.
pub fn access_of(caps: &[VolumeCapability], fs_type: Option<&str>) -> Result<Access, Status> {
    if caps.is_empty() {
        return Err(invalid("volume_capabilities are required"));
    }
    if let Some(why) = unsupported(caps) {
        return Err(invalid(why));
    }
    let mut access = None;
    for c in caps {
        let this = match &c.access_type {
            Some(AccessType::Block(_)) => Access::Block,
            Some(AccessType::Mount(m)) => Access::Mount {
                fs_type: Some(m.fs_type.as_str())
                    .filter(|f| !f.is_empty())
                    .or(fs_type)
                    .unwrap_or(DEFAULT_FS_TYPE)
                    .to_string(),
                flags: m.mount_flags.clone(),
            },
            None => unreachable!("checked by unsupported()"),
        };
        match &access {
            Some(a) if std::mem::discriminant(a) != std::mem::discriminant(&this) => {
                return Err(invalid("a volume is either block or mount, not both"));
            }
            _ => access = Some(this),
        }
    }
    Ok(access.expect("at least one capability"))
}

/// The size to make for `range` (whole MiB; `OUT_OF_RANGE` when the limit
/// is below it).
pub fn size_of(range: Option<&CapacityRange>) -> Result<Bytes, Status> {
    let (required, limit) = range.map_or((0, 0), |r| (r.required_bytes, r.limit_bytes));
    if required < 0 || limit < 0 {
        return Err(Status::out_of_range("capacity cannot be negative"));
    }
    let want = match (required, limit) {
        (0, 0) => DEFAULT_SIZE,
        (0, l) => Bytes(l as u64).min(DEFAULT_SIZE),
        (r, _) => Bytes(r as u64),
    };
    let size = want.max(Bytes(MIB)).round_up(MIB);
    if limit > 0 && size.get() > limit as u64 {
        return Err(Status::out_of_range(format!(
            "volumes are whole MiB: {} does not fit under the limit of {limit} bytes",
            size.get()
        )));
    }
    Ok(size)
}

/// What a StorageClass's parameters ask for.
#[derive(Debug, Default, PartialEq)]
pub struct Parameters {
    /// The volctl volume type.
    pub volume_type: Option<String>,
    /// The filesystem of mount volumes.
    pub fs_type: Option<String>,
    /// Labels for the volume.
    pub labels: Labels,
}

/// The provisioner's own metadata parameters (`--extra-create-metadata`),
/// kept as labels of the same names.
const PROVISIONER_PREFIX: &str = "csi.storage.k8s.io/";

/// Reads StorageClass parameters: `type`, `fsType`, `labels` (`k=v,k=v`),
/// and the provisioner's `csi.storage.k8s.io/…` metadata (kept as labels).
pub fn parameters(p: &std::collections::HashMap<String, String>) -> Result<Parameters, Status> {
    let mut out = Parameters::default();
    let mut keys: Vec<&String> = p.keys().collect();
    keys.sort();
    for k in keys {
        let v = &p[k];
        match k.as_str() {
            "type" => out.volume_type = Some(v.clone()),
            "fsType" => {
                if !FS_TYPES.contains(&v.as_str()) {
                    return Err(invalid(format!(
                        "parameter fsType: `{v}` is not supported (supported: {})",
                        FS_TYPES.join(", ")
                    )));
                }
                out.fs_type = Some(v.clone());
            }
            "labels" => {
                for pair in v.split(',').filter(|s| !s.trim().is_empty()) {
                    let (lk, lv) = pair.trim().split_once('=').ok_or_else(|| {
                        invalid(format!("parameter labels: `{pair}` is not key=value"))
                    })?;
                    add_label(&mut out.labels, lk, lv)?;
                }
            }
            k if k.starts_with(PROVISIONER_PREFIX) => add_label(&mut out.labels, k, v)?,
            other => {
                return Err(invalid(format!(
                    "unknown parameter `{other}` (volctl reads type, fsType, labels and {PROVISIONER_PREFIX}*)"
                )));
            }
        }
    }
    Ok(out)
}

fn add_label(labels: &mut Labels, k: &str, v: &str) -> Result<(), Status> {
    crate::labels::check_key(k).or_status()?;
    crate::labels::check_value(k, v).or_status()?;
    labels.insert(k.to_string(), v.to_string());
    Ok(())
}

fn timestamp(rfc3339: &str) -> Option<prost_types::Timestamp> {
    let t = humantime::parse_rfc3339(rfc3339).ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(prost_types::Timestamp {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    })
}

/// An opaque pagination token: the position to start at.
fn start_at(token: &str) -> Result<usize, Status> {
    if token.is_empty() {
        return Ok(0);
    }
    token.parse().map_err(|_| {
        Status::aborted(format!(
            "starting_token `{token}` is not one this driver gave"
        ))
    })
}

/// One page of `items` from `token`, and the next page's token.
fn page<T>(items: Vec<T>, token: &str, max: i32) -> Result<(Vec<T>, String), Status> {
    if max < 0 {
        return Err(invalid("max_entries cannot be negative"));
    }
    let start = start_at(token)?;
    if start > items.len() {
        return Err(Status::aborted(format!(
            "starting_token `{token}` is past the end"
        )));
    }
    let n = if max == 0 { usize::MAX } else { max as usize };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(n).collect();
    let next = start + page.len();
    Ok((
        page,
        if next < total {
            next.to_string()
        } else {
            String::new()
        },
    ))
}

impl Driver {
    fn volume_msg(&self, v: &Volume) -> super::proto::Volume {
        let source = match (v.source_kind, v.source_id.as_deref()) {
            (SourceKind::Snapshot, Some(id)) => Some(VolumeContentSource {
                r#type: Some(content::Type::Snapshot(content::SnapshotSource {
                    snapshot_id: id.to_string(),
                })),
            }),
            (SourceKind::Volume, Some(id)) => Some(VolumeContentSource {
                r#type: Some(content::Type::Volume(content::VolumeSource {
                    volume_id: id.to_string(),
                })),
            }),
            _ => None,
        };
        let mut context = std::collections::HashMap::new();
        if let Some(fs) = v.labels.get(FS_TYPE_LABEL) {
            context.insert("fsType".to_string(), fs.clone());
        }
        super::proto::Volume {
            capacity_bytes: v.size.get() as i64,
            volume_id: v.id.clone(),
            volume_context: context,
            content_source: source,
            accessible_topology: vec![self.topology()],
        }
    }

    /// A volume of this driver's project, if there is one with this id.
    pub(super) fn volume(&self, id: &str) -> Result<Option<Volume>, Status> {
        let conn = self.svc.store.db().lock();
        Ok(volumes::get(&conn, id)
            .or_status()?
            .filter(|v| v.project == self.project))
    }

    fn volume_status(&self, v: &Volume) -> VolumeCondition {
        super::node::condition(v)
    }

    /// Whether `req`'s topology lets the volume be on this node.
    fn placeable(&self, req: Option<&TopologyRequirement>) -> bool {
        let Some(req) = req else { return true };
        let here = |t: &super::proto::Topology| {
            t.segments
                .get(TOPOLOGY_KEY)
                .is_none_or(|n| *n == self.node_id)
        };
        req.requisite.is_empty() || req.requisite.iter().any(here)
    }

    fn create_volume_now(&self, req: CreateVolumeRequest) -> Result<CreateVolumeResponse, Status> {
        if req.name.is_empty() {
            return Err(invalid("name is required"));
        }
        let params = parameters(&req.parameters)?;
        let access = access_of(&req.volume_capabilities, params.fs_type.as_deref())?;
        let size = size_of(req.capacity_range.as_ref())?;
        if !self.placeable(req.accessibility_requirements.as_ref()) {
            return Err(Status::resource_exhausted(format!(
                "the volume must be on a node this one ({}) is not",
                self.node_id
            )));
        }
        let source = match req
            .volume_content_source
            .as_ref()
            .and_then(|s| s.r#type.as_ref())
        {
            None => None,
            Some(content::Type::Snapshot(s)) => {
                let conn = self.svc.store.db().lock();
                snapshots::get(&conn, &s.snapshot_id)
                    .or_status()?
                    .filter(|x| x.project == self.project)
                    .ok_or_else(|| Status::not_found(format!("no snapshot {}", s.snapshot_id)))?;
                Some(SourceRef::Snapshot(s.snapshot_id.clone()))
            }
            Some(content::Type::Volume(s)) => {
                self.volume(&s.volume_id)?
                    .ok_or_else(|| Status::not_found(format!("no volume {}", s.volume_id)))?;
                Some(SourceRef::Volume(s.volume_id.clone()))
            }
        };
        let mut labels = params.labels;
        labels.insert(ACCESS_LABEL.to_string(), access.kind().to_string());
        if let Some(fs) = access.fs_type() {
            labels.insert(FS_TYPE_LABEL.to_string(), fs.to_string());
        }
        let creq = CreateRequest {
            size: Some(size),
            name: Some(req.name.clone()),
            volume_type: params.volume_type,
            zone: None,
            project: self.project.clone(),
            source,
            labels: labels.clone(),
            expires_at: None,
        };
        let ops = self.ops();
        let ensured = match ops.ensure(&creq) {
            // A volume of this name whose create failed is this driver's
            // to retry: it holds nothing, and the caller asks again.
            Err(e) if e.kind == ErrorKind::Conflict && e.details.get("differences").is_none() => {
                let failed =
                    volumes::named(&self.svc.store.db().lock(), &self.project, &req.name, None)
                        .or_status()?
                        .and_then(|id| self.volume(&id).ok().flatten())
                        .filter(|v| v.status == VolumeStatus::Error);
                match failed {
                    Some(v) => {
                        // Another retry may have deleted it first.
                        match ops.delete(&v.id, false) {
                            Err(e) if e.kind != ErrorKind::NotFound => {
                                return Err(super::status::status(e));
                            }
                            _ => {}
                        }
                        ops.ensure(&creq)
                    }
                    None => Err(e),
                }
            }
            r => r,
        };
        let ensured = ensured.map_err(|e| {
            if e.kind == ErrorKind::Conflict && e.details.get("differences").is_some() {
                Status::already_exists(e.message)
            } else {
                super::status::status(e)
            }
        })?;
        let v = ensured.volume;
        // The same name asked again must ask for the same access.
        for key in [ACCESS_LABEL, FS_TYPE_LABEL] {
            if v.labels.get(key) != labels.get(key) {
                return Err(Status::already_exists(format!(
                    "volume `{}` ({}) exists with {key} {}, asked {}",
                    req.name,
                    v.id,
                    v.labels.get(key).map(String::as_str).unwrap_or("none"),
                    labels.get(key).map(String::as_str).unwrap_or("none")
                )));
            }
        }
        Ok(CreateVolumeResponse {
            volume: Some(self.volume_msg(&v)),
        })
    }

    fn delete_volume_now(&self, id: &str) -> Result<DeleteVolumeResponse, Status> {
        if id.is_empty() {
            return Err(invalid("volume_id is required"));
        }
        let Some(v) = self.volume(id)? else {
            return Ok(DeleteVolumeResponse {});
        };
        // The device as it is now, not as recorded: mounted, it is staged;
        // attached but unused (a stage that failed half-way, a server
        // killed before it detached), the delete detaches it.
        let ops = self.ops();
        let v = match ops.refresh_device(&v.id) {
            // Deleted meanwhile by another call: done.
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(DeleteVolumeResponse {}),
            r => r.or_status()?,
        };
        if let Some(dev) = &v.device
            && let Some(at) = super::mounts::uses_of(dev).or_status()?.first()
        {
            return Err(Status::failed_precondition(format!(
                "volume {id} is staged on this node ({dev} is mounted at {}): unstage it first",
                at.display()
            )));
        }
        let snaps = snapshots::list(&self.svc.store.db().lock(), None, Some(id)).or_status()?;
        if !snaps.is_empty() {
            return Err(Status::failed_precondition(format!(
                "volume {id} has {} snapshot(s): delete them first",
                snaps.len()
            )));
        }
        match ops.delete(id, true) {
            Ok(()) => Ok(DeleteVolumeResponse {}),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(DeleteVolumeResponse {}),
            Err(e) => Err(super::status::status(e)),
        }
    }

    fn snapshot_msg(&self, s: &Snapshot) -> super::proto::Snapshot {
        super::proto::Snapshot {
            size_bytes: s.size.get() as i64,
            snapshot_id: s.id.clone(),
            source_volume_id: s.volume_id.clone(),
            creation_time: timestamp(&s.created_at),
            ready_to_use: s.status == snapshots::SnapshotStatus::Available,
            group_snapshot_id: String::new(),
        }
    }

    fn create_snapshot_now(
        &self,
        req: CreateSnapshotRequest,
    ) -> Result<CreateSnapshotResponse, Status> {
        if req.name.is_empty() {
            return Err(invalid("name is required"));
        }
        if req.source_volume_id.is_empty() {
            return Err(invalid("source_volume_id is required"));
        }
        let existing = |d: &Driver| -> Result<Option<Snapshot>, Status> {
            let conn = d.svc.store.db().lock();
            Ok(snapshots::list(&conn, Some(&d.project), None)
                .or_status()?
                .into_iter()
                .find(|s| s.name.as_deref() == Some(req.name.as_str())))
        };
        let answer = |s: Snapshot| -> Result<CreateSnapshotResponse, Status> {
            if s.volume_id != req.source_volume_id {
                return Err(Status::already_exists(format!(
                    "snapshot `{}` ({}) is of volume {}, not {}",
                    req.name, s.id, s.volume_id, req.source_volume_id
                )));
            }
            Ok(CreateSnapshotResponse {
                snapshot: Some(self.snapshot_msg(&s)),
            })
        };
        if let Some(s) = existing(self)? {
            return answer(s);
        }
        if self.volume(&req.source_volume_id)?.is_none() {
            return Err(Status::not_found(format!(
                "no volume {}",
                req.source_volume_id
            )));
        }
        // A snapshot of a staged volume is crash-consistent, as any CSI
        // snapshot of a volume in use.
        match self
            .ops()
            .snapshot_create(&req.source_volume_id, Some(&req.name), true)
        {
            Ok(s) => answer(s),
            // Another call made it meanwhile: that one is the answer.
            Err(e) if e.kind == ErrorKind::Conflict => match existing(self)? {
                Some(s) => answer(s),
                None => Err(super::status::status(e)),
            },
            Err(e) => Err(super::status::status(e)),
        }
    }
}

#[tonic::async_trait]
impl Controller for Driver {
    async fn create_volume(
        &self,
        request: Request<CreateVolumeRequest>,
    ) -> Result<Response<CreateVolumeResponse>, Status> {
        let d = self.clone();
        blocking(move || d.create_volume_now(request.into_inner())).await
    }

    async fn delete_volume(
        &self,
        request: Request<DeleteVolumeRequest>,
    ) -> Result<Response<DeleteVolumeResponse>, Status> {
        let d = self.clone();
        blocking(move || d.delete_volume_now(&request.into_inner().volume_id)).await
    }

    async fn controller_publish_volume(
        &self,
        _: Request<ControllerPublishVolumeRequest>,
    ) -> Result<Response<ControllerPublishVolumeResponse>, Status> {
        Err(Status::unimplemented(
            "volumes are node-local: nothing to publish (attachRequired: false)",
        ))
    }

    async fn controller_unpublish_volume(
        &self,
        _: Request<ControllerUnpublishVolumeRequest>,
    ) -> Result<Response<ControllerUnpublishVolumeResponse>, Status> {
        Err(Status::unimplemented(
            "volumes are node-local: nothing to unpublish (attachRequired: false)",
        ))
    }

    async fn validate_volume_capabilities(
        &self,
        request: Request<ValidateVolumeCapabilitiesRequest>,
    ) -> Result<Response<ValidateVolumeCapabilitiesResponse>, Status> {
        let d = self.clone();
        blocking(move || {
            let req = request.into_inner();
            if req.volume_id.is_empty() {
                return Err(invalid("volume_id is required"));
            }
            if req.volume_capabilities.is_empty() {
                return Err(invalid("volume_capabilities are required"));
            }
            let v = d.known(&req.volume_id)?;
            let why = unsupported(&req.volume_capabilities).or_else(|| {
                let access = access_of(&req.volume_capabilities, None).ok()?;
                let has = v.labels.get(ACCESS_LABEL).map(String::as_str);
                (has.is_some() && has != Some(access.kind()))
                    .then(|| format!("volume {} is a {} volume", v.id, has.unwrap_or("?")))
            });
            Ok(match why {
                Some(message) => ValidateVolumeCapabilitiesResponse {
                    confirmed: None,
                    message,
                },
                None => ValidateVolumeCapabilitiesResponse {
                    confirmed: Some(validate_volume_capabilities_response::Confirmed {
                        volume_context: req.volume_context,
                        volume_capabilities: req.volume_capabilities,
                        parameters: req.parameters,
                        mutable_parameters: Default::default(),
                    }),
                    message: String::new(),
                },
            })
        })
        .await
    }

    async fn list_volumes(
        &self,
        request: Request<ListVolumesRequest>,
    ) -> Result<Response<ListVolumesResponse>, Status> {
        let d = self.clone();
        blocking(move || {
            let req = request.into_inner();
            let mut vols = d.ops().volumes(Some(&d.project)).or_status()?;
            vols.sort_by(|a, b| a.id.cmp(&b.id));
            let (vols, next_token) = page(vols, &req.starting_token, req.max_entries)?;
            let entries = vols
                .iter()
                .map(|v| list_volumes_response::Entry {
                    volume: Some(d.volume_msg(v)),
                    status: Some(list_volumes_response::VolumeStatus {
                        published_node_ids: v
                            .device
                            .as_ref()
                            .map(|_| vec![d.node_id.clone()])
                            .unwrap_or_default(),
                        volume_condition: Some(d.volume_status(v)),
                    }),
                })
                .collect();
            Ok(ListVolumesResponse {
                entries,
                next_token,
            })
        })
        .await
    }

    async fn get_capacity(
        &self,
        request: Request<GetCapacityRequest>,
    ) -> Result<Response<GetCapacityResponse>, Status> {
        let d = self.clone();
        blocking(move || {
            let req = request.into_inner();
            let params = parameters(&req.parameters)?;
            if !req.volume_capabilities.is_empty() {
                access_of(&req.volume_capabilities, params.fs_type.as_deref())?;
            }
            if let Some(t) = &req.accessible_topology
                && t.segments
                    .get(TOPOLOGY_KEY)
                    .is_some_and(|n| *n != d.node_id)
            {
                return Ok(GetCapacityResponse::default());
            }
            let (available, largest) =
                crate::scheduler::free_for_type(&d.svc, params.volume_type.as_deref())
                    .or_status()?;
            Ok(GetCapacityResponse {
                available_capacity: available.get() as i64,
                maximum_volume_size: Some(largest.get() as i64),
                minimum_volume_size: Some(MIB as i64),
            })
        })
        .await
    }

    async fn controller_get_capabilities(
        &self,
        _: Request<ControllerGetCapabilitiesRequest>,
    ) -> Result<Response<ControllerGetCapabilitiesResponse>, Status> {
        let rpc = |t: Rpc| ControllerServiceCapability {
            r#type: Some(controller_service_capability::Type::Rpc(
                controller_service_capability::Rpc { r#type: t as i32 },
            )),
        };
        Ok(Response::new(ControllerGetCapabilitiesResponse {
            capabilities: [
                Rpc::CreateDeleteVolume,
                Rpc::CreateDeleteSnapshot,
                Rpc::ListSnapshots,
                Rpc::ListVolumes,
                Rpc::GetCapacity,
                Rpc::CloneVolume,
                Rpc::ExpandVolume,
                Rpc::GetVolume,
                Rpc::VolumeCondition,
                Rpc::ListVolumesPublishedNodes,
            ]
            .into_iter()
            .map(rpc)
            .collect(),
        }))
    }

    async fn create_snapshot(
        &self,
        request: Request<CreateSnapshotRequest>,
    ) -> Result<Response<CreateSnapshotResponse>, Status> {
        let d = self.clone();
        blocking(move || d.create_snapshot_now(request.into_inner())).await
    }

    async fn delete_snapshot(
        &self,
        request: Request<DeleteSnapshotRequest>,
    ) -> Result<Response<DeleteSnapshotResponse>, Status> {
        let d = self.clone();
        blocking(move || {
            let id = request.into_inner().snapshot_id;
            if id.is_empty() {
                return Err(invalid("snapshot_id is required"));
            }
            let found = snapshots::get(&d.svc.store.db().lock(), &id)
                .or_status()?
                .filter(|s| s.project == d.project);
            if found.is_some() {
                match d.ops().snapshot_delete(&id) {
                    Err(e) if e.kind != ErrorKind::NotFound => {
                        return Err(super::status::status(e));
                    }
                    _ => {}
                }
            }
            Ok(DeleteSnapshotResponse {})
        })
        .await
    }

    async fn list_snapshots(
        &self,
        request: Request<ListSnapshotsRequest>,
    ) -> Result<Response<ListSnapshotsResponse>, Status> {
        let d = self.clone();
        blocking(move || {
            let req = request.into_inner();
            let mut snaps = {
                let conn = d.svc.store.db().lock();
                let of = Some(req.source_volume_id.as_str()).filter(|s| !s.is_empty());
                snapshots::list(&conn, Some(&d.project), of).or_status()?
            };
            if !req.snapshot_id.is_empty() {
                snaps.retain(|s| s.id == req.snapshot_id);
            }
            snaps.sort_by(|a, b| a.id.cmp(&b.id));
            let (snaps, next_token) = page(snaps, &req.starting_token, req.max_entries)?;
            Ok(ListSnapshotsResponse {
                entries: snaps
                    .iter()
                    .map(|s| list_snapshots_response::Entry {
                        snapshot: Some(d.snapshot_msg(s)),
                    })
                    .collect(),
                next_token,
            })
        })
        .await
    }

    async fn get_snapshot(
        &self,
        _: Request<GetSnapshotRequest>,
    ) -> Result<Response<GetSnapshotResponse>, Status> {
        Err(Status::unimplemented("GetSnapshot: use ListSnapshots"))
    }

    async fn controller_expand_volume(
        &self,
        request: Request<ControllerExpandVolumeRequest>,
    ) -> Result<Response<ControllerExpandVolumeResponse>, Status> {
        let d = self.clone();
        blocking(move || {
            let req = request.into_inner();
            if req.volume_id.is_empty() {
                return Err(invalid("volume_id is required"));
            }
            let range = req
                .capacity_range
                .as_ref()
                .ok_or_else(|| invalid("capacity_range is required"))?;
            let v = d.known(&req.volume_id)?;
            // Growing only: no size asked is the size it has (not the
            // create default); a limit below it cannot be met.
            if range.required_bytes <= 0 && range.limit_bytes <= 0 {
                return Err(Status::out_of_range("capacity_range asks for no size"));
            }
            if range.limit_bytes > 0 && (range.limit_bytes as u64) < v.size.get() {
                return Err(Status::out_of_range(format!(
                    "volume {} is {} bytes: it cannot shrink under the limit of {} bytes",
                    v.id,
                    v.size.get(),
                    range.limit_bytes
                )));
            }
            let want = size_of(Some(range))?;
            let v = if want > v.size {
                d.ops().extend(&v.id, want).or_status()?
            } else {
                v
            };
            Ok(ControllerExpandVolumeResponse {
                capacity_bytes: v.size.get() as i64,
                node_expansion_required: v.labels.get(ACCESS_LABEL).map(String::as_str)
                    != Some("block"),
            })
        })
        .await
    }

    async fn controller_get_volume(
        &self,
        request: Request<ControllerGetVolumeRequest>,
    ) -> Result<Response<ControllerGetVolumeResponse>, Status> {
        let d = self.clone();
        blocking(move || {
            let id = request.into_inner().volume_id;
            if id.is_empty() {
                return Err(invalid("volume_id is required"));
            }
            let v = d.known(&id)?;
            let v = d.ops().observed(&v);
            Ok(ControllerGetVolumeResponse {
                volume: Some(d.volume_msg(&v)),
                status: Some(controller_get_volume_response::VolumeStatus {
                    published_node_ids: v
                        .device
                        .as_ref()
                        .map(|_| vec![d.node_id.clone()])
                        .unwrap_or_default(),
                    volume_condition: Some(d.volume_status(&v)),
                }),
            })
        })
        .await
    }

    async fn controller_modify_volume(
        &self,
        _: Request<ControllerModifyVolumeRequest>,
    ) -> Result<Response<ControllerModifyVolumeResponse>, Status> {
        Err(Status::unimplemented("volumes have no mutable parameters"))
    }
}

#[allow(dead_code)]
fn _unused(_: BTreeMap<(), ()>, _: access_mode::Mode) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(mode: Mode, access: AccessType) -> VolumeCapability {
        VolumeCapability {
            access_mode: Some(volume_capability::AccessMode { mode: mode as i32 }),
            access_type: Some(access),
        }
    }

    #[test]
    fn sizes_are_whole_mib_within_the_limit() {
        let r = |required, limit| CapacityRange {
            required_bytes: required,
            limit_bytes: limit,
        };
        assert_eq!(size_of(None).unwrap(), DEFAULT_SIZE);
        assert_eq!(size_of(Some(&r(1, 0))).unwrap(), Bytes(MIB));
        assert_eq!(
            size_of(Some(&r((MIB + 1) as i64, 0))).unwrap(),
            Bytes(MIB * 2)
        );
        assert_eq!(
            size_of(Some(&r(0, (MIB * 3) as i64))).unwrap(),
            Bytes(MIB * 3)
        );
        let e = size_of(Some(&r((MIB + 1) as i64, (MIB + 2) as i64))).unwrap_err();
        assert_eq!(e.code(), tonic::Code::OutOfRange);
    }

    #[test]
    fn capabilities_are_one_node_and_one_access_type() {
        let mount = AccessType::Mount(volume_capability::MountVolume::default());
        let block = AccessType::Block(volume_capability::BlockVolume {});
        let a = access_of(&[cap(Mode::SingleNodeWriter, mount.clone())], Some("xfs")).unwrap();
        assert_eq!(a.fs_type(), Some("xfs"));
        assert_eq!(
            access_of(&[cap(Mode::SingleNodeWriter, block.clone())], None).unwrap(),
            Access::Block
        );
        for bad in [
            vec![cap(Mode::MultiNodeMultiWriter, mount.clone())],
            vec![
                cap(Mode::SingleNodeWriter, mount),
                cap(Mode::SingleNodeWriter, block),
            ],
            vec![],
        ] {
            assert_eq!(
                access_of(&bad, None).unwrap_err().code(),
                tonic::Code::InvalidArgument
            );
        }
    }

    #[test]
    fn parameters_name_a_type_a_filesystem_and_labels() {
        let p: std::collections::HashMap<String, String> = [
            ("type", "fast"),
            ("fsType", "xfs"),
            ("labels", "team=ci, tier=scratch"),
            ("csi.storage.k8s.io/pvc/name", "data"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let got = parameters(&p).unwrap();
        assert_eq!(got.volume_type.as_deref(), Some("fast"));
        assert_eq!(got.fs_type.as_deref(), Some("xfs"));
        assert_eq!(got.labels["team"], "ci");
        assert_eq!(got.labels["csi.storage.k8s.io/pvc/name"], "data");
        for (k, v) in [("colour", "blue"), ("fsType", "ntfs"), ("labels", "nokey")] {
            let p = [(k.to_string(), v.to_string())].into_iter().collect();
            assert_eq!(
                parameters(&p).unwrap_err().code(),
                tonic::Code::InvalidArgument,
                "{k}"
            );
        }
    }

    #[test]
    fn pages_carry_on_from_their_token_and_refuse_a_foreign_one() {
        let (p, next) = page((0..5).collect::<Vec<_>>(), "", 2).unwrap();
        assert_eq!((p, next.as_str()), (vec![0, 1], "2"));
        let (p, next) = page((0..5).collect::<Vec<_>>(), "4", 2).unwrap();
        assert_eq!((p, next.as_str()), (vec![4], ""));
        assert_eq!(
            page((0..5).collect::<Vec<_>>(), "x", 2).unwrap_err().code(),
            tonic::Code::Aborted
        );
    }
}
