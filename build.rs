//! Build script: link the kernel with `linker/vmlinux.lds` (only for the bare-metal target),
//! and build the vDSO it embeds.
//!
//! The vDSO (`src/arch/arm64/kernel/vdso/`) is a small ELF shared object: `vgettimeofday.rs` is
//! compiled on its own with this build's `rustc` (position-independent, for
//! `aarch64-unknown-none-softfloat`, no `core` calls) and linked with the toolchain's
//! `rust-lld` and `vdso.lds` into `$OUT_DIR/vdso.so`. It must have no dynamic relocations:
//! the kernel maps it as it is. The offsets of the symbols the kernel itself needs
//! (`__kernel_rt_sigreturn`) go to `$OUT_DIR/vdso_offsets.rs` (Linux's `vdso-offsets.h`).
//! Host builds get an empty `vdso.so`.

fn main() {
    println!("cargo:rerun-if-changed=linker/vmlinux.lds");
    println!("cargo:rerun-if-changed=asm/head.S");
    println!("cargo:rerun-if-changed=asm/entry.S");
    println!("cargo:rerun-if-changed=asm/uaccess.S");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_else(|| "rustc, version unknown".into());
    println!("cargo:rustc-env=CRADLE_RUSTC_VERSION={}", version.trim());
    // The built-in initramfs (Linux's CONFIG_INITRAMFS_SOURCE): the archive named by
    // CRADLE_INITRAMFS (cargo xtask sets it), or an empty one.
    println!("cargo:rerun-if-env-changed=CRADLE_INITRAMFS");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let builtin = out.join("initramfs.cpio");
    match std::env::var("CRADLE_INITRAMFS") {
        Ok(path) if !path.is_empty() => {
            println!("cargo:rerun-if-changed={path}");
            std::fs::copy(&path, &builtin).expect("CRADLE_INITRAMFS names a readable file");
        }
        _ => std::fs::write(&builtin, b"").expect("OUT_DIR is writable"),
    }
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    build_vdso(&out, os == "none");
    if os == "none" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo:rustc-link-arg-bins=-T{dir}/linker/vmlinux.lds");
        println!("cargo:rustc-link-arg-bins=--no-pie");
    }
}

/// Build `vdso.so` and `vdso_offsets.rs` in `out` (empty ones unless `kernel`).
fn build_vdso(out: &std::path::Path, kernel: bool) {
    let so = out.join("vdso.so");
    let offsets = out.join("vdso_offsets.rs");
    for f in [
        "src/arch/arm64/kernel/vdso/vgettimeofday.rs",
        "src/arch/arm64/kernel/vdso/vdso_data.rs",
        "src/arch/arm64/kernel/vdso/vdso.lds",
    ] {
        println!("cargo:rerun-if-changed={f}");
    }
    if !kernel {
        std::fs::write(&so, b"").expect("OUT_DIR is writable");
        std::fs::write(&offsets, "pub const VDSO_RT_SIGRETURN: u64 = 0;\n")
            .expect("OUT_DIR is writable");
        return;
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let obj = out.join("vdso.o");
    let status = std::process::Command::new(&rustc)
        .args([
            "--edition",
            "2021",
            "--target",
            "aarch64-unknown-none-softfloat",
            "--crate-type",
            "lib",
            "--crate-name",
            "vdso",
            "--emit",
            "obj",
            "-C",
            "opt-level=2",
            "-C",
            "panic=abort",
            "-C",
            "relocation-model=pic",
            "-C",
            "codegen-units=1",
            "-C",
            "debuginfo=0",
        ])
        .arg(format!("{dir}/src/arch/arm64/kernel/vdso/vgettimeofday.rs"))
        .arg("-o")
        .arg(&obj)
        .status()
        .expect("rustc runs");
    assert!(status.success(), "the vDSO did not compile");
    let sysroot = std::process::Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .expect("rustc --print sysroot");
    let host = std::env::var("HOST").expect("cargo sets HOST");
    let lld = std::path::Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(host)
        .join("bin/rust-lld");
    let status = std::process::Command::new(&lld)
        .args(["-flavor", "gnu", "-shared", "-soname=linux-vdso.so.1"])
        .args(["--hash-style=both", "-Bsymbolic", "--eh-frame-hdr", "-n"])
        .arg(format!("-T{dir}/src/arch/arm64/kernel/vdso/vdso.lds"))
        .arg(&obj)
        .arg("-o")
        .arg(&so)
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}", lld.display()));
    assert!(status.success(), "the vDSO did not link");
    let bytes = std::fs::read(&so).expect("vdso.so was written");
    let elf = Elf(&bytes);
    assert!(
        !elf.has_relocations(),
        "vdso.so has dynamic relocations: the kernel maps it unrelocated"
    );
    let sigreturn = elf
        .dynamic_symbol("__kernel_rt_sigreturn")
        .expect("vdso.so exports __kernel_rt_sigreturn");
    std::fs::write(
        &offsets,
        format!("pub const VDSO_RT_SIGRETURN: u64 = {sigreturn:#x};\n"),
    )
    .expect("OUT_DIR is writable");
}

/// Just enough of an ELF64 reader for the vDSO's checks.
struct Elf<'a>(&'a [u8]);

impl Elf<'_> {
    fn u16(&self, at: usize) -> usize {
        u16::from_le_bytes([self.0[at], self.0[at + 1]]) as usize
    }
    fn u32(&self, at: usize) -> usize {
        u32::from_le_bytes(self.0[at..at + 4].try_into().expect("4 bytes")) as usize
    }
    fn u64(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.0[at..at + 8].try_into().expect("8 bytes"))
    }
    /// (type, offset, size, link) of every section.
    fn sections(&self) -> Vec<(usize, usize, usize, usize)> {
        let shoff = self.u64(0x28) as usize;
        let shentsize = self.u16(0x3a);
        let shnum = self.u16(0x3c);
        (0..shnum)
            .map(|i| {
                let sh = shoff + i * shentsize;
                (
                    self.u32(sh + 4),
                    self.u64(sh + 0x18) as usize,
                    self.u64(sh + 0x20) as usize,
                    self.u32(sh + 0x28),
                )
            })
            .collect()
    }
    /// Any SHT_RELA (4) or SHT_REL (9) section with entries?
    fn has_relocations(&self) -> bool {
        self.sections()
            .iter()
            .any(|&(kind, _, size, _)| (kind == 4 || kind == 9) && size > 0)
    }
    /// The value of a symbol in SHT_DYNSYM (11).
    fn dynamic_symbol(&self, name: &str) -> Option<u64> {
        let sections = self.sections();
        let &(_, off, size, link) = sections.iter().find(|s| s.0 == 11)?;
        let (_, stroff, _, _) = sections[link];
        (0..size / 24).find_map(|i| {
            let sym = off + i * 24;
            let name_at = stroff + self.u32(sym);
            let end = self.0[name_at..].iter().position(|&b| b == 0)? + name_at;
            (&self.0[name_at..end] == name.as_bytes()).then(|| self.u64(sym + 8))
        })
    }
}
