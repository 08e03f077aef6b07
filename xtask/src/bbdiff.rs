//! The busybox differential test: one shell script, the same output on Cradle and on Linux.
//!
//! `user/busybox-diff.sh` exercises what a shell asks of a kernel: pipes, redirections and
//! fd duplication, subshells, traps and signals, `kill`/`wait` and the statuses of signalled
//! processes, stopping and continuing a job, zombies, `/proc` reads, files in a tmpfs, the
//! text applets. One initramfs — Debian's static busybox, the script, and the small `/init`
//! below ([`INIT`]) — boots on Debian's arm64 Linux (`linux-image-arm64`, the kernel
//! `cargo xtask bench` uses) and on Cradle, in the same QEMU (`-M virt -cpu cortex-a72
//! -m 512M`, `-smp 1` for Linux and the test run's CPUs for Cradle: one, or 4 in the SMP
//! pass, or `--smp N`) with the same command line; Linux's output is made once per run. `/init` runs the script with its output
//! going to a file, then prints the file between [`BEGIN`] and [`END`], so kernel messages
//! cannot land inside it; [`cut_output`] takes it out of the transcript and
//! [`crate::difftest::compare_with_linux`] shows a line diff if the two differ.
//!
//! What legitimately differs between the kernels (PIDs, times, sizes) is masked by the
//! script itself, next to what it prints; see the header of `user/busybox-diff.sh`. Nothing
//! is masked here.
//!
//! `cargo xtask bbdiff` runs only this comparison and keeps both outputs under
//! `target/cradle/bbdiff/`; `cargo xtask test` runs it in the `difftest` group.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::env::{out_dir, project_root};
use crate::harness::Summary;
use crate::initramfs::{write_newc, Entry, Source};
use crate::qemu::{run_captured, QemuOptions};

/// The line `/init` prints before the script's output.
pub const BEGIN: &str = "--- busybox-diff.sh output begins ---";
/// The line `/init` prints after it.
pub const END: &str = "--- busybox-diff.sh output ends ---";

/// `/init`, run by busybox `sh` (`rdinit=/bin/sh -- /init.sh`): mount what the script
/// reads, link the applets into /bin, run the script in /tmp with its output in a file,
/// print the file between the markers, power off.
const INIT: &str = r#"export PATH=/bin
busybox mount -t proc proc /proc
busybox --install -s /bin
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
cd /tmp
sh /busybox-diff.sh >/tmp/busybox-diff.out 2>&1 </dev/null
echo "busybox-diff.sh exit status $?" >>/tmp/busybox-diff.out
echo "--- busybox-diff.sh output begins ---"
cat /tmp/busybox-diff.out
echo "--- busybox-diff.sh output ends ---"
poweroff -f
"#;

/// The kernel command line, the same on both kernels.
const CMDLINE: &str = "console=ttyAMA0 quiet rdinit=/bin/sh -- /init.sh";

/// How long one boot may take (the script forks a few hundred processes under TCG).
const BOOT_LIMIT: Duration = Duration::from_secs(400);

/// The script, in the repository.
fn script_path() -> PathBuf {
    project_root().join("user").join("busybox-diff.sh")
}

/// Where the outputs and transcripts are kept.
fn results_dir() -> PathBuf {
    out_dir().join("bbdiff")
}

/// The initramfs both kernels boot: busybox, `/bin/sh`, `/init.sh`, the script, the
/// mount points, and `/dev/console` (Linux opens it for init before anything is mounted).
fn build_initramfs() -> Result<PathBuf, String> {
    let busybox = crate::busybox::fetch_busybox()?;
    let bytes = write_newc(&[
        Entry::new("/bin/busybox", Source::File(busybox), 0o755),
        Entry::new("/bin/sh", Source::Symlink("busybox".into()), 0o777),
        Entry::new("/dev", Source::Dir, 0o755),
        Entry::new(
            "/dev/console",
            Source::CharDev { major: 5, minor: 1 },
            0o600,
        ),
        Entry::new("/proc", Source::Dir, 0o555),
        Entry::new("/tmp", Source::Dir, 0o1777),
        Entry::new("/init.sh", Source::Bytes(INIT.as_bytes().to_vec()), 0o755),
        Entry::new("/busybox-diff.sh", Source::File(script_path()), 0o755),
    ])?;
    let path = out_dir().join("initramfs-busybox-diff.cpio");
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Cut the script's output out of a serial transcript: the lines strictly between the
/// [`BEGIN`] and [`END`] lines, each ending in `\n`.
pub fn cut_output(transcript: &str) -> Result<String, String> {
    let mut lines = transcript.lines();
    if !lines.by_ref().any(|l| l == BEGIN) {
        return Err(format!("no line {BEGIN:?}"));
    }
    let mut output = String::new();
    for line in lines {
        if line == END {
            return Ok(output);
        }
        output.push_str(line);
        output.push('\n');
    }
    Err(format!("no line {END:?} after the output:\n{output}"))
}

/// One script that must print the same on Debian's Linux and on Cradle, booted the same way
/// (this file's busybox script, `debiandiff.rs`'s bash one).
pub(crate) struct ScriptDiff {
    /// The script's name, as its last line says it (`<name> exit status 0`).
    pub script: &'static str,
    /// The kernel command line both boots get.
    pub cmdline: &'static str,
    /// How long one boot may take.
    pub limit: Duration,
    /// Where transcripts (`<kernel>.log`) and outputs (`<kernel>.out`) are kept.
    pub dir: PathBuf,
}

impl ScriptDiff {
    /// Boot `image` (named `kernel` in messages and file names) with `initrd`; the script's
    /// output.
    /// Linux boots with one CPU, as its reference runs always have; Cradle with the test
    /// run's CPUs (one unless `--smp N` or the SMP pass says otherwise).
    fn run_on(&self, kernel: &str, image: &Path, initrd: &Path) -> Result<String, String> {
        let mut opts = QemuOptions::for_board("virt");
        opts.smp = (kernel == "linux").then_some(1);
        opts.mem = Some("512M".into());
        opts.initrd = Some(initrd.to_path_buf());
        opts.append = Some(self.cmdline.into());
        let t = run_captured(&opts, image, None, self.limit)?;
        let dir = &self.dir;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let log = dir.join(format!("{kernel}.log"));
        let _ = std::fs::write(&log, &t.text);
        let output = cut_output(&t.text)
            .map_err(|e| format!("{kernel}: {e}\ntranscript ({}):\n{}", log.display(), t.text))?;
        let _ = std::fs::write(dir.join(format!("{kernel}.out")), &output);
        if !t.exited {
            return Err(format!(
                "{kernel}: QEMU did not power off within {} s (transcript: {})",
                self.limit.as_secs(),
                log.display()
            ));
        }
        Ok(output)
    }

    /// Run the script on Linux and on Cradle (`image`), both from `initrd`, and compare.
    pub(crate) fn run_both(&self, image: &Path, initrd: &Path) -> Result<(), String> {
        let key = format!("{} on Linux from {}", self.script, initrd.display());
        let linux_output = crate::harness::made_once(&key, || {
            let linux = crate::bench::linux_image()?;
            self.run_on("linux", &linux, initrd)
        })?;
        if !linux_output.contains(&format!("{} exit status 0", self.script)) {
            return Err(format!(
                "the script did not finish cleanly on Linux:\n{linux_output}"
            ));
        }
        let cradle = match crate::qemu::test_cpus() {
            0 => "cradle".to_string(),
            n => format!("cradle-smp{n}"),
        };
        let cradle_output = self.run_on(&cradle, image, initrd)?;
        crate::difftest::compare_with_linux(
            "linux (Debian's arm64 kernel in the same QEMU)",
            self.script,
            &linux_output,
            &cradle_output,
        )
        .map_err(|diff| {
            format!(
                "{diff}(both outputs and transcripts are under {})",
                self.dir.display()
            )
        })
    }
}

/// Run the script on Linux and on Cradle (`image`) and compare.
fn run_both(image: &Path) -> Result<(), String> {
    let diff = ScriptDiff {
        script: "busybox-diff.sh",
        cmdline: CMDLINE,
        limit: BOOT_LIMIT,
        dir: results_dir(),
    };
    diff.run_both(image, &build_initramfs()?)
}

/// The test in `cargo xtask test` (the `difftest` group).
pub(crate) fn busybox_diff_test(summary: &mut Summary, image: &Path) {
    summary.record(
        "difftest: user/busybox-diff.sh prints the same on Cradle and Linux (Debian's kernel in the same QEMU)",
        run_both(image),
    );
}

/// `cargo xtask bbdiff`: build the kernel, run the comparison, print the diff if any.
pub fn cmd_bbdiff(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err("usage: cargo xtask bbdiff".into());
    }
    crate::env::ensure_qemu()?;
    let built = crate::build::build_kernel()?;
    run_both(&built.image)?;
    println!(
        "busybox-diff.sh: the same output on Cradle and Linux ({})",
        results_dir().display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_the_output_between_the_markers() {
        let transcript = format!(
            "[    0.1] booting\n{BEGIN}\n## pipelines\nsum 500500\n\n{END}\nreboot: Power down\n"
        );
        assert_eq!(
            cut_output(&transcript),
            Ok("## pipelines\nsum 500500\n\n".into())
        );
    }

    #[test]
    fn a_missing_marker_is_an_error() {
        assert!(cut_output("booting\nno markers\n").is_err());
        let unfinished = format!("{BEGIN}\n## pipelines\n");
        let err = cut_output(&unfinished).unwrap_err();
        assert!(err.contains("## pipelines"), "{err}");
    }

    #[test]
    fn markers_must_be_whole_lines() {
        // The kernel's command line is echoed in the log; a marker inside a longer line
        // (or /init's own echo command) must not count.
        let transcript = format!("echo \"{BEGIN}\"\n{BEGIN}\nout\n{END}\n");
        assert_eq!(cut_output(&transcript), Ok("out\n".into()));
        assert!(cut_output(&format!("x {BEGIN}\nout\n{END}\n")).is_err());
    }

    #[test]
    fn the_init_prints_the_markers() {
        assert!(INIT.contains(&format!("echo \"{BEGIN}\"")));
        assert!(INIT.contains(&format!("echo \"{END}\"")));
    }
}
