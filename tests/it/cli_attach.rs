//! `attach --read-only` and `attach --partscan` for real on loop devices:
//! the kernel refuses writes, partitions appear and count as the device's
//! use, the mode is kept across `attach --all` and a change of mode is
//! refused.

use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::cli_support::*;

/// Writes an MBR with one Linux partition (sectors 2048..+8192) into the
/// volume's file, as a partitioning tool would.
fn write_partition_table(path: &str) {
    let mut mbr = [0u8; 512];
    let entry = &mut mbr[446..462];
    entry[4] = 0x83; // Linux
    entry[8..12].copy_from_slice(&2048u32.to_le_bytes());
    entry[12..16].copy_from_slice(&8192u32.to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(&mbr, 0).unwrap();
}

fn sysfs(dev: &str, rel: &str) -> Option<String> {
    let name = dev.trim_start_matches("/dev/");
    std::fs::read_to_string(format!("/sys/block/{name}/{rel}"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// The partition's device node, once devtmpfs has made it.
fn partition(dev: &str) -> String {
    let p = format!("{dev}p1");
    for _ in 0..250 {
        if Path::new(&p).exists() {
            return p;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{p} did not appear");
}

/// Whether the running kernel reads MBR partition tables, from its own
/// configuration (`/proc/config.gz`); true when that cannot be read, so a
/// missing partition then fails the test.
fn kernel_parses_mbr() -> bool {
    let Ok(out) = command("zcat").arg("/proc/config.gz").output() else {
        return true;
    };
    !String::from_utf8_lossy(&out.stdout).contains("# CONFIG_MSDOS_PARTITION is not set")
}

#[test]
fn a_read_only_attachment_refuses_writes_and_keeps_its_mode() {
    if !need_root("a_read_only_attachment_refuses_writes_and_keeps_its_mode") {
        return;
    }
    let v = Volctl::new();
    let _c = Cleanup::of(&v);
    let x = v.json(&["create", "--size", "1", "--name", "base"]);
    let path = x["path"].as_str().unwrap().to_string();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .write_all_at(b"golden", 0)
        .unwrap();

    let a = v.json(&["attach", "base", "--read-only"]);
    let dev = a["device"].as_str().unwrap().to_string();
    assert_eq!(a["status"], "in-use");
    assert_eq!(a["attach_mode"]["read_only"], true, "{a}");
    assert_eq!(a["attach_mode"]["partscan"], false, "{a}");
    assert_eq!(sysfs(&dev, "ro").as_deref(), Some("1"));
    // The kernel refuses: at open, or at the write.
    let wrote = std::fs::OpenOptions::new()
        .write(true)
        .open(&dev)
        .and_then(|f| f.write_all_at(b"tampered", 0).and_then(|()| f.sync_all()));
    assert!(
        wrote.is_err(),
        "a write through a read-only device succeeded"
    );
    let mut buf = [0u8; 6];
    std::fs::File::open(&path)
        .unwrap()
        .read_exact_at(&mut buf, 0)
        .unwrap();
    assert_eq!(&buf, b"golden");
    assert!(
        v.ok(&["show", "base"]).contains("(read-only)"),
        "show says how it is attached"
    );

    // Same mode again: a no-op; another mode: refused, nothing changed.
    assert_eq!(v.ok(&["attach", "base", "--read-only"]).trim(), dev);
    let r = v.run(&["attach", "base"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr.contains("attached read-only") && r.stderr.contains("detach it first"),
        "{}",
        r.stderr
    );
    assert_eq!(backing(&dev).as_deref(), Some(path.as_str()));

    // After a "reboot", attach --all binds it read-only again.
    losetup_d(&dev);
    v.ok(&["attach", "--all"]);
    let s = v.json(&["show", "base"]);
    let dev = s["device"].as_str().unwrap().to_string();
    assert_eq!(sysfs(&dev, "ro").as_deref(), Some("1"), "{s}");
    assert_eq!(s["attach_mode"]["read_only"], true, "{s}");

    let attach = v
        .json(&["events", "--volume", x["id"].as_str().unwrap()])
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["type"] == "volume.attach")
        .cloned()
        .unwrap();
    assert_eq!(attach["payload"]["mode"]["read_only"], true, "{attach}");

    v.ok(&["detach", "base"]);
    let s = v.json(&["show", "base"]);
    assert_eq!(s["attach_mode"], serde_json::Value::Null, "{s}");
    // Detached, it attaches read-write as asked.
    let rw = v.json(&["attach", "base"]);
    assert_eq!(rw["attach_mode"]["read_only"], false);
    assert_eq!(
        sysfs(rw["device"].as_str().unwrap(), "ro").as_deref(),
        Some("0")
    );
    v.ok(&["detach", "base"]);
    check_passes(&v, "after read-only attachments");
}

#[test]
fn partscan_exposes_partitions_and_a_mounted_partition_holds_the_device() {
    if !need_root("partscan_exposes_partitions_and_a_mounted_partition_holds_the_device") {
        return;
    }
    let v = Volctl::new();
    let _c = Cleanup::of(&v);
    let x = v.json(&["create", "--size", "1", "--name", "disk"]);
    write_partition_table(x["path"].as_str().unwrap());

    // Without --partscan the kernel does not read the table.
    let plain = v.json(&["attach", "disk"]);
    let dev = plain["device"].as_str().unwrap().to_string();
    let name = dev.trim_start_matches("/dev/").to_string();
    assert_eq!(sysfs(&dev, &format!("{name}p1/size")), None);
    v.ok(&["detach", "disk"]);

    let a = v.json(&["attach", "disk", "--partscan"]);
    assert_eq!(a["attach_mode"]["partscan"], true, "{a}");
    let dev = a["device"].as_str().unwrap().to_string();
    let name = dev.trim_start_matches("/dev/").to_string();
    assert_eq!(sysfs(&dev, "loop/partscan").as_deref(), Some("1"));
    if sysfs(&dev, &format!("{name}p1/size")).is_none() && !kernel_parses_mbr() {
        say_loudly(
            "NOT TESTED HERE: this kernel parses no partition tables \
             (CONFIG_MSDOS_PARTITION is not set), so no partition appears; \
             the VM's scenario partscan_loop tests it on Debian's kernel",
        );
        v.ok(&["detach", "disk"]);
        check_passes(&v, "after a partscan attachment");
        return;
    }
    assert_eq!(
        sysfs(&dev, &format!("{name}p1/size")).as_deref(),
        Some("8192"),
        "the partition is there, of the size the table gives"
    );
    let p1 = partition(&dev);
    sh("mkfs.ext4", &["-q", &p1]);
    let mnt = v.path("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    sh("mount", &[&p1, mnt.to_str().unwrap()]);
    let m = Umount(mnt.clone());

    // A mounted partition is a use of the volume: never detached.
    for args in [&["detach", "disk"][..], &["delete", "--force", "disk"][..]] {
        let r = v.run(args);
        assert_eq!(r.code, 6, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "its partition {name}p1 mounted at {}",
                mnt.display()
            )),
            "{args:?} says what holds it: {}",
            r.stderr
        );
    }
    assert_eq!(backing(&dev).as_deref(), x["path"].as_str());
    drop(m);
    v.ok(&["detach", "disk"]);
    assert_eq!(backing(&dev), None);
    check_passes(&v, "after a partscan attachment");
}

#[test]
fn a_device_bound_outside_volctl_in_another_mode_is_refused_and_left_alone() {
    if !need_root("a_device_bound_outside_volctl_in_another_mode_is_refused_and_left_alone") {
        return;
    }
    let v = Volctl::new();
    let _c = Cleanup::of(&v);
    let x = v.json(&["create", "--size", "1", "--name", "looked-at"]);
    let path = x["path"].as_str().unwrap().to_string();
    // Someone looks at the volume with losetup, read-only.
    let out = command("losetup")
        .args(["-r", "-f", "--show", &path])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let theirs = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let r = v.run(&["attach", "looked-at"]);
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr.contains("already backs it read-only"),
        "{}",
        r.stderr
    );
    assert_eq!(
        backing(&theirs).as_deref(),
        Some(path.as_str()),
        "their device is left bound"
    );
    assert_eq!(v.json(&["show", "looked-at"])["status"], "available");
    // Asked in their mode, it is taken as the volume's attachment.
    let a = v.json(&["attach", "looked-at", "--read-only"]);
    assert_eq!(a["device"].as_str(), Some(theirs.as_str()));
    v.ok(&["detach", "looked-at"]);
    check_passes(&v, "after a refused attach");
}
