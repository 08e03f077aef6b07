//! The QEMU boot tests, as data: each boots a configuration and says what the transcript
//! must and must not contain (`harness::BootTest`), and the in-kernel KUnit run.

use std::path::Path;
use std::time::Duration;

use crate::env::out_dir;
use crate::harness::{kib, log_transcript, BootTest, Summary};
use crate::ktap;
use crate::qemu::{run_captured, QemuOptions};

/// How a boot without a user-space init ends, in Linux's words.
const NO_INIT: &str =
    "Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.";
/// The last line of every panic.
const END_PANIC: &str = "---[ end Kernel panic - not syncing:";

fn virt(f: impl FnOnce(&mut QemuOptions)) -> QemuOptions {
    let mut o = QemuOptions::for_board("virt");
    f(&mut o);
    o
}

fn boot_banner(el: u32, cmdline: &str) -> Vec<String> {
    vec![
        "Booting Cradle on physical CPU 0x0000000000 [0x410fd083]".into(),
        format!("Cradle version {} (rustc ", env!("CARGO_PKG_VERSION")),
        "Machine model: linux,dummy-virt".into(),
        "serial: ttyAMA0 at MMIO 0x9000000 (base_baud = 1500000) is a PL011: uartclk 24000000 Hz \
         (fixed-clock), 115200 baud 8n1 (IBRD 13, FBRD 1)"
            .into(),
        "printk: console [ttyAMA0] enabled".into(),
        "psci: PSCIv1.1 detected in firmware.".into(),
        format!("Kernel command line: {cmdline}"),
        format!("CPU: All CPU(s) started at EL{el}"),
        "rest_init: kernel_thread(kernel_init) = PID 1".into(),
        "rest_init: kernel_thread(kthreadd) = PID 2".into(),
        "Freeing unused kernel memory: ".into(),
        NO_INIT.into(),
    ]
}

/// Every boot test, in the order they run.
pub(crate) fn boot_tests() -> Vec<BootTest> {
    let args = "cradle.test=boot loglevel=7";
    let plain = |name, el, opts: QemuOptions| BootTest {
        name,
        memory_kib: Some(kib(opts.mem.as_deref().unwrap_or("512M"))),
        check: None,
        opts,
        stop_at: None,
        must_exit: true,
        expect: boot_banner(el, args),
        reject: vec![
            "Oops",
            "Internal error",
            "Unhandled",
            "W+X mappings: FAILED",
        ],
    };
    let crash = |name, kind: &str, expect: Vec<&str>| BootTest {
        name,
        opts: virt(|o| o.append = Some(format!("lkdtm.cpoint_type={kind}"))),
        stop_at: None,
        must_exit: true,
        expect: expect.into_iter().map(String::from).collect(),
        reject: vec!["rest_init:"],
        memory_kib: None,
        check: None,
    };
    vec![
        plain(
            "boot: virt at EL1",
            1,
            virt(|o| o.append = Some(args.into())),
        ),
        plain(
            "boot: virt at EL2 (virtualization=on)",
            2,
            virt(|o| {
                o.el2 = true;
                o.append = Some(args.into());
            }),
        ),
        plain(
            "boot: virt with GICv3",
            1,
            virt(|o| {
                o.gic = Some(3);
                o.append = Some(args.into());
            }),
        ),
        plain(
            "boot: virt at EL2 with GICv3",
            2,
            virt(|o| {
                o.el2 = true;
                o.gic = Some(3);
                o.append = Some(args.into());
            }),
        ),
        plain(
            "boot: virt -smp 4",
            1,
            virt(|o| {
                o.smp = Some(4);
                o.append = Some(args.into());
            }),
        ),
        plain(
            "boot: virt -m 64M",
            1,
            virt(|o| {
                o.mem = Some("64M".into());
                o.append = Some(args.into());
            }),
        ),
        plain(
            "boot: virt -m 2G",
            1,
            virt(|o| {
                o.mem = Some("2G".into());
                o.append = Some(args.into());
            }),
        ),
        plain(
            "memory: virt -m 1G",
            1,
            virt(|o| {
                o.mem = Some("1G".into());
                o.append = Some(args.into());
            }),
        ),
        plain(
            "memory: virt -m 4G (RAM above the 4 GiB line)",
            1,
            virt(|o| {
                o.mem = Some("4G".into());
                o.append = Some(args.into());
            }),
        ),
        BootTest {
            name: "memory: ptdump shows the kernel mapped W^X",
            opts: virt(|o| o.append = Some("ptdump".into())),
            stop_at: None,
            must_exit: true,
            expect: vec![
                "Checked W+X mappings: passed, no W+X pages found".into(),
                "---[ Kernel page tables ]---".into(),
                "ro x  SHD AF            UXN    MEM/NORMAL".into(),
                "Freeing unused kernel memory: ".into(),
            ],
            reject: vec!["Oops", "Internal error"],
            memory_kib: Some(512 * 1024),
            check: None,
        },
        crash(
            "memory: writing kernel text faults (lkdtm WRITE_KERN)",
            "WRITE_KERN",
            vec![
                "Unable to handle kernel write to read-only memory at virtual address ffff8000",
                "FSC = 0x0f: level 3 permission fault",
                "Kernel panic - not syncing: Attempted to kill the idle task!",
            ],
        ),
        crash(
            "memory: kernel stack overflow is caught (lkdtm EXHAUST_STACK)",
            "EXHAUST_STACK",
            vec![
                "lkdtm: recursing on the stack at",
                "Insufficient stack space to handle exception!",
                "Task stack:     [",
                "of swapper/0[0]",
                "Kernel panic - not syncing: kernel stack overflow",
            ],
        ),
        plain(
            "boot: virt with -dtb (a loader-edited blob with FDT_NOPs)",
            1,
            virt(|o| {
                o.append = Some(args.into());
                o.extra = vec!["-dtb".into(), dumped_virt_dtb()];
            }),
        ),
        smp_boot("smp: virt -smp 1", 1, 1, |_| {}),
        smp_boot("smp: virt -smp 2", 2, 1, |o| o.smp = Some(2)),
        smp_boot("smp: virt -smp 4", 4, 1, |o| o.smp = Some(4)),
        smp_boot("smp: virt -smp 8", 8, 1, |o| o.smp = Some(8)),
        smp_boot("smp: virt -smp 4 at EL2", 4, 2, |o| {
            o.smp = Some(4);
            o.el2 = true;
        }),
        smp_boot("smp: virt -smp 4 with GICv3", 4, 1, |o| {
            o.smp = Some(4);
            o.gic = Some(3);
        }),
        smp_boot("smp: virt -smp 8 at EL2 with GICv3", 8, 2, |o| {
            o.smp = Some(8);
            o.el2 = true;
            o.gic = Some(3);
        }),
        smp_pi_boot("smp: rpi3 (spin-table, BCM2836 mailboxes)", "rpi3", "VIPT"),
        smp_pi_boot("smp: rpi4 (spin-table, GIC-400)", "rpi4", "PIPT"),
        smp_kunit(
            "smp: KUnit smp (cross-CPU calls, IPIs, idle tasks) and arch_timer on -smp 4",
            virt(|o| o.smp = Some(4)),
        ),
        smp_kunit(
            "smp: KUnit smp and arch_timer on -smp 4 with GICv3 (ICC_SGI1R_EL1)",
            virt(|o| {
                o.smp = Some(4);
                o.gic = Some(3);
            }),
        ),
        smp_kunit(
            "smp: KUnit smp and arch_timer on rpi3 (BCM2836 mailbox IPIs)",
            QemuOptions::for_board("rpi3"),
        ),
        smp_limited(
            "smp: maxcpus=2 on -smp 4 starts one secondary",
            "maxcpus=2",
            2,
            vec![],
        ),
        smp_limited(
            "smp: nr_cpus=3 on -smp 4 clips the possible CPUs",
            "nr_cpus=3",
            3,
            vec!["Number of cores (4) exceeds configured maximum of 3 - clipping"],
        ),
        smp_limited("smp: nosmp runs the boot CPU only", "nosmp", 1, vec![]),
        BootTest {
            name: "smp: a CPU that never comes online is reported and boot goes on",
            opts: virt(|o| {
                o.smp = Some(4);
                o.append = Some("cradle.test=boot cradle.smp_fail_cpu=2 show_state".into());
            }),
            stop_at: None,
            must_exit: true,
            expect: vec![
                "CPU1: Booted secondary processor 0x0000000001".into(),
                "CPU2: failed to come online".into(),
                "CPU3: Booted secondary processor 0x0000000003".into(),
                "smp: Brought up 1 node, 3 CPUs".into(),
                "SMP: Total of 3 processors activated.".into(),
                "SMP: stopping secondary CPUs".into(),
                NO_INIT.into(),
            ],
            reject: vec![
                "CPU2: Booted",
                "Oops",
                "Internal error",
                "failed to stop secondary CPUs",
            ],
            memory_kib: None,
            check: None,
        },
        trio(
            "trio: PID 0 swapper, PID 1 kernel_init, PID 2 kthreadd, kthreads under 2",
            None,
        ),
        trio("trio: the same with GICv3", Some(3)),
        crash(
            "oops: NULL pointer dereference (lkdtm EXCEPTION)",
            "EXCEPTION",
            vec![
            "lkdtm: Performing direct entry EXCEPTION",
            "Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000",
            "EC = 0x25: DABT (current EL), IL = 32 bits",
            "Internal error: Oops: 0000000096000044 [#1]",
            "CPU: 0 PID: 0 Comm: swapper/0",
            "pc : cradle::drivers::misc::lkdtm::lkdtm_cpoint+",
            "Call trace:",
            " start_kernel+",
            "Kernel panic - not syncing: Attempted to kill the idle task!",
            "---[ end Kernel panic - not syncing: Attempted to kill the idle task! ]---",
        ],
        ),
        crash(
            "oops: paging request (lkdtm ACCESS_USERSPACE)",
            "ACCESS_USERSPACE",
            vec![
                "Unable to handle kernel paging request at virtual address 0000000010000000",
                "Internal error: Oops:",
                "Kernel panic - not syncing: Attempted to kill the idle task!",
            ],
        ),
        crash(
            "oops: undefined instruction (lkdtm UNDEFINED)",
            "UNDEFINED",
            vec![
                "Internal error: Oops - Undefined instruction: 0000000002000000 [#1]",
                "pc : cradle::drivers::misc::lkdtm::lkdtm_cpoint+",
                "Kernel panic - not syncing: Attempted to kill the idle task!",
            ],
        ),
        crash(
            "oops: BUG (lkdtm BUG)",
            "BUG",
            vec![
                "Internal error: Oops - BRK: 00000000f2000800 [#1]",
                "Kernel panic - not syncing: Attempted to kill the idle task!",
            ],
        ),
        crash(
            "panic: lkdtm PANIC powers QEMU off",
            "PANIC",
            vec![
                "Kernel panic - not syncing: dumptest",
                "Call trace:",
                "---[ end Kernel panic - not syncing: dumptest ]---",
            ],
        ),
        BootTest {
            name: "printk: quiet hides info messages, not the panic",
            opts: virt(|o| o.append = Some("quiet lkdtm.cpoint_type=PANIC".into())),
            stop_at: None,
            must_exit: true,
            expect: vec!["Kernel panic - not syncing: dumptest".into()],
            reject: vec!["Machine model", "Booting Cradle"],
            memory_kib: None,
            check: None,
        },
    ]
}

/// QEMU virt's own device tree, dumped to a file: booting it with `-dtb` makes QEMU edit it
/// the way loaders do (NOPs where properties were removed, padding).
fn dumped_virt_dtb() -> String {
    let path = out_dir().join("virt-dumped.dtb");
    let _ = std::process::Command::new("qemu-system-aarch64")
        .args([
            "-nodefaults",
            "-M",
            &format!("virt,dumpdtb={}", path.display()),
            "-cpu",
            "cortex-a72",
        ])
        .args(["-display", "none"])
        .output();
    path.display().to_string()
}

/// Boot with `show_state` and check the task tree it prints.
fn trio(name: &'static str, gic: Option<u32>) -> BootTest {
    BootTest {
        name,
        opts: virt(|o| {
            o.gic = gic;
            o.append = Some("show_state".into());
        }),
        stop_at: None,
        must_exit: true,
        expect: vec![
            "sysrq: Show State".into(),
            "    0     0 R [swapper/0]".into(),
            "    2     0 S [kthreadd]".into(),
            NO_INIT.into(),
            END_PANIC.into(),
        ],
        reject: vec!["Internal error", "Unhandled"],
        memory_kib: None,
        check: Some(check_task_tree),
    }
}

/// What the boot log says when `cpus` CPUs came up, every one at `el` (Linux's lines), on
/// a CPU with a PIPT I-cache (QEMU's Cortex-A72 and A76).
fn smp_lines(cpus: u32, el: u32) -> Vec<String> {
    smp_lines_icache(cpus, el, "PIPT")
}

/// As [`smp_lines`], with the I-cache kind CTR_EL0 reports (Cortex-A53's is VIPT).
fn smp_lines_icache(cpus: u32, el: u32, icache: &str) -> Vec<String> {
    let mut lines = vec![
        "smp: Bringing up secondary CPUs ...".to_string(),
        format!("Detected {icache} I-cache on CPU0"),
    ];
    for cpu in 1..cpus {
        lines.push(format!("Detected {icache} I-cache on CPU{cpu}"));
        lines.push(format!(
            "CPU{cpu}: Booted secondary processor 0x{cpu:010x} ["
        ));
    }
    let plural = if cpus > 1 { "s" } else { "" };
    lines.push(format!("smp: Brought up 1 node, {cpus} CPU{plural}"));
    lines.push(format!("SMP: Total of {cpus} processors activated."));
    lines.push(format!("CPU: All CPU(s) started at EL{el}"));
    lines
}

/// Boot virt with `cpus` CPUs entering at `el`: every CPU comes online (the lines of
/// [`smp_lines`], one per CPU), each has its idle task `swapper/N` in `show_state`, and
/// the panic at the end stops the others before the machine powers off.
fn smp_boot(name: &'static str, cpus: u32, el: u32, f: impl FnOnce(&mut QemuOptions)) -> BootTest {
    let mut expect = smp_lines(cpus, el);
    for cpu in 0..cpus {
        expect.push(format!("    0     0 R [swapper/{cpu}]"));
    }
    if cpus > 1 {
        expect.push("SMP: stopping secondary CPUs".into());
    }
    expect.push(NO_INIT.into());
    expect.push(END_PANIC.into());
    BootTest {
        name,
        opts: virt(|o| {
            f(o);
            o.append = Some("cradle.test=boot loglevel=7 show_state".into());
        }),
        stop_at: None,
        must_exit: true,
        expect,
        reject: vec![
            "failed to come online",
            "failed to boot",
            "inconsistent modes",
            "failed to stop secondary CPUs",
            "Oops",
            "Internal error",
            "Unhandled",
        ],
        memory_kib: None,
        check: Some(check_cpu_count),
    }
}

/// No CPU may boot twice, and the number of `Booted secondary processor` lines must be
/// what `smp: Brought up` says, less the boot CPU.
fn check_cpu_count(text: &str) -> Result<(), String> {
    let booted = text.matches("Booted secondary processor").count();
    let Some(line) = text
        .lines()
        .find(|l| l.contains("smp: Brought up 1 node, "))
    else {
        return Err("no `smp: Brought up` line".into());
    };
    let n: usize = line
        .split("node, ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("cannot read the CPU count in {line:?}"))?;
    if booted + 1 != n {
        return Err(format!(
            "{booted} secondaries booted, but the log says {n} CPUs"
        ));
    }
    Ok(())
}

/// Boot a Pi board with its four cores (spin-table, entered at EL2) whose I-cache is
/// `icache` (the Pi 3's Cortex-A53: VIPT; the Pi 4's A72: PIPT).
fn smp_pi_boot(name: &'static str, board: &str, icache: &str) -> BootTest {
    let mut opts = QemuOptions::for_board(board);
    opts.append = Some("cradle.test=boot loglevel=7".into());
    let mut expect = smp_lines_icache(4, 2, icache);
    expect.push(NO_INIT.into());
    BootTest {
        name,
        opts,
        stop_at: Some(END_PANIC),
        must_exit: false,
        expect,
        reject: vec![
            "failed to come online",
            "inconsistent modes",
            "Oops",
            "Internal error",
            "Unhandled",
        ],
        memory_kib: None,
        check: Some(check_cpu_count),
    }
}

/// The in-kernel `smp` and `arch_timer` suites on a machine with four CPUs: calls run on
/// every CPU they are sent to, a reschedule IPI reaches every other CPU, each has its idle
/// task, and the tick keeps time with every CPU ticking.
fn smp_kunit(name: &'static str, mut opts: QemuOptions) -> BootTest {
    opts.append =
        Some("kunit.enable=1 kunit.filter_glob=smp,arch_timer kunit_shutdown=poweroff".into());
    BootTest {
        name,
        opts,
        stop_at: None,
        must_exit: true,
        expect: vec![
            "smp: Brought up 1 node, 4 CPUs".into(),
            "    ok 3 call_function_single".into(),
            "    ok 4 reschedule_ipi".into(),
            "ok 1 smp".into(),
            "ok 2 arch_timer".into(),
        ],
        reject: vec!["not ok", "# SKIP", "Oops", "Internal error", "Kernel panic"],
        memory_kib: None,
        check: None,
    }
}

/// virt -smp 4 with a command-line limit: `cpus` CPUs come up.
fn smp_limited(name: &'static str, param: &str, cpus: u32, extra: Vec<&str>) -> BootTest {
    let mut expect = smp_lines(cpus, 1);
    expect.extend(extra.into_iter().map(String::from));
    expect.push(NO_INIT.into());
    BootTest {
        name,
        opts: virt(|o| {
            o.smp = Some(4);
            o.append = Some(format!("cradle.test=boot {param}"));
        }),
        stop_at: None,
        must_exit: true,
        expect,
        reject: vec!["failed to come online", "Oops", "Internal error"],
        memory_kib: None,
        check: Some(check_cpu_count),
    }
}

/// Log in on every CPU count the SMP tests boot and ask user space: `nproc` (which is
/// `sched_getaffinity`), `/proc/cpuinfo` and sysfs's `devices/system/cpu/online` must all
/// say N, and with N CPUs ticking the
/// clock must still run at one second per second (`sleep 2` spans 2 seconds of `date`, or
/// 3 when it straddles a boundary late).
pub(crate) fn smp_login_tests(summary: &mut Summary, image: &Path) {
    use crate::qemu::{run_session, Step};
    use crate::rootfs::{build_rootfs, LOGIN_PROMPT};
    let configs: [(&str, &str, u32, bool, Option<u32>); 4] = [
        ("virt -smp 2", "virt", 2, false, None),
        ("virt -smp 8 at EL2 with GICv3", "virt", 8, true, Some(3)),
        ("rpi3", "rpi3", 4, false, None),
        ("rpi4", "rpi4", 4, false, None),
    ];
    for (label, board, cpus, el2, gic) in configs {
        let verdict = build_rootfs(None).and_then(|initrd| {
            let mut opts = QemuOptions::for_board(board);
            opts.initrd = Some(initrd);
            if board == "virt" {
                opts.smp = Some(cpus);
                opts.el2 = el2;
                opts.gic = gic;
                opts.append = Some("quiet".into());
            } else {
                opts.append = Some("console=ttyS1,115200 quiet".into());
            }
            // rpi3 has no power-off (its watchdog resets): end with the marker line instead.
            let steps = [
                Step::new(LOGIN_PROMPT, "root\r"),
                Step::new(
                    "# ",
                    "echo cpus=$(nproc) procs=$(grep -c ^processor /proc/cpuinfo) \
                     online=$(cat /sys/devices/system/cpu/online)\r",
                ),
                Step::new(
                    "# ",
                    "a=$(date +%s); sleep 2; b=$(date +%s); echo slept=$((b-a)) smp-$((6*7))-done\r",
                ),
            ];
            let t = run_session(
                &opts,
                image,
                &steps,
                "smp-42-done",
                Duration::from_secs(180),
            )?;
            if !t.stopped_at_marker {
                return Err(format!("the session did not finish:\n{}", t.text));
            }
            let want = format!("cpus={cpus} procs={cpus} online=0-{}", cpus - 1);
            if !t.text.contains(&want) {
                return Err(format!("missing {want:?}:\n{}", t.text));
            }
            // Never under 2 s (a sleep that ends early is a timer bug); up to 5 s by the
            // second-grained clock, as a loaded host can hold the vCPUs a second or two
            // (seen: rpi3 at -smp 4 while other QEMUs ran). Longer is a lost wake-up.
            if !(2..=5).any(|s| t.text.contains(&format!("slept={s} smp-42-done"))) {
                return Err(format!("sleep 2 did not take 2 s by date:\n{}", t.text));
            }
            Ok(())
        });
        summary.record(
            &format!("smp: {label}: cradle login:, nproc, /proc/cpuinfo and /sys/devices/system/cpu/online say {cpus}, sleep 2 takes 2 s"),
            verdict,
        );
    }
}

/// The first `show_state` table: PID 1 and 2 are children of PID 0, created in that
/// order; every other task is a kernel thread whose parent is PID 2.
fn check_task_tree(text: &str) -> Result<(), String> {
    let pid1 = text.find("rest_init: kernel_thread(kernel_init) = PID 1");
    let pid2 = text.find("rest_init: kernel_thread(kthreadd) = PID 2");
    match (pid1, pid2) {
        (Some(a), Some(b)) if a < b => {}
        _ => return Err("PID 1 and PID 2 were not created in that order".into()),
    }
    let start = text
        .find("  PID  PPID S COMMAND")
        .ok_or("no show_state table")?;
    let mut rows = Vec::new();
    for line in text[start..].lines().skip(1) {
        let body = line.split_once("] ").map_or(line, |(_, b)| b);
        let fields: Vec<&str> = body.split_whitespace().collect();
        let (Some(pid), Some(ppid)) = (
            fields.first().and_then(|f| f.parse::<i32>().ok()),
            fields.get(1).and_then(|f| f.parse::<i32>().ok()),
        ) else {
            break;
        };
        let comm = fields.get(3).copied().unwrap_or("").to_string();
        rows.push((pid, ppid, comm));
    }
    let find = |pid| rows.iter().find(|r| r.0 == pid);
    match find(1) {
        Some((_, 0, comm)) if comm == "[kernel_init]" => {}
        other => return Err(format!("PID 1 row is {other:?}")),
    }
    match find(2) {
        Some((_, 0, comm)) if comm == "[kthreadd]" => {}
        other => return Err(format!("PID 2 row is {other:?}")),
    }
    let others: Vec<_> = rows.iter().filter(|r| r.0 > 2).collect();
    if others.is_empty() {
        return Err("no kernel threads besides PID 1 and 2".into());
    }
    if !others.iter().any(|r| r.2.starts_with("[kworker/")) {
        return Err(format!("no kworker among {others:?}"));
    }
    for (pid, ppid, comm) in others {
        if *ppid != 2 || !comm.starts_with('[') {
            return Err(format!("PID {pid} {comm} has parent {ppid}, not kthreadd"));
        }
    }
    Ok(())
}

/// Boot with `kunit.enable=1`, parse the KTAP; each case counts, and so does the whole run.
pub(crate) fn kunit_tests(summary: &mut Summary, image: &Path) {
    let opts = virt(|o| o.append = Some("kunit.enable=1 kunit_shutdown=poweroff".into()));
    let transcript = match run_captured(&opts, image, None, Duration::from_secs(300)) {
        Ok(t) => t,
        Err(e) => return summary.record("kunit: boot", Err(e)),
    };
    let log = log_transcript("kunit", &transcript);
    let report = ktap::parse(&transcript.text);
    let totals = report.totals();
    println!(
        "kunit: {} suites; {} passed, {} failed, {} skipped, {} crashed",
        report.suites.len(),
        totals.passed,
        totals.failed,
        totals.skipped,
        totals.crashed
    );
    let mut cases = 0;
    for suite in &report.suites {
        for case in &suite.cases {
            cases += 1;
            let name = format!("kunit: {}.{}", suite.name, case.name);
            match &case.result {
                ktap::TestResult::Ok => summary.record(&name, Ok(())),
                ktap::TestResult::Skip { reason } => summary.skip(&name, reason),
                ktap::TestResult::NotOk => summary.record(&name, Err(case.diagnostics.join("\n"))),
                ktap::TestResult::Crashed => {
                    summary.record(&name, Err(format!("the kernel died in this test ({log})")))
                }
            }
        }
    }
    let whole = if report.complete && cases > 0 && !report.passed() {
        Err("a KUnit suite failed".to_string())
    } else if !report.complete {
        Err(format!(
            "the KTAP output is incomplete ({log}):\n{}",
            transcript.text
        ))
    } else if cases == 0 {
        Err(format!("no KUnit test ran ({log})"))
    } else if !transcript.exited {
        Err("the kernel did not power off after the tests".to_string())
    } else {
        Ok(())
    };
    summary.record("kunit: complete run, plan matched, powered off", whole);
}

/// One configuration of the SMP boot matrix.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SmpBoot {
    /// Board under `boards/`.
    pub board: &'static str,
    /// `-smp`.
    pub cpus: u32,
    /// Enter at EL2 (`virtualization=on`; the Pis always do).
    pub el2: bool,
    /// GIC version on virt (the Pis have theirs).
    pub gic: Option<u32>,
}

impl SmpBoot {
    const fn virt(cpus: u32, el2: bool, gic: u32) -> Self {
        Self {
            board: "virt",
            cpus,
            el2,
            gic: Some(gic),
        }
    }

    const fn pi(board: &'static str) -> Self {
        Self {
            board,
            cpus: 4,
            el2: true,
            gic: None,
        }
    }

    /// The test's name: `smp-matrix: virt -smp 4 EL2 GICv3`.
    pub fn name(&self) -> String {
        match self.gic {
            Some(gic) => format!(
                "smp-matrix: {} -smp {} EL{} GICv{gic}",
                self.board,
                self.cpus,
                if self.el2 { 2 } else { 1 }
            ),
            None => format!("smp-matrix: {} -smp {}", self.board, self.cpus),
        }
    }
}

/// The boot matrix `cargo xtask test` runs: a covering set of virt's -smp 1, 2, 4, 8 × EL1/EL2
/// × GICv2/GICv3 (every pair of values of two of the three appears in some row), and the
/// Pis (4 cores each). [`SMP_MATRIX_FULL`] has all sixteen virt rows.
pub(crate) const SMP_MATRIX: &[SmpBoot] = &[
    SmpBoot::virt(1, false, 2),
    SmpBoot::virt(1, true, 3),
    SmpBoot::virt(2, false, 3),
    SmpBoot::virt(2, true, 2),
    SmpBoot::virt(4, false, 3),
    SmpBoot::virt(4, true, 2),
    SmpBoot::virt(8, false, 2),
    SmpBoot::virt(8, true, 3),
    SmpBoot::pi("rpi3"),
    SmpBoot::pi("rpi4"),
];

/// Every virt combination (`cargo xtask test --only smp-matrix-full`).
pub(crate) const SMP_MATRIX_FULL: &[SmpBoot] = &[
    SmpBoot::virt(1, false, 2),
    SmpBoot::virt(1, false, 3),
    SmpBoot::virt(1, true, 2),
    SmpBoot::virt(1, true, 3),
    SmpBoot::virt(2, false, 2),
    SmpBoot::virt(2, false, 3),
    SmpBoot::virt(2, true, 2),
    SmpBoot::virt(2, true, 3),
    SmpBoot::virt(4, false, 2),
    SmpBoot::virt(4, false, 3),
    SmpBoot::virt(4, true, 2),
    SmpBoot::virt(4, true, 3),
    SmpBoot::virt(8, false, 2),
    SmpBoot::virt(8, false, 3),
    SmpBoot::virt(8, true, 2),
    SmpBoot::virt(8, true, 3),
];

/// Boot `boot` with the default root file system, log in as root at `cradle login:`, ask
/// `nproc` and `/proc/cpuinfo`, power off; then judge the boot log as Linux prints it.
pub(crate) fn smp_boot_test(boot: &SmpBoot, image: &Path) -> Result<(), String> {
    use crate::qemu::{run_session, Step};
    let initrd = crate::rootfs::build_rootfs(None)?;
    let mut opts = QemuOptions::for_board(boot.board);
    opts.smp = Some(boot.cpus);
    opts.el2 = boot.el2 && boot.board == "virt";
    opts.gic = boot.gic;
    opts.initrd = Some(initrd);
    if boot.board != "virt" {
        opts.append = Some("console=ttyS1,115200".into());
    }
    let steps = [
        Step::new(crate::rootfs::LOGIN_PROMPT, "root\r"),
        Step::new(
            "# ",
            "echo nproc=$(nproc) cpuinfo=$(grep -c ^processor /proc/cpuinfo); poweroff\r",
        ),
    ];
    let end = "Requesting system poweroff";
    // Up to 8 QEMU threads on the host's few cores: a generous limit.
    let t = run_session(&opts, image, &steps, end, Duration::from_secs(300))?;
    let log = log_transcript(&boot.name(), &t);
    let problems = check_smp_boot(&t.text, boot);
    match (problems.is_empty(), t.stopped_at_marker) {
        (true, true) => Ok(()),
        (_, stopped) => {
            let mut problems = problems;
            if !stopped {
                problems.push("the session did not reach poweroff".into());
            }
            Err(format!(
                "{}\ntranscript ({log}):\n{}",
                problems.join("\n"),
                t.text
            ))
        }
    }
}

/// What an SMP boot's transcript must show, as Linux arm64 prints it; the problems found.
pub(crate) fn check_smp_boot(text: &str, boot: &SmpBoot) -> Vec<String> {
    let n = boot.cpus;
    let mut problems = Vec::new();
    let booted = text
        .lines()
        .filter(|l| {
            l.split_once(": Booted secondary processor 0x")
                .and_then(|(head, _)| head.rsplit_once("CPU"))
                .is_some_and(|(_, cpu)| cpu.parse::<u32>().is_ok_and(|c| c > 0 && c < n))
        })
        .count();
    if booted != n as usize - 1 {
        problems.push(format!(
            "{booted} 'CPUk: Booted secondary processor' lines, not {}",
            n - 1
        ));
    }
    let brought_up = format!(
        "smp: Brought up 1 node, {n} CPU{}",
        if n > 1 { "s" } else { "" }
    );
    let el = if boot.el2 { 2 } else { 1 };
    for want in [
        brought_up,
        format!("CPU: All CPU(s) started at EL{el}"),
        format!("nproc={n} cpuinfo={n}\n"),
    ] {
        if !text.contains(&want) {
            problems.push(format!("missing: {want}"));
        }
    }
    for unwanted in [
        "failed to come online",
        "Internal error",
        "Kernel panic",
        "Unhandled",
    ] {
        if text.contains(unwanted) {
            problems.push(format!("unexpected: {unwanted}"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(cpus: u32, el: u32) -> String {
        let mut t = String::from("[    0.000000] smp: Bringing up secondary CPUs ...\n");
        for cpu in 1..cpus {
            t.push_str(&format!(
                "[    0.01] CPU{cpu}: Booted secondary processor 0x000000000{cpu} [0x410fd083]\n"
            ));
        }
        let s = if cpus > 1 { "s" } else { "" };
        t.push_str(&format!(
            "[    0.02] smp: Brought up 1 node, {cpus} CPU{s}\n\
             [    0.02] CPU: All CPU(s) started at EL{el}\n\
             cradle login: root\n# echo ...\nnproc={cpus} cpuinfo={cpus}\n"
        ));
        t
    }

    #[test]
    fn a_good_smp_boot_passes() {
        for boot in SMP_MATRIX.iter().chain(SMP_MATRIX_FULL) {
            let el = if boot.el2 { 2 } else { 1 };
            let problems = check_smp_boot(&transcript(boot.cpus, el), boot);
            assert!(problems.is_empty(), "{}: {problems:?}", boot.name());
        }
    }

    #[test]
    fn a_missing_cpu_or_wrong_count_fails() {
        let boot = SmpBoot::virt(4, true, 3);
        let good = transcript(4, 2);
        let missing = good.replace("CPU3: Booted secondary processor", "CPU3: hmm");
        assert_eq!(check_smp_boot(&missing, &boot).len(), 1);
        let nproc = good.replace("nproc=4 cpuinfo=4", "nproc=1 cpuinfo=4");
        assert_eq!(check_smp_boot(&nproc, &boot).len(), 1);
        let el = good.replace("started at EL2", "started at EL1");
        assert_eq!(check_smp_boot(&el, &boot).len(), 1);
        let failed = format!("{good}CPU2: failed to come online\n");
        assert_eq!(check_smp_boot(&failed, &boot).len(), 1);
        // A one-CPU boot says "1 CPU", not "1 CPUs", and has no secondary lines.
        let one = SmpBoot::virt(1, false, 2);
        assert!(check_smp_boot(&transcript(1, 1), &one).is_empty());
        assert!(!check_smp_boot(&transcript(2, 1), &one).is_empty());
    }

    #[test]
    fn the_matrix_covers_every_pair() {
        let virt: Vec<_> = SMP_MATRIX.iter().filter(|b| b.board == "virt").collect();
        for cpus in [1, 2, 4, 8] {
            for el2 in [false, true] {
                assert!(virt.iter().any(|b| b.cpus == cpus && b.el2 == el2));
            }
            for gic in [2, 3] {
                assert!(virt.iter().any(|b| b.cpus == cpus && b.gic == Some(gic)));
            }
        }
        for el2 in [false, true] {
            for gic in [2, 3] {
                assert!(virt.iter().any(|b| b.el2 == el2 && b.gic == Some(gic)));
            }
        }
        assert!(SMP_MATRIX.iter().any(|b| b.board == "rpi3"));
        assert!(SMP_MATRIX.iter().any(|b| b.board == "rpi4"));
        assert_eq!(SMP_MATRIX_FULL.len(), 16);
    }
}
