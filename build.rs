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
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "none" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo:rustc-link-arg-bins=-T{dir}/linker/vmlinux.lds");
        println!("cargo:rustc-link-arg-bins=--no-pie");
    }
}
