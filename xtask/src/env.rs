//! What the machine needs, and installing it when possible.
//!
//! - the Rust target [`KERNEL_TARGET`] and the `llvm-tools` component (rustup);
//! - `qemu-system-aarch64` 9.0 or newer (Debian bookworm has 7.2; bookworm-backports has
//!   10.0, which also has `raspi4b`);
//! - for the user-space test programs: Debian's `aarch64-linux-gnu-gcc` with static glibc,
//!   and `qemu-aarch64` (QEMU's Linux user mode) to run them on Linux.
//!
//! As root on Debian, missing pieces are installed; otherwise the exact commands are printed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The kernel's target: bare-metal AArch64 with no FP/SIMD in kernel code (Linux builds
/// with `-mgeneral-regs-only` for the same reason: user space owns the vector registers,
/// so the kernel only saves and restores them on a context switch).
pub const KERNEL_TARGET: &str = "aarch64-unknown-none-softfloat";

/// The repository's root (xtask lives in `<root>/xtask`).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the project")
        .to_path_buf()
}

/// Where xtask writes what it builds.
pub fn out_dir() -> PathBuf {
    project_root().join("target").join("cradle")
}

fn run_ok(cmd: &mut Command) -> bool {
    cmd.status().map(|s| s.success()).unwrap_or(false)
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u"))
        .map(|s| s.trim() == "0")
        .unwrap_or(false)
}

fn is_debian() -> bool {
    Path::new("/etc/debian_version").exists()
}

/// The rustc of the pinned toolchain (rust-toolchain.toml) in the project root.
fn rustc_sysroot() -> Result<PathBuf, String> {
    let out = output(
        Command::new("rustc")
            .arg("--print")
            .arg("sysroot")
            .current_dir(project_root()),
    )
    .ok_or("cannot run rustc: install Rust with rustup (https://rustup.rs)")?;
    Ok(PathBuf::from(out.trim()))
}

/// Make sure [`KERNEL_TARGET`] and `llvm-tools` are installed.
pub fn ensure_rust() -> Result<(), String> {
    let sysroot = rustc_sysroot()?;
    let target_dir = sysroot.join("lib/rustlib").join(KERNEL_TARGET);
    if !target_dir.exists() {
        eprintln!("xtask: installing the Rust target {KERNEL_TARGET}");
        if !run_ok(
            Command::new("rustup")
                .args(["target", "add", KERNEL_TARGET])
                .current_dir(project_root()),
        ) {
            return Err(format!(
                "missing Rust target; run: rustup target add {KERNEL_TARGET}"
            ));
        }
    }
    if llvm_tool("llvm-objcopy").is_err() {
        eprintln!("xtask: installing the Rust component llvm-tools");
        if !run_ok(
            Command::new("rustup")
                .args(["component", "add", "llvm-tools"])
                .current_dir(project_root()),
        ) {
            return Err("missing llvm-tools; run: rustup component add llvm-tools".into());
        }
    }
    Ok(())
}

/// Path of an LLVM tool shipped in the `llvm-tools` component.
pub fn llvm_tool(name: &str) -> Result<PathBuf, String> {
    let sysroot = rustc_sysroot()?;
    let rustlib = sysroot.join("lib/rustlib");
    let entries = std::fs::read_dir(&rustlib).map_err(|e| format!("{}: {e}", rustlib.display()))?;
    for entry in entries.flatten() {
        let candidate = entry.path().join("bin").join(name);
        if candidate.exists() {
            return Ok(candidate);
        }
    }
    Err(format!(
        "{name} not found; run: rustup component add llvm-tools"
    ))
}

/// QEMU's version as (major, minor), if `qemu-system-aarch64` runs.
fn qemu_version() -> Option<(u32, u32)> {
    let out = output(Command::new("qemu-system-aarch64").arg("--version"))?;
    let version = out
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)?;
    let mut parts = version.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

const BACKPORTS_SOURCES: &str = "/etc/apt/sources.list.d/cradle-bookworm-backports.sources";

/// The apt sources entry for bookworm-backports (with non-free-firmware for the Pi firmware).
fn backports_entry() -> &'static str {
    "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\n\
     Components: main non-free-firmware\n\
     Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
}

fn backports_configured() -> bool {
    let mut found = false;
    for dir in ["/etc/apt/sources.list.d", "/etc/apt"] {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if let Ok(text) = std::fs::read_to_string(e.path()) {
                    found |= text.contains("bookworm-backports");
                }
            }
        }
    }
    found
}

/// Install Debian packages (as root), updating the package lists once.
pub fn apt_install(args: &[&str]) -> Result<(), String> {
    if !is_root() || !is_debian() {
        return Err(format!("run as root: apt-get install {}", args.join(" ")));
    }
    eprintln!("xtask: apt-get install {}", args.join(" "));
    let ok = run_ok(Command::new("apt-get").arg("update").arg("-q"))
        && run_ok(
            Command::new("apt-get")
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        );
    if ok {
        Ok(())
    } else {
        Err(format!("apt-get install {} failed", args.join(" ")))
    }
}

/// Make sure QEMU 9.0 or newer is installed.
pub fn ensure_qemu() -> Result<(), String> {
    if matches!(qemu_version(), Some(v) if v >= (9, 0)) {
        return Ok(());
    }
    let how = format!(
        "QEMU 9.0 or newer is needed (qemu-system-aarch64; Debian bookworm has 7.2).\n\
         As root on Debian bookworm:\n  printf '{}' > {BACKPORTS_SOURCES}\n  \
         apt-get update && apt-get install -y -t bookworm-backports qemu-system-arm",
        backports_entry().replace('\n', "\\n")
    );
    if !is_root() || !is_debian() {
        return Err(how);
    }
    if !backports_configured() {
        eprintln!("xtask: adding Debian bookworm-backports to the apt sources");
        std::fs::write(BACKPORTS_SOURCES, backports_entry()).map_err(|e| format!("{e}\n{how}"))?;
    }
    apt_install(&["-t", "bookworm-backports", "qemu-system-arm"])
        .map_err(|e| format!("{e}\n{how}"))?;
    match qemu_version() {
        Some(v) if v >= (9, 0) => Ok(()),
        _ => Err(how),
    }
}

/// The C cross compiler for the user-space test programs (`user/*.c`).
pub const CROSS_CC: &str = "aarch64-linux-gnu-gcc";

/// True if [`CROSS_CC`] runs and finds a static C library (`libc.a`) to link with.
fn cross_cc_works() -> bool {
    // gcc prints the bare name when it cannot find the file.
    output(Command::new(CROSS_CC).arg("-print-file-name=libc.a"))
        .map(|path| Path::new(path.trim()).is_absolute())
        .unwrap_or(false)
}

/// Make sure Debian's arm64 cross compiler and static glibc are installed.
pub fn ensure_cross_cc() -> Result<(), String> {
    if cross_cc_works() {
        return Ok(());
    }
    let packages = ["gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross"];
    let how = format!(
        "{CROSS_CC} with a static glibc is needed to build user/*.c.\n\
         As root on Debian: apt-get update && apt-get install -y {}",
        packages.join(" ")
    );
    if !is_root() || !is_debian() {
        return Err(how);
    }
    apt_install(&packages).map_err(|e| format!("{e}\n{how}"))?;
    if cross_cc_works() {
        Ok(())
    } else {
        Err(how)
    }
}

/// Make sure `qemu-aarch64` (QEMU's Linux user mode) is installed, from bookworm-backports
/// when that is configured (the same QEMU version as `qemu-system-aarch64`).
pub fn ensure_qemu_user() -> Result<(), String> {
    let works = || output(Command::new("qemu-aarch64").arg("--version")).is_some();
    if works() {
        return Ok(());
    }
    let backports = backports_configured();
    let args: &[&str] = if backports {
        &["-t", "bookworm-backports", "qemu-user"]
    } else {
        &["qemu-user"]
    };
    let how = format!(
        "qemu-aarch64 (QEMU's Linux user mode) is needed to run user/*.c on Linux.\n\
         As root on Debian: apt-get update && apt-get install -y {}",
        args.join(" ")
    );
    if !is_root() || !is_debian() {
        return Err(how);
    }
    apt_install(args).map_err(|e| format!("{e}\n{how}"))?;
    if works() {
        Ok(())
    } else {
        Err(how)
    }
}
