//! The version banner (Linux: `init/version.c`, `linux_banner`).

/// Cradle's version, from Cargo.toml.
pub const CRADLE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The compiler that built this kernel (`rustc --version`, recorded by build.rs).
pub const RUSTC_VERSION: &str = env!("CRADLE_RUSTC_VERSION");

/// What `uname -r` reports: Cradle speaks the Linux ABI, and libcs check the release number
/// (glibc refuses kernels older than it was built for), so the release names the Linux
/// version whose interface Cradle follows, with Cradle's own version appended.
pub const UTS_RELEASE: &str = concat!("6.1.0-cradle-", env!("CARGO_PKG_VERSION"));
