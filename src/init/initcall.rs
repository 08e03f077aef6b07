//! Initcalls: init functions registered where they are written, run by level at boot
//! (Linux: `include/linux/init.h`, `do_initcalls` in `init/main.c`).
//!
//! `core_initcall!(f)`, `subsys_initcall!(f)`, `device_initcall!(f)`, ... put a pointer to
//! `f` in the linker section of its level (`.initcall1.init` … `.initcall7.init`, collected
//! in order by `linker/vmlinux.lds`); `kernel_init` runs them level by level. With the
//! `initcall_debug` bootarg each call is logged, as Linux does.

/// An init function: returns 0 or a negative errno.
pub type InitcallFn = fn() -> i32;

/// Put `$f` in the initcall section `$section` (Linux's `__define_initcall`).
#[macro_export]
macro_rules! __define_initcall {
    ($section:literal, $f:path) => {
        const _: () = {
            #[used]
            #[link_section = $section]
            static INITCALL: $crate::init::initcall::InitcallFn = $f;
        };
    };
}

/// Level 0: pure initialisation with no dependencies (Linux's `pure_initcall`).
#[macro_export]
macro_rules! pure_initcall {
    ($f:path) => {
        $crate::__define_initcall!(".initcall0.init", $f);
    };
}

/// Level 1: core kernel services (Linux's `core_initcall`).
#[macro_export]
macro_rules! core_initcall {
    ($f:path) => {
        $crate::__define_initcall!(".initcall1.init", $f);
    };
}

/// Level 2 (Linux's `postcore_initcall`).
#[macro_export]
macro_rules! postcore_initcall {
    ($f:path) => {
        $crate::__define_initcall!(".initcall2.init", $f);
    };
}

/// Level 3: architecture (Linux's `arch_initcall`).
#[macro_export]
macro_rules! arch_initcall {
    ($f:path) => {
        $crate::__define_initcall!(".initcall3.init", $f);
    };
}

/// Level 4: subsystems (Linux's `subsys_initcall`).
#[macro_export]
macro_rules! subsys_initcall {
    ($f:path) => {
        $crate::__define_initcall!(".initcall4.init", $f);
    };
}

/// Level 5: filesystems (Linux's `fs_initcall`).
#[macro_export]
macro_rules! fs_initcall {
    ($f:path) => {
        $crate::__define_initcall!(".initcall5.init", $f);
    };
}

/// Level 6: drivers (Linux's `device_initcall`).
#[macro_export]
macro_rules! device_initcall {
    ($f:path) => {
        $crate::__define_initcall!(".initcall6.init", $f);
    };
}

/// Level 7: last (Linux's `late_initcall`).
#[macro_export]
macro_rules! late_initcall {
    ($f:path) => {
        $crate::__define_initcall!(".initcall7.init", $f);
    };
}

/// Names of the levels, as Linux's `initcall_level_names`.
const LEVEL_NAMES: [&str; 8] = [
    "pure", "core", "postcore", "arch", "subsys", "fs", "device", "late",
];

extern "C" {
    static __initcall_start: u8;
    static __initcall1_start: u8;
    static __initcall2_start: u8;
    static __initcall3_start: u8;
    static __initcall4_start: u8;
    static __initcall5_start: u8;
    static __initcall6_start: u8;
    static __initcall7_start: u8;
    static __initcall_end: u8;
}

/// Run every initcall, level by level (Linux's `do_initcalls`).
pub fn do_initcalls(debug: bool) {
    let bounds = [
        &raw const __initcall_start,
        &raw const __initcall1_start,
        &raw const __initcall2_start,
        &raw const __initcall3_start,
        &raw const __initcall4_start,
        &raw const __initcall5_start,
        &raw const __initcall6_start,
        &raw const __initcall7_start,
        &raw const __initcall_end,
    ];
    for level in 0..8 {
        let (start, end) = (bounds[level] as usize, bounds[level + 1] as usize);
        let n = (end - start) / core::mem::size_of::<InitcallFn>();
        // SAFETY: the linker script puts exactly the `InitcallFn` pointers the initcall
        // macros emit for this level between these two symbols.
        let calls = unsafe { core::slice::from_raw_parts(start as *const InitcallFn, n) };
        if debug && n > 0 {
            log::info!("initcall level {} ({} calls)", LEVEL_NAMES[level], n);
        }
        for call in calls {
            let addr = *call as *const () as u64;
            if debug {
                log::info!(
                    "calling  {} @ {}",
                    crate::kernel::kallsyms::Ksym(addr),
                    crate::kernel::task::current().pid()
                );
            }
            let t0 = crate::kernel::time::ktime_get_ns();
            let ret = call();
            if debug || ret != 0 {
                log::info!(
                    "initcall {} returned {} after {} usecs",
                    crate::kernel::kallsyms::Ksym(addr),
                    ret,
                    (crate::kernel::time::ktime_get_ns() - t0) / 1000
                );
            }
        }
    }
}
