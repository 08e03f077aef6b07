//! Debian's `busybox-static` for arm64: the yardstick user space, fetched once and cached.
//!
//! `apt-get download busybox-static:arm64` (after `dpkg --add-architecture arm64` and an
//! update, as root on Debian), unpacked with `dpkg-deb -x` under `target/cradle/busybox/`.
//! The package's sha256 is printed, so a run says exactly which binary it tested.

use std::path::PathBuf;

use crate::debian::{download, ensure_arm64_arch, unpack};
use crate::env::out_dir;

/// The path of Debian's static arm64 busybox, downloading it the first time.
pub fn fetch_busybox() -> Result<PathBuf, String> {
    let dir = out_dir().join("busybox");
    let binary = dir.join("bin/busybox");
    if binary.exists() {
        return Ok(binary);
    }
    let how = "needs Debian's busybox-static:arm64. As root on Debian:\n  \
               dpkg --add-architecture arm64 && apt-get update && apt-get download busybox-static:arm64";
    ensure_arm64_arch().map_err(|e| format!("{e}\n{how}"))?;
    let deb =
        download("busybox-static:arm64", "busybox-static_").map_err(|e| format!("{e}\n{how}"))?;
    unpack(&deb, &dir)?;
    if binary.exists() {
        Ok(binary)
    } else {
        Err(format!("{} has no bin/busybox", deb.display()))
    }
}
