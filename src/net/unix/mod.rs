//! UNIX-domain sockets (Linux's `net/unix/`): the sockets themselves (`af_unix`) and the
//! accounting and collection of descriptors in flight (`garbage`).

pub mod af_unix;
pub mod garbage;
