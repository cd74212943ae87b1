//! The export flow (`volume_export`): ExportStart → ExportToFile →
//! PlaceExport → ExportFinish. Writes a volume or a snapshot to a file, raw or qcow2
//! (optionally compressed), sparse where the data is zeros.
//!
//! Initial store: `export` (what, where, how).
//!
//! The target is never written in place: qemu-img writes into a private
//! directory (0700, made with `mkdir`, so nothing can be planted in it) next
//! to the target, and the finished file is linked to the target's name —
//! `link(2)` fails if the name exists, so an existing file is never
//! overwritten unless `--force` (then `rename(2)`, atomic: a reader sees the
//! old file or the new, never half of one). While it runs the source is
//! `exporting`: volctl will not delete, attach, detach, extend or snapshot
//! it meanwhile.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::backends::{Format, Io, Obj, Phase, qemu_img};
use crate::error::Error;
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::service::Service;
use crate::store::events::{self, Event};
use crate::store::snapshots::{self, SnapshotStatus};
use crate::store::volumes::{self, VolumeStatus};
use crate::symbols::{EXPORT, EXPORT_SOURCE, EXPORT_STAGED, EXPORTED};
use crate::task_signature;

/// The flow's name.
pub const FLOW: &str = "volume_export";

/// The export flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW)
        .add(ExportStart(svc.clone()))
        .add(ExportToFile(svc.clone()))
        .add(PlaceExport(svc.clone()))
        .add(ExportFinish(svc.clone()))
}

/// What to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A volume.
    Volume,
    /// A snapshot.
    Snapshot,
}

/// An export request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportRequest {
    /// A volume or a snapshot.
    pub source: Source,
    /// Its id.
    pub id: String,
    /// The file to write (absolute).
    pub file: PathBuf,
    /// Its format.
    pub format: Format,
    /// Compress (qcow2 only).
    pub compress: bool,
    /// Replace an existing file; export an in-use volume.
    pub force: bool,
}

/// The source as ExportStart found (and marked) it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exporting {
    /// The volume the data belongs to.
    pub volume_id: String,
    /// Its backend.
    pub backend: String,
    /// The object's path (file or LV).
    pub path: String,
    /// The disk's size, bytes.
    pub size: u64,
    /// The device a volume had (it is `in-use` again after), if any.
    pub device: Option<String>,
    /// The private directory qemu-img writes into.
    pub work_dir: PathBuf,
}

/// The converted file in the work directory: recorded before it is placed,
/// so whatever happens while it is placed, the target can be told to be
/// this run's file (by its inode) or not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Staged {
    /// Its (device, inode).
    pub id: (u64, u64),
    /// Its size in bytes.
    pub bytes: u64,
}

/// The file written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exported {
    /// Where.
    pub file: PathBuf,
    /// Its (device, inode): what a revert may remove.
    pub id: (u64, u64),
    /// Its size in bytes (allocated bytes may be fewer).
    pub bytes: u64,
}

/// The flow's initial store.
pub fn inputs(req: &ExportRequest) -> Values {
    outputs().with(EXPORT, req)
}

/// Checks the request and the source, and marks the source `exporting`.
/// Revert: its status back.
pub struct ExportStart(pub Arc<Service>);

impl ExportStart {
    fn target_checks(req: &ExportRequest) -> Result<(), Error> {
        if req.compress && req.format != Format::Qcow2 {
            return Err(Error::invalid("--compress needs --format qcow2"));
        }
        if !req.file.parent().is_some_and(Path::is_dir) {
            return Err(Error::invalid(format!(
                "{}: its directory does not exist",
                req.file.display()
            )));
        }
        match std::fs::symlink_metadata(&req.file) {
            Ok(m) if m.is_dir() => Err(Error::invalid(format!(
                "{} is a directory",
                req.file.display()
            ))),
            Ok(_) if !req.force => Err(Error::conflict(format!(
                "{} exists; export never overwrites a file unless --force",
                req.file.display()
            ))),
            _ => Ok(()),
        }
    }
}

impl Task for ExportStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("putting the status back".to_string())
    }

    task_signature!("ExportStart", requires: [EXPORT], provides: [EXPORT_SOURCE], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let req = ctx.get(EXPORT)?;
        Self::target_checks(&req)?;
        let conn = self.0.store.db().lock();
        let work_dir = req
            .file
            .with_file_name(format!(".volctl-export-{}", crate::store::new_id()));
        let src = match req.source {
            Source::Volume => {
                let v = volumes::require(&conn, &req.id)?;
                match v.status {
                    VolumeStatus::Available => {}
                    VolumeStatus::InUse if req.force => {}
                    VolumeStatus::InUse => {
                        return Err(Error::conflict(format!(
                            "volume {} is in use ({}): its data may change while it is read; \
                             snapshot it and use the snapshot for a consistent copy (`export \
                             --snapshot`, `image create --from-snapshot`), or `export --force`",
                            v.id,
                            v.device.as_deref().unwrap_or("-")
                        ))
                        .into());
                    }
                    s => {
                        return Err(Error::conflict(format!(
                            "volume {} is {s}; only an available volume can be exported",
                            v.id
                        ))
                        .into());
                    }
                }
                let backend = v
                    .backend
                    .clone()
                    .ok_or_else(|| Error::internal("volume has no backend"))?;
                volumes::set_status(&conn, &v.id, VolumeStatus::Exporting, None)?;
                Exporting {
                    path: self.0.backends.get(&backend)?.path(Obj::volume(&v.id)),
                    volume_id: v.id,
                    backend,
                    size: v.size.get(),
                    device: v.device,
                    work_dir,
                }
            }
            Source::Snapshot => {
                let s = snapshots::get(&conn, &req.id)?
                    .ok_or_else(|| Error::not_found(format!("no snapshot {}", req.id)))?;
                if s.status != SnapshotStatus::Available {
                    return Err(Error::conflict(format!(
                        "snapshot {} is {}; only an available snapshot can be exported",
                        s.id, s.status
                    ))
                    .into());
                }
                snapshots::set_status(&conn, &s.id, SnapshotStatus::Exporting, None)?;
                Exporting {
                    path: self.0.backends.get(&s.backend)?.path(Obj::snapshot(&s.id)),
                    volume_id: s.volume_id,
                    backend: s.backend,
                    size: s.size.get(),
                    device: None,
                    work_dir,
                }
            }
        };
        Ok(outputs().with(EXPORT_SOURCE, src))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let Some(src) = ctx.result(EXPORT_SOURCE) else {
            return Ok(());
        };
        let req = ctx.get(EXPORT)?;
        // Only while it is still ours: once ExportFinish settled it (an
        // image flow fails after), others may have changed it since.
        let conn = self.0.store.db().lock();
        let exporting = match req.source {
            Source::Volume => {
                volumes::get(&conn, &req.id)?.is_some_and(|v| v.status == VolumeStatus::Exporting)
            }
            Source::Snapshot => snapshots::get(&conn, &req.id)?
                .is_some_and(|s| s.status == SnapshotStatus::Exporting),
        };
        drop(conn);
        if exporting {
            settle(&self.0, &req, &src)?;
        }
        Ok(())
    }
}

/// Puts the source back the way ExportStart found it.
fn settle(svc: &Service, req: &ExportRequest, src: &Exporting) -> Result<(), Error> {
    let conn = svc.store.db().lock();
    match req.source {
        Source::Volume => volumes::set_device(&conn, &req.id, src.device.as_deref()),
        Source::Snapshot => snapshots::set_status(&conn, &req.id, SnapshotStatus::Available, None),
    }
}

/// Converts the source into a file in the private work directory. Revert:
/// removes the work directory.
pub struct ExportToFile(pub Arc<Service>);

fn io_err(what: String, e: &std::io::Error) -> Error {
    Error::backend_io(what, e)
}

/// The work directory's file.
fn staged(src: &Exporting) -> PathBuf {
    src.work_dir.join("export")
}

/// Removes the work directory (ours: made by `mkdir` under our name).
fn remove_work_dir(dir: &Path) -> Result<(), Error> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io_err(format!("removing {}", dir.display()), &e))
        }
        _ => Ok(()),
    }
}

fn file_id(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

/// Whether the target is the file with identity `id` (this run's).
fn target_is(req: &ExportRequest, id: (u64, u64)) -> bool {
    std::fs::symlink_metadata(&req.file).is_ok_and(|m| file_id(&m) == id)
}

impl Task for ExportToFile {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("removing the export's work directory".to_string())
    }

    task_signature!("ExportToFile", requires: [EXPORT, EXPORT_SOURCE], provides: [EXPORT_STAGED]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let req = ctx.get(EXPORT)?;
        let src = ctx.get(EXPORT_SOURCE)?;
        let out = staged(&src);
        remove_work_dir(&src.work_dir)?;
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&src.work_dir)
                .map_err(|e| io_err(format!("creating {}", src.work_dir.display()), &e))?;
        }
        let progress = |p: Phase, d, t| ctx.progress_in(p.label(), d, t);
        let io = Io {
            progress: &progress,
            cancel: ctx.cancel_token(),
            phase: None,
        };
        let how = qemu_img::Conversion {
            from: Format::Raw,
            to: req.format,
            into_existing: false,
            compress: req.compress,
        };
        qemu_img::convert_with(Path::new(&src.path), &out, &how, src.size, &io)?;
        let f = std::fs::File::open(&out)
            .map_err(|e| io_err(format!("opening {}", out.display()), &e))?;
        f.sync_all()
            .map_err(|e| io_err(format!("syncing {}", out.display()), &e))?;
        let m = f
            .metadata()
            .map_err(|e| io_err(format!("stat {}", out.display()), &e))?;
        Ok(outputs().with(
            EXPORT_STAGED,
            Staged {
                id: file_id(&m),
                bytes: m.len(),
            },
        ))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        remove_work_dir(&ctx.get(EXPORT_SOURCE)?.work_dir)?;
        Ok(())
    }
}

/// Links the converted file to the target's name (`link(2)`: never over an
/// existing file), or with `force` renames it there (atomic), then removes
/// the work directory. Revert: removes the target if it is this run's file
/// (by the staged inode — never a file it did not make).
pub struct PlaceExport(pub Arc<Service>);

impl Task for PlaceExport {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("removing the exported file this run made".to_string())
    }

    task_signature!("PlaceExport", requires: [EXPORT, EXPORT_SOURCE, EXPORT_STAGED], provides: [EXPORTED]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let req = ctx.get(EXPORT)?;
        let src = ctx.get(EXPORT_SOURCE)?;
        let st = ctx.get(EXPORT_STAGED)?;
        let done = Exported {
            file: req.file.clone(),
            id: st.id,
            bytes: st.bytes,
        };
        // Placed by a run killed before it recorded so: done.
        if !target_is(&req, st.id) {
            let out = staged(&src);
            if !std::fs::symlink_metadata(&out).is_ok_and(|m| file_id(&m) == st.id) {
                return Err(Error::conflict(format!(
                    "the converted file in {} is gone; roll this export back and run it again",
                    src.work_dir.display()
                ))
                .into());
            }
            let placed = if req.force {
                std::fs::rename(&out, &req.file)
            } else {
                std::fs::hard_link(&out, &req.file)
            };
            placed.map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => Error::conflict(format!(
                    "{} appeared meanwhile; export never overwrites a file unless --force",
                    req.file.display()
                )),
                _ => io_err(format!("placing {}", req.file.display()), &e),
            })?;
            // Placed, not yet recorded: a run killed here leaves a target
            // only the staged inode identifies (resume and revert use it).
            ctx.progress(1, 2);
        }
        remove_work_dir(&src.work_dir)?;
        Ok(outputs().with(EXPORTED, done))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let req = ctx.get(EXPORT)?;
        let st = ctx.get(EXPORT_STAGED)?;
        if target_is(&req, st.id) {
            std::fs::remove_file(&req.file)
                .map_err(|e| io_err(format!("removing {}", req.file.display()), &e))?;
        }
        remove_work_dir(&ctx.get(EXPORT_SOURCE)?.work_dir)?;
        Ok(())
    }
}

/// The source is settled again; an event says what was written where.
pub struct ExportFinish(pub Arc<Service>);

impl Task for ExportFinish {
    task_signature!("ExportFinish", requires: [EXPORT, EXPORT_SOURCE, EXPORTED], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let req = ctx.get(EXPORT)?;
        let src = ctx.get(EXPORT_SOURCE)?;
        let done = ctx.get(EXPORTED)?;
        settle(&self.0, &req, &src)?;
        events::emit(
            &self.0.store.db().lock(),
            Some(&src.volume_id),
            &Event::VolumeExport {
                snapshot_id: (req.source == Source::Snapshot).then(|| req.id.clone()),
                file: done.file.to_string_lossy().into_owned(),
                format: req.format,
                bytes: done.bytes,
            },
        )?;
        Ok(outputs())
    }
}
