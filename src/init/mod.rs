//! Kernel initialisation (Linux's `init/`): `start_kernel` and PID 0.

pub mod init_task;
pub mod initcall;
pub mod main;
pub mod version;
