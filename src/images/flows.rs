//! Image import (`image_import`: CheckImageFile → CopyIntoCatalog →
//! InspectImage → RegisterImage), creation from a volume (`image_from_volume`,
//! Cinder's upload-to-image: CheckImageName → ExportStart → ExportToFile →
//! PlaceExport → ExportedIntoCatalog → InspectImage → ExportFinish →
//! RegisterImage) and
//! delete (`image_delete`: ImageDeleteStart → PurgeImageCache →
//! DeleteImageFile → ImageDeleteEntry).
//!
//! Import's initial store: `image_id`, `source` (path), `name` (or null),
//! `format` (declared, or null). From a volume: `image_id`, `name`,
//! `export` (the volume or snapshot, into the catalog). Delete's:
//! `image_id`.

use std::path::PathBuf;
use std::sync::Arc;

use super::{catalog_path, check_source, inspect};
use crate::api::check_name;
use crate::backends::copy::{clone_into, create_object};
use crate::backends::qemu_img::{Format, Info};
use crate::backends::{Io, Obj, Phase};
use crate::error::{Error, ErrorKind};
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::service::Service;
use crate::store::images::{self, CacheEntry, Image};
use crate::store::{events, now};
use crate::symbols::{
    CACHE_ENTRIES, FORMAT, IMAGE, IMAGE_BYTES, IMAGE_FORMAT, IMAGE_ID, IMAGE_INFO, IMAGE_NAME,
    IMAGE_PATH, NAME, SOURCE,
};
use crate::task_signature;

/// The import flow's name.
pub const IMPORT_FLOW: &str = "image_import";
/// The delete flow's name.
pub const DELETE_FLOW: &str = "image_delete";
/// The name of the flow that makes an image from a volume.
pub const FROM_VOLUME_FLOW: &str = "image_from_volume";

/// The import flow.
pub fn import_flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(IMPORT_FLOW)
        .add(CheckImageFile(svc.clone()))
        .add(CopyIntoCatalog(svc.clone()))
        .add(InspectImage(svc.clone()))
        .add(RegisterImage(svc.clone()))
}

/// Makes an image from a volume or a snapshot: the export flow's tasks,
/// writing into the catalog, then the import's inspection and registration.
/// Registration is the last step, as in an import: an image in the catalog
/// may be used at once, so no rollback may take it back. (Between the
/// source's settling and the registration, the unfinished flow keeps other
/// operations off the volume.)
pub fn from_volume_flow(svc: &Arc<Service>) -> Flow {
    use crate::manager::export_volume::{ExportFinish, ExportStart, ExportToFile, PlaceExport};
    Flow::linear(FROM_VOLUME_FLOW)
        .add(CheckImageName(svc.clone()))
        .add(ExportStart(svc.clone()))
        .add(ExportToFile(svc.clone()))
        .add(PlaceExport(svc.clone()))
        .add(ExportedIntoCatalog)
        .add(InspectImage(svc.clone()))
        .add(ExportFinish(svc.clone()))
        .add(RegisterImage(svc.clone()))
}

/// The initial store of [`from_volume_flow`]: image `image_id` named
/// `name`, written as `format` from `source` (a volume or a snapshot) `id`.
pub fn from_volume_inputs(
    svc: &Service,
    image_id: &str,
    name: &str,
    source: crate::manager::export_volume::Source,
    id: &str,
    format: Format,
) -> Values {
    let export = crate::manager::export_volume::ExportRequest {
        source,
        id: id.to_string(),
        file: catalog_path(svc, image_id),
        format,
        compress: false,
        force: false,
    };
    outputs()
        .with(IMAGE_ID, image_id.to_string())
        .with(NAME, Some(name.to_string()))
        .with(crate::symbols::EXPORT, export)
}

/// Checks the new image's name and makes the catalog directory the export
/// writes into.
pub struct CheckImageName(pub Arc<Service>);

impl Task for CheckImageName {
    task_signature!("CheckImageName", requires: [NAME], provides: [IMAGE_NAME]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let name = check_name(ctx.get(NAME)?.as_deref())?
            .ok_or_else(|| Error::invalid("give the image a name with --name"))?;
        if images::find(&self.0.store.db().lock(), &name).is_ok() {
            return Err(Error::conflict(format!("an image named `{name}` already exists")).into());
        }
        crate::trust::ensure_dir(&self.0.store.dir().join("images"), "image catalog")?;
        Ok(outputs().with(IMAGE_NAME, name))
    }
}

/// The exported file, as the catalog's copy of the image (what the
/// import's copy step provides): where, how big, which format, and where
/// its data came from.
pub struct ExportedIntoCatalog;

impl Task for ExportedIntoCatalog {
    task_signature!(
        "ExportedIntoCatalog",
        requires: [crate::symbols::EXPORT, crate::symbols::EXPORT_SOURCE, crate::symbols::EXPORTED],
        provides: [IMAGE_PATH, IMAGE_BYTES, IMAGE_FORMAT, SOURCE]
    );

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let req = ctx.get(crate::symbols::EXPORT)?;
        let src = ctx.get(crate::symbols::EXPORT_SOURCE)?;
        let done = ctx.get(crate::symbols::EXPORTED)?;
        Ok(outputs()
            .with(IMAGE_PATH, done.file)
            .with(IMAGE_BYTES, done.bytes)
            .with(IMAGE_FORMAT, req.format)
            .with(SOURCE, PathBuf::from(src.path)))
    }
}

/// The delete flow.
pub fn delete_flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(DELETE_FLOW)
        .add(ImageDeleteStart(svc.clone()))
        .add(PurgeImageCache(svc.clone()))
        .add(DeleteImageFile(svc.clone()))
        .add(ImageDeleteEntry(svc.clone()))
}

/// The import flow's initial store.
pub fn import_inputs(
    image_id: &str,
    source: &str,
    name: Option<&str>,
    format: Option<Format>,
) -> Values {
    outputs()
        .with(IMAGE_ID, image_id.to_string())
        .with(SOURCE, PathBuf::from(source))
        .with(NAME, name.map(str::to_string))
        .with(FORMAT, format)
}

/// Checks the file offered (regular, supported format, agreeing with what
/// is declared) and the name.
pub struct CheckImageFile(pub Arc<Service>);

impl Task for CheckImageFile {
    task_signature!("CheckImageFile", requires: [SOURCE, NAME, FORMAT], provides: [IMAGE_FORMAT, IMAGE_NAME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let source: PathBuf = ctx.get(SOURCE)?;
        let declared: Option<Format> = ctx.get(FORMAT)?;
        let (format, _) = check_source(&source, declared)?;
        let name = match ctx.get(NAME)? {
            Some(n) => n,
            None => source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| Error::invalid("give the image a name with --name"))?,
        };
        let name = check_name(Some(&name))?.unwrap_or_default();
        if images::find(&self.0.store.db().lock(), &name).is_ok() {
            return Err(Error::conflict(format!("an image named `{name}` already exists")).into());
        }
        Ok(outputs().with(IMAGE_FORMAT, format).with(IMAGE_NAME, name))
    }

    fn summary(&self, out: &Values) -> Option<String> {
        Some(format!(
            "{} {}",
            out.read(IMAGE_FORMAT)?,
            out.read(IMAGE_NAME)?
        ))
    }
}

/// Copies the file into the catalog (a reflink where possible). Everything
/// after inspects the copy, never the original. Revert: removes the copy.
pub struct CopyIntoCatalog(pub Arc<Service>);

impl Task for CopyIntoCatalog {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("removing the image's copy in the catalog".to_string())
    }

    task_signature!("CopyIntoCatalog", requires: [IMAGE_ID, SOURCE], provides: [IMAGE_PATH, IMAGE_BYTES]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id: String = ctx.get(IMAGE_ID)?;
        let source: PathBuf = ctx.get(SOURCE)?;
        let dst = catalog_path(&self.0, &id);
        let dir = dst.parent().expect("catalog path has a directory");
        crate::trust::ensure_dir(dir, "image catalog")?;
        let progress = |p: Phase, d, t| ctx.progress_in(p.label(), d, t);
        let io = Io {
            progress: &progress,
            cancel: ctx.cancel_token(),
            phase: None,
        };
        // A new catalog file, O_EXCL: a file already there that is not this
        // store's is refused, never adopted.
        let file = create_object(&dst, self.0.store.id())
            .map_err(|e| Error::backend_io(format!("creating {}", dst.display()), &e))?;
        clone_into(&source, file, &io).map_err(|e| match e.kind() {
            std::io::ErrorKind::Interrupted => Error::new(ErrorKind::Cancelled, "cancelled"),
            _ => Error::backend_io(format!("copying {} into the catalog", source.display()), &e),
        })?;
        let bytes = std::fs::metadata(&dst).map(|m| m.len()).unwrap_or(0);
        Ok(outputs().with(IMAGE_PATH, dst).with(IMAGE_BYTES, bytes))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let id: String = ctx.get(IMAGE_ID)?;
        match std::fs::remove_file(catalog_path(&self.0, &id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::backend_io("removing the partial catalog copy", &e).into())
            }
            _ => Ok(()),
        }
    }
}

/// Runs `qemu-img info` (explicit format) and `check` on the copy and
/// enforces the rules for untrusted images.
pub struct InspectImage(pub Arc<Service>);

impl Task for InspectImage {
    task_signature!("InspectImage", requires: [IMAGE_PATH, IMAGE_FORMAT], provides: [IMAGE_INFO]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let path: PathBuf = ctx.get(IMAGE_PATH)?;
        let format: Format = ctx.get(IMAGE_FORMAT)?;
        let limits = crate::backends::qemu_img::Inspection {
            wall: std::time::Duration::from_secs(self.0.config.images.inspect_timeout_seconds),
            cancel: Some(ctx.cancel_token()),
        };
        let info = inspect(
            &path,
            format,
            self.0.config.images.max_virtual_size_gb,
            &limits,
        )?;
        Ok(outputs().with(IMAGE_INFO, info))
    }

    fn summary(&self, out: &Values) -> Option<String> {
        let i: Info = out.read(IMAGE_INFO)?;
        Some(format!(
            "virtual size {:.2} GiB",
            crate::units::Bytes(i.virtual_size).as_gib_f64()
        ))
    }
}

/// Adds the image to the catalog. Revert: removes it.
pub struct RegisterImage(pub Arc<Service>);

impl Task for RegisterImage {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("removing the image's entry".to_string())
    }

    task_signature!(
        "RegisterImage",
        requires: [IMAGE_ID, IMAGE_NAME, IMAGE_FORMAT, IMAGE_INFO, IMAGE_PATH, IMAGE_BYTES, SOURCE],
        provides: [IMAGE],
        atomic
    );

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let info: Info = ctx.get(IMAGE_INFO)?;
        let image = Image {
            id: ctx.get(IMAGE_ID)?,
            name: ctx.get(IMAGE_NAME)?,
            format: ctx.get(IMAGE_FORMAT)?,
            virtual_size: info.virtual_size,
            size: ctx.get(IMAGE_BYTES)?,
            path: ctx.get(IMAGE_PATH)?.to_string_lossy().into_owned(),
            status: images::ImageStatus::Active,
            source: Some(ctx.get(SOURCE)?.to_string_lossy().into_owned()),
            created_at: now(),
            compressed: info.compressed,
            uses: 0,
        };
        let conn = self.0.store.db().lock();
        images::insert(&conn, &image)?;
        events::emit(
            &conn,
            None,
            &events::Event::ImageImport {
                image_id: image.id.clone(),
                name: image.name.clone(),
                format: image.format,
                virtual_size: image.virtual_size,
            },
        )?;
        Ok(outputs().with(IMAGE, image))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let id: String = ctx.get(IMAGE_ID)?;
        images::delete(&self.0.store.db().lock(), &id)?;
        Ok(())
    }
}

/// Refuses to delete an image volumes are being made from; marks it
/// `deleting`. Revert: marks it `active` again.
pub struct ImageDeleteStart(pub Arc<Service>);

impl Task for ImageDeleteStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("marking the image active again".to_string())
    }

    task_signature!("ImageDeleteStart", requires: [IMAGE_ID], provides: [IMAGE, CACHE_ENTRIES], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id: String = ctx.get(IMAGE_ID)?;
        let conn = self.0.store.db().lock();
        let image =
            images::get(&conn, &id)?.ok_or_else(|| Error::not_found(format!("no image {id}")))?;
        let busy = crate::store::volumes::in_flight_from(
            &conn,
            crate::store::volumes::SourceKind::Image,
            &id,
        )?;
        if busy > 0 {
            return Err(Error::conflict(format!(
                "image `{}` is being copied into {busy} volume(s); delete it when they are done",
                image.name
            ))
            .into());
        }
        images::set_status(&conn, &id, images::ImageStatus::Deleting)?;
        let entries = images::cache_list(&conn, None, Some(&id))?;
        Ok(outputs().with(IMAGE, image).with(CACHE_ENTRIES, entries))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if ctx.own_failure().is_none() {
            let id: String = ctx.get(IMAGE_ID)?;
            images::set_status(&self.0.store.db().lock(), &id, images::ImageStatus::Active)?;
        }
        Ok(())
    }
}

/// Removes the image's cache objects from every backend.
pub struct PurgeImageCache(pub Arc<Service>);

impl Task for PurgeImageCache {
    task_signature!("PurgeImageCache", requires: [IMAGE_ID, CACHE_ENTRIES], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id: String = ctx.get(IMAGE_ID)?;
        let entries: Vec<CacheEntry> = ctx.get(CACHE_ENTRIES)?;
        for e in entries {
            // A backend no longer configured keeps its object; `check` shows it.
            if let Ok(driver) = self.0.backends.get(&e.backend) {
                driver.delete(Obj::cache(&id))?;
            }
        }
        Ok(outputs())
    }
}

/// Removes the catalog's file.
pub struct DeleteImageFile(pub Arc<Service>);

impl Task for DeleteImageFile {
    task_signature!("DeleteImageFile", requires: [IMAGE], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let image: Image = ctx.get(IMAGE)?;
        match std::fs::remove_file(&image.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::backend_io(format!("removing {}", image.path), &e).into())
            }
            _ => Ok(outputs()),
        }
    }
}

/// Forgets the image and its cache entries.
pub struct ImageDeleteEntry(pub Arc<Service>);

impl Task for ImageDeleteEntry {
    task_signature!("ImageDeleteEntry", requires: [IMAGE], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let image: Image = ctx.get(IMAGE)?;
        let conn = self.0.store.db().lock();
        images::delete(&conn, &image.id)?;
        events::emit(
            &conn,
            None,
            &events::Event::ImageDelete {
                image_id: image.id,
                name: image.name,
            },
        )?;
        Ok(outputs())
    }
}
