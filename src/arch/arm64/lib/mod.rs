//! AArch64 library routines (Linux's `arch/arm64/lib/`): `string` (memcpy, memset).

pub mod string;
