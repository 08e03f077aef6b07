//! `cargo xtask bench`: the same static arm64 benchmark on Cradle and on Debian's arm64
//! Linux, in the same QEMU configuration, as one table of per-operation costs.
//!
//! The programs live in `user/bench/` (a directory of their own, so the `user` test group,
//! which runs every `user/*.c` under qemu-aarch64 as a TAP test, leaves them alone):
//!
//! - `init.c`: a freestanding `/init` whose first instruction reads CNTVCT_EL0 (the boot
//!   figure), then runs `/bench` and powers off as PID 1's last act;
//! - `bench.c`: the metrics, one line `bench: <metric> <cost>` each (see its header);
//! - `noop.c`: the freestanding do-nothing program `fork_exec` runs (a tiny binary);
//! - `glibc_true.c`: a 700 KB static glibc program for `fork_exec_glibc`;
//! - Debian's static busybox (2 MB) as `/bin/busybox`, with links for the applets the shell
//!   workload uses, for `fork_exec_busybox`, `shell_pipeline` and `idle_kib` (memory per
//!   idle process, in KiB: the one row that is not a time).
//!
//! Both kernels boot the same initramfs in `-M virt -cpu cortex-a72 -smp 1 -m 512M` with
//! `-icount shift=0,align=off,sleep=off`: each guest instruction is 1 ns of virtual time,
//! and the virtual counter runs at CNTFRQ_EL0 of that time. On cortex-a72 CNTFRQ is
//! 62.5 MHz, so one counter tick is 16 instructions (not one: the program measures this,
//! `bench: per_1000_instructions 62.5`). The figures are ticks × 10⁹ / CNTFRQ, i.e.
//! instructions, and they repeat. `--tcg` runs without `-icount` and times in nanoseconds
//! (CLOCK_MONOTONIC; boot: counter × 10⁹ / CNTFRQ). Each figure is the median of `--runs N`
//! boots (default 5) of each kernel.
//!
//! The `-smp 4` column (unless `--no-smp`): the same boots again with `-smp 4`, `-icount`
//! included. QEMU then runs the vCPUs in turn in one thread (round-robin TCG), and virtual
//! time advances by the instructions of every vCPU (a halted one adds nothing), so a
//! figure is the instructions of all four CPUs together per operation: the work the machine
//! does, IPIs, idle wake-ups and lock spinning included, not a parallel speed-up, which
//! `-icount` cannot show. `parallel_per_1000_instructions` (four processes running the
//! calibration loop at once) checks this on every boot: the same figure as one process
//! (plus the forks) on 1 CPU and on 4. The throughput rows `fork_exit_x4` and
//! `pipe_pingpong_x2` run work side by side; their figure is the elapsed time over all the
//! operations; with `--tcg` (multi-threaded TCG, a host thread per vCPU) it is wall-clock ns,
//! whose inverse is operations per second across the CPUs.
//!
//! The Linux kernel is Debian's `linux-image-arm64` (its dependency
//! `linux-image-6.1.0-*-arm64`), fetched once with `apt-get download` and unpacked under
//! `target/cradle/linux/`; its `boot/vmlinuz-*` is an uncompressed arm64 Image.
//!
//! Results go to `target/cradle/bench/`: `results.{json,svg,md}` (`results-tcg.*` with
//! `--tcg`; the SVG is a bar chart of Cradle/Linux) and the transcript of every boot. Benchmarks are read, never asserted:
//! the smoke test in `cargo xtask test` only checks that the program runs on Cradle and its
//! output parses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::env::{ensure_cross_cc, ensure_qemu, out_dir, project_root, CROSS_CC};
use crate::harness::Summary;
use crate::initramfs::{write_newc, Entry, Source};
use crate::qemu::{run_captured, QemuOptions};

/// The metrics, in table order, with what each one measures.
pub const METRICS: [(&str, &str); 18] = [
    ("boot", "counter at /init's first instruction"),
    ("null_syscall", "syscall(SYS_getpid)"),
    ("fork_exit", "fork + _exit + waitpid"),
    (
        "fork_exec",
        "fork + execve(tiny freestanding no-op, 1 page) + waitpid",
    ),
    ("pipe_pingpong", "pipe round trip between two processes"),
    ("mmap_page", "mmap 1 MiB + touch + munmap, per 4 KiB page"),
    (
        "open_read_close",
        "open + read 512 B + close (initramfs file)",
    ),
    (
        "ctxsw_yield",
        "sched_yield between two processes, per switch",
    ),
    (
        "fork_exec_busybox",
        "fork + execve(Debian's static busybox, 2 MB, as true) + waitpid",
    ),
    (
        "fork_exec_glibc",
        "fork + execve(static glibc program, 700 KB) + waitpid",
    ),
    (
        "shell_pipeline",
        "busybox sh loop: echo x, piped to sed and grep, then expr; per iteration (4 processes)",
    ),
    (
        "idle_kib",
        "free memory per idle busybox sleep, 20 of them (KiB, not instructions)",
    ),
    (
        "futex_pingpong",
        "FUTEX_WAIT/FUTEX_WAKE round trip between two threads",
    ),
    ("thread_create_join", "pthread_create + pthread_join"),
    (
        "fork_exec_dynamic",
        "fork + execve(Debian's dynamic /usr/bin/true: ld.so, libc) + waitpid",
    ),
    ("clock_gettime", "clock_gettime(CLOCK_MONOTONIC) (the vDSO)"),
    (
        "fork_exit_x4",
        "4 processes at once, each fork + _exit + waitpid; per fork of all 4",
    ),
    (
        "pipe_pingpong_x2",
        "2 pipe ping-pong pairs at once, a CPU per process (-smp 4); per round trip",
    ),
];

/// CPUs of the `-smp 4` column.
const SMP_CPUS: u32 = 4;

/// Metrics that are amounts of memory in KiB, not times: never converted.
fn is_memory_metric(name: &str) -> bool {
    name.ends_with("_kib")
}

/// Linux's command line for the benchmark (Cradle gets the same).
pub const CMDLINE: &str =
    "console=ttyAMA0 nokaslr mitigations=off randomize_kstack_offset=off quiet";

/// QEMU's instruction counting: one counter tick per guest instruction.
pub const ICOUNT: &str = "shift=0,align=off,sleep=off";

/// How long one boot may take.
const BOOT_LIMIT: Duration = Duration::from_secs(600);

/// The benchmark's programs, built.
struct Programs {
    init: PathBuf,
    bench: PathBuf,
    noop: PathBuf,
    glibc_true: PathBuf,
    busybox: PathBuf,
}

fn source_dir() -> PathBuf {
    project_root().join("user").join("bench")
}

fn bench_dir() -> PathBuf {
    out_dir().join("bench")
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Compile `user/bench/<name>.c` (when out of date) with `flags`.
fn compile(name: &str, flags: &[&str]) -> Result<PathBuf, String> {
    let source = source_dir().join(format!("{name}.c"));
    let binary = bench_dir().join("bin").join(name);
    std::fs::create_dir_all(binary.parent().expect("has a parent")).map_err(|e| e.to_string())?;
    if matches!((modified(&binary), modified(&source)), (Some(b), Some(s)) if b >= s) {
        return Ok(binary);
    }
    eprintln!("xtask: {CROSS_CC} {}", source.display());
    let out = Command::new(CROSS_CC)
        .args(["-static", "-O2", "-Wall", "-Werror"])
        .args(flags)
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .output()
        .map_err(|e| format!("cannot run {CROSS_CC}: {e}"))?;
    if out.status.success() {
        Ok(binary)
    } else {
        let _ = std::fs::remove_file(&binary);
        Err(format!(
            "{CROSS_CC} failed on {}:\n{}{}",
            source.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn build_programs() -> Result<Programs, String> {
    ensure_cross_cc()?;
    let freestanding = ["-nostdlib", "-ffreestanding", "-fno-stack-protector"];
    Ok(Programs {
        init: compile("init", &freestanding)?,
        bench: compile("bench", &["-pthread"])?,
        noop: compile("noop", &freestanding)?,
        glibc_true: compile("glibc_true", &[])?,
        busybox: crate::busybox::fetch_busybox()?,
    })
}

/// The 4 KiB file `open_read_close` reads.
fn data_file() -> Vec<u8> {
    (0..4096u32).map(|i| (i * 7 + 3) as u8).collect()
}

/// Write the benchmark's initramfs: `/init`, `/bench`, `/noop`, `/etc/bench.dat`,
/// `/dev/console`, and Debian's dynamically linked `/usr/bin/true` with what it loads
/// (`/lib/ld-linux-aarch64.so.1`, `libc.so.6`, `/etc/ld.so.cache`).
fn build_initramfs(programs: &Programs) -> Result<PathBuf, String> {
    let debian = crate::debian_rootfs::fetch_debian_root()?;
    let multiarch = "usr/lib/aarch64-linux-gnu";
    let mut entries = vec![
        Entry::new(
            "/usr/bin/true",
            Source::File(debian.join("usr/bin/true")),
            0o755,
        ),
        Entry::new(
            &format!("/{multiarch}/ld-linux-aarch64.so.1"),
            Source::File(debian.join(multiarch).join("ld-linux-aarch64.so.1")),
            0o755,
        ),
        Entry::new(
            &format!("/{multiarch}/libc.so.6"),
            Source::File(debian.join(multiarch).join("libc.so.6")),
            0o755,
        ),
        Entry::new("/lib", Source::Symlink("usr/lib".into()), 0o777),
        Entry::new(
            "/usr/lib/ld-linux-aarch64.so.1",
            Source::Symlink(format!("/{multiarch}/ld-linux-aarch64.so.1")),
            0o777,
        ),
    ];
    entries.extend([
        Entry::new("/dev", Source::Dir, 0o755),
        Entry::new(
            "/dev/console",
            Source::CharDev { major: 5, minor: 1 },
            0o600,
        ),
        Entry::new("/etc", Source::Dir, 0o755),
        Entry::new("/etc/bench.dat", Source::Bytes(data_file()), 0o644),
        Entry::new(
            "/etc/ld.so.cache",
            Source::File(debian.join("etc/ld.so.cache")),
            0o644,
        ),
        Entry::new("/tmp", Source::Dir, 0o1777),
        Entry::new("/init", Source::File(programs.init.clone()), 0o755),
        Entry::new("/bench", Source::File(programs.bench.clone()), 0o755),
        Entry::new("/noop", Source::File(programs.noop.clone()), 0o755),
        Entry::new(
            "/glibc_true",
            Source::File(programs.glibc_true.clone()),
            0o755,
        ),
        Entry::new("/proc", Source::Dir, 0o555),
        Entry::new("/bin", Source::Dir, 0o755),
        Entry::new(
            "/bin/busybox",
            Source::File(programs.busybox.clone()),
            0o755,
        ),
        Entry::new("/bin/sh", Source::Symlink("/bin/busybox".into()), 0o777),
        Entry::new("/bin/sed", Source::Symlink("/bin/busybox".into()), 0o777),
        Entry::new("/bin/grep", Source::Symlink("/bin/busybox".into()), 0o777),
        Entry::new("/bin/expr", Source::Symlink("/bin/busybox".into()), 0o777),
        Entry::new("/bin/sleep", Source::Symlink("/bin/busybox".into()), 0o777),
        Entry::new("/bin/true", Source::Symlink("/bin/busybox".into()), 0o777),
    ]);
    let path = bench_dir().join("initramfs-bench.cpio");
    std::fs::write(&path, write_newc(&entries)?).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Build the benchmark's programs and initramfs (for `cargo xtask profile`).
pub fn build_bench_initramfs() -> Result<PathBuf, String> {
    std::fs::create_dir_all(bench_dir()).map_err(|e| e.to_string())?;
    build_initramfs(&build_programs()?)
}

/// Debian's arm64 Linux kernel.
struct Linux {
    image: PathBuf,
    /// e.g. `6.1.0-56-arm64 (linux-image-6.1.0-56-arm64_6.1.192-2_arm64.deb)`.
    version: String,
}

/// The first `boot/vmlinuz-*` under `dir`.
fn find_vmlinuz(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join("boot"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Debian's arm64 Linux Image, downloaded and unpacked the first time.
fn fetch_linux() -> Result<Linux, String> {
    let dir = out_dir().join("linux");
    let version_file = dir.join("VERSION");
    if let (Some(image), Ok(version)) = (find_vmlinuz(&dir), std::fs::read_to_string(&version_file))
    {
        return Ok(Linux {
            image,
            version: version.trim().to_string(),
        });
    }
    let how = "needs Debian's arm64 Linux kernel. As root on Debian:\n  \
               dpkg --add-architecture arm64 && apt-get update\n  \
               apt-cache depends linux-image-arm64:arm64   # names linux-image-6.1.0-NN-arm64\n  \
               apt-get download linux-image-6.1.0-NN-arm64:arm64\n  \
               dpkg-deb -x linux-image-6.1.0-NN-arm64_*_arm64.deb target/cradle/linux\n  \
               echo 6.1.0-NN-arm64 > target/cradle/linux/VERSION";
    crate::debian::ensure_arm64_arch().map_err(|e| format!("{e}\n{how}"))?;
    // linux-image-arm64 is a metapackage; the kernel is in the package it depends on.
    let package = crate::debian::linux_image_package().map_err(|e| format!("{e}\n{how}"))?;
    let deb = crate::debian::download(&format!("{package}:arm64"), &format!("{package}_"))
        .map_err(|e| format!("{e}\n{how}"))?;
    eprintln!("xtask: unpacking {} into {}", deb.display(), dir.display());
    crate::debian::unpack(&deb, &dir)?;
    let image =
        find_vmlinuz(&dir).ok_or_else(|| format!("{} has no boot/vmlinuz-*", deb.display()))?;
    let release = image
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_start_matches("vmlinuz-")
                .to_string()
        })
        .unwrap_or_default();
    let deb_name = deb
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let version = format!("{release} ({deb_name})");
    std::fs::write(&version_file, format!("{version}\n")).map_err(|e| e.to_string())?;
    Ok(Linux { image, version })
}

/// Debian's arm64 Linux Image (fetched the first time), checked to be one QEMU can boot;
/// the busybox differential test boots it too.
pub(crate) fn linux_image() -> Result<PathBuf, String> {
    let linux = fetch_linux()?;
    check_arm64_image(&linux.image)?;
    Ok(linux.image)
}

/// Check the arm64 Image header's magic ("ARM\x64" at 0x38): QEMU boots only that directly.
fn check_arm64_image(image: &Path) -> Result<(), String> {
    let bytes = std::fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
    if bytes.len() > 0x3c && &bytes[0x38..0x3c] == b"ARM\x64" {
        Ok(())
    } else {
        Err(format!(
            "{} is not an uncompressed arm64 Image",
            image.display()
        ))
    }
}

/// One boot's figures: metric → cost, plus the metrics that reported FAILED.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Parsed {
    /// `ticks` or `ns`, as the program said.
    pub unit: Option<String>,
    /// CNTFRQ_EL0 as `/init` read it.
    pub cntfrq: Option<u64>,
    /// Timer units 1000 instructions took (the program's calibration loop).
    pub per_1000_instructions: Option<f64>,
    /// Timer units per 1000 instructions of 4 processes running the loop at once.
    pub parallel_per_1000_instructions: Option<f64>,
    /// Online CPUs, as the program counted them.
    pub cpus: Option<u32>,
    /// metric → cost per operation (boot: the raw counter value).
    pub values: BTreeMap<String, f64>,
    /// metric → why it failed.
    pub failed: BTreeMap<String, String>,
    /// `bench: done` was printed.
    pub done: bool,
    /// How `/bench` ended, as `/init` reported it.
    pub exit: Option<String>,
}

/// Read the `bench: ...` lines of a serial transcript.
pub fn parse_transcript(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for line in text.lines() {
        // A kernel message may share the line; the benchmark's own text starts at "bench: ".
        let Some(at) = line.find("bench: ") else {
            continue;
        };
        let rest = &line[at + "bench: ".len()..];
        let (key, value) = rest.split_once(' ').unwrap_or((rest, ""));
        match key {
            "done" => parsed.done = true,
            "unit" => parsed.unit = Some(value.trim().to_string()),
            "cntfrq" => parsed.cntfrq = value.trim().parse().ok(),
            "per_1000_instructions" => parsed.per_1000_instructions = value.trim().parse().ok(),
            "parallel_per_1000_instructions" => {
                parsed.parallel_per_1000_instructions = value.trim().parse().ok()
            }
            "cpus" => parsed.cpus = value.trim().parse().ok(),
            "init:" => {
                if let Some(how) = value.strip_prefix("/bench ") {
                    parsed.exit = Some(how.trim().to_string());
                }
            }
            _ if METRICS.iter().any(|(m, _)| *m == key) => {
                if let Some(why) = value.strip_prefix("FAILED") {
                    parsed
                        .failed
                        .insert(key.to_string(), why.trim().to_string());
                } else if let Ok(v) = value.trim().parse::<f64>() {
                    parsed.values.insert(key.to_string(), v);
                }
            }
            _ => {}
        }
    }
    parsed
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// How to run the benchmark.
#[derive(Debug, Clone)]
struct Config {
    runs: usize,
    tcg: bool,
    /// Every timed loop's iteration count (None: the program's defaults).
    iters: Option<u64>,
    cradle_only: bool,
    /// Run this metric alone (the program's `only=METRIC`).
    only: Option<String>,
    /// Also boot each kernel with [`SMP_CPUS`] CPUs (the -smp 4 column).
    smp: bool,
}

fn qemu_options(cfg: &Config, initrd: &Path, cpus: u32) -> QemuOptions {
    let mut opts = QemuOptions::for_board("virt");
    opts.smp = Some(cpus);
    opts.mem = Some("512M".into());
    opts.initrd = Some(initrd.to_path_buf());
    let mut init_args = Vec::new();
    if cfg.tcg {
        init_args.push("tcg".to_string());
    }
    if let Some(n) = cfg.iters {
        init_args.push(format!("iters={n}"));
    }
    if let Some(metric) = &cfg.only {
        init_args.push(format!("only={metric}"));
    }
    opts.append = Some(if init_args.is_empty() {
        CMDLINE.to_string()
    } else {
        format!("{CMDLINE} -- {}", init_args.join(" "))
    });
    if !cfg.tcg {
        opts.extra = vec!["-icount".into(), ICOUNT.into()];
    }
    opts
}

/// Boot `image` once and read the figures; the transcript is kept as `log`.
fn boot_once(opts: &QemuOptions, image: &Path, log: &Path) -> Result<Parsed, String> {
    let t = run_captured(opts, image, None, BOOT_LIMIT)?;
    let _ = std::fs::write(log, &t.text);
    let parsed = parse_transcript(&t.text);
    if !t.exited {
        return Err(format!(
            "QEMU did not power off within {} s (transcript: {})",
            BOOT_LIMIT.as_secs(),
            log.display()
        ));
    }
    if !parsed.done && parsed.values.is_empty() {
        let tail: Vec<&str> = t.text.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "the benchmark printed no figures (transcript: {}); its end:\n{}",
            log.display(),
            tail.join("\n")
        ));
    }
    Ok(parsed)
}

/// One kernel's results over all its runs.
#[derive(Debug, Default)]
struct KernelResults {
    runs: Vec<Parsed>,
}

impl KernelResults {
    /// Median of metric `name` over the runs that reported it. Counter ticks become ns of
    /// virtual time (× 10⁹ / CNTFRQ), which under -icount shift=0 are instructions: the
    /// boot figure always, the others unless TCG mode measured them in ns already.
    fn median(&self, name: &str, tcg: bool) -> Option<f64> {
        let values: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|p| {
                let v = *p.values.get(name)?;
                if is_memory_metric(name) {
                    Some(v)
                } else if name == "boot" || !tcg {
                    let f = p.cntfrq.filter(|f| *f > 0)? as f64;
                    Some(v * 1e9 / f)
                } else {
                    Some(v)
                }
            })
            .collect();
        median(&values)
    }

    /// The calibration loop's figure in each run (timer units per 1000 instructions).
    fn calibration(&self) -> Vec<f64> {
        self.runs
            .iter()
            .filter_map(|p| p.per_1000_instructions)
            .collect()
    }

    /// The parallel calibration's figure in each run (4 processes at once).
    fn parallel_calibration(&self) -> Vec<f64> {
        self.runs
            .iter()
            .filter_map(|p| p.parallel_per_1000_instructions)
            .collect()
    }

    fn failures(&self) -> BTreeMap<String, String> {
        let mut all = BTreeMap::new();
        for p in &self.runs {
            for (k, v) in &p.failed {
                all.entry(k.clone()).or_insert_with(|| v.clone());
            }
            if !p.done {
                all.entry("(run)".into())
                    .or_insert_with(|| "bench: done never printed".to_string());
            }
        }
        all
    }
}

fn run_kernel(
    label: &str,
    image: &Path,
    cfg: &Config,
    initrd: &Path,
    cpus: u32,
) -> Result<KernelResults, String> {
    let opts = qemu_options(cfg, initrd, cpus);
    let label = match cpus {
        1 => label.to_string(),
        n => format!("{label}-smp{n}"),
    };
    let mut results = KernelResults::default();
    for i in 0..cfg.runs {
        eprintln!("xtask: bench: {label}, run {} of {}", i + 1, cfg.runs);
        let log = bench_dir().join(format!("{label}-run{}.log", i + 1));
        let parsed = boot_once(&opts, image, &log)?;
        if let Some(exit) = &parsed.exit {
            if exit != "exited with status 0" {
                eprintln!("xtask: bench: {label}: /bench {exit} ({})", log.display());
            }
        }
        results.runs.push(parsed);
    }
    Ok(results)
}

fn format_value(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
    }
}

/// A table row: metric, Linux, Cradle, ratio; and the same with -smp 4.
struct Row {
    metric: &'static str,
    what: &'static str,
    linux: Option<f64>,
    cradle: Option<f64>,
    /// Linux with [`SMP_CPUS`] CPUs (None: not run).
    linux_smp: Option<f64>,
    /// Cradle with [`SMP_CPUS`] CPUs.
    cradle_smp: Option<f64>,
}

/// Cradle / Linux, when both are there.
fn ratio_of(linux: Option<f64>, cradle: Option<f64>) -> Option<f64> {
    match (linux, cradle) {
        (Some(l), Some(c)) if l > 0.0 => Some(c / l),
        _ => None,
    }
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        ratio_of(self.linux, self.cradle)
    }

    fn ratio_smp(&self) -> Option<f64> {
        ratio_of(self.linux_smp, self.cradle_smp)
    }
}

fn unit_name(tcg: bool) -> &'static str {
    if tcg {
        "ns (TCG, no -icount; CLOCK_MONOTONIC, boot from CNTVCT/CNTFRQ)"
    } else {
        "instructions (-icount shift=0: CNTVCT_EL0 ticks x 10^9 / CNTFRQ)"
    }
}

/// The table as Markdown.
fn table(rows: &[Row], cfg: &Config) -> String {
    let unit = if cfg.tcg { "ns" } else { "instructions" };
    let mut t = format!("| metric ({unit} per operation) | Linux | Cradle | Cradle/Linux |");
    if cfg.smp {
        t.push_str(&format!(
            " Linux -smp {SMP_CPUS} | Cradle -smp {SMP_CPUS} | Cradle/Linux -smp {SMP_CPUS} |"
        ));
    }
    t.push_str("\n|---|---:|---:|---:|");
    if cfg.smp {
        t.push_str("---:|---:|---:|");
    }
    t.push('\n');
    for r in rows {
        let ratio = r.ratio().map_or("-".into(), format_ratio);
        t.push_str(&format!(
            "| {} — {} | {} | {} | {} |",
            r.metric,
            r.what,
            format_value(r.linux),
            format_value(r.cradle),
            ratio
        ));
        if cfg.smp {
            t.push_str(&format!(
                " {} | {} | {} |",
                format_value(r.linux_smp),
                format_value(r.cradle_smp),
                r.ratio_smp().map_or("-".into(), format_ratio)
            ));
        }
        t.push('\n');
    }
    t
}

/// Two decimals, or three significant digits for ratios below 0.1 (boot).
fn format_ratio(x: f64) -> String {
    if x < 0.1 {
        format!("{x:.2e}")
    } else {
        format!("{x:.2}")
    }
}

fn json_number(v: Option<f64>) -> String {
    v.map_or("null".into(), |v| format!("{v:.3}"))
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn to_json(rows: &[Row], cfg: &Config, linux_version: &str, failures: &[String]) -> String {
    let mut j = String::from("{\n");
    j.push_str(&format!(
        "  \"unit\": {},\n  \"mode\": {},\n  \"runs\": {},\n  \"linux\": {},\n",
        json_string(unit_name(cfg.tcg)),
        json_string(if cfg.tcg { "tcg" } else { "icount" }),
        cfg.runs,
        json_string(linux_version)
    ));
    j.push_str(&format!(
        "  \"qemu\": {},\n  \"cmdline\": {},\n",
        json_string(&format!(
            "-M virt -cpu cortex-a72 -smp 1 -m 512M{}",
            if cfg.tcg {
                String::new()
            } else {
                format!(" -icount {ICOUNT}")
            }
        )),
        json_string(CMDLINE)
    ));
    j.push_str("  \"failures\": [");
    j.push_str(
        &failures
            .iter()
            .map(|f| json_string(f))
            .collect::<Vec<_>>()
            .join(", "),
    );
    j.push_str("],\n  \"metrics\": [\n");
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "    {{\"metric\": {}, \"what\": {}, \"linux\": {}, \"cradle\": {}, \"ratio\": {}, \
                 \"linux_smp{SMP_CPUS}\": {}, \"cradle_smp{SMP_CPUS}\": {}, \"ratio_smp{SMP_CPUS}\": {}}}",
                json_string(r.metric),
                json_string(r.what),
                json_number(r.linux),
                json_number(r.cradle),
                json_number(r.ratio()),
                json_number(r.linux_smp),
                json_number(r.cradle_smp),
                json_number(r.ratio_smp())
            )
        })
        .collect();
    j.push_str(&items.join(",\n"));
    j.push_str("\n  ]\n}\n");
    j
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart of Cradle/Linux per metric on a log scale, with the 1.0 line.
fn to_svg(rows: &[Row], cfg: &Config) -> String {
    let (left, width, bar_h, gap, top) = (170.0, 460.0, 22.0, 10.0, 50.0);
    // Log scale from 1/100 to 10 (clamped).
    let (lo, hi) = (-2.0f64, 1.0f64);
    let x_of = |ratio: f64| {
        let l = ratio.max(1e-9).log10().clamp(lo, hi);
        left + (l - lo) / (hi - lo) * width
    };
    let height = top + rows.len() as f64 * (bar_h + gap) + 40.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n",
        w = left + width + 90.0
    );
    s.push_str(&format!(
        "<text x=\"10\" y=\"20\" font-size=\"14\">Cradle / Linux ({}, median of {} runs; \
         shorter is faster for Cradle)</text>\n",
        if cfg.tcg {
            "ns, TCG"
        } else {
            "instructions, -icount"
        },
        cfg.runs
    ));
    for tick in [0.01, 0.1, 0.5, 1.0, 2.0, 10.0] {
        let x = x_of(tick);
        let stroke = if tick == 1.0 { "#000" } else { "#ccc" };
        s.push_str(&format!(
            "<line x1=\"{x:.1}\" y1=\"{y1}\" x2=\"{x:.1}\" y2=\"{y2}\" stroke=\"{stroke}\"/>\n\
             <text x=\"{x:.1}\" y=\"{ty}\" text-anchor=\"middle\">{tick}×</text>\n",
            y1 = top - 8.0,
            y2 = height - 30.0,
            ty = height - 15.0
        ));
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + i as f64 * (bar_h + gap);
        s.push_str(&format!(
            "<text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{}</text>\n",
            xml_escape(r.metric),
            tx = left - 8.0,
            ty = y + bar_h * 0.7
        ));
        let Some(ratio) = r.ratio() else {
            s.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{ty:.1}\">no figure</text>\n",
                x = x_of(1.0) + 4.0,
                ty = y + bar_h * 0.7
            ));
            continue;
        };
        let (x1, x2) = (x_of(1.0), x_of(ratio));
        let color = if ratio <= 1.0 { "#4a90d9" } else { "#d9534f" };
        s.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar_h}\" fill=\"{color}\"/>\n\
             <text x=\"{lx:.1}\" y=\"{ty:.1}\">{}</text>\n",
            format_ratio(ratio),
            x = x1.min(x2),
            w = (x2 - x1).abs().max(1.0),
            lx = x1.max(x2) + 4.0,
            ty = y + bar_h * 0.7
        ));
    }
    s.push_str("</svg>\n");
    s
}

fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut cfg = Config {
        runs: 5,
        tcg: false,
        iters: None,
        cradle_only: false,
        only: None,
        smp: true,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--tcg" => cfg.tcg = true,
            "--cradle-only" => cfg.cradle_only = true,
            "--only" => {
                let metric = it.next().ok_or("--only needs a metric")?;
                if !METRICS.iter().any(|(name, _)| name == metric) {
                    return Err(format!("unknown metric '{metric}'\n{USAGE}"));
                }
                cfg.only = Some(metric.clone());
            }
            "--no-smp" => cfg.smp = false,
            "--runs" | "--iters" => {
                let v = it.next().ok_or_else(|| format!("{arg} needs a number"))?;
                let n: u64 = v
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{arg} takes a positive number, not {v}"))?;
                if arg == "--runs" {
                    cfg.runs = n as usize;
                } else {
                    cfg.iters = Some(n);
                }
            }
            other => return Err(format!("unknown bench option '{other}'\n{USAGE}")),
        }
    }
    Ok(cfg)
}

const USAGE: &str =
    "usage: cargo xtask bench [--runs N] [--tcg] [--iters N] [--cradle-only] [--no-smp] [--only METRIC]";

/// `cargo xtask bench`.
pub fn cmd_bench(args: &[String]) -> Result<(), String> {
    let cfg = parse_args(args)?;
    ensure_qemu()?;
    std::fs::create_dir_all(bench_dir()).map_err(|e| e.to_string())?;
    let programs = build_programs()?;
    let initrd = build_initramfs(&programs)?;
    let built = crate::build::build_kernel()?;
    let linux = if cfg.cradle_only {
        None
    } else {
        let linux = fetch_linux()?;
        check_arm64_image(&linux.image)?;
        println!(
            "Linux: Debian {} ({})",
            linux.version,
            linux.image.display()
        );
        Some(linux)
    };

    let cradle = run_kernel("cradle", &built.image, &cfg, &initrd, 1)?;
    let linux_results = match &linux {
        Some(l) => Some(run_kernel("linux", &l.image, &cfg, &initrd, 1)?),
        None => None,
    };
    // The -smp 4 column: the same boots with four CPUs.
    let (cradle_smp, linux_smp) = if cfg.smp {
        let cradle = run_kernel("cradle", &built.image, &cfg, &initrd, SMP_CPUS)?;
        let linux = match &linux {
            Some(l) => Some(run_kernel("linux", &l.image, &cfg, &initrd, SMP_CPUS)?),
            None => None,
        };
        (Some(cradle), linux)
    } else {
        (None, None)
    };
    let median_of = |results: Option<&KernelResults>, metric: &str| {
        results.and_then(|r| r.median(metric, cfg.tcg))
    };

    let rows: Vec<Row> = METRICS
        .iter()
        .map(|(metric, what)| Row {
            metric,
            what,
            linux: median_of(linux_results.as_ref(), metric),
            cradle: median_of(Some(&cradle), metric),
            linux_smp: median_of(linux_smp.as_ref(), metric),
            cradle_smp: median_of(cradle_smp.as_ref(), metric),
        })
        .collect();
    let smp_label = format!("-smp {SMP_CPUS}");
    let all_results = [
        ("Cradle", Some(&cradle)),
        ("Linux", linux_results.as_ref()),
        (&format!("Cradle {smp_label}") as &str, cradle_smp.as_ref()),
        (&format!("Linux {smp_label}"), linux_smp.as_ref()),
    ];
    let mut failures = Vec::new();
    for (kernel, results) in all_results {
        if let Some(results) = results {
            for (metric, why) in results.failures() {
                failures.push(format!("{kernel}: {metric} FAILED {why}"));
            }
        }
    }

    let linux_version = linux
        .as_ref()
        .map_or("(not run)".into(), |l| l.version.clone());
    println!();
    println!(
        "Cradle vs Linux {linux_version}: {} per operation, each figure the median of {} run(s) \
         (one QEMU boot each)",
        unit_name(cfg.tcg),
        cfg.runs
    );
    println!(
        "QEMU: -M virt -cpu cortex-a72 -smp 1 -m 512M{}{}; kernel command line: {CMDLINE}",
        if cfg.tcg {
            String::new()
        } else {
            format!(" -icount {ICOUNT}")
        },
        if cfg.smp {
            format!(" (and -smp {SMP_CPUS} for the -smp {SMP_CPUS} columns)")
        } else {
            String::new()
        }
    );
    println!();
    print!("{}", table(&rows, &cfg));
    for f in &failures {
        println!("{f}");
    }
    if !cfg.tcg {
        // Under -icount shift=0, 1000 instructions are 1 µs: CNTFRQ / 10⁶ ticks.
        for (kernel, results) in all_results {
            let Some(results) = results else { continue };
            let freq = results.runs.iter().find_map(|p| p.cntfrq).unwrap_or(0) as f64;
            let want = freq / 1e6;
            let got = results.calibration();
            // With several CPUs, whatever the others run meanwhile (a timer tick, an idle
            // wake-up) is virtual time too: Linux -smp 4 measured 63.3, 1.3% over.
            let smp = results.runs.iter().any(|p| p.cpus.is_some_and(|n| n > 1));
            let tolerance = if smp { 0.05 } else { 0.01 };
            let ok = !got.is_empty() && got.iter().all(|g| (g - want).abs() <= want * tolerance);
            println!(
                "calibration on {kernel}: 1000 instructions = {:?} ticks (CNTFRQ {freq} Hz \
                 predicts {want}){}; 4 processes at once: {:?} ticks per 1000 of their \
                 instructions",
                got,
                if ok {
                    ""
                } else {
                    " -- MISMATCH: the figures are not instruction counts"
                },
                results.parallel_calibration()
            );
        }
    }
    let stem = if cfg.tcg { "results-tcg" } else { "results" };
    let json = bench_dir().join(format!("{stem}.json"));
    let svg = bench_dir().join(format!("{stem}.svg"));
    let md = bench_dir().join(format!("{stem}.md"));
    std::fs::write(&json, to_json(&rows, &cfg, &linux_version, &failures))
        .map_err(|e| e.to_string())?;
    std::fs::write(&svg, to_svg(&rows, &cfg)).map_err(|e| e.to_string())?;
    std::fs::write(&md, table(&rows, &cfg)).map_err(|e| e.to_string())?;
    println!();
    println!(
        "wrote {}, {} and {}",
        json.display(),
        svg.display(),
        md.display()
    );
    Ok(())
}

/// The smoke test in `cargo xtask test`: the benchmark boots on Cradle with one iteration
/// per loop, every metric prints a figure, and `/init` powers off. No figure is judged.
pub(crate) fn smoke_test(summary: &mut Summary, image: &Path) {
    let verdict = (|| {
        std::fs::create_dir_all(bench_dir()).map_err(|e| e.to_string())?;
        let programs = build_programs()?;
        let initrd = build_initramfs(&programs)?;
        let cfg = Config {
            runs: 1,
            tcg: false,
            iters: Some(1),
            cradle_only: true,
            only: None,
            smp: false,
        };
        let log = crate::harness::test_logs_dir().join("bench-smoke.log");
        let _ = std::fs::create_dir_all(log.parent().expect("has a parent"));
        // One CPU, or the test run's (`--smp N`, the SMP pass).
        let cpus = crate::qemu::test_cpus().max(1);
        let parsed = boot_once(&qemu_options(&cfg, &initrd, cpus), image, &log)?;
        let mut problems = Vec::new();
        for (metric, _) in METRICS {
            if let Some(why) = parsed.failed.get(metric) {
                problems.push(format!("{metric} FAILED {why}"));
            } else if !parsed.values.contains_key(metric) {
                problems.push(format!("no figure for {metric}"));
            }
        }
        if !parsed.done {
            problems.push("no 'bench: done'".into());
        }
        if parsed.unit.as_deref() != Some("ticks") {
            problems.push(format!("unit is {:?}, not ticks", parsed.unit));
        }
        if parsed.exit.as_deref() != Some("exited with status 0") {
            problems.push(format!("/bench ended: {:?}", parsed.exit));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            Err(format!(
                "{}\ntranscript ({}):\n{text}",
                problems.join("\n"),
                log.display()
            ))
        }
    })();
    summary.record("bench: runs and parses with 1 iteration", verdict);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_transcript() {
        let text = "Booting...\nbench: boot 123456\nbench: cntfrq 62500000\nbench: unit ticks\n\
                    bench: iters 1\nbench: null_syscall 312.0\n[  1.0] noise bench: fork_exit 9000.5\n\
                    bench: pipe_pingpong FAILED pipe: errno=38 (Function not implemented)\n\
                    bench: done\nbench: init: /bench exited with status 1\n\
                    bench: init: powering off\n";
        let p = parse_transcript(text);
        assert_eq!(p.unit.as_deref(), Some("ticks"));
        assert_eq!(p.cntfrq, Some(62_500_000));
        assert_eq!(p.values.get("boot"), Some(&123456.0));
        assert_eq!(p.values.get("null_syscall"), Some(&312.0));
        assert_eq!(p.values.get("fork_exit"), Some(&9000.5));
        assert!(p.failed["pipe_pingpong"].starts_with("pipe: errno=38"));
        assert!(p.done);
        assert_eq!(p.exit.as_deref(), Some("exited with status 1"));
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn ticks_become_instructions_or_ns() {
        let mut p = Parsed::default();
        p.values.insert("boot".into(), 62_500_000.0);
        p.values.insert("null_syscall".into(), 10.0);
        p.cntfrq = Some(62_500_000);
        let r = KernelResults { runs: vec![p] };
        // Boot is counter ticks in both modes: 62.5 M ticks at 62.5 MHz are 1 s.
        assert_eq!(r.median("boot", true), Some(1e9));
        assert_eq!(r.median("boot", false), Some(1e9));
        // The others are ticks (16 instructions each) under -icount, ns under TCG.
        assert_eq!(r.median("null_syscall", false), Some(160.0));
        assert_eq!(r.median("null_syscall", true), Some(10.0));
    }

    #[test]
    fn outputs_are_well_formed() {
        let cfg = parse_args(&["--runs".into(), "3".into()]).unwrap();
        assert_eq!(cfg.runs, 3);
        assert!(parse_args(&["--runs".into(), "0".into()]).is_err());
        let rows = vec![
            Row {
                metric: "boot",
                what: "x",
                linux: Some(100.0),
                cradle: Some(50.0),
                linux_smp: Some(200.0),
                cradle_smp: Some(300.0),
            },
            Row {
                metric: "null_syscall",
                what: "y \"q\"",
                linux: Some(10.0),
                cradle: None,
                linux_smp: None,
                cradle_smp: None,
            },
        ];
        let t = table(&rows, &cfg);
        assert!(t.contains("| boot — x | 100 | 50.0 | 0.50 | 200 | 300 | 1.50 |"));
        assert!(t.contains("| 10.0 | - | - |"));
        let j = to_json(&rows, &cfg, "6.1", &[]);
        assert!(j.contains("\"ratio\": 0.500"));
        assert!(j.contains("\"what\": \"y \\\"q\\\"\""));
        assert!(j.contains("\"cradle\": null"));
        let s = to_svg(&rows, &cfg);
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert!(s.contains("no figure"));
    }
}
