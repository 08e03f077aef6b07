//! Networking (Linux's `net/`): the socket layer and its one address family, AF_UNIX.
//!
//! - `socket`: the socket system calls (Linux's `net/socket.c`), the socket-level options
//!   (`net/core/sock.c`) and control messages (`net/core/scm.c`);
//! - `unix`: UNIX-domain sockets (`net/unix/`).
//!
//! There is no network stack: every family but AF_UNIX is EAFNOSUPPORT.

pub mod socket;
pub mod unix;
