//! The LVM backend, for real, inside a small VM (this machine's kernel has
//! no device-mapper): `tests/vm/run.sh` installs what is missing, builds a
//! static volctl and an initramfs, boots Debian's kernel under QEMU/TCG and
//! runs every LVM scenario; this test fails unless all of them pass.
//!
//! It needs root (apt, and what the harness installs). Without root it
//! fails, saying so, unless VOLCTL_SKIP_ROOT_TESTS=1; VOLCTL_SKIP_VM_TESTS=1
//! skips it explicitly (and says so loudly).

#[path = "it/cli_support/mod.rs"]
mod cli_support;

use std::process::Command;

#[test]
fn lvm_scenarios_in_a_vm() {
    if std::env::var_os("VOLCTL_SKIP_VM_TESTS").is_some() {
        eprintln!("\n!!! SKIPPED lvm_scenarios_in_a_vm: VOLCTL_SKIP_VM_TESTS is set !!!\n");
        return;
    }
    if !cli_support::need_root("lvm_scenarios_in_a_vm") {
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    // Its own target directory: the outer `cargo test` may still hold the
    // lock of the default one.
    let out = Command::new("bash")
        .arg(format!("{root}/tests/vm/run.sh"))
        .env("CARGO_TARGET_DIR", format!("{root}/target/vm/cargo"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "VM scenarios failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("VMTEST reschedule_from_a_full_vg PASS"),
        "{stdout}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
