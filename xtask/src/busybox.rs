//! Debian's `busybox-static` for arm64: the yardstick user space, fetched once and cached.
//!
//! `apt-get download busybox-static:arm64` (after `dpkg --add-architecture arm64` and an
//! update, as root on Debian), unpacked with `dpkg-deb -x` under `target/cradle/busybox/`.
//! The package's sha256 is printed, so a run says exactly which binary it tested.

use std::path::PathBuf;
use std::process::Command;

use crate::env::out_dir;

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The path of Debian's static arm64 busybox, downloading it the first time.
pub fn fetch_busybox() -> Result<PathBuf, String> {
    let dir = out_dir().join("busybox");
    let binary = dir.join("bin/busybox");
    if binary.exists() {
        return Ok(binary);
    }
    let how = "needs Debian's busybox-static:arm64. As root on Debian:\n  \
               dpkg --add-architecture arm64 && apt-get update && apt-get download busybox-static:arm64";
    let foreign = run(Command::new("dpkg").arg("--print-foreign-architectures"))
        .map_err(|e| format!("{e}\n{how}"))?;
    if !foreign.split_whitespace().any(|a| a == "arm64") {
        eprintln!("xtask: dpkg --add-architecture arm64");
        run(Command::new("dpkg").args(["--add-architecture", "arm64"]))
            .map_err(|e| format!("{e}\n{how}"))?;
        run(Command::new("apt-get").args(["update", "-q"])).map_err(|e| format!("{e}\n{how}"))?;
    }
    let debs = out_dir().join("debs");
    std::fs::create_dir_all(&debs).map_err(|e| e.to_string())?;
    eprintln!("xtask: apt-get download busybox-static:arm64");
    if run(Command::new("apt-get")
        .current_dir(&debs)
        .args(["download", "busybox-static:arm64"]))
    .is_err()
    {
        run(Command::new("apt-get").args(["update", "-q"])).map_err(|e| format!("{e}\n{how}"))?;
        run(Command::new("apt-get")
            .current_dir(&debs)
            .args(["download", "busybox-static:arm64"]))
        .map_err(|e| format!("{e}\n{how}"))?;
    }
    let deb = std::fs::read_dir(&debs)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("busybox-static_"))
        })
        .ok_or_else(|| format!("the download left no busybox-static .deb\n{how}"))?;
    let sum = run(Command::new("sha256sum").arg(&deb)).unwrap_or_default();
    eprintln!("xtask: {}", sum.trim());
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&dir))?;
    if binary.exists() {
        Ok(binary)
    } else {
        Err(format!("{} has no bin/busybox", deb.display()))
    }
}
