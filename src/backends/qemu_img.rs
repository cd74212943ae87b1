//! `qemu-img`, run with arguments (never a shell), always with an explicit
//! format, and — for inspecting untrusted images — under CPU and memory
//! limits, as OpenStack does.

use std::fmt;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Io, Phase};
use crate::child;
use crate::error::{Error, ErrorKind, Result};
use crate::flow::CancelToken;

/// The image formats volctl accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A raw disk image.
    Raw,
    /// QEMU copy-on-write v2/v3.
    Qcow2,
}

impl Format {
    /// qemu-img's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Qcow2 => "qcow2",
        }
    }

    /// Parses a user-given format name.
    pub fn parse(s: &str) -> Result<Format> {
        match s {
            "raw" => Ok(Format::Raw),
            "qcow2" => Ok(Format::Qcow2),
            other => Err(Error::new(
                ErrorKind::BadImage,
                format!("image format `{other}` is not supported (supported: raw, qcow2)"),
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the first bytes of a file say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    /// A supported image format.
    Image(Format),
    /// Something else with a recognisable signature.
    Other(&'static str),
}

/// Recognises a file by its magic bytes. Anything unrecognised is raw.
pub fn detect(head: &[u8]) -> Detected {
    const SIGNATURES: &[(&[u8], usize, &str)] = &[
        (b"KDMV", 0, "a VMDK image"),
        (b"# Disk DescriptorFile", 0, "a VMDK descriptor"),
        (b"vhdxfile", 0, "a VHDX image"),
        (b"conectix", 0, "a VHD image"),
        (b"QED\0", 0, "a QED image"),
        (b"LUKS\xba\xbe", 0, "a LUKS-encrypted image"),
        (b"<<< Oracle VM VirtualBox Disk Image >>>", 0, "a VDI image"),
        (b"\x1f\x8b", 0, "a gzip archive (decompress it first)"),
        (b"\xfd7zXZ\0", 0, "an xz archive (decompress it first)"),
        (
            b"\x28\xb5\x2f\xfd",
            0,
            "a zstd archive (decompress it first)",
        ),
        (b"BZh", 0, "a bzip2 archive (decompress it first)"),
        (b"PK\x03\x04", 0, "a zip archive"),
        (b"\x7fELF", 0, "an ELF executable"),
        (b"ustar", 257, "a tar archive"),
    ];
    if head.starts_with(b"QFI\xfb") {
        return Detected::Image(Format::Qcow2);
    }
    for (magic, at, name) in SIGNATURES {
        if head.len() >= at + magic.len() && &head[*at..at + magic.len()] == *magic {
            return Detected::Other(name);
        }
    }
    Detected::Image(Format::Raw)
}

/// What `qemu-img info` says of an image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Info {
    /// Format as qemu-img opened it.
    pub format: String,
    /// Size of the disk it holds, bytes.
    pub virtual_size: u64,
    /// Backing file, if any (refused).
    pub backing_file: Option<String>,
    /// External data file, if any (refused).
    pub data_file: Option<String>,
    /// The qcow2 corrupt flag.
    pub corrupt: bool,
    /// Whether it is encrypted (refused).
    pub encrypted: bool,
    /// Whether it has compressed clusters (from `qemu-img check`, qcow2).
    #[serde(default)]
    pub compressed: bool,
}

/// Limits for inspecting untrusted images: address space and CPU seconds.
#[derive(Clone, Copy)]
struct Limits {
    address_space: u64,
    cpu_seconds: u64,
}

const INFO_LIMITS: Limits = Limits {
    address_space: 1 << 30,
    cpu_seconds: 20,
};
const CHECK_LIMITS: Limits = Limits {
    address_space: 2 << 30,
    cpu_seconds: 30,
};

/// How long an inspection may take, and what stops it.
pub struct Inspection<'a> {
    /// Wall-clock limit.
    pub wall: Duration,
    /// Ctrl-C.
    pub cancel: Option<&'a CancelToken>,
}

/// Runs an inspection: bounded output, limited time, cancellable. A JSON
/// report larger than the bound is itself a sign of a hostile image.
fn inspect_run(args: &[&str], limits: Limits, how: &Inspection<'_>) -> Result<child::Output> {
    let bounds = child::Bounds {
        wall: how.wall,
        ..child::Bounds::default()
    };
    let out = child::run(command(args, Some(limits)), bounds, how.cancel).map_err(spawn_error)?;
    match out.ended {
        child::Ended::Cancelled => Err(Error::new(
            ErrorKind::Cancelled,
            "cancelled while inspecting the image",
        )),
        child::Ended::TimedOut => Err(Error::new(
            ErrorKind::BadImage,
            format!(
                "qemu-img {} did not finish within {} s ([images] inspect_timeout_seconds): refusing the image",
                args[0],
                how.wall.as_secs()
            ),
        )),
        child::Ended::Exited(_) if out.stdout.truncated() => Err(Error::new(
            ErrorKind::BadImage,
            format!(
                "qemu-img {} printed {} bytes (more than the {} it may): refusing the image",
                args[0],
                out.stdout.total,
                child::Bounds::default().stdout_head
            ),
        )),
        child::Ended::Exited(_) => Ok(out),
    }
}

/// qemu-img processes running now, so that an immediate stop (a second
/// Ctrl-C) can kill them before exiting.
static RUNNING: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Kills every qemu-img this process started and still runs.
pub fn kill_running() {
    if let Ok(pids) = RUNNING.lock() {
        for &pid in pids.iter() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

fn command(args: &[&str], limits: Option<Limits>) -> Command {
    // NOTE: qemu-img is found on PATH (volctl runs as root from a service
    // or a shell whose PATH the administrator controls); its version is
    // what `tests/setup` checks the features of.
    let mut c = Command::new("qemu-img");
    c.args(args).env("LC_ALL", "C").stdin(Stdio::null());
    // Its own process group: a Ctrl-C at the terminal reaches volctl only,
    // which decides (cancel cleanly, or stop at once and kill it).
    c.process_group(0);
    // SAFETY: prctl and setrlimit are async-signal-safe; nothing else runs
    // between fork and exec.
    unsafe {
        c.pre_exec(move || {
            // Die with volctl, however volctl dies: a qemu-img left running
            // would keep writing into a volume that a resume rewrites.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(l) = limits {
                use nix::sys::resource::{Resource, setrlimit};
                setrlimit(Resource::RLIMIT_AS, l.address_space, l.address_space)?;
                setrlimit(Resource::RLIMIT_CPU, l.cpu_seconds, l.cpu_seconds)?;
            }
            Ok(())
        });
    }
    c
}

fn spawn_error(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::new(
            ErrorKind::Backend,
            "qemu-img is not installed (Debian: apt-get install qemu-utils)",
        )
    } else {
        Error::new(ErrorKind::Backend, format!("running qemu-img: {e}"))
    }
}

/// The first line(s) of qemu-img's complaint, without its noise.
fn complaint(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = lines
        .iter()
        .take(3)
        .map(|l| l.trim_start_matches("qemu-img: "))
        .collect::<Vec<_>>()
        .join("; ");
    if lines.len() > 3 {
        out.push_str(&format!(" (and {} more lines)", lines.len() - 3));
    }
    if out.is_empty() {
        "no message".into()
    } else {
        out
    }
}

/// Runs `qemu-img info` with an explicit format.
/// Whether two raw disks hold the same data (`qemu-img compare`, bounded
/// in time by `wall`, stopped by `cancel`); a size difference counts only
/// where the larger one holds data.
pub fn same_data(
    a: &Path,
    b: &Path,
    wall: std::time::Duration,
    cancel: Option<&crate::flow::CancelToken>,
) -> Result<bool> {
    let (pa, pb) = (a.to_string_lossy(), b.to_string_lossy());
    let cmd = command(&["compare", "-q", "-f", "raw", "-F", "raw", &pa, &pb], None);
    let out = child::run(
        cmd,
        child::Bounds {
            wall,
            ..child::Bounds::default()
        },
        cancel,
    )
    .map_err(spawn_error)?;
    match out.ended {
        // 0: identical; 1: they differ; anything else: it could not tell.
        child::Ended::Exited(s) if s.code() == Some(0) => Ok(true),
        child::Ended::Exited(s) if s.code() == Some(1) => Ok(false),
        child::Ended::Exited(_) => Err(Error::new(
            ErrorKind::Backend,
            format!(
                "qemu-img compare {pa} {pb}: {}",
                complaint(&out.stderr.text().into_bytes())
            ),
        )),
        child::Ended::TimedOut => Err(Error::new(
            ErrorKind::Backend,
            format!("qemu-img compare {pa} {pb} ran past {} s", wall.as_secs()),
        )),
        child::Ended::Cancelled => Err(Error::new(ErrorKind::Cancelled, "cancelled")),
    }
}

pub fn info(path: &Path, format: Format, how: &Inspection<'_>) -> Result<Info> {
    let p = path.to_string_lossy();
    let out = inspect_run(
        &["info", "-f", format.as_str(), "--output=json", &p],
        INFO_LIMITS,
        how,
    )?;
    let child::Ended::Exited(status) = out.ended else {
        unreachable!("inspect_run returns only exits")
    };
    if !status.success() {
        return Err(Error::new(
            ErrorKind::BadImage,
            format!(
                "qemu-img cannot read it as {format}: {}",
                complaint(&out.stderr.text().into_bytes())
            ),
        ));
    }
    let stdout = out.stdout.complete().unwrap_or_default();
    let v: Value = serde_json::from_slice(&stdout).map_err(|e| {
        Error::new(
            ErrorKind::BadImage,
            format!("qemu-img info gave unreadable output: {e}"),
        )
    })?;
    let data = &v["format-specific"]["data"];
    Ok(Info {
        format: v["format"].as_str().unwrap_or("").to_string(),
        virtual_size: v["virtual-size"].as_u64().ok_or_else(|| {
            Error::new(ErrorKind::BadImage, "qemu-img info reports no virtual size")
        })?,
        backing_file: v["backing-filename"]
            .as_str()
            .or_else(|| v["full-backing-filename"].as_str())
            .map(str::to_string),
        data_file: data["data-file"].as_str().map(str::to_string),
        corrupt: data["corrupt"].as_bool().unwrap_or(false),
        encrypted: v["encrypted"].as_bool().unwrap_or(false) || !data["encrypt"].is_null(),
        compressed: false,
    })
}

/// Runs `qemu-img check` (qcow2): refuses corrupt or truncated images;
/// whether the image has compressed clusters.
pub fn check(path: &Path, format: Format, how: &Inspection<'_>) -> Result<bool> {
    if format != Format::Qcow2 {
        return Ok(false);
    }
    let p = path.to_string_lossy();
    let out = inspect_run(
        &["check", "-f", format.as_str(), "--output=json", &p],
        CHECK_LIMITS,
        how,
    )?;
    let child::Ended::Exited(status) = out.ended else {
        unreachable!("inspect_run returns only exits")
    };
    let v: Value =
        serde_json::from_slice(&out.stdout.complete().unwrap_or_default()).unwrap_or(Value::Null);
    let corruptions = v["corruptions"].as_u64().unwrap_or(0);
    let errors = v["check-errors"].as_u64().unwrap_or(0);
    // Exit 3 means only leaked clusters: harmless. A signal (the CPU
    // limit) is no exit code at all: refused.
    let bad_exit = !matches!(status.code(), Some(0) | Some(3));
    if corruptions > 0 || errors > 0 || bad_exit {
        let detail = if corruptions > 0 || errors > 0 {
            format!("{corruptions} corruption(s), {errors} check error(s)")
        } else if status.code().is_none() {
            format!("stopped by {status} (over its CPU or memory limit)")
        } else {
            complaint(&out.stderr.text().into_bytes())
        };
        return Err(Error::new(
            ErrorKind::BadImage,
            format!("the image is damaged or truncated (qemu-img check: {detail})"),
        ));
    }
    Ok(v["compressed-clusters"].as_u64().unwrap_or(0) > 0)
}

/// Parses `qemu-img convert -p` progress text: `    (12.34/100%)`.
pub fn parse_progress(text: &str) -> Option<f64> {
    let start = text.rfind('(')?;
    let end = text[start..].find("/100%")? + start;
    text[start + 1..end].trim().parse().ok()
}

/// Converts `src` (of `format`) into the existing raw file or device `dst`
/// (`-n`: it is not created or truncated), reporting progress in bytes of
/// `virtual_size`. Cancellation kills qemu-img.
pub fn convert(
    src: &Path,
    format: Format,
    dst: &Path,
    virtual_size: u64,
    io: &Io<'_>,
) -> Result<()> {
    convert_with(
        src,
        dst,
        &Conversion {
            from: format,
            to: Format::Raw,
            into_existing: true,
            compress: false,
        },
        virtual_size,
        io,
    )
}

/// How [`convert_with`] converts.
#[derive(Clone, Copy, Debug)]
pub struct Conversion {
    /// The source's format (always given: never probed).
    pub from: Format,
    /// The target's format.
    pub to: Format,
    /// Write into an existing target (`-n`, which must be as large as the
    /// disk) rather than create it.
    pub into_existing: bool,
    /// Compress (qcow2 only).
    pub compress: bool,
}

/// `qemu-img convert` from `src` to `dst` as `how` says, with progress and
/// cancellation; the target is sparse where the source reads as zeros.
pub fn convert_with(
    src: &Path,
    dst: &Path,
    how: &Conversion,
    virtual_size: u64,
    io: &Io<'_>,
) -> Result<()> {
    let s = src.to_string_lossy();
    let d = dst.to_string_lossy();
    let mut args = vec![
        "convert",
        "-p",
        "-f",
        how.from.as_str(),
        "-O",
        how.to.as_str(),
    ];
    if how.into_existing {
        args.push("-n");
    }
    if how.compress {
        args.push("-c");
    }
    args.push(&s);
    args.push(&d);
    let mut child = command(&args, None)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_error)?;
    let pid = child.id();
    if let Ok(mut r) = RUNNING.lock() {
        r.push(pid);
    }
    let result = wait_convert(&mut child, &s, virtual_size, io);
    if let Ok(mut r) = RUNNING.lock() {
        r.retain(|&p| p != pid);
    }
    result
}

fn wait_convert(
    child: &mut std::process::Child,
    s: &str,
    virtual_size: u64,
    io: &Io<'_>,
) -> Result<()> {
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let (status, errors) = std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut buf = [0u8; 512];
            let mut pending = String::new();
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                pending.push_str(&String::from_utf8_lossy(&buf[..n]));
                if let Some(pct) = parse_progress(&pending) {
                    io.report(
                        Phase::Converting,
                        (pct / 100.0 * virtual_size as f64) as u64,
                        virtual_size,
                    );
                }
                if let Some(cut) = pending.rfind('\r') {
                    pending.drain(..=cut);
                }
                if pending.len() > 4096 {
                    pending.clear(); // not progress text: do not hoard it
                }
            }
        });
        // Bounded: only its first and last words matter.
        let errs = scope.spawn(move || {
            child::read_bounded(&mut stderr, 8 << 10, 8 << 10)
                .text()
                .into_bytes()
        });
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break Ok(st),
                Ok(None) if io.cancel.is_cancelled() => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(Error::new(
                        ErrorKind::Cancelled,
                        "cancelled: qemu-img was stopped",
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => {
                    break Err(Error::new(
                        ErrorKind::Backend,
                        format!("waiting for qemu-img: {e}"),
                    ));
                }
            }
        };
        let _ = reader.join();
        (status, errs.join().unwrap_or_default())
    });
    let status = status?;
    if status.success() {
        io.report(Phase::Converting, virtual_size, virtual_size);
        return Ok(());
    }
    let msg = complaint(&errors);
    // NOTE: qemu-img reports errors as English text only (LC_ALL=C).
    let kind = if msg.contains("No space left on device") || msg.contains("Disk quota exceeded") {
        ErrorKind::NoSpace
    } else if msg.contains("error while reading")
        || msg.contains("Could not open") && msg.contains(s)
    {
        ErrorKind::BadImage
    } else {
        ErrorKind::Backend
    };
    Err(Error::new(kind, format!("qemu-img convert failed: {msg}")))
}

/// The installed qemu-img's version line.
pub fn version() -> Result<String> {
    let out = command(&["--version"], None)
        .output()
        .map_err(spawn_error)?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_by_magic() {
        assert_eq!(detect(b"QFI\xfb\0\0\0\x03"), Detected::Image(Format::Qcow2));
        assert_eq!(detect(&[0u8; 512]), Detected::Image(Format::Raw));
        assert!(matches!(detect(b"\x1f\x8b\x08\0"), Detected::Other(s) if s.contains("gzip")));
        assert!(matches!(detect(b"KDMV...."), Detected::Other(s) if s.contains("VMDK")));
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert!(matches!(detect(&tar), Detected::Other(s) if s.contains("tar")));
    }

    #[test]
    fn parses_convert_progress() {
        assert_eq!(
            parse_progress("    (0.00/100%)\r    (12.50/100%)\r"),
            Some(12.5)
        );
        assert_eq!(parse_progress("    (100.00/100%)"), Some(100.0));
        assert_eq!(parse_progress("nothing"), None);
    }

    #[test]
    fn formats_are_checked() {
        assert_eq!(Format::parse("qcow2").unwrap(), Format::Qcow2);
        assert_eq!(Format::parse("vmdk").unwrap_err().kind, ErrorKind::BadImage);
    }
}
