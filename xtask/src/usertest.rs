//! User space on Cradle: the test programs run as Cradle's PID 1 and its children, and
//! what they print is compared with what the same binaries print on Linux.
//!
//! - `/init` (user/init_hello.c) from an initramfs given with `-initrd` runs each program
//!   named after `--` on the command line and frames its output; every program's output must
//!   equal its output under `qemu-aarch64` (Linux's own syscall implementation), and its
//!   TAP must pass.
//! - The same `/init` from an initramfs built into the Image (no `-initrd`).
//! - An initramfs with no init, and a malformed one: Linux's panic, reached without a crash.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::difftest::{check_tap, compare, program_output, run_on_linux_with_args};
use crate::env::{out_dir, project_root, KERNEL_TARGET};
use crate::harness::Summary;
use crate::initramfs::{write_newc, Entry, Source};
use crate::qemu::{run_captured, QemuOptions};
use crate::user::UserPrograms;

/// The programs `/init` runs on Cradle, in order.
const PROGRAMS: [&str; 36] = [
    "syscalls",
    "fork_seed",
    "segv",
    "execbad",
    "proctest",
    "sigtest",
    "cowtest",
    "mmaptest",
    "mapstest",
    "threads",
    "threadexec",
    "rust_threads",
    "futexshared",
    "tlbshoot",
    "efault",
    "schedtest",
    "vdsotest",
    "aslrtest",
    "xattrtest",
    "cputime",
    "credtest",
    "forkbomb",
    "hugeelf",
    "oomtest",
    "epolltest",
    "timerstest",
    "cputimers",
    "inotifytest",
    "priotest",
    "memfdtest",
    "sysmisc",
    "sysmisckern",
    "filelock",
    "rtsigtest",
    "waitidtest",
    "unixsock",
];

/// The programs compared with Debian's arm64 Linux booted in the same QEMU rather than with
/// qemu-aarch64: users and permissions, where the host's container would be the judge
/// otherwise, set-ID programs, whose execve qemu-aarch64 hands to the x86 host, and
/// `clockset`, which sets the wall clock.
pub const KERNEL_DIFF_PROGRAMS: [&str; 3] = ["credtest", "suidtest", "clockset"];

/// Boot `image` with the test initramfs, running `programs`; the transcript, which is kept
/// as `test-logs/<name>.log`. Linux (`linux`) boots with one CPU, as its reference runs
/// always have; Cradle with the test run's CPUs (one unless `--smp N`).
fn run_programs_on(
    name: &str,
    image: &Path,
    linux: bool,
    initrd: &Path,
    programs: &[&str],
) -> Result<String, String> {
    let args: Vec<String> = programs.iter().map(|p| format!("/bin/{p}")).collect();
    let mut opts = QemuOptions::for_board("virt");
    opts.smp = linux.then_some(1);
    opts.mem = Some("512M".into());
    opts.initrd = Some(initrd.to_path_buf());
    opts.append = Some(format!("console=ttyAMA0 quiet -- {}", args.join(" ")));
    let t = run_captured(&opts, image, None, Duration::from_secs(240))?;
    let log = crate::harness::test_logs_dir().join(format!("{name}.log"));
    let _ = std::fs::create_dir_all(log.parent().unwrap_or(Path::new(".")));
    let _ = std::fs::write(&log, &t.text);
    if !t.exited {
        return Err(format!(
            "{name}: QEMU did not power off (transcript: {})",
            log.display()
        ));
    }
    Ok(t.text)
}

/// The users-and-permissions programs on Debian's arm64 Linux and on Cradle, both booted
/// in the same QEMU with the same test initramfs: each must pass its TAP on Linux, and
/// print the same on Cradle.
pub(crate) fn kernel_difftests(summary: &mut Summary, image: &Path, initrd: &Path) {
    let both = crate::bench::linux_image().and_then(|linux| {
        let on_linux = run_programs_on("creds-linux", &linux, true, initrd, &KERNEL_DIFF_PROGRAMS)?;
        let on_cradle =
            run_programs_on("creds-cradle", image, false, initrd, &KERNEL_DIFF_PROGRAMS)?;
        Ok((on_linux, on_cradle))
    });
    for name in KERNEL_DIFF_PROGRAMS {
        let path = format!("/bin/{name}");
        let verdict = both.clone().and_then(|(linux, cradle)| {
            let linux_run = program_output(&linux, &path)
                .ok_or_else(|| format!("Linux's /init never ran {path}:\n{linux}"))?;
            check_tap(&linux_run.output)
                .map_err(|e| format!("on Linux: {e}\noutput:\n{}", linux_run.output))?;
            let cradle_run = program_output(&cradle, &path)
                .ok_or_else(|| format!("Cradle's /init never ran {path}:\n{cradle}"))?;
            crate::difftest::compare_with_linux(
                "linux (Debian's arm64 kernel in the same QEMU)",
                name,
                &linux_run.output,
                &cradle_run.output,
            )?;
            match cradle_run.status {
                Some(0) => Ok(()),
                other => Err(format!("exit status {other:?} on Cradle")),
            }
        });
        summary.record(
            &format!("creds: {name} prints the same on Cradle and Linux (Debian's kernel in the same QEMU)"),
            verdict,
        );
    }
}

fn boot_with_initrd(image: &Path, initrd: Option<&Path>, append: &str) -> Result<String, String> {
    let mut opts = QemuOptions::for_board("virt");
    opts.initrd = initrd.map(Path::to_path_buf);
    opts.append = Some(append.to_string());
    // Several CPUs are several QEMU threads on the host's few cores: more time.
    let limit = match crate::qemu::cpus_of(&opts)? {
        1 => 120,
        _ => 300,
    };
    let t = run_captured(&opts, image, None, Duration::from_secs(limit))?;
    if !t.exited {
        return Err(format!(
            "QEMU did not power off within the time limit:\n{}",
            t.text
        ));
    }
    Ok(t.text)
}

/// The programs that judge several CPUs: `/init` runs them after [`PROGRAMS`] when Cradle
/// boots with more than one, and Linux's reference run has as many.
pub const SMP_PROGRAMS: [&str; 1] = ["smpsched"];

/// How `/init` is told to run `/bin/<name>` on a machine of `cpus` CPUs: the programs about
/// several CPUs are told how many there are (`/bin/smpsched,4`).
fn program_spec(name: &str, cpus: u32) -> String {
    if SMP_PROGRAMS.contains(&name) {
        format!("/bin/{name},{cpus}")
    } else {
        format!("/bin/{name}")
    }
}

/// Run the user tests on Cradle booted from `image` (with the test run's CPUs: one, or
/// `--smp N`, or 4 in the SMP pass; with more than one, [`SMP_PROGRAMS`] too).
pub(crate) fn cradle_user_tests(
    summary: &mut Summary,
    image: &Path,
    user: &UserPrograms,
    initrd: &Path,
) {
    let mut programs = PROGRAMS.to_vec();
    let cpus = crate::qemu::test_cpus().max(1);
    if cpus > 1 {
        programs.extend(SMP_PROGRAMS);
    }
    let args: Vec<String> = programs.iter().map(|p| program_spec(p, cpus)).collect();
    let append = format!("quiet -- {}", args.join(" "));
    let transcript = match boot_with_initrd(image, Some(initrd), &append) {
        Ok(t) => t,
        Err(e) => {
            return summary.record("userspace: /init from -initrd runs and powers off", Err(e))
        }
    };
    let log = crate::harness::test_logs_dir().join("userspace.log");
    let _ = std::fs::write(&log, &transcript);
    let init_ok = [
        "Hello from /init as PID 1",
        "parent is PID 0",
        "/init: powering off",
    ]
    .iter()
    .find(|want| !transcript.contains(**want))
    .map_or(Ok(()), |missing| {
        Err(format!(
            "missing: {missing}\ntranscript ({}):\n{transcript}",
            log.display()
        ))
    });
    summary.record(
        "userspace: /init from -initrd runs as PID 1 (parent PID 0) and powers off",
        init_ok,
    );

    for name in programs {
        let path = format!("/bin/{name}");
        let Some(run) = program_output(&transcript, &path) else {
            summary.record(
                &format!("userspace: {name} on Cradle"),
                Err(format!("/init never ran {path}")),
            );
            continue;
        };
        let status_ok = match run.status {
            Some(0) => Ok(()),
            other => Err(format!("exit status {other:?}\noutput:\n{}", run.output)),
        };
        let verdict = status_ok.and_then(|()| {
            if name == "fork_seed" {
                Ok(())
            } else {
                check_tap(&run.output).map_err(|e| format!("{e}\noutput:\n{}", run.output))
            }
        });
        summary.record(&format!("userspace: {name} passes on Cradle"), verdict);
        let Some(program) = user.programs.iter().find(|p| p.name == name) else {
            continue;
        };
        let linux_args = if name == "execbad" {
            vec![user.bad_elf.display().to_string()]
        } else {
            Vec::new()
        };
        if crate::difftest::needs_a_linux_kernel(name) {
            // Linux boots with one CPU, unless the program is about several.
            let cpus = if SMP_PROGRAMS.contains(&name) {
                crate::qemu::test_cpus().max(1)
            } else {
                1
            };
            let key = format!("{name} on Linux with {cpus} CPU(s)");
            let linux = crate::harness::made_once(&key, || run_on_linux_kernel(initrd, name, cpus));
            let diff = linux.and_then(|linux| {
                crate::difftest::compare_with_linux(
                    "linux (Debian's arm64 kernel in the same QEMU)",
                    name,
                    &linux,
                    &run.output,
                )
            });
            summary.record(
                &format!("difftest: {name} prints the same on Cradle and Linux (Debian's kernel)"),
                diff,
            );
            continue;
        }
        let key = format!("{name} under qemu-aarch64");
        let diff = crate::harness::made_once(&key, || {
            run_on_linux_with_args(&program.path, &linux_args).map(|(linux, _)| linux)
        })
        .and_then(|linux| compare(name, &linux, &run.output));
        summary.record(
            &format!("difftest: {name} prints the same on Cradle and Linux"),
            diff,
        );
    }
}

/// Run `/bin/<name>` from the test initramfs on Debian's arm64 kernel in `qemu-system-aarch64`
/// (the kernel `cargo xtask bench` uses), for a program whose results qemu-aarch64 cannot
/// reproduce; its TAP must pass there. Returns its output.
fn run_on_linux_kernel(initrd: &Path, name: &str, cpus: u32) -> Result<String, String> {
    let linux = crate::bench::linux_image()?;
    let mut opts = QemuOptions::for_board("virt");
    opts.smp = Some(cpus);
    opts.initrd = Some(initrd.to_path_buf());
    opts.append = Some(format!(
        "console=ttyAMA0 quiet -- {}",
        program_spec(name, cpus)
    ));
    let t = run_captured(&opts, &linux, None, Duration::from_secs(300))?;
    let log = crate::harness::test_logs_dir().join(format!("{name}-linux-smp{cpus}.log"));
    let _ = std::fs::write(&log, &t.text);
    let path = format!("/bin/{name}");
    let run = program_output(&t.text, &path)
        .ok_or_else(|| format!("Linux never ran {path} (transcript: {})", log.display()))?;
    check_tap(&run.output)
        .map_err(|e| format!("{name} fails on Linux: {e}\noutput:\n{}", run.output))?;
    Ok(run.output)
}

/// Build the kernel again with `initramfs` built in (Linux's CONFIG_INITRAMFS_SOURCE),
/// into its own target directory so the main Image stays as it is.
fn build_with_builtin(initramfs: &Path) -> Result<PathBuf, String> {
    let target_dir = project_root().join("target").join("builtin-initramfs");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(project_root())
        .env("CRADLE_INITRAMFS", initramfs)
        .env("CARGO_TARGET_DIR", &target_dir)
        .args([
            "build",
            "--release",
            "--package",
            "cradle",
            "--target",
            KERNEL_TARGET,
        ])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the kernel with a built-in initramfs did not build".into());
    }
    let elf = target_dir.join(KERNEL_TARGET).join("release/cradle");
    let image = out_dir().join("Image-builtin-initramfs");
    let objcopy = crate::env::llvm_tool("llvm-objcopy")?;
    let ok = Command::new(objcopy)
        .args(["-O", "binary"])
        .arg(&elf)
        .arg(&image)
        .status();
    if !ok.map(|s| s.success()).unwrap_or(false) {
        return Err("llvm-objcopy failed".into());
    }
    Ok(image)
}

/// Booting `/init` from the built-in initramfs, and the two ways to have no init.
pub(crate) fn initramfs_tests(summary: &mut Summary, image: &Path, initrd: &Path) {
    let builtin = build_with_builtin(initrd)
        .and_then(|img| boot_with_initrd(&img, None, "quiet -- /bin/fork_seed"));
    let verdict = builtin.and_then(|t| {
        for want in [
            "Hello from /init as PID 1",
            "Child Complete!",
            "/init: powering off",
        ] {
            if !t.contains(want) {
                return Err(format!("missing: {want}\ntranscript:\n{t}"));
            }
        }
        Ok(())
    });
    summary.record(
        "userspace: /init from the initramfs built into the Image (no -initrd)",
        verdict,
    );

    let no_init = out_dir().join("initramfs-no-init.cpio");
    let made = write_newc(&[
        Entry::new("/etc", Source::Dir, 0o755),
        Entry::new("/etc/motd", Source::Bytes(b"hi\n".to_vec()), 0o644),
    ])
    .and_then(|bytes| std::fs::write(&no_init, bytes).map_err(|e| e.to_string()));
    let verdict = made.and_then(|()| boot_with_initrd(image, Some(&no_init), "")).and_then(|t| {
        let want = "Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.";
        if t.contains(want) && t.contains("Run /init as init process") && !t.contains("Internal error") {
            Ok(())
        } else {
            Err(format!("expected Linux's panic after trying /init:\n{t}"))
        }
    });
    summary.record(
        "userspace: an initramfs with no init ends in Linux's panic",
        verdict,
    );

    let garbage = out_dir().join("initramfs-garbage.cpio");
    let made = std::fs::write(
        &garbage,
        b"070701this is not a cpio header at all, just bytes".repeat(4),
    )
    .map_err(|e| e.to_string());
    let verdict = made
        .and_then(|()| boot_with_initrd(image, Some(&garbage), ""))
        .and_then(|t| {
            if t.contains("Initramfs unpacking failed: initrd: cpio:")
                && t.contains("No working init found")
                && !t.contains("Internal error")
            {
                Ok(())
            } else {
                Err(format!(
                    "expected the unpacking error, then the no-init panic:\n{t}"
                ))
            }
        });
    summary.record(
        "userspace: a malformed initramfs is reported and boot goes on",
        verdict,
    );
}

/// An init no one here wrote: Debian's busybox `sh` as PID 1 (`rdinit=/bin/sh`), running a
/// script of pipes, arithmetic and applets, reading and clearing the kernel log with
/// `dmesg`, asking `df` and `stat -f` about mounted filesystems, then `poweroff -f`.
pub(crate) fn busybox_init_test(summary: &mut Summary, image: &Path) {
    let verdict = crate::busybox::fetch_busybox().and_then(|busybox| {
        let cpio = out_dir().join("initramfs-busybox-sh.cpio");
        let bytes = write_newc(&[
            Entry::new("/bin/busybox", Source::File(busybox), 0o755),
            Entry::new("/bin/sh", Source::Symlink("busybox".into()), 0o777),
            Entry::new("/dev", Source::Dir, 0o755),
        ])?;
        std::fs::write(&cpio, bytes).map_err(|e| e.to_string())?;
        let script = "echo hello from busybox sh; echo $((6*7)); echo a b c | busybox wc -w; \
                      busybox uname -m; \
                      echo model=$(busybox dmesg | busybox grep -c 'Machine mode[l]: '); \
                      echo raw=$(busybox dmesg -r | busybox grep -c '^<6>.*Run /bin/sh as ini[t]'); \
                      x=$(busybox dmesg -c); echo cleared=$(busybox dmesg | busybox wc -l); \
                      busybox mkdir /proc /t; busybox mount -t proc proc /proc; \
                      busybox mount -t tmpfs tmpfs /t; \
                      echo df=$(busybox df -k /t | busybox tail -n 1); \
                      echo statf=$(busybox stat -f -c %T /proc); \
                      busybox poweroff -f";
        let t = boot_with_initrd(
            image,
            Some(&cpio),
            &format!("quiet rdinit=/bin/sh -- -c \"{script}\""),
        )?;
        // `quiet` keeps the boot messages off the console, so the log buffer's lines can
        // only reach the transcript through `dmesg` (syslog(2)).
        // The brackets keep the patterns from matching the logged command line itself.
        for want in [
            "hello from busybox sh",
            "\n42\n",
            "\n3\n",
            "aarch64",
            "model=1",
            "raw=1",
            "cleared=0",
            "statf=proc",
        ] {
            if !t.replace('\r', "").contains(want) {
                return Err(format!("missing {want:?}:\n{t}"));
            }
        }
        check_df_line(&t)?;
        Ok(())
    });
    summary.record(
        "userspace: Debian's busybox sh runs as PID 1 and powers off",
        verdict,
    );
}

/// Nothing leaks across processes: busybox `sh` runs `/bin/true` 500 times (fork, execve of
/// the full path, wait), and `MemFree` in /proc/meminfo must come back within 64 KiB, plus,
/// with several CPUs, what the other CPUs' kernel-stack caches may have filled meanwhile
/// (`NR_CACHED_STACKS` = 2 stacks of 32 KiB each, kept mapped per CPU, as Linux's
/// `cached_stacks`; seen: drops of 32 to 144 kB at -smp 4, on every kernel since those
/// caches came).
pub(crate) fn fork_exec_leak_test(summary: &mut Summary, image: &Path) {
    const STACK_CACHE_KIB: u64 = 2 * 32;
    let verdict = crate::rootfs::build_rootfs(None).and_then(|initrd| {
        let script = "busybox mkdir -p /proc; busybox mount -t proc proc /proc; \
                      busybox ln -sf busybox /bin/true; /bin/true; \
                      busybox grep MemFree /proc/meminfo; n=0; \
                      for i in $(busybox seq 500); do /bin/true && n=$((n+1)); done; \
                      echo runs=$n; busybox grep MemFree /proc/meminfo; busybox poweroff -f";
        let append = format!("quiet rdinit=/bin/sh -- -c \"{script}\"");
        let cpus = crate::qemu::cpus_of(&QemuOptions::for_board("virt"))? as u64;
        let bound = 64 + (cpus - 1) * STACK_CACHE_KIB;
        let t = boot_with_initrd(image, Some(&initrd), &append)?;
        if !t.contains("runs=500") {
            return Err(format!("the loop did not run /bin/true 500 times:\n{t}"));
        }
        let free: Vec<u64> = t
            .lines()
            .filter_map(|l| l.trim().strip_prefix("MemFree:"))
            .filter_map(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .collect();
        match free[..] {
            [before, after] if before.abs_diff(after) <= bound => Ok(()),
            [before, after] => Err(format!(
                "MemFree went from {before} kB to {after} kB over 500 fork/exec/wait \
                 (bound {bound} kB with {cpus} CPUs)"
            )),
            _ => Err(format!("expected two MemFree lines:\n{t}")),
        }
    });
    summary.record(
        "userspace: 500 fork/exec/wait from busybox sh leave MemFree within 64 KiB",
        verdict,
    );
}

/// Idle processes give their memory back: busybox `sh` starts 20 `sleep 1000` in the
/// background, kills them and waits for them, and `MemFree` must come back within 1 MiB
/// (Linux's bound: its slab caches may keep a few pages). 27 MB stayed used for good when
/// the kernel heap never returned pages.
pub(crate) fn idle_processes_leak_test(summary: &mut Summary, image: &Path) {
    let verdict = crate::rootfs::build_rootfs(None).and_then(|initrd| {
        let script = "busybox mkdir -p /proc; busybox mount -t proc proc /proc; \
                      busybox ln -sf busybox /bin/sleep; sleep 1000 & kill $!; wait; \
                      busybox grep MemFree /proc/meminfo; \
                      for i in $(busybox seq 20); do sleep 1000 & done; \
                      n=$(busybox ls -d /proc/[0-9]* | busybox wc -l); echo procs=$n; \
                      busybox killall sleep; wait; busybox usleep 200000; \
                      busybox grep MemFree /proc/meminfo; busybox poweroff -f";
        let t = boot_with_initrd(
            image,
            Some(&initrd),
            &format!("quiet rdinit=/bin/sh -- -c \"{script}\""),
        )?;
        let procs: Option<u32> = t
            .lines()
            .find_map(|l| l.trim().strip_prefix("procs="))
            .and_then(|n| n.parse().ok());
        if procs.is_none_or(|n| n < 21) {
            return Err(format!("the 20 sleeps did not all run:\n{t}"));
        }
        let free: Vec<u64> = t
            .lines()
            .filter_map(|l| l.trim().strip_prefix("MemFree:"))
            .filter_map(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .collect();
        match free[..] {
            [before, after] if before <= after + 1024 => Ok(()),
            [before, after] => Err(format!(
                "MemFree went from {before} kB to {after} kB after 20 sleeps were killed and reaped"
            )),
            _ => Err(format!("expected two MemFree lines:\n{t}")),
        }
    });
    summary.record(
        "userspace: 20 idle busybox sleeps killed and reaped leave MemFree within 1 MiB",
        verdict,
    );
}

/// `df -k /t` on a tmpfs: statfs(2) must report the RAM (QEMU's default 512 MiB, less what
/// the firmware and kernel keep) as the size, and used + available must add up to it.
fn check_df_line(transcript: &str) -> Result<(), String> {
    let line = transcript
        .lines()
        .find_map(|l| l.trim_end().strip_prefix("df="))
        .ok_or_else(|| format!("no df output:\n{transcript}"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let number = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    match (
        fields.first(),
        number(1),
        number(2),
        number(3),
        fields.last(),
    ) {
        (Some(&"tmpfs"), Some(total), Some(used), Some(avail), Some(&"/t"))
            if (400_000..=524_288).contains(&total) && used + avail == total =>
        {
            Ok(())
        }
        _ => Err(format!("unexpected df line {line:?}")),
    }
}

/// The Raspberry Pi boards in QEMU: the same Image, Debian's device tree, the mini UART
/// console, busybox `sh` as init; `poweroff -f` goes through the PM watchdog and QEMU exits.
pub(crate) fn pi_tests(summary: &mut Summary, image: &Path, initrd: &Path) {
    // QEMU's mailbox answers as its firmware model says: firmware revision 346337 (a date
    // in January 1970), board revisions 0xa02082 / 0xb03115, UART clock 3 MHz, core clock
    // 350 MHz; the lines show the drivers asked and did the arithmetic with the answers.
    for (board, model, intc, mmio, revision) in [
        (
            "rpi4",
            "Machine model: Raspberry Pi 4 Model B",
            "GICv2: interrupt-controller@40041000",
            "0xfe2",
            "0xb03115",
        ),
        (
            "rpi3",
            "Machine model: Raspberry Pi 3 Model B",
            "bcm2836: local interrupt controller, with the ARMCTRL controller",
            "0x3f2",
            "0xa02082",
        ),
    ] {
        let mut opts = QemuOptions::for_board(board);
        opts.initrd = Some(initrd.to_path_buf());
        opts.append = Some("show_state -- /bin/fork_seed /bin/syscalls".into());
        let mini_uart = format!(
            "serial: ttyS1 at MMIO {mmio}15040 (base_baud = 43750000) is a BCM2835 mini UART: \
             core clock 350000000 Hz (firmware CORE clock), 115200 baud 8n1 (AUX_MU_BAUD 379)"
        );
        let firmware = format!("raspberrypi-firmware soc:firmware: board revision {revision}");
        let verdict = run_captured(&opts, image, None, Duration::from_secs(120)).and_then(|t| {
            for want in [
                model,
                "raspberrypi-firmware soc:firmware: Attached to firmware from 1970-01-05T00:12:17",
                &firmware,
                "pinctrl-bcm2835: uart1_gpio14: GPIO 14, 15 set to alt5",
                &mini_uart,
                "printk: console [ttyS1] enabled",
                intc,
                "arch_timer: tick at 250 Hz",
                "CPU: All CPU(s) started at EL2",
                "    2     0 S [kthreadd]",
                "Hello from /init as PID 1",
                "Child Complete!",
                "/init: /bin/syscalls exited with status 0",
                "bcm2835-wdt: Broadcom BCM2835 watchdog timer",
            ] {
                if !t.text.contains(want) {
                    return Err(format!("missing: {want}\ntranscript:\n{}", t.text));
                }
            }
            if !t.exited {
                return Err(format!("QEMU did not exit after poweroff:\n{}", t.text));
            }
            Ok(())
        });
        summary.record(
            &format!("pi: {board} boots the same Image to /init, runs user programs, powers off"),
            verdict,
        );

        // console=ttyAMA0: the PL011 on QEMU's first serial port, clocked by the firmware's
        // UART clock, on the pins the DT gives it (the Bluetooth pins, GPIO 32/33 ALT3).
        let mut opts = QemuOptions::for_board(board);
        opts.initrd = Some(initrd.to_path_buf());
        opts.append = Some("console=ttyAMA0,115200 -- /bin/syscalls".into());
        let pl011 = format!(
            "serial: ttyAMA0 at MMIO {mmio}01000 (base_baud = 187500) is a PL011: \
             uartclk 3000000 Hz (firmware UART clock), 115200 baud 8n1 (IBRD 1, FBRD 40)"
        );
        let verdict = run_captured(&opts, image, None, Duration::from_secs(120)).and_then(|t| {
            for want in [
                "raspberrypi-firmware soc:firmware: Attached to firmware from ",
                "pinctrl-bcm2835: uart0_gpio32: GPIO 32, 33 set to alt3",
                &pl011,
                "printk: console [ttyAMA0] enabled",
                "serial: ttyAMA0 receives on hwirq",
                "/init: /bin/syscalls exited with status 0",
            ] {
                if !t.text.contains(want) {
                    return Err(format!("missing: {want}\ntranscript:\n{}", t.text));
                }
            }
            if t.text.contains("ttyS1") {
                return Err(format!("the mini UART was set up too:\n{}", t.text));
            }
            Ok(())
        });
        summary.record(
            &format!(
                "pi: {board} console=ttyAMA0 sets the PL011 up from the firmware's UART clock"
            ),
            verdict,
        );
    }
    for board in ["rpi4", "rpi3"] {
        let verdict = crate::pi::make_sdcard(board, image, crate::rootfs::Rootfs::Busybox)
            .and_then(|img| {
                crate::pi::check_sdcard(&img, board, image)?;
                crate::pi::flash_self_test(&img)
            });
        summary.record(&format!("pi: sdcard-{board}.img has the firmware, DTB, config and this Image; flash refuses non-removable disks"), verdict);
    }
}
