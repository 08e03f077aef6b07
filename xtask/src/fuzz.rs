//! The system call fuzzer (`user/fuzz/fuzz.c`): `cargo xtask fuzz [SEED [NR,NR...]]` boots it as PID
//! 1 and `cargo xtask test` runs it in the `fuzz` group.
//!
//! The program forks children that each make hundreds of system calls with random
//! arguments (bad pointers, wild lengths, unknown commands), reaps them, and powers off.
//! The test passes when the kernel neither panicked nor oopsed and the program said it
//! survived: the standard that bad input gets an error and a crash kills only its process.
//! It lives apart from `user/*.c`, which also run on the host under qemu-aarch64: random
//! system calls are for a machine of their own.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::env::{ensure_cross_cc, out_dir, project_root};
use crate::harness::Summary;
use crate::initramfs::{write_newc, Entry, Source};
use crate::qemu::{run_captured, QemuOptions};

/// Compile `user/fuzz/fuzz.c` (static glibc) into `target/cradle/fuzz/fuzz`.
fn build_fuzzer() -> Result<PathBuf, String> {
    ensure_cross_cc()?;
    let source = project_root().join("user/fuzz/fuzz.c");
    let dir = out_dir().join("fuzz");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let binary = dir.join("fuzz");
    crate::user::compile(&source, &binary)?;
    let cpio = dir.join("initramfs-fuzz.cpio");
    let bytes = write_newc(&[
        Entry::new("/dev", Source::Dir, 0o755),
        Entry::new(
            "/dev/console",
            Source::CharDev { major: 5, minor: 1 },
            0o600,
        ),
        Entry::new("/dev/null", Source::CharDev { major: 1, minor: 3 }, 0o666),
        Entry::new("/dev/zero", Source::CharDev { major: 1, minor: 5 }, 0o666),
        Entry::new("/init", Source::File(binary), 0o755),
    ])?;
    std::fs::write(&cpio, bytes).map_err(|e| format!("{}: {e}", cpio.display()))?;
    Ok(cpio)
}

/// Boot the fuzzer with children seeded from `seed`; Ok if the kernel came through.
fn run(image: &Path, seed: u64, only: &str) -> Result<String, String> {
    let initrd = build_fuzzer()?;
    let mut opts = QemuOptions::for_board("virt");
    opts.initrd = Some(initrd);
    opts.append = Some(format!("quiet -- {seed} {only}").trim().to_string());
    let t = run_captured(&opts, image, None, Duration::from_secs(240))?;
    let log = out_dir().join("test-logs").join("fuzz.log");
    let _ = std::fs::write(&log, &t.text);
    for bad in ["Kernel panic", "Internal error: Oops", "BUG:"] {
        if t.text.contains(bad) {
            return Err(format!("{bad} (seed {seed}):\n{}", t.text));
        }
    }
    if !t.text.contains("fuzz: the kernel survived") || !t.exited {
        return Err(format!(
            "the fuzzer did not finish (seed {seed}):\n{}",
            t.text
        ));
    }
    Ok(t.text)
}

/// The test: the fixed seed 1, so a failure repeats.
pub(crate) fn fuzz_test(summary: &mut Summary, image: &Path) {
    summary.record(
        "fuzz: 64 processes making 400 random system calls each leave the kernel running",
        run(image, 1, "").map(|_| ()),
    );
}

/// `cargo xtask fuzz [SEED]`.
pub fn cmd_fuzz(args: &[String]) -> Result<(), String> {
    let seed = match args.first() {
        Some(s) => s
            .parse()
            .map_err(|_| format!("fuzz: SEED is a number, not {s}"))?,
        None => 1,
    };
    let only = args.get(1).map(String::as_str).unwrap_or("");
    let built = crate::build::build_kernel()?;
    let text = run(&built.image, seed, only)?;
    for line in text.lines().filter(|l| l.starts_with("fuzz:")) {
        println!("{line}");
    }
    Ok(())
}
