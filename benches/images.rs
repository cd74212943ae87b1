//! Volumes from images, snapshots and clones through the real binary, on an
//! XFS filesystem in a loop-mounted file (reflink) when run as root with
//! mkfs.xfs installed, else on the filesystem of the temp directory (said so
//! in the output).
//!
//! `cargo bench --bench images` → `target/criterion/images/results.json`
//!
//! - cache miss: `volctl create --from-image` of a 1 GiB qcow2 image into an
//!   empty cache, side by side with a bare `qemu-img convert -O raw` of the
//!   same image onto the same filesystem (alternating, 5 rounds);
//! - cache hit: the same create once the cache holds the image (15 runs);
//! - snapshot and clone of a 1 GiB volume full of data (15 runs each).

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;

mod support;
use support::{Mount, median};

/// The wall time of `cmd args`, seconds.
fn run(cmd: &str, args: &[&str], env: Option<(&Path, &Path)>) -> f64 {
    support::run(cmd, args, env).0
}

const BIN: &str = env!("CARGO_BIN_EXE_volctl");
const GIB: u64 = 1 << 30;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`
    }
    let tmp = tempfile::tempdir().unwrap();
    let fs_dir = tmp.path().join("fs");
    std::fs::create_dir_all(&fs_dir).unwrap();
    let root = nix::unistd::geteuid().is_root();
    let have_xfs = Command::new("mkfs.xfs").arg("-V").output().is_ok();
    let mut _mount = None;
    let fs_name = if root && have_xfs {
        let img = tmp.path().join("xfs.img");
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&img)
            .unwrap()
            .set_len(12 * GIB)
            .unwrap();
        run("mkfs.xfs", &["-q", img.to_str().unwrap()], None);
        run(
            "mount",
            &[
                "-o",
                "loop",
                img.to_str().unwrap(),
                fs_dir.to_str().unwrap(),
            ],
            None,
        );
        _mount = Some(Mount(fs_dir.clone()));
        "xfs (loop-mounted, reflink)"
    } else {
        eprintln!(
            "NOTE: not root or no mkfs.xfs: measuring on the temp directory's filesystem, without reflink"
        );
        "the temp directory's filesystem"
    };

    // A 1 GiB qcow2 image, full of non-zero data.
    let raw = tmp.path().join("src.raw");
    {
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&raw)
            .unwrap();
        let block: Vec<u8> = (0..(4 << 20))
            .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8 | 1)
            .collect();
        for i in 0..(GIB / block.len() as u64) {
            f.write_all_at(&block, i * block.len() as u64).unwrap();
        }
    }
    let image = tmp.path().join("bench.qcow2");
    run(
        "qemu-img",
        &[
            "convert",
            "-f",
            "raw",
            "-O",
            "qcow2",
            raw.to_str().unwrap(),
            image.to_str().unwrap(),
        ],
        None,
    );
    std::fs::remove_file(&raw).unwrap();

    let config = tmp.path().join("config.toml");
    std::fs::create_dir_all(fs_dir.join("backend")).unwrap();
    std::fs::write(
        &config,
        format!(
            "[quota]\nvolumes = -1\ngigabytes = -1\nsnapshots = -1\n[[backend]]\nname = \"b\"\ndriver = \"loopback\"\npath = \"{}\"\n",
            fs_dir.join("backend").display()
        ),
    )
    .unwrap();
    let state = |n: usize| tmp.path().join(format!("state{n}"));
    let volctl = |s: &Path, args: &[&str]| run(BIN, args, Some((s, &config)));
    let img = image.to_str().unwrap();

    // Cache miss vs bare qemu-img convert, alternating.
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for round in 0..5 {
        let s = state(round);
        volctl(&s, &["image", "import", img, "--name", "bench", "-q"]);
        let out = fs_dir.join("bare.raw");
        bare.push(run(
            "qemu-img",
            &[
                "convert",
                "-f",
                "qcow2",
                "-O",
                "raw",
                img,
                out.to_str().unwrap(),
            ],
            None,
        ));
        std::fs::remove_file(&out).unwrap();
        ours.push(volctl(&s, &["create", "--from-image", "bench", "-q"]));
        if round > 0 {
            // Keep the filesystem from filling: only the last state stays.
            std::fs::remove_dir_all(state(round - 1)).ok();
        }
    }
    let s = state(4);
    let (miss, conv) = (median(ours), median(bare));
    let hits: Vec<f64> = (0..15)
        .map(|_| volctl(&s, &["create", "--from-image", "bench", "-q"]))
        .collect();
    let results = format!(
        "{{\"filesystem\": \"{fs_name}\", \"miss_s\": {miss:.3}, \"bare_convert_s\": {conv:.3}, \"miss_throughput_vs_bare\": {:.3}, \"hit_ms\": {:.1}",
        conv / miss,
        median(hits) * 1000.0
    );
    // A named volume holding the image's data, to snapshot and clone.
    volctl(
        &s,
        &[
            "create",
            "--from-image",
            "bench",
            "--name",
            "bench-vol",
            "-q",
        ],
    );
    let snaps: Vec<f64> = (0..15)
        .map(|i| {
            volctl(
                &s,
                &[
                    "snapshot",
                    "create",
                    "bench-vol",
                    "--name",
                    &format!("t{i}"),
                    "-q",
                ],
            )
        })
        .collect();
    let clones: Vec<f64> = (0..15)
        .map(|_| volctl(&s, &["create", "--from-volume", "bench-vol", "-q"]))
        .collect();
    let results = format!(
        "{results}, \"snapshot_ms\": {:.1}, \"clone_ms\": {:.1}}}",
        median(snaps) * 1000.0,
        median(clones) * 1000.0
    );
    println!("images: {results}");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../criterion/images");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("results.json"), format!("{results}\n")).unwrap();
}
