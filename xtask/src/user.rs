//! The user-space test programs: `user/*.c` and `user/*.rs` built as static arm64 Linux
//! programs.
//!
//! Each `user/<name>.c` becomes `target/cradle/user/<name>`, built with Debian's
//! `aarch64-linux-gnu-gcc -static -pthread -O2 -Wall -Werror` (static glibc). Each
//! `user/<name>.rs` (a single-file Rust program using only `std`) is built with `rustc
//! --target aarch64-unknown-linux-musl -C linker=rust-lld -O -D warnings` (static musl; the
//! target comes with `rust-toolchain.toml`). A program is rebuilt only when its source, or
//! (for C) a header in `user/`, is newer than the binary. The same directory gets `bad.elf`,
//! a malformed ELF that `execbad` hands to execve.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::env::{ensure_cross_cc, out_dir, project_root, CROSS_CC};

/// One built program.
#[derive(Debug, Clone)]
pub struct Program {
    /// The source's stem, e.g. `syscalls`.
    pub name: String,
    /// The static arm64 ELF.
    pub path: PathBuf,
}

/// What [`build_user`] produced.
#[derive(Debug, Clone)]
pub struct UserPrograms {
    /// Every `user/*.c` and `user/*.rs`, sorted by name.
    pub programs: Vec<Program>,
    /// The malformed ELF for `execbad`.
    pub bad_elf: PathBuf,
}

impl UserPrograms {
    /// The program built from `user/<name>.c`.
    pub fn get(&self, name: &str) -> Result<&Program, String> {
        self.programs
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("no user/{name}.c"))
    }
}

/// The directory of the sources.
pub fn source_dir() -> PathBuf {
    project_root().join("user")
}

/// The directory the programs are built into.
pub fn build_dir() -> PathBuf {
    out_dir().join("user")
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Files in `dir` whose names end with `suffix`, sorted.
fn files_ending(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    Ok(files)
}

/// Build every `user/*.c` (when out of date) and write `bad.elf`.
pub fn build_user() -> Result<UserPrograms, String> {
    ensure_cross_cc()?;
    let src = source_dir();
    let out = build_dir();
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    // A header change rebuilds everything (there are only a few small programs).
    let newest_header = files_ending(&src, ".h")?
        .iter()
        .filter_map(|h| modified(h))
        .max();
    let mut programs = Vec::new();
    for source in files_ending(&src, ".c")? {
        let name = source
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("{}: not a UTF-8 name", source.display()))?
            .to_string();
        let binary = out.join(&name);
        let inputs_newest = modified(&source).max(newest_header);
        let up_to_date = matches!(
            (modified(&binary), inputs_newest),
            (Some(built), Some(input)) if built >= input
        );
        if !up_to_date {
            compile(&source, &binary)?;
        }
        programs.push(Program { name, path: binary });
    }
    for source in files_ending(&src, ".rs")? {
        let name = source
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("{}: not a UTF-8 name", source.display()))?
            .to_string();
        let binary = out.join(&name);
        let up_to_date = matches!(
            (modified(&binary), modified(&source)),
            (Some(built), Some(input)) if built >= input
        );
        if !up_to_date {
            compile_rust(&source, &binary)?;
        }
        programs.push(Program { name, path: binary });
    }
    programs.sort_by(|a, b| a.name.cmp(&b.name));
    if programs.is_empty() {
        return Err(format!("no C programs in {}", src.display()));
    }
    let bad_elf = out.join("bad.elf");
    let bytes = bad_elf_bytes();
    if std::fs::read(&bad_elf).ok().as_deref() != Some(&bytes[..]) {
        std::fs::write(&bad_elf, &bytes).map_err(|e| format!("{}: {e}", bad_elf.display()))?;
    }
    // Executable, so that execve gets as far as the ELF loader (else it fails with EACCES).
    make_executable(&bad_elf)?;
    Ok(UserPrograms { programs, bad_elf })
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<(), String> {
    Ok(())
}

/// Compile one C program, static, warnings as errors; no stale binary is left on failure.
pub(crate) fn compile(source: &Path, binary: &Path) -> Result<(), String> {
    eprintln!("xtask: {CROSS_CC} {}", source.display());
    let stem = source.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let link = if STATIC_PIE.contains(&stem) {
        "-static-pie"
    } else {
        "-static"
    };
    let out = Command::new(CROSS_CC)
        .args([link, "-pthread", "-O2", "-Wall", "-Werror", "-o"])
        .arg(binary)
        .arg(source)
        .current_dir(source_dir())
        .output()
        .map_err(|e| format!("cannot run {CROSS_CC}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        // Never leave a stale binary that looks newer than the broken source.
        let _ = std::fs::remove_file(binary);
        Err(format!(
            "{CROSS_CC} failed on {}:\n{}{}",
            source.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Programs built as static-PIE (`ET_DYN` without an interpreter) rather than static
/// `ET_EXEC`: the ones that test where the kernel loads such a program.
const STATIC_PIE: [&str; 1] = ["aslrtest"];

/// Compile one single-file Rust program for `aarch64-unknown-linux-musl`, static, linked by
/// `rust-lld` (a plain build would call the host's `cc` and fail to find musl's `crt1.o`).
pub(crate) fn compile_rust(source: &Path, binary: &Path) -> Result<(), String> {
    eprintln!("xtask: rustc {}", source.display());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--target",
            "aarch64-unknown-linux-musl",
            "-C",
            "linker=rust-lld",
            "-C",
            "opt-level=2",
            "-C",
            "strip=debuginfo",
            "-D",
            "warnings",
            "-o",
        ])
        .arg(binary)
        .arg(source)
        .current_dir(project_root())
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let _ = std::fs::remove_file(binary);
        Err(format!(
            "rustc failed on {}:
{}{}",
            source.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// `cargo xtask user`: build the programs and the test initramfs; `cargo xtask user run
/// NAME [ARGS...]`: also run one program under qemu-aarch64 and show what it printed.
pub fn cmd_user(args: &[String]) -> Result<(), String> {
    let user = build_user()?;
    let initramfs = crate::initramfs::build_test_initramfs(&user)?;
    match args {
        [] => {
            for program in &user.programs {
                println!("{}", program.path.display());
            }
            println!("{}", user.bad_elf.display());
            println!("{}", initramfs.display());
            Ok(())
        }
        [run, name, rest @ ..] if run == "run" => {
            let program = user.get(name)?;
            let (output, status) = crate::difftest::run_on_linux_with_args(&program.path, rest)?;
            print!("{output}");
            println!("[exit status {status}]");
            Ok(())
        }
        _ => Err("usage: cargo xtask user [run NAME [ARGS...]]".into()),
    }
}

/// `e_phoff` of [`bad_elf_bytes`]: far past the end of the 64-byte file.
pub const BAD_ELF_PHOFF: u64 = 0x10000;

/// A malformed arm64 ELF: a well-formed 64-byte ELF header (static executable for AArch64,
/// one program header) whose program-header table starts past the end of the file. Linux's
/// `load_elf_binary` fails to read the program headers and returns -ENOEXEC.
pub fn bad_elf_bytes() -> Vec<u8> {
    const ET_EXEC: u16 = 2;
    const EM_AARCH64: u16 = 183;
    let mut h = Vec::with_capacity(64);
    h.extend_from_slice(b"\x7fELF");
    h.extend_from_slice(&[2, 1, 1, 0]); // ELFCLASS64, little-endian, EV_CURRENT, System V ABI
    h.extend_from_slice(&[0; 8]); // e_ident padding
    h.extend_from_slice(&ET_EXEC.to_le_bytes()); // e_type
    h.extend_from_slice(&EM_AARCH64.to_le_bytes()); // e_machine
    h.extend_from_slice(&1u32.to_le_bytes()); // e_version
    h.extend_from_slice(&0x40_0000u64.to_le_bytes()); // e_entry
    h.extend_from_slice(&BAD_ELF_PHOFF.to_le_bytes()); // e_phoff: past the end
    h.extend_from_slice(&0u64.to_le_bytes()); // e_shoff: no sections
    h.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    h.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    h.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    h.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    h.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    h.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    h.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::read::elf::{ElfFile64, FileHeader};
    use object::Endianness;

    #[test]
    fn bad_elf_has_a_valid_header_and_phdrs_past_the_end() {
        let bytes = bad_elf_bytes();
        assert_eq!(bytes.len(), 64);
        let header = object::elf::FileHeader64::<Endianness>::parse(&bytes[..])
            .expect("the ELF header itself is well-formed");
        let endian = header.endian().expect("little-endian");
        assert_eq!(header.e_machine(endian), object::elf::EM_AARCH64);
        assert_eq!(header.e_type(endian), object::elf::ET_EXEC);
        assert_eq!(header.e_phoff(endian), BAD_ELF_PHOFF);
        assert!(header.e_phoff(endian) > bytes.len() as u64);
        // A full parse must fail: the program headers are not in the file.
        assert!(ElfFile64::<Endianness>::parse(&bytes[..]).is_err());
    }
}
