//! The user's FP/SIMD registers across context switches (Linux: `arch/arm64/kernel/fpsimd.c`).
//!
//! The kernel is built soft-float and never touches v0-v31, FPSR or FPCR, so a user task's
//! vector state stays in the registers while it is in the kernel. It only has to move when
//! the CPU switches to another task: `fpsimd_thread_switch` saves the outgoing task's
//! registers and loads the incoming one's — eagerly, every switch between tasks that have
//! user space, which is simple and makes it impossible for a task to see another task's
//! registers. (Linux defers the load until return to user space; a benchmark may say so.)

/// Saved FP/SIMD state (Linux: `struct user_fpsimd_state`): v0-v31, FPSR, FPCR.
#[repr(C, align(16))]
#[derive(Clone, Copy)]
pub struct FpsimdState {
    /// The 32 128-bit vector registers.
    pub vregs: [u128; 32],
    /// Floating-point status register.
    pub fpsr: u32,
    /// Floating-point control register.
    pub fpcr: u32,
    _pad: [u32; 2],
}

impl FpsimdState {
    /// All zero: what a new program starts with.
    pub const ZERO: Self = Self {
        vregs: [0; 32],
        fpsr: 0,
        fpcr: 0,
        _pad: [0; 2],
    };
}

impl Default for FpsimdState {
    fn default() -> Self {
        Self::ZERO
    }
}

extern "C" {
    /// asm/entry.S: store v0-v31, FPSR, FPCR at `state`.
    fn fpsimd_save_state(state: *mut FpsimdState);
    /// asm/entry.S: load v0-v31, FPSR, FPCR from `state`.
    fn fpsimd_load_state(state: *const FpsimdState);
}

/// Save the CPU's vector registers into `state`.
///
/// # Safety
///
/// `state` must be the FP/SIMD save area of the task whose registers the CPU holds, and
/// nothing else may access it during the call.
pub unsafe fn fpsimd_save(state: *mut FpsimdState) {
    // SAFETY: the caller guarantees `state` is writable and exclusively ours.
    unsafe { fpsimd_save_state(state) };
}

/// Load the CPU's vector registers from `state`.
///
/// # Safety
///
/// `state` must be the FP/SIMD save area of the task about to run on this CPU.
pub unsafe fn fpsimd_load(state: *const FpsimdState) {
    // SAFETY: the caller guarantees `state` is readable and not being written.
    unsafe { fpsimd_load_state(state) };
}
