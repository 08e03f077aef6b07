//! The version banner (Linux: `init/version.c`, `linux_banner`).

/// Cradle's version, from Cargo.toml.
pub const CRADLE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The compiler that built this kernel (`rustc --version`, recorded by build.rs).
pub const RUSTC_VERSION: &str = env!("CRADLE_RUSTC_VERSION");
