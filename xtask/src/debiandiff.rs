//! The Debian differential test: one bash script, run with Debian's own dynamically linked
//! programs, the same output on Cradle and on Linux.
//!
//! `user/debian-diff.sh` exercises what bash, coreutils, procps, grep, sed, mawk, findutils
//! and glibc's loader ask of a kernel (see its header). The Debian root file system
//! (`debian_rootfs.rs`), plus the script and the small `/init.sh` below ([`INIT`]), boots on
//! Debian's arm64 Linux (the kernel `cargo xtask bench` and `bbdiff` use) and on Cradle in
//! the same QEMU, with the same command line (`norandmaps` on both, so mappings land at the
//! same addresses). `/init.sh` runs the script with its output in a file and prints the
//! file between markers, as `bbdiff.rs` does; the comparison is `bbdiff`'s.
//!
//! `cargo xtask debiandiff` runs only this comparison and keeps both outputs under
//! `target/cradle/debiandiff/`; `cargo xtask test` runs it in the `difftest` group.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::env::{out_dir, project_root};
use crate::harness::Summary;
use crate::initramfs::{write_newc, Entry, Source};

/// `/init.sh`, run by Debian's bash (`rdinit=/usr/bin/bash -- /init.sh`).
const INIT: &str = r#"export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
ln -sf /proc/self/fd /dev/fd
cd /tmp
bash /debian-diff.sh >/tmp/debian-diff.out 2>&1 </dev/null
echo "debian-diff.sh exit status $?" >>/tmp/debian-diff.out
echo "--- busybox-diff.sh output begins ---"
cat /tmp/debian-diff.out
echo "--- busybox-diff.sh output ends ---"
poweroff -f
"#;

/// The kernel command line, the same on both kernels.
const CMDLINE: &str = "console=ttyAMA0 quiet norandmaps rdinit=/usr/bin/bash -- /init.sh";

/// How long one boot may take (a 30 MB initramfs, a few hundred processes, under TCG).
const BOOT_LIMIT: Duration = Duration::from_secs(600);

/// Where the outputs and transcripts are kept.
fn results_dir() -> PathBuf {
    out_dir().join("debiandiff")
}

/// The initramfs both kernels boot, running `script` as `/debian-diff.sh`.
fn build_initramfs(script: &Path) -> Result<PathBuf, String> {
    let mut entries = crate::debian_rootfs::debian_entries()?;
    entries.push(Entry::new(
        "/init.sh",
        Source::Bytes(INIT.as_bytes().to_vec()),
        0o755,
    ));
    entries.push(Entry::new(
        "/debian-diff.sh",
        Source::File(script.to_path_buf()),
        0o755,
    ));
    let bytes = write_newc(&entries)?;
    let path = out_dir().join("initramfs-debian-diff.cpio");
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The script in the repository.
fn script_path() -> PathBuf {
    project_root().join("user").join("debian-diff.sh")
}

/// Run `script` on Linux and on Cradle (`image`) and compare.
fn run_both(image: &Path, script: &Path) -> Result<(), String> {
    let diff = crate::bbdiff::ScriptDiff {
        script: "debian-diff.sh",
        cmdline: CMDLINE,
        limit: BOOT_LIMIT,
        dir: results_dir(),
    };
    diff.run_both(image, &build_initramfs(script)?)
}

/// The test in `cargo xtask test` (the `difftest` group).
pub(crate) fn debian_diff_test(summary: &mut Summary, image: &Path) {
    summary.record(
        "difftest: user/debian-diff.sh (Debian's bash, coreutils, procps, ld.so) prints the same on Cradle and Linux",
        run_both(image, &script_path()),
    );
}

/// `cargo xtask debiandiff [--script FILE]`: build the kernel, run the comparison (of
/// `user/debian-diff.sh`, or of another bash script: a way to try Debian's programs on both
/// kernels), print the diff if any.
pub fn cmd_debiandiff(args: &[String]) -> Result<(), String> {
    let script = match args {
        [] => script_path(),
        [flag, file] if flag == "--script" => PathBuf::from(file),
        _ => return Err("usage: cargo xtask debiandiff [--script FILE]".into()),
    };
    crate::env::ensure_qemu()?;
    let built = crate::build::build_kernel()?;
    run_both(&built.image, &script)?;
    println!(
        "debian-diff.sh: the same output on Cradle and Linux ({})",
        results_dir().display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bbdiff::{BEGIN, END};

    #[test]
    fn the_init_prints_the_markers() {
        assert!(INIT.contains(&format!("echo \"{BEGIN}\"")));
        assert!(INIT.contains(&format!("echo \"{END}\"")));
    }
}
