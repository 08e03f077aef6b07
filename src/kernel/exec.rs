//! Executing a program (Linux: `fs/exec.c`).
//!
//! `kernel_execve` turns the calling kernel thread into a user process running the program
//! at `path`. There is no filesystem yet, so every path is "No such file or directory" and
//! `kernel_init` ends in Linux's "No working init found" panic; the ELF loader and the VFS
//! replace this.

use crate::kernel::errno::Errno;

/// Execute `path` as the current task (Linux's `kernel_execve`).
pub fn kernel_execve(path: &str) -> Result<(), Errno> {
    let _ = path;
    Err(Errno::ENOENT)
}
