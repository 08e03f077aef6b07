//! The README's raw QEMU commands, run exactly as printed, with nothing from outside the
//! project's install step.
//!
//! README.md shows `qemu-system-aarch64 …` command lines that boot the Image without xtask.
//! This test takes every such line from the README's shell blocks (joining `\` continuations),
//! runs it through `sh` from the project root, and adds one option: `-L` pointing at an empty
//! directory, so QEMU finds no firmware, option ROM or keymap file at all. A command that
//! needs a file from a package xtask does not install (QEMU `virt`'s default virtio NIC wants
//! `efi-virtio.rom` from `ipxe-qemu`) fails here as it would on a fresh machine. The same
//! empty data directory is given to every QEMU run of the test suite (`qemu::empty_datadir`).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::env::project_root;
use crate::harness::Summary;
use crate::qemu::empty_datadir;

/// How long one README command may take to boot and power off.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The `qemu-system-aarch64` command lines in the `sh` code blocks of `markdown`.
pub fn qemu_commands(markdown: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_sh_block = false;
    let mut pending: Option<String> = None;
    for line in markdown.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_sh_block = !in_sh_block && trimmed == "```sh";
            pending = None;
            continue;
        }
        if !in_sh_block {
            continue;
        }
        let text = match pending.take() {
            Some(mut start) => {
                start.push(' ');
                start.push_str(trimmed);
                start
            }
            None if trimmed.starts_with("qemu-system-aarch64 ") => trimmed.to_string(),
            None => continue,
        };
        match text.strip_suffix('\\') {
            Some(head) => pending = Some(head.trim_end().to_string()),
            None => commands.push(strip_comment(&text)),
        }
    }
    commands
}

/// `cmd` without a trailing `# comment` (one outside quotes).
fn strip_comment(cmd: &str) -> String {
    let mut quote = None;
    for (i, c) in cmd.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if cmd[..i].ends_with(' ') => return cmd[..i].trim_end().to_string(),
            _ => {}
        }
    }
    cmd.to_string()
}

/// Run `cmd` with an empty QEMU data directory; Ok if QEMU powered off cleanly (status 0)
/// within [`TIMEOUT`], said nothing on stderr, and the kernel printed its banner (or, booted
/// `quiet`, printed anything at all).
fn run_readme_command(cmd: &str) -> Result<(), String> {
    let datadir = empty_datadir()?;
    let full = format!("exec {cmd} -L {}", datadir.display());
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&full)
        .current_dir(project_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).replace('\r', "");
    let err = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    let show = || format!("command: {full}\n--- stdout ---\n{out}\n--- stderr ---\n{err}");
    match status {
        None => return Err(format!("no power-off within {TIMEOUT:?}\n{}", show())),
        Some(s) if !s.success() => return Err(format!("QEMU exited with {s}\n{}", show())),
        Some(_) => {}
    }
    if !err.trim().is_empty() {
        return Err(format!("QEMU wrote to stderr\n{}", show()));
    }
    let quiet = cmd
        .split_whitespace()
        .any(|w| w.trim_matches('"') == "quiet");
    if quiet && out.trim().is_empty() {
        return Err(format!("nothing printed\n{}", show()));
    }
    if !quiet && !out.contains("Booting Cradle") {
        return Err(format!("no 'Booting Cradle' banner\n{}", show()));
    }
    Ok(())
}

/// One test per QEMU command in README.md (they need `target/cradle/Image` and the test
/// initramfs, which the caller has built).
pub fn readme_command_tests(summary: &mut Summary) {
    let readme = match std::fs::read_to_string(project_root().join("README.md")) {
        Ok(text) => text,
        Err(e) => {
            summary.record("readme: read README.md", Err(e.to_string()));
            return;
        }
    };
    let commands = qemu_commands(&readme);
    summary.record(
        "readme: README.md shows raw QEMU commands",
        if commands.is_empty() {
            Err("no qemu-system-aarch64 line in a ```sh block".into())
        } else {
            Ok(())
        },
    );
    for cmd in commands {
        let name = format!("readme: as printed, with an empty QEMU data dir: {cmd}");
        summary.record(&name, run_readme_command(&cmd));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_commands_joins_continuations_drops_comments() {
        let md = "text qemu-system-aarch64 -x\n```sh\nqemu-system-aarch64 -a b  # why\n\
                  cargo xtask qemu\nqemu-system-aarch64 -c \\\n    -d \"e # f\"\n```\n\
                  ```text\nqemu-system-aarch64 -no\n```\n";
        assert_eq!(
            qemu_commands(md),
            vec![
                "qemu-system-aarch64 -a b",
                "qemu-system-aarch64 -c -d \"e # f\""
            ]
        );
    }
}
