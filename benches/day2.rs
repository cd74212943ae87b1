//! Day-2 operations through the real binary, on the loopback backend:
//!
//! - extend: `volctl extend` by 1 GiB of an unattached volume (15 runs);
//! - snapshot revert of a 1 GiB volume holding 256 MiB of data: on XFS in
//!   a loop-mounted file (reflink) and on the temp directory's filesystem
//!   (ext4 here: a sparse copy), 7 runs each;
//! - export to qcow2 of that volume, side by side with a bare
//!   `qemu-img convert -O qcow2` of the same file, synced as volctl's export
//!   is (alternating, 5 rounds);
//! - migrate of that volume between two loopback backends, side by side
//!   with a bare `cp --sparse=always` of its file, synced, and with that
//!   plus the removal of a file of the same data (a move; 5 rounds).
//!
//! `cargo bench --bench day2` (as root for the XFS figures) →
//! `target/criterion/day2/results.json`

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;
use support::{Mount, median, run};

const BIN: &str = env!("CARGO_BIN_EXE_volctl");
const GIB: u64 = 1 << 30;

/// A store with one loopback backend under `dir`.
struct Store {
    state: PathBuf,
    config: PathBuf,
}

impl Store {
    fn new(tmp: &Path, name: &str, dir: &Path) -> Store {
        let config = tmp.join(format!("{name}.toml"));
        std::fs::create_dir_all(dir.join("backend")).unwrap();
        std::fs::write(
            &config,
            format!(
                "[quota]\nvolumes = -1\ngigabytes = -1\nsnapshots = -1\n[[backend]]\nname = \"b\"\ndriver = \"loopback\"\npath = \"{}\"\n",
                dir.join("backend").display()
            ),
        )
        .unwrap();
        Store {
            state: tmp.join(format!("{name}-state")),
            config,
        }
    }

    fn volctl(&self, args: &[&str]) -> (f64, String) {
        run(BIN, args, Some((&self.state, &self.config)))
    }

    /// A 1 GiB volume with 256 MiB of data spread over it; returns (id, path).
    fn volume_with_data(&self) -> (String, String) {
        let (_, id) = self.volctl(&["create", "--size", "1", "-q"]);
        let (_, path) = self.volctl(&["show", &id, "--json"]);
        let v: serde_json::Value = serde_json::from_str(&path).unwrap();
        let path = v["path"].as_str().unwrap().to_string();
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        let block: Vec<u8> = (0..(4u32 << 20))
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 | 1)
            .collect();
        for i in 0..64u64 {
            // Every fourth 4 MiB block: 256 MiB in all.
            f.write_all_at(&block, i * 4 * block.len() as u64).unwrap();
        }
        f.sync_all().unwrap();
        (id, path)
    }
}

fn revert_ms(s: &Store) -> f64 {
    let (id, _) = s.volume_with_data();
    let (_, snap) = s.volctl(&["snapshot", "create", &id, "-q"]);
    median(
        (0..7)
            .map(|_| s.volctl(&["snapshot", "revert", &snap, "-q"]).0 * 1000.0)
            .collect(),
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    let here = Store::new(tmp.path(), "local", &local);

    // extend, by 1 GiB each time.
    let (_, id) = here.volctl(&["create", "--size", "1", "-q"]);
    let extend: Vec<f64> = (2..17)
        .map(|n| {
            here.volctl(&["extend", &id, "--size", &n.to_string(), "-q"])
                .0
                * 1000.0
        })
        .collect();
    let extend_ms = median(extend);

    // export to qcow2 vs a bare qemu-img convert of the same file.
    let (vid, vpath) = here.volume_with_data();
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let out = local.join("out.qcow2");
        // volctl syncs the file before linking it into place (an export is
        // durable when the command returns): so does the bare run here.
        let t = std::time::Instant::now();
        run(
            "qemu-img",
            &[
                "convert",
                "-f",
                "raw",
                "-O",
                "qcow2",
                &vpath,
                out.to_str().unwrap(),
            ],
            None,
        );
        std::fs::File::open(&out).unwrap().sync_all().unwrap();
        bare.push(t.elapsed().as_secs_f64());
        std::fs::remove_file(&out).unwrap();
        ours.push(
            here.volctl(&[
                "export",
                &vid,
                out.to_str().unwrap(),
                "--format",
                "qcow2",
                "-q",
            ])
            .0,
        );
        std::fs::remove_file(&out).unwrap();
    }
    let (export_s, bare_s) = (median(ours), median(bare));

    let revert_local = revert_ms(&here);

    // migrate of that volume between two loopback backends on one
    // filesystem vs a bare `cp --sparse=always` (synced) of its file.
    let two = tmp.path().join("two.toml");
    std::fs::create_dir_all(local.join("other")).unwrap();
    std::fs::write(
        &two,
        format!(
            "[quota]\nvolumes = -1\ngigabytes = -1\n[[backend]]\nname = \"b\"\ndriver = \"loopback\"\npath = \"{0}/backend\"\n[[backend]]\nname = \"c\"\ndriver = \"loopback\"\npath = \"{0}/other\"\n",
            local.display()
        ),
    )
    .unwrap();
    let both = Store {
        state: here.state.clone(),
        config: two,
    };
    // A migrate moves: the source goes, and on ext4 removing a file with
    // 256 MiB of data takes tens of ms; the removal of the bare copy is
    // timed too, for a like-for-like anchor.
    let (mut moves, mut copies, mut removals) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..5 {
        let to = if round % 2 == 0 { "c" } else { "b" };
        let (_, doc) = both.volctl(&["show", &vid, "--json"]);
        let from: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let copy = local.join("copy.raw");
        let t = std::time::Instant::now();
        run(
            "cp",
            &[
                "--sparse=always",
                from["path"].as_str().unwrap(),
                copy.to_str().unwrap(),
            ],
            None,
        );
        std::fs::File::open(&copy).unwrap().sync_all().unwrap();
        copies.push(t.elapsed().as_secs_f64());
        let t = std::time::Instant::now();
        std::fs::remove_file(&copy).unwrap();
        removals.push(t.elapsed().as_secs_f64());
        moves.push(both.volctl(&["migrate", &vid, "--backend", to, "-q"]).0);
    }
    let (migrate_s, cp_s, rm_s) = (median(moves), median(copies), median(removals));

    // The same revert on XFS (reflink), when it can be made.
    let xfs_dir = tmp.path().join("xfs");
    std::fs::create_dir_all(&xfs_dir).unwrap();
    let root = nix::unistd::geteuid().is_root();
    let mut _mount = None;
    let revert_xfs = if root && Command::new("mkfs.xfs").arg("-V").output().is_ok() {
        let img = tmp.path().join("xfs.img");
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&img)
            .unwrap()
            .set_len(8 * GIB)
            .unwrap();
        run("mkfs.xfs", &["-q", img.to_str().unwrap()], None);
        run(
            "mount",
            &[
                "-o",
                "loop",
                img.to_str().unwrap(),
                xfs_dir.to_str().unwrap(),
            ],
            None,
        );
        _mount = Some(Mount(xfs_dir.clone()));
        let s = Store::new(tmp.path(), "xfs", &xfs_dir);
        format!("{:.1}", revert_ms(&s))
    } else {
        eprintln!("NOTE: not root or no mkfs.xfs: no XFS figure");
        "null".to_string()
    };

    let results = format!(
        "{{\"extend_ms\": {extend_ms:.1}, \"revert_1g_256m_local_ms\": {revert_local:.1}, \
         \"revert_1g_256m_xfs_reflink_ms\": {revert_xfs}, \"export_qcow2_s\": {export_s:.3}, \
         \"bare_convert_qcow2_synced_s\": {bare_s:.3}, \"export_throughput_vs_bare\": {:.3}, \"migrate_1g_256m_s\": {migrate_s:.3}, \
         \"bare_cp_sparse_synced_s\": {cp_s:.3}, \"migrate_throughput_vs_cp\": {:.3}, \
         \"bare_rm_s\": {rm_s:.3}, \"migrate_throughput_vs_cp_and_rm\": {:.3}}}",
        bare_s / export_s,
        cp_s / migrate_s,
        (cp_s + rm_s) / migrate_s
    );
    println!("day2: {results}");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../criterion/day2");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("results.json"), format!("{results}\n")).unwrap();
}
