//! Build script: link the kernel with `linker/vmlinux.lds` (only for the bare-metal target).

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
    if os == "none" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo:rustc-link-arg-bins=-T{dir}/linker/vmlinux.lds");
        println!("cargo:rustc-link-arg-bins=--no-pie");
    }
}
