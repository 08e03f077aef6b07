//! In-kernel unit tests reporting KTAP, as Linux's KUnit does (Linux: `lib/kunit/`).
//!
//! A suite is registered with [`kunit_test_suite!`], which places a pointer to it in the
//! `.kunit_test_suites` linker section; nothing has to list the suites by hand. Booted with
//! `kunit.enable=1`, the kernel runs every suite (or those matching `kunit.filter_glob=`)
//! and prints KTAP version 1, which `cargo xtask test` parses. With `kunit_shutdown=poweroff`
//! it powers off afterwards, as Linux's `kunit_shutdown` does.
//!
//! A test case is a `fn(&mut Test)`. `kunit_expect!` records a failure and carries on;
//! `kunit_assert!` records it and returns from the case.

use crate::kernel::params;

/// One test case.
pub struct KunitCase {
    /// Its name in the KTAP output.
    pub name: &'static str,
    /// The test.
    pub run: fn(&mut Test),
}

/// A named group of cases.
pub struct KunitSuite {
    /// Its name in the KTAP output.
    pub name: &'static str,
    /// The cases, run in order.
    pub cases: &'static [KunitCase],
}

/// The state of the running case.
pub struct Test {
    /// The case's name.
    pub name: &'static str,
    /// Set by a failed expectation.
    pub failed: bool,
    /// Set by `kunit_skip!`, with the reason.
    pub skipped: Option<&'static str>,
}

impl Test {
    /// Record a failed expectation: KUnit's "EXPECTATION FAILED at file:line" diagnostic.
    pub fn fail(&mut self, file: &str, line: u32, what: core::fmt::Arguments<'_>) {
        self.failed = true;
        log::info!(
            "        # {}: EXPECTATION FAILED at {file}:{line}",
            self.name
        );
        log::info!("        {what}");
    }
}

/// Register a KUnit suite: `kunit_test_suite!(memblock, [add_remove, overlap]);`.
#[macro_export]
macro_rules! kunit_test_suite {
    ($suite:ident, [$($case:ident),* $(,)?]) => {
        #[used]
        #[link_section = ".kunit_test_suites"]
        static KUNIT_SUITE: &$crate::kunit::KunitSuite = &$crate::kunit::KunitSuite {
            name: stringify!($suite),
            cases: &[$($crate::kunit::KunitCase { name: stringify!($case), run: $case }),*],
        };
    };
}

/// Check a condition; on failure record it and carry on.
#[macro_export]
macro_rules! kunit_expect {
    ($test:expr, $cond:expr) => {
        if !$cond {
            $test.fail(file!(), line!(), format_args!("Expected {} to be true", stringify!($cond)));
        }
    };
    ($test:expr, $cond:expr, $($arg:tt)+) => {
        if !$cond {
            $test.fail(file!(), line!(), format_args!($($arg)+));
        }
    };
}

/// Check a condition; on failure record it and return from the test case.
#[macro_export]
macro_rules! kunit_assert {
    ($test:expr, $cond:expr $(, $($arg:tt)+)?) => {
        if !$cond {
            $crate::kunit_expect!($test, $cond $(, $($arg)+)?);
            return;
        }
    };
}

/// Mark the test skipped (it could not run here) and return from it.
#[macro_export]
macro_rules! kunit_skip {
    ($test:expr, $reason:expr) => {{
        $test.skipped = Some($reason);
        return;
    }};
}

extern "C" {
    /// Start of `.kunit_test_suites` (linker script): an array of `&'static KunitSuite`.
    static __kunit_suites_start: u8;
    /// End of `.kunit_test_suites`.
    static __kunit_suites_end: u8;
}

fn suites() -> &'static [&'static KunitSuite] {
    // SAFETY: the linker script puts exactly the `KUNIT_SUITE` pointers every
    // `kunit_test_suite!` emits between these two symbols; the section is read-only data.
    unsafe {
        let start = (&raw const __kunit_suites_start).cast::<&'static KunitSuite>();
        let end = &raw const __kunit_suites_end;
        let len = (end as usize - start as usize) / core::mem::size_of::<&KunitSuite>();
        core::slice::from_raw_parts(start, len)
    }
}

/// Linux's `kunit.filter_glob`, simplified: a comma-separated list of patterns, each an
/// exact name or a prefix ending in `*`; suites run in the order the patterns name them.
fn glob_match(globs: &str, name: &str) -> bool {
    globs.split(',').any(|glob| match glob.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => glob == name,
    })
}

/// Run every registered suite if `kunit.enable=1` is on the command line, print KTAP, and
/// power off if `kunit_shutdown=poweroff`.
pub fn kunit_run_all_tests(cmdline: &str) {
    if params::get(cmdline, "kunit.enable") != Some(Some("1")) {
        return;
    }
    let filter = params::get(cmdline, "kunit.filter_glob")
        .flatten()
        .unwrap_or("*");
    // Suites in the order the patterns name them (link order within one pattern), each once.
    let selected = || {
        filter.split(',').enumerate().flat_map(move |(i, glob)| {
            suites().iter().filter(move |s| {
                glob_match(glob, s.name)
                    && !filter.split(',').take(i).any(|g| glob_match(g, s.name))
            })
        })
    };
    log::info!("KTAP version 1");
    log::info!("1..{}", selected().count());
    for (i, suite) in selected().enumerate() {
        run_suite(i + 1, suite);
    }
    match params::get(cmdline, "kunit_shutdown").flatten() {
        Some("poweroff") | Some("halt") => crate::arch::cpu::machine_power_off(),
        Some("reboot") => crate::arch::cpu::machine_restart(),
        _ => {}
    }
}

fn run_suite(number: usize, suite: &KunitSuite) {
    log::info!("    KTAP version 1");
    log::info!("    # Subtest: {}", suite.name);
    log::info!("    1..{}", suite.cases.len());
    let mut suite_ok = true;
    for (i, case) in suite.cases.iter().enumerate() {
        let mut test = Test {
            name: case.name,
            failed: false,
            skipped: None,
        };
        let preempt_before = crate::kernel::sched::core::preempt_count();
        let irqs_before = crate::arch::irqflags::irqs_disabled();
        (case.run)(&mut test);
        // A case must leave the CPU as it found it; say so (and repair it) if it did not.
        let preempt_after = crate::kernel::sched::core::preempt_count();
        if preempt_after != preempt_before {
            let why = format_args!("preempt_count leaked: {preempt_before} -> {preempt_after}");
            test.fail(file!(), line!(), why);
            crate::kernel::task::current()
                .preempt_count
                .store(preempt_before, core::sync::atomic::Ordering::Relaxed);
        }
        if crate::arch::irqflags::irqs_disabled() != irqs_before {
            test.fail(file!(), line!(), format_args!("the interrupt mask changed"));
            if irqs_before {
                crate::arch::irqflags::local_irq_disable();
            } else {
                crate::arch::irqflags::local_irq_enable();
            }
        }
        match (test.failed, test.skipped) {
            (true, _) => {
                suite_ok = false;
                log::info!("    not ok {} {}", i + 1, case.name);
            }
            (false, Some(reason)) => log::info!("    ok {} {} # SKIP {reason}", i + 1, case.name),
            (false, None) => log::info!("    ok {} {}", i + 1, case.name),
        }
    }
    let verdict = if suite_ok { "ok" } else { "not ok" };
    log::info!("{verdict} {number} {}", suite.name);
}
