//! The block layer (Linux's `block/`). There are no block devices yet; what lives here is
//! what processes already ask of it: I/O priorities (`ioprio.rs`).

pub mod ioprio;
