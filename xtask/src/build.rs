//! `cargo xtask build`: the kernel ELF (`vmlinux`) and the flat arm64 `Image`.
//!
//! 1. `cargo build --release` for `KERNEL_TARGET` (the linker script does the layout);
//! 2. copy the ELF to `target/cradle/vmlinux` and write its symbol table into the space the
//!    kernel reserved for it (`kallsyms.rs`);
//! 3. `llvm-objcopy -O binary` to `target/cradle/Image`, and check the Image header.

use std::path::PathBuf;
use std::process::Command;

use crate::env::{ensure_rust, llvm_tool, out_dir, project_root, KERNEL_TARGET};
use crate::image::ImageHeader;

/// What a build produced.
pub struct BuildOutput {
    /// The ELF, with symbols (for GDB).
    pub vmlinux: PathBuf,
    /// The flat Image that loaders boot.
    pub image: PathBuf,
}

/// Build the kernel and write `vmlinux` and `Image` under `target/cradle/`.
pub fn build_kernel() -> Result<BuildOutput, String> {
    ensure_rust()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(project_root())
        .args([
            "build",
            "--release",
            "--package",
            "cradle",
            "--target",
            KERNEL_TARGET,
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the kernel did not build".into());
    }
    let elf = project_root()
        .join("target")
        .join(KERNEL_TARGET)
        .join("release/cradle");
    let out = out_dir();
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let vmlinux = out.join("vmlinux");
    let mut bytes = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let count = crate::kallsyms::patch_kallsyms(&mut bytes)?;
    std::fs::write(&vmlinux, &bytes).map_err(|e| format!("{}: {e}", vmlinux.display()))?;

    let image = out.join("Image");
    let status = Command::new(llvm_tool("llvm-objcopy")?)
        .args(["-O", "binary"])
        .arg(&vmlinux)
        .arg(&image)
        .status()
        .map_err(|e| format!("cannot run llvm-objcopy: {e}"))?;
    if !status.success() {
        return Err("llvm-objcopy failed".into());
    }
    let image_bytes = std::fs::read(&image).map_err(|e| format!("{}: {e}", image.display()))?;
    let header = ImageHeader::parse(&image_bytes)?;
    header.check(image_bytes.len() as u64)?;
    eprintln!(
        "xtask: Image {} bytes (image_size {:#x}, text_offset {:#x}), {count} symbols",
        image_bytes.len(),
        header.image_size,
        header.text_offset
    );
    Ok(BuildOutput { vmlinux, image })
}
