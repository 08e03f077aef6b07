//! The system call fuzzer (`user/fuzz/fuzz.c`): `cargo xtask test` boots it as PID 1 in the
//! `fuzz` group; `cargo xtask fuzz [SEED | FIRST..END] [NR,NR...]` boots it once, or once per
//! 64 seeds of a range (a campaign), optionally making only the listed system calls.
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

/// Children per boot: `CHILDREN` in `user/fuzz/fuzz.c`. A boot with base seed S seeds its
/// children S, S+1, ... S+63, so consecutive boots of a campaign step by this much.
const SEEDS_PER_BOOT: u64 = 64;

/// What one boot of the fuzzer did.
struct Outcome {
    /// The transcript.
    text: String,
    /// System calls the children made (the fuzzer's `system calls made` line).
    calls: u64,
}

/// Boot the fuzzer with children seeded from `seed`; Ok if the kernel came through: no
/// panic, no oops, PID 1's memory unchanged, and the fuzzer powered off.
fn run(image: &Path, initrd: &Path, seed: u64, only: &str) -> Result<Outcome, String> {
    let mut opts = QemuOptions::for_board("virt");
    opts.initrd = Some(initrd.to_path_buf());
    opts.append = Some(format!("quiet -- {seed} {only}").trim().to_string());
    let t = run_captured(&opts, image, None, Duration::from_secs(240))?;
    let log = crate::harness::test_logs_dir().join("fuzz.log");
    let _ = std::fs::write(&log, &t.text);
    for bad in [
        "Kernel panic",
        "Internal error: Oops",
        "BUG:",
        "Unhandled",
        "Insufficient stack",
    ] {
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
    let calls = t
        .text
        .lines()
        .find_map(|l| l.strip_prefix("fuzz: ")?.strip_suffix(" system calls made"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("the fuzzer did not say how many calls it made (seed {seed})"))?;
    Ok(Outcome {
        text: t.text,
        calls,
    })
}

/// The test: the fixed seed 1, so a failure repeats.
pub(crate) fn fuzz_test(summary: &mut Summary, image: &Path) {
    summary.record(
        "fuzz: 64 processes making 400 random system calls each leave the kernel running",
        build_fuzzer().and_then(|initrd| run(image, &initrd, 1, "").map(|_| ())),
    );
}

/// `SEED` or `FIRST..END` (children's seeds, END excluded) as the base seeds of the boots.
fn parse_seeds(arg: Option<&String>) -> Result<Vec<u64>, String> {
    let number = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("fuzz: a seed is a number, not {s}"))
    };
    match arg {
        None => Ok(vec![1]),
        Some(a) => match a.split_once("..") {
            None => Ok(vec![number(a)?]),
            Some((first, end)) => {
                let (first, end) = (number(first)?, number(end)?);
                if end <= first {
                    return Err(format!("fuzz: the range {a} is empty"));
                }
                Ok((first..end).step_by(SEEDS_PER_BOOT as usize).collect())
            }
        },
    }
}

/// `cargo xtask fuzz [--smp N] [SEED | FIRST..END] [NR,NR...]`: one boot, or a campaign of
/// boots covering the children's seeds FIRST..END (64 per boot), with N CPUs (default 1).
/// Stops at the first boot the kernel did not come through, and shows its transcript.
pub fn cmd_fuzz(args: &[String]) -> Result<(), String> {
    let mut args = args.to_vec();
    if let Some(at) = args.iter().position(|a| a == "--smp") {
        let cpus = args
            .get(at + 1)
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|&n| (1..=16).contains(&n))
            .ok_or("fuzz: --smp needs a CPU count from 1 to 16")?;
        crate::qemu::set_test_cpus(cpus);
        args.drain(at..at + 2);
    }
    let seeds = parse_seeds(args.first())?;
    let only = args.get(1).map(String::as_str).unwrap_or("");
    let built = crate::build::build_kernel()?;
    let initrd = build_fuzzer()?;
    let mut calls = 0;
    for (i, &seed) in seeds.iter().enumerate() {
        let outcome = run(&built.image, &initrd, seed, only)?;
        calls += outcome.calls;
        if seeds.len() == 1 {
            for line in outcome.text.lines().filter(|l| l.starts_with("fuzz:")) {
                println!("{line}");
            }
        } else {
            println!(
                "fuzz: boot {}/{}: seeds {seed}..{}: {} system calls, the kernel survived",
                i + 1,
                seeds.len(),
                seed + SEEDS_PER_BOOT - 1,
                outcome.calls
            );
        }
    }
    if let (Some(first), Some(last)) = (seeds.first(), seeds.last()) {
        println!(
            "fuzz: {} boots, children's seeds {first}..{}: {calls} system calls; no panic, no oops, PID 1's memory unchanged",
            seeds.len(),
            last + SEEDS_PER_BOOT - 1
        );
    }
    Ok(())
}
