//! Architecture code. Cradle has one architecture, AArch64, kept under `arm64/` as Linux does.

pub mod arm64;
