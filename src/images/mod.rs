//! The local image catalog: validation of untrusted image files, and the
//! image cache that later volumes from the same image are cloned from.

pub mod flows;

use std::fs;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use crate::backends::copy::open_read;
use crate::backends::qemu_img::{self, Detected, Format};
use crate::backends::{Driver, ImageSource, Io, Obj, Phase};
use crate::error::{Error, ErrorKind, Result};
use crate::flow::now_us;
use crate::locks::FileLock;
use crate::service::Service;
use crate::store::images::{self, CacheEntry, Image};
use crate::store::{events, now};
use crate::units::{Bytes, GiB};

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::BadImage, msg)
}

/// Reads up to `n` bytes from the start of a file (never following links).
fn head(path: &Path, n: usize) -> Result<Vec<u8>> {
    let mut f = open_read(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match f.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) => return Err(bad(format!("{}: {e}", path.display()))),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// What a file's name says its format is, if anything.
fn format_by_name(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "qcow2" | "qcow" => Some(Format::Qcow2),
        "raw" => Some(Format::Raw),
        _ => None,
    }
}

/// Checks a file offered for import: a regular file (not a link, directory
/// or device), non-empty, of a supported format that agrees with what the
/// user or the file's name says. Returns its format and size.
pub fn check_source(path: &Path, declared: Option<Format>) -> Result<(Format, u64)> {
    let shown = path.display();
    let meta = fs::symlink_metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::not_found(format!("no file {shown}")),
        _ => bad(format!("{shown}: {e}")),
    })?;
    let ft = meta.file_type();
    if ft.is_symlink() {
        return Err(bad(format!(
            "{shown} is a symbolic link; images are untrusted input, so give the file itself"
        )));
    }
    if ft.is_dir() {
        return Err(bad(format!("{shown} is a directory, not an image file")));
    }
    if ft.is_block_device()
        || ft.is_char_device()
        || ft.is_fifo()
        || ft.is_socket()
        || !ft.is_file()
    {
        return Err(bad(format!("{shown} is not a regular file")));
    }
    if meta.len() == 0 {
        return Err(bad(format!("{shown} is empty")));
    }
    let format = match qemu_img::detect(&head(path, 4096)?) {
        Detected::Other(what) => return Err(bad(format!("{shown} is {what}, not a disk image"))),
        Detected::Image(f) => f,
    };
    if format == Format::Raw && meta.len() % 512 != 0 {
        return Err(bad(format!(
            "{shown} is not a disk image: read as raw, its size ({} bytes) is not a whole number of 512-byte sectors",
            meta.len()
        )));
    }
    if let Some(d) = declared
        && d != format
    {
        return Err(bad(format!(
            "{shown} was given as {d}, but its content is {format}"
        )));
    }
    if let Some(named) = format_by_name(path)
        && named != format
    {
        return Err(bad(format!(
            "{shown}: the name says {named}, but the content is {format}; give --format {format} if that is right"
        )));
    }
    Ok((format, meta.len()))
}

/// Inspects the catalog's copy with `qemu-img info` (explicit format) and,
/// for qcow2, `qemu-img check`: no backing file, no external data file, not
/// encrypted or corrupt, virtual size within `max_virtual_gb`.
pub fn inspect(
    copy: &Path,
    format: Format,
    max_virtual_gb: u64,
    limits: &qemu_img::Inspection<'_>,
) -> Result<qemu_img::Info> {
    match qemu_img::detect(&head(copy, 4096)?) {
        Detected::Image(f) if f == format => {}
        _ => return Err(bad("the file changed while it was being imported")),
    }
    let info = qemu_img::info(copy, format, limits)?;
    if info.format != format.as_str() {
        return Err(bad(format!(
            "qemu-img reads it as {}, not {format}",
            info.format
        )));
    }
    if let Some(b) = &info.backing_file {
        return Err(bad(format!(
            "it has a backing file (`{b}`); images must be self-contained"
        )));
    }
    if let Some(d) = &info.data_file {
        return Err(bad(format!(
            "it has an external data file (`{d}`); images must be self-contained"
        )));
    }
    if info.encrypted {
        return Err(bad("encrypted images are not supported"));
    }
    if info.corrupt {
        return Err(bad("qemu marks the image corrupt"));
    }
    if info.virtual_size == 0 {
        return Err(bad("its virtual size is 0"));
    }
    if Bytes(info.virtual_size) > GiB(max_virtual_gb).bytes() {
        return Err(bad(format!(
            "its virtual size ({:.1} GiB) is over the limit of {max_virtual_gb} GiB ([images] max_virtual_size_gb)",
            Bytes(info.virtual_size).as_gib_f64()
        )));
    }
    let compressed = qemu_img::check(copy, format, limits)?;
    Ok(qemu_img::Info { compressed, ..info })
}

/// Where the catalog keeps image `id`.
pub fn catalog_path(svc: &Service, id: &str) -> PathBuf {
    svc.store.dir().join("images").join(format!("image-{id}"))
}

/// The lock a process holds while it fills image `image_id`'s cache entry
/// on `backend` (check leaves an entry being filled alone).
pub fn cache_lock(svc: &Service, backend: &str, image_id: &str) -> PathBuf {
    svc.store
        .dir()
        .join("locks")
        .join(format!("cache-{backend}-{image_id}.lock"))
}

/// Cache objects are the image's virtual size rounded up to 4 MiB (an LVM
/// extent), so every backend makes them the same size.
fn cache_bytes(image: &Image) -> Bytes {
    Bytes(image.virtual_size.div_ceil(4 << 20) << 22)
}

/// Whether a cache miss should fill the cache, given whether the backend's
/// copies are cheap (a reflink, a thin snapshot), whether the image is
/// compressed and which use of it this is (1 for the first volume made
/// from it).
///
/// Where copies are cheap a hit costs nothing: always fill. Where a copy
/// reads and writes every byte, a fill costs a second pass over the data
/// and a hit is such a copy, so filling pays only if hits will come and
/// each is cheaper than converting. Measured on ext4 (`benches/
/// ext4-images.sh`): a hit is 1.8–2.5× faster than converting a compressed
/// image, but no faster than converting an uncompressed one (within that
/// benchmark's noise). So: a compressed
/// image, from its second use (it is being reused; its first use converts
/// at the speed of a bare `qemu-img convert`); an uncompressed one, never.
pub fn fill_pays(cheap_copies: bool, compressed: bool, use_number: u64) -> bool {
    cheap_copies || (compressed && use_number >= 2)
}

/// Writes image `image` into volume `volume_id` on `driver`, through the
/// image cache when it is on: a hit is a copy (a reflink where the backend
/// can) of the cached raw image; a miss converts the image into the volume
/// and, when [`fill_pays`], fills the cache — converting into the cache and
/// copying from it where copies are cheap, else converting into the volume
/// and copying that into the cache. One process fills a given image's
/// cache entry at a time (a per-image lock), so concurrent creates wait and
/// then hit.
pub fn write_image(
    svc: &Service,
    driver: &dyn Driver,
    image: &Image,
    volume_id: &str,
    size: Bytes,
    io: &Io<'_>,
) -> Result<String> {
    let src = ImageSource {
        path: Path::new(&image.path),
        format: image.format,
        virtual_size: image.virtual_size,
        is_volume: false,
    };
    let volume = Obj::volume(volume_id);
    let size_bytes = size;
    if !svc.config.image_cache.enabled {
        return driver.import_image(&src, volume, size_bytes, io);
    }
    let use_number = images::record_use(&svc.store.db().lock(), &image.id)?;
    let backend = driver.name();
    let cache = Obj::cache(&image.id);
    let from_cache = io.as_phase(Phase::CopyingFromCache);
    let lock = FileLock::lock(&cache_lock(svc, backend, &image.id), io.cancel).map_err(|e| {
        if e.kind() == std::io::ErrorKind::Interrupted {
            Error::new(
                ErrorKind::Cancelled,
                "cancelled while waiting for the image cache",
            )
        } else {
            Error::new(ErrorKind::Backend, format!("image cache lock: {e}"))
        }
    })?;
    let entry = images::cache_get(&svc.store.db().lock(), backend, &image.id)?;
    if let Some(entry) = entry {
        let same = entry
            .fingerprint
            .as_ref()
            .is_none_or(|f| driver.fingerprint(cache).as_ref() == Some(f));
        if same && driver.size(cache)? == Some(cache_bytes(image)) {
            let path = driver.copy(cache, volume, Some(size_bytes), &from_cache)?;
            images::cache_touch(&svc.store.db().lock(), backend, &image.id)?;
            return Ok(path);
        }
        // The recorded entry is gone, damaged or replaced: forget it and
        // fill again (a replaced object is moved aside by the fill).
        if !same {
            tracing::warn!(
                "the cache object of image {} on {backend} changed since it was filled: not used",
                image.id
            );
        }
        images::cache_remove(&svc.store.db().lock(), backend, &image.id)?;
    }
    if !fill_pays(driver.cheap_copies(), image.compressed, use_number) {
        // A plain conversion, at the speed of a bare `qemu-img convert`;
        // other creates need not wait for it.
        drop(lock);
        return driver.import_image(&src, volume, size_bytes, io);
    }
    let path = if driver.cheap_copies() {
        fill(driver, cache, || {
            driver.import_image(&src, cache, cache_bytes(image), io)
        })?;
        driver.copy(cache, volume, Some(size_bytes), &from_cache)?
    } else {
        let path = driver.import_image(&src, volume, size_bytes, io)?;
        // The volume is made; a failure to fill the cache only costs the
        // next create its speed (a cancellation still stops the create).
        match fill(driver, cache, || {
            driver.copy(
                volume,
                cache,
                Some(cache_bytes(image)),
                &io.as_phase(Phase::FillingCache),
            )
        }) {
            Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
            Err(e) => {
                tracing::warn!("image cache not filled on {backend}: {e}");
                return Ok(path);
            }
            Ok(_) => {}
        }
        path
    };
    record(svc, driver, image)?;
    Ok(path)
}

/// Runs `make` to produce a cache object, removing a partial one on failure.
fn fill(
    driver: &dyn Driver,
    cache: Obj<'_>,
    make: impl FnOnce() -> Result<String>,
) -> Result<String> {
    make().inspect_err(|_| {
        let _ = driver.delete(cache);
    })
}

/// Records a filled cache entry, then evicts least-recently-used entries of
/// the backend beyond the configured size.
fn record(svc: &Service, driver: &dyn Driver, image: &Image) -> Result<()> {
    let backend = driver.name();
    let max = GiB(svc.config.image_cache.max_size_gb).bytes().get();
    let evicted = svc.store.db().immediate(|conn| {
        images::cache_insert(
            conn,
            &CacheEntry {
                backend: backend.to_string(),
                image_id: image.id.clone(),
                path: driver.path(Obj::cache(&image.id)),
                size: cache_bytes(image).get(),
                hits: 1,
                created_at: now(),
                last_used: now_us(),
                fingerprint: driver.fingerprint(Obj::cache(&image.id)),
            },
        )?;
        events::emit(
            conn,
            None,
            &events::Event::ImageCacheFill {
                backend: backend.to_string(),
                image_id: image.id.clone(),
                size: cache_bytes(image).get(),
            },
        )?;
        crate::store::backends::invalidate(conn, backend)?;
        let entries = images::cache_list(conn, Some(backend), None)?;
        let mut total: u64 = entries.iter().map(|e| e.size).sum();
        let mut evicted = Vec::new();
        for e in entries.iter().filter(|e| e.image_id != image.id) {
            if total <= max {
                break;
            }
            images::cache_remove(conn, backend, &e.image_id)?;
            events::emit(
                conn,
                None,
                &events::Event::ImageCacheEvict {
                    backend: backend.to_string(),
                    image_id: e.image_id.clone(),
                    size: e.size,
                },
            )?;
            total -= e.size;
            evicted.push(e.image_id.clone());
        }
        Ok::<_, Error>(evicted)
    })?;
    for id in evicted {
        // Volumes being copied from it keep their open file; removing it is
        // safe. A crash here leaves an object `volctl check` reports.
        driver.delete(Obj::cache(&id))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fill_pays;

    #[test]
    fn filling_the_cache_pays_where_copies_are_cheap_or_hits_will_be_cheaper() {
        // Reflink or thin snapshot: a hit costs nothing.
        assert!(fill_pays(true, false, 1));
        // Plain copies: never for an uncompressed image (a hit would be a
        // copy, slower than the conversion)…
        assert!(!fill_pays(false, false, 1));
        assert!(!fill_pays(false, false, 7));
        // …for a compressed one (a copy beats decompressing) once it is
        // reused: its first use is a bare conversion.
        assert!(!fill_pays(false, true, 1));
        assert!(fill_pays(false, true, 2));
        assert!(fill_pays(false, true, 7));
    }
}
