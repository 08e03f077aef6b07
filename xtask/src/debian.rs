//! Fetching Debian arm64 packages once, as root on Debian: busybox-static, the kernel
//! (for the benchmark and the Pi device trees) and the Pi firmware all come this way.
//!
//! `dpkg --add-architecture arm64` (and an `apt-get update`) the first time, then
//! `apt-get download` into `target/cradle/debs/`, retried once after an update when the
//! package lists are stale. The .deb's sha256 is printed, so a run says exactly what it used.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env::out_dir;

/// Run `cmd`; its standard output, or an error with what it printed.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Make dpkg and apt know arm64 packages (once).
pub fn ensure_arm64_arch() -> Result<(), String> {
    let foreign = run(Command::new("dpkg").arg("--print-foreign-architectures"))?;
    if !foreign.split_whitespace().any(|a| a == "arm64") {
        eprintln!("xtask: dpkg --add-architecture arm64");
        run(Command::new("dpkg").args(["--add-architecture", "arm64"]))?;
        run(Command::new("apt-get").args(["update", "-q"]))?;
    }
    Ok(())
}

/// `apt-get download PACKAGE` into target/cradle/debs (once); the path of the .deb whose
/// file name starts with `prefix`.
pub fn download(package: &str, prefix: &str) -> Result<PathBuf, String> {
    let debs = out_dir().join("debs");
    std::fs::create_dir_all(&debs).map_err(|e| e.to_string())?;
    let find = || {
        std::fs::read_dir(&debs)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with(prefix) && n.ends_with(".deb")
                })
            })
    };
    if let Some(deb) = find() {
        return Ok(deb);
    }
    eprintln!("xtask: apt-get download {package}");
    if run(Command::new("apt-get")
        .current_dir(&debs)
        .args(["download", package]))
    .is_err()
    {
        run(Command::new("apt-get").args(["update", "-q"]))?;
        run(Command::new("apt-get")
            .current_dir(&debs)
            .args(["download", package]))?;
    }
    let deb = find().ok_or_else(|| format!("apt-get download {package} left no {prefix}*.deb"))?;
    if let Ok(sum) = run(Command::new("sha256sum").arg(&deb)) {
        eprintln!("xtask: {}", sum.trim());
    }
    Ok(deb)
}

/// Unpack `deb` into `dir` (`dpkg-deb -x`).
pub fn unpack(deb: &Path, dir: &Path) -> Result<(), String> {
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(dir)).map(|_| ())
}

/// The versioned kernel package the `linux-image-arm64` metapackage depends on
/// (`linux-image-6.1.0-NN-arm64`, without `:arm64`).
pub fn linux_image_package() -> Result<String, String> {
    let depends = run(Command::new("apt-cache").args(["depends", "linux-image-arm64:arm64"]))?;
    depends
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .map(|p| p.trim().trim_end_matches(":arm64").to_string())
        .find(|p| p.starts_with("linux-image-") && p.ends_with("-arm64"))
        .ok_or_else(|| "linux-image-arm64:arm64 names no kernel package".to_string())
}
