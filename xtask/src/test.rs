//! `cargo xtask test`: every test Cradle has, ending with `N passed, N failed`.
//!
//! The suites are a table ([`SUITES`]), run in its order by a plain loop:
//!
//! 1. lints: `cargo fmt --check`, clippy for the kernel and for the host crates;
//! 2. host unit tests (`cargo test`): each test counts;
//! 3. the user programs' differential tests under `qemu-aarch64` (`difftest.rs`);
//! 4. the kernel build (always, and counted) and its Image header;
//! 5. QEMU boot tests (`boottest.rs`): boot a configuration, read the serial transcript with
//!    a time limit, and check what it printed; on failure the transcript is shown (and kept
//!    under `target/cradle/test-logs/`);
//! 6. in-kernel KUnit tests: boot with `kunit.enable=1`, parse the KTAP; each case counts;
//! 7. the benchmark's smoke test, the fuzzer, the user-space, users-and-permissions
//!    (`creds`), README and Raspberry Pi suites.
//!
//! 8. the SMP pass ([`SMP_PARTS`]): KUnit, the login session, console input typed as
//!    fast as the UART takes it, busybox-diff, the user
//!    programs (forkbomb and the scheduler test `smpsched` among them) and the fuzzer,
//!    booted again with `-smp 4`, less the parts in [`SMP_QUARANTINED`] (none now); their
//!    tests are named `smp4: <test>`.
//!
//! `--only NAME` runs the suites one of whose names contains NAME (the boot tests: each test
//! whose name contains it; `--only smp4` the SMP pass). A quarantined suite is skipped, with
//! its reason, unless `--only` names it exactly. `--smp N` boots Cradle with N CPUs in every
//! suite (on `virt`; the Pis keep their 4; Linux's reference runs keep theirs) instead of
//! running the SMP pass. The tally and the boot/transcript machinery are in `harness.rs`.

use std::path::{Path, PathBuf};

use crate::build::build_kernel;
use crate::env::{ensure_qemu, ensure_rust, KERNEL_TARGET};
use crate::harness::{cargo, run_boot_test, run_command, Summary};
use crate::image::ImageHeader;

/// What a suite needs before it can run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// Nothing but the host's tools.
    Host,
    /// The kernel Image.
    Kernel,
    /// The Image, the user programs and the test initramfs.
    UserPrograms,
}

/// Which tests `--only` selects.
#[derive(Clone, Copy)]
enum Select {
    /// The suite, if one of these names contains the `--only` text.
    Names(&'static [&'static str]),
    /// Each of the suite's tests by its own name (the suite filters them itself).
    EachTest,
}

/// What suites get to run with.
struct Context<'a> {
    /// The `--only` text, if any.
    only: Option<&'a str>,
    image: &'a Path,
    /// The user programs' test initramfs (only for `Needs::UserPrograms`).
    initrd: &'a Path,
    user: Option<&'a crate::user::UserPrograms>,
    /// `--smp N`: every boot of Cradle on virt has N CPUs, and there is no SMP pass.
    smp: Option<u32>,
}

impl Context<'_> {
    fn selected(&self, name: &str) -> bool {
        self.only.is_none_or(|o| name.contains(o))
    }
}

/// One entry of the suite table.
struct Suite {
    /// What `--only` matches.
    select: Select,
    /// What it needs.
    needs: Needs,
    /// Why it does not run by default, if it is quarantined: `(test name, reason)`. It then
    /// runs only when `--only` names it exactly.
    quarantined: Option<(&'static str, &'static str)>,
    /// Run it, recording every verdict.
    run: fn(&mut Summary, &Context<'_>),
}

/// Every suite, in the order they run.
const SUITES: &[Suite] = &[
    Suite {
        select: Select::Names(&["lint"]),
        needs: Needs::Host,
        quarantined: None,
        run: |s, _| lints(s),
    },
    Suite {
        select: Select::Names(&["host"]),
        needs: Needs::Host,
        quarantined: None,
        run: |s, _| host_tests(s),
    },
    Suite {
        select: Select::Names(&["user"]),
        needs: Needs::Host,
        quarantined: None,
        run: |s, _| crate::difftest::user_tests(s),
    },
    Suite {
        select: Select::Names(&["image"]),
        needs: Needs::Kernel,
        quarantined: None,
        run: |s, c| s.record("image: arm64 Image header", check_image(c.image)),
    },
    Suite {
        select: Select::EachTest,
        needs: Needs::Kernel,
        quarantined: None,
        run: |s, c| {
            for test in crate::boottest::boot_tests() {
                if c.selected(test.name) {
                    let result = run_boot_test(&test, c.image);
                    s.record(test.name, result);
                }
            }
        },
    },
    // The SMP boot matrix (boottest::SMP_MATRIX): each configuration to `cradle login:`.
    Suite {
        select: Select::EachTest,
        needs: Needs::Kernel,
        quarantined: None,
        run: |s, c| {
            for boot in crate::boottest::SMP_MATRIX {
                let name = boot.name();
                if c.selected(&name) {
                    s.record(&name, crate::boottest::smp_boot_test(boot, c.image));
                }
            }
        },
    },
    // All sixteen virt configurations, when asked for by name.
    Suite {
        select: Select::Names(&["smp-matrix-full"]),
        needs: Needs::Kernel,
        quarantined: Some((
            "smp-matrix-full",
            "the covering set (smp-matrix) runs by default; --only smp-matrix-full boots all 16",
        )),
        run: |s, c| {
            for boot in crate::boottest::SMP_MATRIX_FULL {
                s.record(
                    &format!("{} (full)", boot.name()),
                    crate::boottest::smp_boot_test(boot, c.image),
                );
            }
        },
    },
    Suite {
        select: Select::Names(&["kunit"]),
        needs: Needs::Kernel,
        quarantined: None,
        run: |s, c| crate::boottest::kunit_tests(s, c.image),
    },
    Suite {
        select: Select::Names(&["bench"]),
        needs: Needs::Kernel,
        quarantined: None,
        run: |s, c| crate::bench::smoke_test(s, c.image),
    },
    Suite {
        select: Select::Names(&["fuzz"]),
        needs: Needs::Kernel,
        quarantined: None,
        run: |s, c| crate::fuzz::fuzz_test(s, c.image),
    },
    Suite {
        select: Select::Names(&["rtc"]),
        needs: Needs::Kernel,
        quarantined: None,
        run: |s, c| crate::rtctest::rtc_test(s, c.image),
    },
    Suite {
        select: Select::Names(&["userspace", "difftest"]),
        needs: Needs::UserPrograms,
        quarantined: None,
        run: |s, c| {
            let Some(user) = c.user else { return };
            crate::usertest::cradle_user_tests(s, c.image, user, c.initrd);
            crate::usertest::initramfs_tests(s, c.image, c.initrd);
            crate::usertest::busybox_init_test(s, c.image);
            crate::logintest::login_session_test(s, c.image);
            crate::usertest::fork_exec_leak_test(s, c.image);
            crate::usertest::idle_processes_leak_test(s, c.image);
            crate::bbdiff::busybox_diff_test(s, c.image);
        },
    },
    // Debian's own dynamically linked user space (--rootfs debian): the login chain with
    // bash, and user/debian-diff.sh against Debian's kernel.
    Suite {
        select: Select::Names(&["debian", "userspace", "difftest"]),
        needs: Needs::Kernel,
        quarantined: None,
        run: |s, c| {
            crate::logintest::debian_login_test(s, c.image);
            crate::debiandiff::debian_diff_test(s, c.image);
        },
    },
    Suite {
        select: Select::Names(&["creds"]),
        needs: Needs::UserPrograms,
        quarantined: None,
        run: |s, c| {
            crate::usertest::kernel_difftests(s, c.image, c.initrd);
            crate::logintest::user_login_test(s, c.image);
        },
    },
    Suite {
        select: Select::Names(&["readme"]),
        needs: Needs::UserPrograms,
        quarantined: None,
        run: |s, _| crate::readmetest::readme_command_tests(s),
    },
    Suite {
        select: Select::Names(&["smplogin", "userspace"]),
        needs: Needs::Kernel,
        quarantined: None,
        run: |s, c| crate::boottest::smp_login_tests(s, c.image),
    },
    Suite {
        select: Select::Names(&["pi", "userspace"]),
        needs: Needs::UserPrograms,
        quarantined: None,
        run: |s, c| {
            crate::usertest::pi_tests(s, c.image, c.initrd);
            crate::logintest::pi_login_tests(s, c.image);
        },
    },
    // The SMP pass: the suites that load a kernel most, again with -smp 4.
    Suite {
        select: Select::EachTest,
        needs: Needs::UserPrograms,
        quarantined: None,
        run: smp_pass,
    },
];

/// CPUs in the SMP pass.
const SMP_PASS_CPUS: u32 = 4;

/// One part of the SMP pass: its name (after `smp4: `) and what it runs.
type SmpPart = (&'static str, fn(&mut Summary, &Context<'_>));

/// The SMP pass, in order: each part is the suite of the same name, booted with
/// [`SMP_PASS_CPUS`] CPUs; its tests are named `smp4: <test>`. Linux's reference outputs
/// are those of the first pass (one CPU), except for the programs about several CPUs
/// (`usertest::SMP_PROGRAMS`), whose Linux runs get as many CPUs as Cradle.
const SMP_PARTS: &[SmpPart] = &[
    ("kunit", |s, c| crate::boottest::kunit_tests(s, c.image)),
    ("login", |s, c| {
        crate::logintest::login_session_test(s, c.image)
    }),
    ("console flood", |s, c| {
        crate::logintest::console_flood_test(s, c.image)
    }),
    ("busybox-diff", |s, c| {
        crate::bbdiff::busybox_diff_test(s, c.image)
    }),
    ("user programs (forkbomb, smpsched among them)", |s, c| {
        if let Some(user) = c.user {
            crate::usertest::cradle_user_tests(s, c.image, user, c.initrd);
        }
    }),
    ("fuzz", |s, c| crate::fuzz::fuzz_test(s, c.image)),
    ("bench", |s, c| crate::bench::smoke_test(s, c.image)),
];

/// SMP-pass parts that do not run by default: `(part, reason)`. `--only "smp4: <part>"`
/// runs one. Empty: every part runs.
const SMP_QUARANTINED: &[(&str, &str)] = &[];

/// Run the SMP pass's parts that `--only` selects: with no `--only`, all of them; else those
/// whose `smp4: <part>` contains the text, if the text names `smp` (so `--only kunit` runs
/// the first pass's KUnit only). Not with `--smp N`, where every suite had N CPUs already.
fn smp_pass(summary: &mut Summary, context: &Context<'_>) {
    if context.smp.is_some() {
        return;
    }
    let prefix = format!("smp{SMP_PASS_CPUS}: ");
    let selected = |part: &str| match context.only {
        None => true,
        Some(o) => o.contains("smp") && format!("{prefix}{part}").contains(o),
    };
    crate::qemu::set_test_cpus(SMP_PASS_CPUS);
    summary.set_prefix(&prefix);
    for (part, run) in SMP_PARTS {
        if !selected(part) {
            continue;
        }
        let named = context.only == Some(format!("{prefix}{part}").as_str());
        if let Some((_, why)) = SMP_QUARANTINED.iter().find(|(q, _)| q == part) {
            if !named {
                summary.skip(part, why);
                continue;
            }
        }
        println!("xtask: test: {prefix}{part}");
        run(summary, context);
    }
    summary.set_prefix("");
    crate::qemu::set_test_cpus(0);
}

/// True if `--only` (`None`: everything) selects `suite`.
fn suite_selected(suite: &Suite, only: Option<&str>) -> bool {
    match (suite.select, only) {
        (_, None) | (Select::EachTest, _) => true,
        (Select::Names(names), Some(o)) => names.iter().any(|n| n.contains(o)),
    }
}

/// `cargo xtask test [--only SUBSTRING] [--smp N]`.
pub fn cmd_test(args: &[String]) -> Result<(), String> {
    const USAGE: &str = "usage: cargo xtask test [--only NAME] [--smp N]";
    let mut only = None;
    let mut smp = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = it.next().ok_or(USAGE)?;
        match arg.as_str() {
            "--only" => only = Some(value.as_str()),
            "--smp" => {
                smp = Some(
                    value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=16).contains(n))
                        .ok_or_else(|| format!("--smp takes 1 to 16 CPUs, not {value}"))?,
                )
            }
            _ => return Err(USAGE.into()),
        }
    }
    if let Some(n) = smp {
        // Every boot of Cradle that does not choose its CPUs gets n (the Pis keep 4).
        crate::qemu::set_test_cpus(n);
    }
    ensure_rust()?;
    ensure_qemu()?;
    let mut summary = Summary::default();
    let mut image: Option<PathBuf> = None;
    // The user programs and their initramfs: built once, when the first suite needs them.
    let mut user: Option<Result<(crate::user::UserPrograms, PathBuf), ()>> = None;
    for suite in SUITES {
        if !suite_selected(suite, only) {
            continue;
        }
        if let Some((name, reason)) = suite.quarantined {
            let Select::Names(names) = suite.select else {
                unreachable!("only named suites are quarantined")
            };
            if !only.is_some_and(|o| names.contains(&o)) {
                summary.skip(name, reason);
                continue;
            }
        }
        if suite.needs != Needs::Host && image.is_none() {
            // The first suite that needs the kernel builds it (counted as a test): before
            // the first one, so that the host suites come first.
            let built = build_kernel();
            summary.record(
                "build: kernel vmlinux and Image",
                built.as_ref().map(|_| ()).map_err(Clone::clone),
            );
            match built {
                Ok(built) => image = Some(built.image),
                Err(_) => break,
            }
        }
        if suite.needs == Needs::UserPrograms && user.is_none() {
            user = Some(build_user_programs(&mut summary));
        }
        let (user, initrd) = match (&user, suite.needs) {
            (Some(Ok((user, initrd))), _) => (Some(user), initrd.as_path()),
            // Already recorded as a failure: the suites that need them cannot run.
            (Some(Err(())), Needs::UserPrograms) => continue,
            _ => (None, Path::new("")),
        };
        let context = Context {
            only,
            image: image.as_deref().unwrap_or(Path::new("")),
            initrd,
            user,
            smp,
        };
        (suite.run)(&mut summary, &context);
    }
    summary.finish()
}

/// Build the user programs and the test initramfs, recording a failure as a test.
fn build_user_programs(summary: &mut Summary) -> Result<(crate::user::UserPrograms, PathBuf), ()> {
    let user = crate::user::build_user()
        .map_err(|e| summary.record("userspace: build the user programs", Err(e)))?;
    let initrd = crate::initramfs::build_test_initramfs(&user)
        .map_err(|e| summary.record("userspace: build the test initramfs", Err(e)))?;
    Ok((user, initrd))
}

fn lints(summary: &mut Summary) {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    summary.record("lint: cargo fmt --check", run_command(fmt).map(|_| ()));

    let mut kernel = cargo();
    kernel.args([
        "clippy",
        "--release",
        "--package",
        "cradle",
        "--target",
        KERNEL_TARGET,
        "--",
        "-D",
        "warnings",
    ]);
    summary.record("lint: clippy (kernel)", run_command(kernel).map(|_| ()));

    let mut host = cargo();
    host.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    summary.record(
        "lint: clippy (host crates and unit tests)",
        run_command(host).map(|_| ()),
    );
}

/// Run `cargo test` for the host crates; each unit test is counted on its own.
fn host_tests(summary: &mut Summary) {
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--", "--test-threads", "2"]);
    let (ok, text) = match run_command(cmd) {
        Ok(t) => (true, t),
        Err(t) => (false, t),
    };
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        if let Some(name) = rest.strip_suffix(" ... ok") {
            summary.record(&format!("host: {name}"), Ok(()));
        } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
            summary.record(
                &format!("host: {name}"),
                Err("see the cargo test output above".into()),
            );
        }
    }
    if !ok {
        // A build failure or a crashed test binary: count it, and show what cargo said.
        summary.record("host: cargo test", Err(text));
    }
}

fn check_image(image: &Path) -> Result<(), String> {
    let bytes = std::fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
    let header = ImageHeader::parse(&bytes)?;
    header.check(bytes.len() as u64)?;
    if header.text_offset != 0x80000 {
        return Err(format!(
            "text_offset is {:#x}, expected 0x80000",
            header.text_offset
        ));
    }
    Ok(())
}
