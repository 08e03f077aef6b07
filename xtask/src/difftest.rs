//! Differential tests of the Linux ABI: the same static arm64 program on Linux and on Cradle.
//!
//! The Linux side runs the program under `qemu-aarch64` (QEMU's Linux user mode, which
//! passes system calls to the host kernel) in a fresh temporary directory, and captures its
//! standard output and exit status. The Cradle side boots the test initramfs, whose `/init`
//! frames each program's output with `/init: running <path>` and `/init: <path> exited with
//! status <n>` lines; [`program_output`] cuts one program's output out of the transcript,
//! and [`compare`] checks the two sides match line for line (with a readable diff if not).
//!
//! `cargo xtask test` (the `user` group, [`user_tests`]) checks the programs themselves:
//! each one built from `user/*.c` must pass all its TAP tests under qemu-aarch64, which
//! validates the tests against real Linux semantics before they judge Cradle.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::env::ensure_qemu_user;
use crate::harness::Summary;
use crate::initramfs::{build_test_initramfs, check_archive, test_entries};
use crate::user::{build_user, Program, UserPrograms};

/// How long one program may run under qemu-aarch64.
/// Three minutes: `threads` (300 threads, timed waits) took over one with the machine loaded.
const TIME_LIMIT: Duration = Duration::from_secs(180);

/// A scratch directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, String> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("cradle-difftest-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run `program` under qemu-aarch64 with no arguments; see [`run_on_linux_with_args`].
#[allow(
    dead_code,
    reason = "for the Cradle side of the differential test, wired by the boot tests"
)]
pub fn run_on_linux(program: &Path) -> Result<(String, i32), String> {
    run_on_linux_with_args(program, &[])
}

/// Run `program args...` under qemu-aarch64 in a fresh temporary directory.
///
/// Returns its standard output and its exit status, or 128 + the signal number if a signal
/// killed it (the shell's convention, and what Cradle's test `/init` reports).
pub fn run_on_linux_with_args(program: &Path, args: &[String]) -> Result<(String, i32), String> {
    ensure_qemu_user()?;
    let cwd = TempDir::new()?;
    let mut child = Command::new("qemu-aarch64")
        .arg(program)
        .args(args)
        .current_dir(&cwd.0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run qemu-aarch64: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > TIME_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} did not finish within {} s",
                    program.display(),
                    TIME_LIMIT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for qemu-aarch64: {e}")),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let code = match (status.code(), signal_of(&status)) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => return Err(format!("qemu-aarch64 ended strangely: {status}")),
    };
    let text = String::from_utf8_lossy(&stdout).into_owned();
    let err = String::from_utf8_lossy(&stderr);
    // QEMU reports its own problems (not the guest's) on stderr with this prefix.
    if err.contains("qemu-aarch64:") {
        return Err(format!("qemu-aarch64 failed:\n{err}\nstdout:\n{text}"));
    }
    Ok((text, code))
}

#[cfg(unix)]
fn signal_of(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn signal_of(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// One program's run on Cradle, cut out of a serial transcript.
#[allow(
    dead_code,
    reason = "for the Cradle side of the differential test, wired by the boot tests"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CradleRun {
    /// What the program printed (whole lines, each ending in `\n`).
    pub output: String,
    /// Its exit status (128 + signal if killed), or `None` if `/init` never reported it.
    pub status: Option<i32>,
}

/// Cut the output of `path` (e.g. `/bin/syscalls`) out of a transcript of the test
/// initramfs's `/init`; `None` if `/init` never started it.
#[allow(
    dead_code,
    reason = "for the Cradle side of the differential test, wired by the boot tests"
)]
pub fn program_output(transcript: &str, path: &str) -> Option<CradleRun> {
    let start = format!("/init: running {path}");
    let end = format!("/init: {path} ");
    let mut lines = transcript.lines().skip_while(|l| *l != start).skip(1);
    let mut output = String::new();
    for line in lines.by_ref() {
        if let Some(verdict) = line.strip_prefix(&end) {
            let number = |prefix: &str| {
                verdict
                    .strip_prefix(prefix)
                    .and_then(|n| n.trim().parse::<i32>().ok())
            };
            let status = number("exited with status ")
                .or_else(|| number("killed by signal ").map(|s| 128 + s));
            return Some(CradleRun { output, status });
        }
        if is_kernel_log_line(line) {
            continue; // the kernel's console, not the program (the OOM killer's report)
        }
        output.push_str(line);
        output.push('\n');
    }
    transcript.lines().any(|l| l == start).then_some(CradleRun {
        output,
        status: None,
    })
}

/// A printk line on the console: `[    3.001969] ...`.
fn is_kernel_log_line(line: &str) -> bool {
    line.strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
        .is_some_and(|(stamp, _)| {
            stamp.contains('.') && stamp.trim().chars().all(|c| c.is_ascii_digit() || c == '.')
        })
}

/// The two lines of the seed article's fork program that either process may print first.
const FORK_SEED_RACE: [&str; 2] = ["This is Child Process!", "This is Parent Process!"];

/// Make outputs comparable: `fork_seed` may print its first two lines in either order.
fn normalize(name: &str, output: &str) -> String {
    let mut lines: Vec<&str> = output.lines().collect();
    if name == "fork_seed" && lines.len() >= 2 {
        let mut first_two = [lines[0], lines[1]];
        first_two.sort_unstable();
        if first_two == FORK_SEED_RACE {
            lines[0] = FORK_SEED_RACE[0];
            lines[1] = FORK_SEED_RACE[1];
        }
    }
    let mut text = lines.join("\n");
    if output.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Check that program `name` printed the same on Linux and on Cradle; on a mismatch the
/// error is a line diff (`-` Linux only, `+` Cradle only).
pub fn compare(name: &str, linux_output: &str, cradle_output: &str) -> Result<(), String> {
    compare_with_linux("linux (qemu-aarch64)", name, linux_output, cradle_output)
}

/// [`compare`], with the diff's `---` line naming where the Linux output came from.
pub fn compare_with_linux(
    linux_label: &str,
    name: &str,
    linux_output: &str,
    cradle_output: &str,
) -> Result<(), String> {
    let linux = normalize(name, linux_output);
    let cradle = normalize(name, cradle_output);
    if linux == cradle {
        return Ok(());
    }
    let mut text = format!("{name}: the output on Cradle differs from Linux\n");
    text.push_str(&format!("--- {linux_label}\n+++ cradle\n"));
    text.push_str(&line_diff(&linux, &cradle));
    if linux.trim_end_matches('\n') == cradle.trim_end_matches('\n') {
        text.push_str("(only the final newlines differ)\n");
    }
    Err(text)
}

/// A line diff of `old` and `new` from their longest common subsequence, with up to three
/// lines of context around each change.
fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // lcs[i][j] = length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    const CONTEXT: usize = 3;
    let near_change = |k: usize| {
        let lo = k.saturating_sub(CONTEXT);
        let hi = (k + CONTEXT + 1).min(ops.len());
        ops[lo..hi].iter().any(|(op, _)| *op != ' ')
    };
    let mut text = String::new();
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if *op == ' ' && !near_change(k) {
            skipped = true;
            continue;
        }
        if skipped {
            text.push_str("@@ ... @@\n");
            skipped = false;
        }
        text.push_str(&format!("{op}{line}\n"));
    }
    text
}

/// Check TAP output: a plan `1..N` first, then `ok K - ...` for K = 1..N in order.
pub fn check_tap(output: &str) -> Result<(), String> {
    let mut lines = output.lines();
    let plan = lines.next().unwrap_or("");
    let count: usize = plan
        .strip_prefix("1..")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no TAP plan; the first line is {plan:?}"))?;
    let mut seen = 0;
    let mut failures = Vec::new();
    for line in lines {
        if line.starts_with('#') {
            continue;
        }
        let (passed, rest) = if let Some(rest) = line.strip_prefix("ok ") {
            (true, rest)
        } else if let Some(rest) = line.strip_prefix("not ok ") {
            (false, rest)
        } else {
            return Err(format!("not a TAP line: {line:?}"));
        };
        let number = rest.split_whitespace().next().unwrap_or("");
        seen += 1;
        if number != seen.to_string() {
            return Err(format!("test {seen} is numbered {number:?}: {line}"));
        }
        if !passed {
            failures.push(line.to_string());
        }
    }
    if seen != count {
        return Err(format!("the plan says {count} tests, {seen} reported"));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// Check the seed article's fork program: the child's and the parent's line in either
/// order, then the parent's last line.
fn check_fork_seed(output: &str) -> Result<(), String> {
    let want = format!(
        "{}\n{}\nChild Complete!\n",
        FORK_SEED_RACE[0], FORK_SEED_RACE[1]
    );
    compare("fork_seed", &want, output)
}

/// Programs that only make sense on an arm64 kernel of their own.
fn runs_only_as_init(name: &str) -> bool {
    // init_hello powers the machine off; under qemu-aarch64 it is not PID 1, and its
    // execve of arm64 programs would go to the host's kernel, as suidtest's would;
    // clockset sets the wall clock, which is not the test's to move on a host.
    name == "init_hello" || name == "suidtest" || name == "clockset"
}

/// Programs that qemu-aarch64 cannot judge, run on Debian's arm64 kernel instead: `efault`
/// needs short counts at a fault, and qemu-aarch64 checks a whole buffer before it calls the
/// host (EFAULT where Linux reads up to the hole); `mapstest` reads /proc/self/maps, which
/// qemu-aarch64 writes itself for the guest; `threadexec` execs arm64 programs (the host
/// cannot), needs robust futexes (qemu-aarch64 ignores `set_robust_list`) and clone3;
/// `threads` forks from a threaded process, and qemu-aarch64 now and then deadlocks in such a
/// child (seen: the child's two host threads both asleep in futex_wait, never exiting);
/// `vdsotest` sets the wall clock as root (under qemu-aarch64 that would be the host's) and
/// judges the kernel's vDSO, not qemu-aarch64's own; `aslrtest` checks the kernel's address
/// space layout (qemu-aarch64 makes its own) and writes a sysctl; `xattrtest` judges the
/// kernel's tmpfs (qemu-aarch64 would ask the host's file system). `smpsched` measures every
/// CPU of the machine, which qemu-aarch64 shares with the host's other work. `sysmisckern`
/// execs itself with execveat, chroots (the host's root, under qemu-aarch64) and uses
/// mlock2 and preadv2/pwritev2 flags, which qemu-aarch64 does not pass on. `unixsock`
/// judges socket calls, which qemu-aarch64 rewrites on their way to the host: it drops
/// unknown `SOCK_*` type flags (EINVAL on Linux), reads a socket address before the
/// descriptor is looked at (Linux: ENOTSOCK first), gives the host a larger control buffer
/// (no MSG_CTRUNC) and crashes the guest on a bad `msghdr` (EFAULT on Linux).
pub fn needs_a_linux_kernel(name: &str) -> bool {
    matches!(
        name,
        "efault"
            | "mapstest"
            | "threadexec"
            | "threads"
            | "vdsotest"
            | "aslrtest"
            | "xattrtest"
            | "smpsched"
            | "sysmisckern"
            | "unixsock"
    )
}

/// Arguments a program needs outside the test initramfs.
fn linux_args(program: &Program, user: &UserPrograms) -> Vec<String> {
    match program.name.as_str() {
        "execbad" => vec![user.bad_elf.display().to_string()],
        _ => Vec::new(),
    }
}

/// Run one program under qemu-aarch64 and judge its output.
fn check_on_linux(program: &Program, user: &UserPrograms) -> Result<(), String> {
    let (output, status) = run_on_linux_with_args(&program.path, &linux_args(program, user))?;
    let verdict = match program.name.as_str() {
        "fork_seed" => check_fork_seed(&output),
        _ => check_tap(&output),
    };
    let verdict = verdict.and_then(|()| match status {
        0 => Ok(()),
        _ => Err(format!("exit status {status}")),
    });
    verdict.map_err(|why| format!("{why}\noutput:\n{output}"))
}

/// The `user` group of `cargo xtask test`: build the programs, run them on Linux under
/// qemu-aarch64, and build and read back the test initramfs.
pub(crate) fn user_tests(summary: &mut Summary) {
    let built = build_user();
    summary.record(
        "user: build user/*.c (static arm64 glibc) and bad.elf",
        built.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    let Ok(user) = built else {
        return;
    };
    match ensure_qemu_user() {
        Err(e) => summary.record("user: qemu-aarch64 is installed", Err(e)),
        Ok(()) => {
            for program in &user.programs {
                if !runs_only_as_init(&program.name) && !needs_a_linux_kernel(&program.name) {
                    let name = format!("user: {} passes on Linux (qemu-aarch64)", program.name);
                    summary.record(&name, check_on_linux(program, &user));
                }
            }
        }
    }
    let archive = test_entries(&user).and_then(|entries| {
        let path = build_test_initramfs(&user)?;
        check_archive(&path, &entries)
    });
    summary.record(
        "user: initramfs-test.cpio is written and reads back",
        archive,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_log_lines_are_not_program_output() {
        let t =
            "/init: running /bin/oomtest\n1..1\n[    3.001969] Out of memory: Killed process 5 \
                 (oomtest)\nok 1 - x\n[not a stamp] y\n/init: /bin/oomtest exited with status 0\n";
        let run = program_output(t, "/bin/oomtest").unwrap();
        assert_eq!(run.output, "1..1\nok 1 - x\n[not a stamp] y\n");
        assert_eq!(run.status, Some(0));
    }

    #[test]
    fn tap_all_ok() {
        assert_eq!(check_tap("1..2\nok 1 - a\n# note\nok 2 - b\n"), Ok(()));
    }

    #[test]
    fn tap_failures() {
        let err = check_tap("1..2\nok 1 - a\nnot ok 2 - b # why\n").unwrap_err();
        assert!(err.contains("not ok 2 - b # why"));
        assert!(check_tap("1..3\nok 1 - a\nok 2 - b\n").is_err());
        assert!(check_tap("ok 1 - a\n").is_err());
        assert!(check_tap("1..2\nok 1 - a\nok 3 - b\n").is_err());
        assert!(check_tap("1..1\nBail out! no dir\n").is_err());
    }

    #[test]
    fn fork_seed_either_order() {
        let child_first = "This is Child Process!\nThis is Parent Process!\nChild Complete!\n";
        let parent_first = "This is Parent Process!\nThis is Child Process!\nChild Complete!\n";
        assert_eq!(check_fork_seed(child_first), Ok(()));
        assert_eq!(check_fork_seed(parent_first), Ok(()));
        assert_eq!(compare("fork_seed", child_first, parent_first), Ok(()));
        assert!(compare("other", child_first, parent_first).is_err());
        assert!(check_fork_seed("This is Child Process!\nChild Complete!\n").is_err());
    }

    #[test]
    fn diff_shows_the_changed_lines() {
        let linux = "1..3\nok 1 - a\nok 2 - b\nok 3 - c\n";
        let cradle = "1..3\nok 1 - a\nnot ok 2 - b # errno=38\nok 3 - c\n";
        let err = compare("syscalls", linux, cradle).unwrap_err();
        assert!(err.contains("-ok 2 - b\n"), "{err}");
        assert!(err.contains("+not ok 2 - b # errno=38\n"), "{err}");
        assert!(err.contains(" ok 1 - a\n"), "{err}");
    }

    #[test]
    fn diff_elides_distant_context() {
        let linux: String = (0..20).map(|i| format!("line {i}\n")).collect();
        let cradle = linux.replace("line 15\n", "line fifteen\n");
        let err = compare("x", &linux, &cradle).unwrap_err();
        assert!(err.contains("@@ ... @@"));
        assert!(!err.contains(" line 2\n"));
        assert!(err.contains(" line 12\n"));
    }

    #[test]
    fn missing_final_newline_is_reported() {
        let err = compare("x", "a\n", "a").unwrap_err();
        assert!(err.contains("final newline"), "{err}");
    }

    #[test]
    fn cuts_a_program_out_of_a_transcript() {
        let transcript = "Booting\n/init: running /bin/segv\n1..1\nok 1 - x\n\
                          /init: /bin/segv exited with status 0\n\
                          /init: running /bin/crash\npartial\n\
                          /init: /bin/crash killed by signal 11\n\
                          /init: running /bin/hang\nstuck\n";
        assert_eq!(
            program_output(transcript, "/bin/segv"),
            Some(CradleRun {
                output: "1..1\nok 1 - x\n".into(),
                status: Some(0)
            })
        );
        assert_eq!(
            program_output(transcript, "/bin/crash").unwrap().status,
            Some(139)
        );
        assert_eq!(
            program_output(transcript, "/bin/hang"),
            Some(CradleRun {
                output: "stuck\n".into(),
                status: None
            })
        );
        assert_eq!(program_output(transcript, "/bin/none"), None);
    }
}
