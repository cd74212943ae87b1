//! Images, snapshots and clones end to end: real qemu-img on images made
//! here, real filesystems (tmpfs that fills up, XFS with reflink).

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::cli_support::*;
use serde_json::Value;

const MIB: u64 = 1 << 20;

/// A sparse raw image with a known pattern: a few MiB of data at several
/// offsets, holes elsewhere.
fn raw_image(path: &Path, size: u64) {
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap();
    f.set_len(size).unwrap();
    for (i, off) in [0, size / 3, size / 2, size - 2 * MIB]
        .into_iter()
        .enumerate()
    {
        let block: Vec<u8> = (0..MIB as usize)
            .map(|j| (j as u8).wrapping_mul(31).wrapping_add(i as u8 * 7 + 1))
            .collect();
        f.write_all_at(&block, off).unwrap();
    }
}

/// The same pattern as a qcow2 image.
fn qcow2_image(path: &Path, size: u64) {
    qcow2_image_with(path, size, &[]);
}

/// The same pattern as a qcow2 image made with extra `qemu-img convert`
/// options.
fn qcow2_image_with(path: &Path, size: u64, options: &[&str]) {
    let raw = path.with_extension("src.raw");
    raw_image(&raw, size);
    let mut args = vec!["convert", "-f", "raw", "-O", "qcow2"];
    args.extend_from_slice(options);
    args.extend([raw.to_str().unwrap(), path.to_str().unwrap()]);
    sh("qemu-img", &args);
    std::fs::remove_file(raw).unwrap();
}

/// Whether a volume's bytes equal an image's virtual disk (qemu-img
/// compare: the volume's extra tail must be zeros).
fn same_disk(image: &Path, image_fmt: &str, volume: &str) -> bool {
    command("qemu-img")
        .args([
            "compare",
            "-f",
            image_fmt,
            "-F",
            "raw",
            image.to_str().unwrap(),
            volume,
        ])
        .output()
        .unwrap()
        .status
        .code()
        == Some(0)
}

fn write_at(path: &str, off: u64, data: &[u8]) {
    let f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(data, off).unwrap();
    f.sync_all().unwrap();
}

fn read_at(path: &str, off: u64, n: usize) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; n];
    f.read_exact_at(&mut buf, off).unwrap();
    buf
}

fn path_of(v: &Value) -> String {
    v["path"].as_str().unwrap().to_string()
}

#[test]
fn every_kind_of_volume_has_its_source_data() {
    let v = Volctl::new();
    let raw = v.path("disk.raw");
    let qcow = v.path("disk.qcow2");
    raw_image(&raw, 64 * MIB);
    qcow2_image(&qcow, 96 * MIB);
    let img_raw = v.json(&["image", "import", raw.to_str().unwrap()]);
    assert_eq!(img_raw["format"], "raw");
    assert_eq!(img_raw["virtual_size"], 64 * MIB);
    let img_q = v.json(&[
        "image",
        "import",
        qcow.to_str().unwrap(),
        "--name",
        "debian",
    ]);
    assert_eq!(img_q["format"], "qcow2");
    assert_eq!(img_q["virtual_size"], 96 * MIB);

    // From images (uncompressed): where copies are plain, each is a bare
    // conversion and the cache stays empty (a hit would be slower); where
    // they are cheap, the first fills it and the others hit it.
    let cheap = v.json(&["backend", "list"])[0]["cheap_copies"] == true;
    for (image, file, fmt) in [("disk.raw", &raw, "raw"), ("debian", &qcow, "qcow2")] {
        for n in 1..=3 {
            let vol = v.json(&["create", "--from-image", image]);
            assert_eq!(
                vol["size_bytes"],
                v.json(&["image", "show", image])["virtual_size"],
                "size defaults to the image's (a whole number of MiB)"
            );
            assert_eq!(vol["source_kind"], "image");
            assert_eq!(vol["source_id"], v.json(&["image", "show", image])["id"]);
            assert!(same_disk(file, fmt, &path_of(&vol)), "{image}");
            let shown = v.json(&["image", "show", image]);
            assert_eq!(shown["uses"], n, "{shown}");
            let cached = shown["cache"].as_array().unwrap().len();
            assert_eq!(cached, usize::from(cheap), "use {n}: {shown}");
        }
        let shown = v.json(&["image", "show", image]);
        assert_eq!(shown["compressed"], false, "{shown}");
        if cheap {
            assert_eq!(shown["cache"][0]["hits"], 3, "{shown}");
        }
    }
    // A bigger volume from an image: the data, then zeros.
    let big = v.json(&["create", "--from-image", "debian", "--size", "3"]);
    assert_eq!(std::fs::metadata(path_of(&big)).unwrap().len(), 3 << 30);
    assert!(same_disk(&qcow, "qcow2", &path_of(&big)));

    // Snapshot and clone keep the data.
    let snap = v.json(&[
        "snapshot",
        "create",
        big["id"].as_str().unwrap(),
        "--name",
        "s",
    ]);
    let from_snap = v.json(&["create", "--from-snapshot", "s"]);
    assert_eq!(from_snap["size"], 3);
    assert_eq!(from_snap["source_id"], snap["id"]);
    assert!(same_disk(&qcow, "qcow2", &path_of(&from_snap)));
    let clone = v.json(&[
        "create",
        "--from-volume",
        big["id"].as_str().unwrap(),
        "--size",
        "4",
    ]);
    assert_eq!(clone["source_kind"], "volume");
    assert!(same_disk(&qcow, "qcow2", &path_of(&clone)));
    let text = v.ok(&["show", clone["id"].as_str().unwrap()]);
    assert!(
        text.contains(&format!("volume {}", big["id"].as_str().unwrap())),
        "{text}"
    );

    // Quota: snapshots count, and their size counts against gigabytes,
    // exactly: three volumes of each image's virtual size, the 3 GiB one,
    // its 3 GiB snapshot, the 3 GiB volume from that and the 4 GiB clone.
    assert_eq!(v.usage("snapshots"), (1, 0));
    let virtual_size = |i: &str| {
        v.json(&["image", "show", i])["virtual_size"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        v.usage_bytes("gigabytes"),
        (
            3 * virtual_size("disk.raw") + 3 * virtual_size("debian") + ((3 + 3 + 3 + 4) << 30),
            0
        )
    );
}

#[test]
fn a_snapshot_keeps_its_data_and_a_clone_is_independent() {
    let v = Volctl::new();
    let src = v.json(&["create", "--size", "1", "--name", "src"]);
    let sp = path_of(&src);
    write_at(&sp, 4096, b"before");
    v.json(&["snapshot", "create", "src", "--name", "before"]);
    write_at(&sp, 4096, b"after!");
    let from_snap = v.json(&["create", "--from-snapshot", "before"]);
    assert_eq!(read_at(&path_of(&from_snap), 4096, 6), b"before");

    let clone = v.json(&["create", "--from-volume", "src"]);
    let cp = path_of(&clone);
    assert_eq!(read_at(&cp, 4096, 6), b"after!");
    write_at(&sp, 4096, b"source");
    write_at(&cp, 8192, b"clone");
    assert_eq!(
        read_at(&cp, 4096, 6),
        b"after!",
        "the clone does not follow its source"
    );
    assert_eq!(read_at(&sp, 8192, 5), [0u8; 5], "nor the source its clone");

    // A volume with snapshots cannot be deleted; a snapshot can.
    let r = v.run(&["delete", "src"]);
    assert_eq!(r.code, 6);
    assert!(
        r.stderr.contains("has 1 snapshot(s)") && r.stderr.contains("delete them first"),
        "{}",
        r.stderr
    );
    v.ok(&["snapshot", "delete", "before"]);
    v.ok(&["delete", "src"]);
    assert_eq!(v.usage("snapshots"), (0, 0));
}

#[test]
fn sources_are_checked() {
    let v = Volctl::new();
    let raw = v.path("d.raw");
    raw_image(&raw, 1536 * MIB);
    v.json(&["image", "import", raw.to_str().unwrap(), "--name", "big"]);
    v.json(&["create", "--size", "2", "--name", "two"]);
    v.json(&["snapshot", "create", "two", "--name", "s2"]);
    for (args, code, text) in [
        (
            vec!["create", "--from-image", "big", "--size", "1"],
            2,
            "size 1 GiB is smaller than the virtual size of image `big` (1.5 GiB)",
        ),
        (
            vec!["create", "--from-snapshot", "s2", "--size", "1"],
            2,
            "is smaller than snapshot",
        ),
        (
            vec!["create", "--from-volume", "two", "--size", "1"],
            2,
            "is smaller than source volume",
        ),
        (
            vec!["create", "--from-image", "nope"],
            5,
            "no image with id or name `nope`",
        ),
        (
            vec!["create", "--from-snapshot", "nope"],
            5,
            "no snapshot with id or name `nope`",
        ),
        (
            vec!["create", "--from-image", "big", "--from-volume", "two"],
            2,
            "cannot be used with",
        ),
    ] {
        let r = v.run(&args);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(text), "{args:?}: {}", r.stderr);
    }
    assert_eq!(
        v.json(&["create", "--from-image", "big"])["size"],
        1.5,
        "the image's virtual size, exactly"
    );
    assert_eq!(v.json(&["list"]).as_array().unwrap().len(), 2);
}

/// Every kind of bad image, each refused with its reason, nothing left.
#[test]
fn bad_images_are_refused_and_leave_nothing() {
    let v = Volctl::with_config("[images]\nmax_virtual_size_gb = 1\n");
    let p = |n: &str| v.path(n);
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();

    sh(
        "qemu-img",
        &["create", "-f", "raw", &s(&p("base.raw")), "16M"],
    );
    sh(
        "qemu-img",
        &[
            "create",
            "-f",
            "qcow2",
            "-b",
            &s(&p("base.raw")),
            "-F",
            "raw",
            &s(&p("backed.qcow2")),
        ],
    );
    sh(
        "qemu-img",
        &[
            "create",
            "-f",
            "qcow2",
            "-o",
            &format!("data_file={}", s(&p("ext.raw"))),
            &s(&p("external.qcow2")),
            "16M",
        ],
    );
    qcow2_image(&p("good.qcow2"), 64 * MIB);
    std::fs::copy(p("good.qcow2"), p("lying.qcow2")).unwrap();
    // The L1 table offset in the header points far past the end.
    write_at(
        &s(&p("lying.qcow2")),
        40,
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0],
    );
    std::fs::copy(p("good.qcow2"), p("truncated.qcow2")).unwrap();
    let len = std::fs::metadata(p("truncated.qcow2")).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(p("truncated.qcow2"))
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    sh(
        "qemu-img",
        &["create", "-f", "qcow2", &s(&p("oversize.qcow2")), "2G"],
    );
    std::fs::write(p("notes.txt"), "this is not a disk image\n").unwrap();
    std::fs::write(
        p("archive.img"),
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03rest of a gzip stream",
    )
    .unwrap();
    std::os::unix::fs::symlink(p("good.qcow2"), p("link.qcow2")).unwrap();
    std::fs::create_dir(p("adir")).unwrap();
    std::fs::write(p("named.qcow2"), vec![0u8; 4096]).unwrap();

    for (file, text) in [
        ("backed.qcow2", "it has a backing file"),
        ("external.qcow2", "it has an external data file"),
        ("lying.qcow2", "qemu-img cannot read it as qcow2"),
        ("truncated.qcow2", "the image is damaged or truncated"),
        (
            "oversize.qcow2",
            "its virtual size (2.0 GiB) is over the limit of 1 GiB",
        ),
        ("notes.txt", "is not a disk image"),
        (
            "archive.img",
            "is a gzip archive (decompress it first), not a disk image",
        ),
        ("link.qcow2", "is a symbolic link"),
        ("adir", "is a directory"),
        ("named.qcow2", "the name says qcow2, but the content is raw"),
    ] {
        let r = v.run(&["image", "import", &s(&p(file))]);
        assert_eq!(r.code, 2, "{file}: {}", r.stderr);
        assert!(r.stderr.contains(text), "{file}: {}", r.stderr);
    }
    let r = v.run(&["image", "import", &s(&p("good.qcow2")), "--format", "raw"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("was given as raw, but its content is qcow2"),
        "{}",
        r.stderr
    );
    let r = v.run(&["image", "import", &s(&p("missing.qcow2"))]);
    assert_eq!(r.code, 5, "{}", r.stderr);

    assert_eq!(v.json(&["image", "list"]), serde_json::json!([]));
    assert!(
        Volctl::files(&v.state.join("images")).is_empty(),
        "no copy left in the catalog"
    );
    // And the good one goes in.
    v.json(&["image", "import", &s(&p("good.qcow2"))]);
    assert_eq!(Volctl::files(&v.state.join("images")).len(), 1);
    let r = v.run(&["image", "import", &s(&p("good.qcow2"))]);
    assert_eq!(r.code, 6, "same name twice: {}", r.stderr);
}

#[test]
fn image_delete_purges_its_cache_and_the_cache_is_evicted_lru() {
    let v = Volctl::with_config(
        r#"
[image_cache]
max_size_gb = 1
[[backend]]
name = "b"
driver = "loopback"
path = "@/b"
"#,
    );
    // Compressed, so a second use fills the cache on any backend.
    for n in ["one", "two"] {
        qcow2_image_with(&v.path(&format!("{n}.qcow2")), 600 * MIB, &["-c"]);
        v.json(&[
            "image",
            "import",
            v.path(&format!("{n}.qcow2")).to_str().unwrap(),
        ]);
    }
    v.json(&["create", "--from-image", "one.qcow2"]);
    v.json(&["create", "--from-image", "one.qcow2"]);
    let cached = |img: &str| {
        v.json(&["image", "show", img])["cache"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(cached("one.qcow2"), 1);
    let b = &v.json(&["backend", "list"])[0];
    assert_eq!(
        b["provisioned_bytes"],
        3 * 600 * MIB,
        "the volumes and the cache entry, 600 MiB each, counted exactly"
    );
    v.json(&["create", "--from-image", "two.qcow2"]);
    v.json(&["create", "--from-image", "two.qcow2"]);
    assert_eq!(cached("two.qcow2"), 1);
    assert_eq!(
        cached("one.qcow2"),
        0,
        "1.2 GiB > 1 GiB: the least recently used went"
    );
    let cache_files: Vec<String> = Volctl::files(&v.path("b"))
        .into_iter()
        .filter(|f| f.starts_with("cache-"))
        .collect();
    assert_eq!(cache_files.len(), 1);
    let evs = v.state.join("volctl.db");
    assert!(evs.exists());

    let r = v.run(&["image", "delete", "two.qcow2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        Volctl::files(&v.path("b"))
            .iter()
            .all(|f| !f.starts_with("cache-")),
        "purged"
    );
    assert_eq!(v.json(&["image", "list"]).as_array().unwrap().len(), 1);
    // The volumes made from it are untouched.
    assert_eq!(v.json(&["list"]).as_array().unwrap().len(), 4);
}

#[test]
fn running_out_of_space_in_the_middle_of_an_image_copy_reverts_cleanly() {
    if !need_root("running_out_of_space_in_the_middle_of_an_image_copy_reverts_cleanly") {
        return;
    }
    let v = Volctl::with_config(
        r#"
[[backend]]
name = "tiny"
driver = "loopback"
path = "@/tiny"
capacity_gb = 100
"#,
    );
    let dir = v.path("tiny");
    std::fs::create_dir_all(&dir).unwrap();
    let _u = tmpfs(&dir, "8m");
    // 48 MiB of data: far more than the 8 MiB filesystem holds.
    let img = v.path("full.qcow2");
    let raw = v.path("full.src");
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&raw)
        .unwrap();
    for i in 0..48u64 {
        let block: Vec<u8> = (0..MIB).map(|j| (j ^ i) as u8 | 1).collect();
        f.write_all_at(&block, i * MIB).unwrap();
    }
    drop(f);
    sh(
        "qemu-img",
        &[
            "convert",
            "-f",
            "raw",
            "-O",
            "qcow2",
            raw.to_str().unwrap(),
            img.to_str().unwrap(),
        ],
    );
    v.json(&["image", "import", img.to_str().unwrap()]);

    let r = v.run(&["create", "--from-image", "full.qcow2", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("No space left on device"), "{}", r.stderr);
    assert!(
        r.stderr.contains("undoing what was done:")
            && r.stderr
                .contains("removing what was made of the volume on its backend")
            && r.stderr
                .contains("marking the volume `error`, its quota returned"),
        "{}",
        r.stderr
    );
    assert!(
        Volctl::files(&dir).is_empty(),
        "no partial file: {:?}",
        Volctl::files(&dir)
    );
    assert_eq!(v.usage("volumes"), (0, 0));
    assert_eq!(v.usage("gigabytes"), (0, 0));
    assert_eq!(v.json(&["list"])[0]["status"], "error");
}

#[test]
fn on_xfs_copies_are_reflinks() {
    if !need_root("on_xfs_copies_are_reflinks") {
        return;
    }
    let v = Volctl::with_config(
        r#"
[[backend]]
name = "xfs"
driver = "loopback"
path = "@/xfs"
"#,
    );
    let dir = v.path("xfs");
    let img = v.path("xfs.img");
    std::fs::create_dir_all(&dir).unwrap();
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&img)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    sh(
        "mkfs.xfs",
        &["-q", "-m", "reflink=1", img.to_str().unwrap()],
    );
    sh(
        "mount",
        &["-o", "loop", img.to_str().unwrap(), dir.to_str().unwrap()],
    );
    let _u = Umount(dir.clone());
    let used = || {
        let s = nix::sys::statvfs::statvfs(&dir).unwrap();
        (s.blocks() - s.blocks_free()) * s.fragment_size()
    };
    let shared = |path: &str| {
        let out = command("filefrag").args(["-v", path]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).contains("shared")
    };

    assert_eq!(
        v.json(&["backend", "list"])[0]["cheap_copies"],
        true,
        "XFS with reflink=1 clones files"
    );
    let q = v.path("data.qcow2");
    qcow2_image(&q, 256 * MIB);
    v.json(&["image", "import", q.to_str().unwrap()]);
    let first = v.json(&["create", "--from-image", "data.qcow2"]);
    assert!(
        shared(&path_of(&first)),
        "the volume shares the cache entry's extents"
    );
    let before = used();
    let second = v.json(&["create", "--from-image", "data.qcow2"]);
    assert!(same_disk(&q, "qcow2", &path_of(&second)));
    assert!(
        used() - before < MIB,
        "a cache hit copies no data: {} bytes",
        used() - before
    );
    let before = used();
    v.json(&[
        "snapshot",
        "create",
        second["id"].as_str().unwrap(),
        "--name",
        "snap",
    ]);
    let clone = v.json(&["create", "--from-snapshot", "snap"]);
    assert!(used() - before < MIB, "snapshot and clone are reflinks too");
    assert!(same_disk(&q, "qcow2", &path_of(&clone)));
}

#[test]
fn scripts_get_no_progress_bar() {
    let v = Volctl::new();
    let q = v.path("x.qcow2");
    qcow2_image(&q, 32 * MIB);
    v.json(&["image", "import", q.to_str().unwrap()]);
    let r = v.run(&["create", "--from-image", "x.qcow2"]);
    assert_eq!(r.code, 0);
    assert!(
        !r.stderr.contains('\r') && !r.stderr.contains("ETA"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout.lines().count(), 1);
}

/// A qcow2 whose every refcount is wrong: `qemu-img check` reports each
/// cluster, megabytes of text. volctl reads that output with a bound and
/// refuses the image with a short message, leaving nothing behind.
#[test]
fn an_image_that_floods_qemu_img_check_is_refused_briefly() {
    let v = Volctl::new();
    let img = v.path("flood.qcow2");
    qcow2_image_with(&img, 32 * MIB, &["-o", "cluster_size=512"]);
    // Overwrite every refcount block with 0xff: every cluster's refcount
    // is then wrong. Header: refcount_table_offset at 48 (u64 BE),
    // refcount_table_clusters at 56 (u32 BE), cluster_bits at 20 (u32 BE).
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&img)
        .unwrap();
    let mut hdr = [0u8; 64];
    f.read_exact_at(&mut hdr, 0).unwrap();
    let be64 = |b: &[u8]| u64::from_be_bytes(b.try_into().unwrap());
    let be32 = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    let cluster = 1u64 << be32(&hdr[20..24]);
    let table_off = be64(&hdr[48..56]);
    let table_len = u64::from(be32(&hdr[56..60])) * cluster;
    let mut table = vec![0u8; table_len as usize];
    f.read_exact_at(&mut table, table_off).unwrap();
    let mut blocks = 0;
    for e in table.chunks(8) {
        let off = be64(e) & !0x1ff;
        if off != 0 {
            f.write_all_at(&vec![0xffu8; cluster as usize], off)
                .unwrap();
            blocks += 1;
        }
    }
    assert!(blocks > 0);
    drop(f);
    let r = v.run(&["image", "import", img.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("damaged") || r.stderr.contains("refusing"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.len() < 16 << 10,
        "a short message, not qemu-img's flood: {} bytes",
        r.stderr.len()
    );
    assert!(Volctl::files(&v.state.join("images")).is_empty());
    assert_eq!(v.json(&["image", "list"]), serde_json::json!([]));
}

/// A file planted where an object is to be made (a cache entry, whose name
/// the image id predicts) is never adopted: it is moved aside, and volumes
/// get the image's bytes.
#[test]
fn a_planted_cache_object_is_never_used() {
    let v = Volctl::new();
    let q = v.path("img.qcow2");
    // Compressed: its second use fills the cache on any backend.
    qcow2_image_with(&q, 32 * MIB, &["-c"]);
    let img = v.json(&["image", "import", q.to_str().unwrap()]);
    let dir = v.state.join("backends/default");
    std::fs::create_dir_all(&dir).unwrap();
    let planted = dir.join(format!("cache-{}", img["id"].as_str().unwrap()));
    let evil = vec![0xeeu8; 32 * MIB as usize];
    std::fs::write(&planted, &evil).unwrap();
    let first = v.json(&["create", "--from-image", "img.qcow2"]);
    let second = v.json(&["create", "--from-image", "img.qcow2"]);
    for x in [&first, &second] {
        assert!(
            same_disk(&q, "qcow2", &path_of(x)),
            "a volume holds the image's data"
        );
    }
    let aside = Volctl::files(&dir.join(".orphans"));
    assert_eq!(
        aside.len(),
        1,
        "the planted file was moved aside: {aside:?}"
    );
    assert_eq!(
        std::fs::read(dir.join(".orphans").join(&aside[0])).unwrap(),
        evil
    );
    assert_eq!(v.run(&["check"]).code, 0);

    // A cache object rewritten in place after it was filled (same size) is
    // not served: its fingerprint changed.
    {
        let f = OpenOptions::new().write(true).open(&planted).unwrap();
        f.write_all_at(&vec![0xeeu8; MIB as usize], 0).unwrap();
    }
    let third = v.json(&["create", "--from-image", "img.qcow2"]);
    assert!(
        same_disk(&q, "qcow2", &path_of(&third)),
        "the rewritten cache was not used"
    );
}

/// On a backend whose copies are plain, a compressed image fills the cache
/// on its second use (a copy from the cache beats decompressing again), an
/// uncompressed one never; `qemu-img check` at import tells which is which.
#[test]
fn a_compressed_image_fills_the_cache_on_its_second_use() {
    let v = Volctl::new();
    let z = v.path("z.qcow2");
    qcow2_image_with(&z, 32 * MIB, &["-c"]);
    let plain = v.path("p.qcow2");
    qcow2_image(&plain, 32 * MIB);
    let zi = v.json(&["image", "import", z.to_str().unwrap()]);
    assert_eq!(zi["compressed"], true, "{zi}");
    let pi = v.json(&["image", "import", plain.to_str().unwrap()]);
    assert_eq!(pi["compressed"], false, "{pi}");
    let cheap = v.json(&["backend", "list"])[0]["cheap_copies"] == true;
    let cached = |img: &str| {
        v.json(&["image", "show", img])["cache"]
            .as_array()
            .unwrap()
            .len()
    };
    for n in 1..=3 {
        for (img, file) in [("z.qcow2", &z), ("p.qcow2", &plain)] {
            let vol = v.json(&["create", "--from-image", img]);
            assert!(same_disk(file, "qcow2", &path_of(&vol)), "{img}");
        }
        assert_eq!(
            cached("z.qcow2"),
            usize::from(cheap || n >= 2),
            "compressed, use {n}: a bare conversion first, then filled"
        );
        assert_eq!(
            cached("p.qcow2"),
            usize::from(cheap),
            "uncompressed, use {n}: a bare conversion where copies are plain"
        );
    }
    let hits = &v.json(&["image", "show", "z.qcow2"])["cache"][0]["hits"];
    assert_eq!(hits, if cheap { 3 } else { 2 }, "filled, then hit");
    assert_eq!(v.run(&["check"]).code, 0);
}
