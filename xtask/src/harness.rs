//! The test harness: the tally every suite reports into, running commands, and booting
//! QEMU and judging its transcript.
//!
//! A leaf: suites (`test.rs`'s table, `difftest.rs`, `usertest.rs`, …) import it; it imports
//! none of them, only `env.rs` and `qemu.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::env::{out_dir, project_root};
use crate::qemu::{run_captured, QemuOptions, Transcript};

/// Tally of results.
#[derive(Default)]
pub(crate) struct Summary {
    passed: usize,
    failed: usize,
    skipped: usize,
    failures: Vec<String>,
    /// Put before every test's name (`smp4: ` in the SMP pass), or empty.
    prefix: String,
}

impl Summary {
    /// A test that did not run, and why.
    pub(crate) fn skip(&mut self, name: &str, why: &str) {
        let name = format!("{}{name}", self.prefix);
        self.skipped += 1;
        println!("skip - {name}: {why}");
    }

    /// A test's verdict: `Err` holds why it failed.
    pub(crate) fn record(&mut self, name: &str, result: Result<(), String>) {
        let name = format!("{}{name}", self.prefix);
        let name = name.as_str();
        match result {
            Ok(()) => {
                self.passed += 1;
                println!("ok - {name}");
            }
            Err(why) => {
                self.failed += 1;
                println!("FAILED - {name}\n{}", indent(&why));
                self.failures.push(name.to_string());
            }
        }
    }

    /// Name the tests recorded from now on `<prefix><name>` (`""` to stop).
    pub(crate) fn set_prefix(&mut self, prefix: &str) {
        self.prefix = prefix.to_string();
    }

    /// Print the failed tests and the last line, `N passed, N failed` (and `N skipped` if
    /// any); `Ok` only if something passed and nothing failed.
    pub(crate) fn finish(&self) -> Result<(), String> {
        println!();
        if !self.failures.is_empty() {
            println!("failed tests:");
            for name in &self.failures {
                println!("  {name}");
            }
        }
        if self.skipped > 0 {
            println!(
                "{} passed, {} failed, {} skipped",
                self.passed, self.failed, self.skipped
            );
        } else {
            println!("{} passed, {} failed", self.passed, self.failed);
        }
        if self.failed == 0 && self.passed > 0 {
            Ok(())
        } else {
            Err(format!("{} test(s) failed", self.failed))
        }
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `cargo`, as the one running xtask, in the project root.
pub(crate) fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(project_root());
    cmd
}

/// Run `cmd`; its stdout and stderr, as `Ok` if it succeeded.
pub(crate) fn run_command(mut cmd: Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// `make()`'s output, made once per `cargo xtask test` for each `key`: Linux's reference
/// outputs, which the SMP pass compares Cradle with again. Failures are not kept.
pub(crate) fn made_once(
    key: &str,
    make: impl FnOnce() -> Result<String, String>,
) -> Result<String, String> {
    static MADE: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
    if let Some(made) = MADE.lock().unwrap_or_else(|e| e.into_inner()).get(key) {
        return Ok(made.clone());
    }
    let made = make()?;
    MADE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key.to_string(), made.clone());
    Ok(made)
}

/// A check of a whole transcript, with the reason it fails.
pub(crate) type TranscriptCheck = fn(&str) -> Result<(), String>;

/// One QEMU boot and what its transcript must (and must not) contain.
pub(crate) struct BootTest {
    pub name: &'static str,
    pub opts: QemuOptions,
    /// Stop the run once this appears (for boots that idle instead of powering off).
    pub stop_at: Option<&'static str>,
    /// QEMU must exit by itself (power off) within the time limit.
    pub must_exit: bool,
    pub expect: Vec<String>,
    pub reject: Vec<&'static str>,
    /// RAM size in KiB the `Memory:` line must report, with avail + reserved adding up.
    pub memory_kib: Option<u64>,
    /// A further check of the transcript.
    pub check: Option<TranscriptCheck>,
}

/// "512M" → 524288 (KiB).
pub(crate) fn kib(size: &str) -> u64 {
    let (num, unit) = size.split_at(size.len() - 1);
    let n: u64 = num.parse().unwrap_or(0);
    match unit {
        "G" => n << 20,
        "M" => n << 10,
        _ => 0,
    }
}

/// Check Linux's `Memory: <avail>K/<total>K available (... <r>K reserved)` line: the total is
/// the RAM QEMU gave, and available + reserved add up to it.
fn check_memory_line(text: &str, total_kib: u64) -> Result<(), String> {
    let line = text
        .lines()
        .find(|l| l.contains("Memory: "))
        .ok_or("no Memory: line")?;
    let rest = &line[line.find("Memory: ").unwrap_or(0) + 8..];
    let number = |s: &str| s.trim_end_matches('K').parse::<u64>().ok();
    let (avail, rest) = rest
        .split_once("K/")
        .ok_or("Memory: line has no avail/total")?;
    let (total, _) = rest
        .split_once("K available")
        .ok_or("Memory: line has no total")?;
    let reserved = line
        .rsplit_once(", ")
        .and_then(|(_, r)| r.strip_suffix(" reserved)"))
        .and_then(number)
        .ok_or("Memory: line has no reserved count")?;
    let (avail, total) = (number(avail).unwrap_or(0), number(total).unwrap_or(0));
    if total != total_kib {
        return Err(format!(
            "Memory: total {total}K, QEMU gave {total_kib}K: {line}"
        ));
    }
    if avail + reserved != total {
        return Err(format!(
            "Memory: {avail}K + {reserved}K reserved != {total}K: {line}"
        ));
    }
    if avail < total / 2 {
        return Err(format!(
            "Memory: only {avail}K of {total}K available: {line}"
        ));
    }
    Ok(())
}

/// Where the test transcripts are kept: `target/cradle/test-logs/`, or its `smpN/` while
/// boots get N CPUs by default (`--smp N`, the SMP pass), so the two passes keep theirs.
pub(crate) fn test_logs_dir() -> PathBuf {
    let dir = out_dir().join("test-logs");
    let dir = match crate::qemu::test_cpus() {
        0 => dir,
        n => dir.join(format!("smp{n}")),
    };
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Keep a transcript under [`test_logs_dir`]; returns the file's path.
pub(crate) fn log_transcript(name: &str, transcript: &Transcript) -> String {
    let dir = test_logs_dir();
    let file: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path = dir.join(format!("{file}.log"));
    let _ = std::fs::write(&path, &transcript.text);
    path.display().to_string()
}

/// Boot `test` and judge its transcript.
pub(crate) fn run_boot_test(test: &BootTest, image: &Path) -> Result<(), String> {
    let transcript = run_captured(&test.opts, image, test.stop_at, Duration::from_secs(60))?;
    let log = log_transcript(test.name, &transcript);
    let mut problems = Vec::new();
    for want in &test.expect {
        if !transcript.text.contains(want.as_str()) {
            problems.push(format!("missing: {want}"));
        }
    }
    for unwanted in &test.reject {
        if transcript.text.contains(unwanted) {
            problems.push(format!("unexpected: {unwanted}"));
        }
    }
    if let Some(check) = test.check {
        if let Err(e) = check(&transcript.text) {
            problems.push(e);
        }
    }
    if let Some(total) = test.memory_kib {
        if let Err(e) = check_memory_line(&transcript.text, total) {
            problems.push(e);
        }
    }
    if test.must_exit && !transcript.exited {
        problems.push("QEMU did not exit by itself within the time limit".into());
    }
    if test.stop_at.is_some() && !transcript.stopped_at_marker {
        problems.push("the boot did not reach its end marker within the time limit".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\ntranscript ({log}):\n{}",
            problems.join("\n"),
            transcript.text
        ))
    }
}
