//! The device tree (Linux's `drivers/of/`): checking a blob before trusting it, reading
//! properties, and translating bus addresses to CPU physical addresses through `ranges`.

pub mod address;
pub mod validate;
