//! `cargo xtask`: Cradle's build, run and test tool.
//!
//! ```text
//! cargo xtask build                 build target/cradle/vmlinux and target/cradle/Image
//! cargo xtask qemu [options]        build, then boot in QEMU with the console on this terminal
//! cargo xtask test                  every test: host unit tests, lints, in-kernel KUnit tests,
//!                                   QEMU boot tests, an SMP pass; ends with "N passed, N failed"
//! cargo xtask test --smp N          the same with N CPUs in every boot of Cradle
//! cargo xtask user [run NAME ARGS]  build user/*.c and the test initramfs; run one program
//!                                   on Linux under qemu-aarch64
//! cargo xtask bench [--runs N]      the same benchmark on Cradle and Debian's Linux in QEMU
//! cargo xtask profile METRIC     one bench row's kernel instructions per symbol (QEMU's log)
//! cargo xtask bbdiff                user/busybox-diff.sh on Cradle and Debian's Linux in QEMU;
//!                                   the same output, or a diff
//! cargo xtask debiandiff            user/debian-diff.sh (Debian's bash, coreutils, procps)
//!                                   the same way
//! ```
//!
//! Both `qemu` and `test` first make sure the machine has what they need (the Rust target
//! and components, QEMU >= 9.0) and install it when they can (see `env.rs`).

mod bbdiff;
mod bench;
mod board;
mod boottest;
mod build;
mod busybox;
mod debian;
mod debian_rootfs;
mod debiandiff;
mod difftest;
mod env;
mod fuzz;
mod harness;
mod image;
mod initramfs;
mod kallsyms;
mod ktap;
mod logintest;
mod pi;
mod profile;
mod qemu;
mod readmetest;
mod rootfs;
mod rtctest;
mod test;
mod user;
mod usertest;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  build                 build target/cradle/vmlinux (ELF) and target/cradle/Image
  qemu [options]        build and boot in QEMU (serial console on this terminal)
  test [--only NAME] [--smp N]
                        run every test; ends with a line 'N passed, N failed'. The SMP
                        pass (tests named 'smp4: ...') boots KUnit, login, busybox-diff,
                        the user programs and the fuzzer again with -smp 4; --smp N
                        instead boots Cradle with N CPUs in every suite (virt; the Pis
                        keep 4)
  sdcard --board B [--rootfs debian]
                        write target/cradle/sdcard-B.img for a Raspberry Pi (rpi3, rpi4)
  flash --board B --device DEV [--yes] [--force]
                        write that image to an SD card (or a file), then verify it
  user                  build user/*.c and target/cradle/initramfs-test.cpio
  user run NAME [ARGS]  build, then run target/cradle/user/NAME under qemu-aarch64
  bench [options]       benchmark Cradle against Debian's arm64 Linux in the same QEMU
                        (-icount: instruction counts); table, JSON and SVG under
                        target/cradle/bench/
  profile METRIC [--iters N] [--top K] [--tree DIR]
                        where one bench row's kernel instructions go: executed
                        instructions and calls per operation for each kernel symbol,
                        from QEMU's -d in_asm,exec log of two boots (iters N and 2N,
                        default 200); --tree profiles another worktree's build
  bbdiff                run user/busybox-diff.sh on Cradle and on Debian's arm64 Linux
                        in the same QEMU; print the diff if the outputs differ (both
                        kept under target/cradle/bbdiff/)
  debiandiff            run user/debian-diff.sh with Debian's own bash and coreutils
                        (--rootfs debian) on Cradle and on Debian's arm64 Linux;
                        print the diff if the outputs differ
  fuzz [--smp N] [SEED | FIRST..END] [NR,NR...]
                        boot user/fuzz/fuzz.c as PID 1: random system calls from 64
                        processes seeded SEED.. (default 1); the kernel must not panic
                        or oops. A range boots once per 64 seeds and sums the calls;
                        --smp N boots with N CPUs

bench options:
  --runs N              boots of each kernel; each figure is their median (default 5)
  --tcg                 no -icount: nanoseconds instead of instructions
  --iters N             iterations of every timed loop (default: per metric)
  --cradle-only         do not fetch or boot Linux

qemu options:
  --board NAME          board under boards/ (default: virt)
  --el2                 enter the kernel at EL2 (virt,virtualization=on)
  --gic 2|3             GIC version on virt (default 2)
  --smp N               number of CPUs
  --mem SIZE            memory, e.g. 512M or 2G
  --append \"ARGS\"       kernel command line
  --initrd FILE         an initramfs (default: Debian's busybox as a small system:
                        init, getty on the console, login as root without a password)
  --rootfs debian       instead, Debian's own dynamically linked bash, coreutils, procps,
                        grep, sed, mawk, findutils, less, nano (busybox for init, getty,
                        login, mount); root's shell is bash
  --overlay DIR         add DIR's files to that root file system
  --no-initrd           boot with no initramfs (ends in Linux's no-init panic)
  --gdb                 wait for GDB on :1234
  -- ARGS...            extra QEMU arguments
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => build::build_kernel().map(|out| {
            println!("vmlinux: {}", out.vmlinux.display());
            println!("Image:   {}", out.image.display());
        }),
        Some("qemu") => qemu::cmd_qemu(&args[1..]),
        Some("test") => test::cmd_test(&args[1..]),
        Some("sdcard") => pi::cmd_sdcard(&args[1..]),
        Some("flash") => pi::cmd_flash(&args[1..]),
        Some("user") => user::cmd_user(&args[1..]),
        Some("bench") => bench::cmd_bench(&args[1..]),
        Some("profile") => profile::cmd_profile(&args[1..]),
        Some("bbdiff") => bbdiff::cmd_bbdiff(&args[1..]),
        Some("debiandiff") => debiandiff::cmd_debiandiff(&args[1..]),
        Some("fuzz") => fuzz::cmd_fuzz(&args[1..]),
        Some("help") | Some("--help") | Some("-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command '{other}'\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
