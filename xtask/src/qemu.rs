//! `cargo xtask qemu`: boot the kernel in QEMU, and the QEMU runner the tests share.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::board::Board;
use crate::build::build_kernel;
use crate::env::{ensure_qemu, project_root};

/// How to run QEMU: the board plus the command-line overrides.
#[derive(Debug, Clone, Default)]
pub struct QemuOptions {
    /// Board name under `boards/`.
    pub board: String,
    /// Enter at EL2 (`virtualization=on`).
    pub el2: bool,
    /// GIC version on virt.
    pub gic: Option<u32>,
    /// CPUs.
    pub smp: Option<u32>,
    /// Memory size.
    pub mem: Option<String>,
    /// Kernel command line.
    pub append: Option<String>,
    /// Wait for GDB.
    pub gdb: bool,
    /// An initramfs for `-initrd`.
    pub initrd: Option<PathBuf>,
    /// A directory whose files are added to the default root file system.
    pub overlay: Option<PathBuf>,
    /// Which root file system to build when no `--initrd` is given.
    pub rootfs: crate::rootfs::Rootfs,
    /// Extra QEMU arguments.
    pub extra: Vec<String>,
}

impl QemuOptions {
    /// Options for `board` with nothing overridden.
    pub fn for_board(board: &str) -> Self {
        Self {
            board: board.to_string(),
            ..Self::default()
        }
    }
}

/// Parse `cargo xtask qemu` options.
pub fn parse_options(args: &[String]) -> Result<QemuOptions, String> {
    let mut opts = QemuOptions::for_board("virt");
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--board" => opts.board = value("--board")?,
            "--el2" => opts.el2 = true,
            "--gic" => {
                let v = value("--gic")?;
                opts.gic = Some(match v.as_str() {
                    "2" => 2,
                    "3" => 3,
                    _ => return Err(format!("--gic takes 2 or 3, not {v}")),
                });
            }
            "--smp" => {
                let v = value("--smp")?;
                opts.smp = Some(
                    v.parse()
                        .map_err(|_| format!("--smp takes a number, not {v}"))?,
                );
            }
            "--mem" => opts.mem = Some(value("--mem")?),
            "--append" => opts.append = Some(value("--append")?),
            "--initrd" => opts.initrd = Some(PathBuf::from(value("--initrd")?)),
            "--overlay" => opts.overlay = Some(PathBuf::from(value("--overlay")?)),
            "--rootfs" => opts.rootfs = crate::rootfs::Rootfs::parse(&value("--rootfs")?)?,
            "--gdb" => opts.gdb = true,
            "--" => {
                opts.extra.extend(it.by_ref().cloned());
            }
            other => {
                return Err(format!(
                    "unknown qemu option '{other}' (see cargo xtask help)"
                ))
            }
        }
    }
    Ok(opts)
}

/// CPUs for the boots that do not choose their own count (`opts.smp` is `None`): 0 means
/// each board's own `smp`. `cargo xtask test --smp N` and the test run's SMP pass set it.
static TEST_CPUS: AtomicU32 = AtomicU32::new(0);

/// From now on, boots that do not choose get `cpus` CPUs on boards that can have any count
/// (QEMU `virt`); 0 goes back to each board's own count. The Pis keep their 4: QEMU's
/// raspi3b/raspi4b have exactly four cores.
pub fn set_test_cpus(cpus: u32) {
    TEST_CPUS.store(cpus, Ordering::Relaxed);
}

/// What [`set_test_cpus`] set (0: each board's own count).
pub fn test_cpus() -> u32 {
    TEST_CPUS.load(Ordering::Relaxed)
}

/// The CPUs a boot of `board` gets when it does not choose.
pub fn default_cpus(board: &Board) -> u32 {
    match TEST_CPUS.load(Ordering::Relaxed) {
        n if n > 0 && board.machine == "virt" => n,
        _ => board.smp,
    }
}

/// The CPUs a boot of `opts` gets: its own `smp`, else [`default_cpus`].
pub fn cpus_of(opts: &QemuOptions) -> Result<u32, String> {
    match opts.smp {
        Some(n) => Ok(n),
        None => Ok(default_cpus(&Board::load(&opts.board)?)),
    }
}

/// The QEMU command line for `image` under `opts` (without the console wiring).
pub fn qemu_args(opts: &QemuOptions, image: &Path) -> Result<Vec<String>, String> {
    let board = Board::load(&opts.board)?;
    let mut machine = board.machine.clone();
    if opts.el2 {
        if board.machine != "virt" {
            return Err("--el2 only applies to virt (the Pi always enters at EL2)".into());
        }
        machine.push_str(",virtualization=on");
    }
    if let Some(gic) = opts.gic {
        if board.machine != "virt" {
            return Err("--gic only applies to virt".into());
        }
        machine.push_str(&format!(",gic-version={gic}"));
    }
    // `-nodefaults`: no device the command line does not name. QEMU's `virt` otherwise adds
    // a virtio network card whose option ROM (`efi-virtio.rom`) comes from a package
    // (`ipxe-qemu`) that xtask does not install; the serial ports are named below.
    let mut args = vec!["-nodefaults".to_string(), "-M".to_string(), machine];
    if !board.cpu.is_empty() {
        args.extend(["-cpu".into(), board.cpu.clone()]);
    }
    args.extend([
        "-smp".into(),
        opts.smp.unwrap_or_else(|| default_cpus(&board)).to_string(),
        "-m".into(),
        opts.mem.clone().unwrap_or(board.memory.clone()),
        "-kernel".into(),
        image.display().to_string(),
    ]);
    if let Some(dtb) = &board.dtb {
        args.push("-dtb".into());
        let dtb = dtb.display().to_string();
        match dtb.strip_prefix("debian:") {
            Some(name) => args.push(crate::pi::debian_dtb(name)?.display().to_string()),
            None => args.push(
                project_root()
                    .join("boards")
                    .join(&board.name)
                    .join(dtb)
                    .display()
                    .to_string(),
            ),
        }
    }
    if let Some(initrd) = &opts.initrd {
        args.push("-initrd".into());
        args.push(initrd.display().to_string());
    }
    if let Some(append) = &opts.append {
        args.push("-append".into());
        args.push(append.clone());
    }
    if opts.gdb {
        args.extend(["-s".into(), "-S".into()]);
    }
    args.extend(opts.extra.iter().cloned());
    Ok(args)
}

/// Is the console on QEMU's second serial port? On a Pi the DT's console is the mini UART
/// (the second port), unless `console=ttyAMA0` moves it to the PL011 (the first).
fn console_on_second_serial(board: &Board, opts: &QemuOptions) -> bool {
    let pl011 = opts.append.as_deref().is_some_and(|a| {
        a.split(" -- ")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .any(|w| w == "console=ttyAMA0" || w.starts_with("console=ttyAMA0,"))
    });
    board.console_on_second_serial && !pl011
}

/// Console wiring: the console's serial port on stdio, no display, no reboot.
fn console_args(board: &Board, opts: &QemuOptions) -> Vec<String> {
    let mut args = vec!["-display".to_string(), "none".into()];
    if console_on_second_serial(board, opts) {
        args.extend([
            "-serial".into(),
            "null".into(),
            "-serial".into(),
            "mon:stdio".into(),
        ]);
    } else {
        args.extend(["-serial".into(), "mon:stdio".into()]);
    }
    args.push("-no-reboot".into());
    args
}

/// `cargo xtask qemu`.
pub fn cmd_qemu(args: &[String]) -> Result<(), String> {
    let no_initrd = args.iter().any(|a| a == "--no-initrd");
    let args: Vec<String> = args
        .iter()
        .filter(|a| *a != "--no-initrd")
        .cloned()
        .collect();
    let mut opts = parse_options(&args)?;
    ensure_qemu()?;
    let built = build_kernel()?;
    // Without --initrd, boot a root file system: busybox (init, getty, login, sh), or
    // with --rootfs debian Debian's bash, coreutils, procps and busybox's init and getty.
    if opts.overlay.is_some() && (opts.initrd.is_some() || no_initrd) {
        return Err("--overlay adds to the default root file system: not with --initrd".into());
    }
    if opts.initrd.is_none() && !no_initrd {
        opts.initrd = Some(opts.rootfs.build(opts.overlay.as_deref())?);
    }
    let board = Board::load(&opts.board)?;
    let mut qemu_argv = qemu_args(&opts, &built.image)?;
    qemu_argv.extend(console_args(&board, &opts));
    if opts.gdb {
        println!(
            "QEMU waits for GDB on :1234. In another terminal:\n  \
             gdb-multiarch {} -ex 'target remote :1234'",
            built.vmlinux.display()
        );
    }
    eprintln!("xtask: qemu-system-aarch64 {}", qemu_argv.join(" "));
    eprintln!("xtask: Ctrl-A X quits QEMU");
    let status = Command::new("qemu-system-aarch64")
        .args(&qemu_argv)
        .status()
        .map_err(|e| format!("cannot run qemu-system-aarch64: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("QEMU exited with {status}"))
    }
}

/// The serial output of one QEMU run.
#[derive(Debug)]
pub struct Transcript {
    /// Everything the guest printed (lossy UTF-8, `\r` removed).
    pub text: String,
    /// True if QEMU exited by itself (poweroff, panic) before the time limit.
    pub exited: bool,
    /// True if the run was stopped because `stop_at` appeared.
    pub stopped_at_marker: bool,
}

/// An empty directory for QEMU's `-L` (its data directory: firmware, option ROMs, keymaps).
/// Test runs use it so that a command line needing any such file fails here, as it would on
/// a machine with only what xtask installs.
pub fn empty_datadir() -> Result<PathBuf, String> {
    let dir = crate::env::out_dir().join("qemu-empty-datadir");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    match entries.next() {
        None => Ok(dir),
        Some(_) => Err(format!("{} must be empty", dir.display())),
    }
}

/// QEMU's arguments for a run with no display or monitor: the console serial port on
/// stdio (behind a null first port on boards whose console is the second UART), and an
/// empty data directory ([`empty_datadir`]).
pub fn headless_args(opts: &QemuOptions, image: &Path) -> Result<Vec<String>, String> {
    let board = Board::load(&opts.board)?;
    let mut argv = qemu_args(opts, image)?;
    argv.extend(["-L".into(), empty_datadir()?.display().to_string()]);
    // CRADLE_QEMU_MONITOR=PATH: a monitor on a unix socket at PATH, to inspect a run that
    // hangs (`info registers -a`, `xp`); else none.
    let monitor = std::env::var("CRADLE_QEMU_MONITOR")
        .ok()
        .filter(|p| !p.is_empty())
        .map_or_else(|| "none".to_string(), |p| format!("unix:{p},server,nowait"));
    argv.extend(["-display".into(), "none".into(), "-monitor".into(), monitor]);
    if console_on_second_serial(&board, opts) {
        argv.extend(["-serial".into(), "null".into()]);
    }
    argv.extend(["-serial".into(), "stdio".into(), "-no-reboot".into()]);
    Ok(argv)
}

/// Read `stdout` on a thread of its own, so the caller can wait with a time limit.
fn read_in_background(
    mut stdout: std::process::ChildStdout,
) -> (mpsc::Receiver<Vec<u8>>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    (rx, reader)
}

/// Run QEMU with the console on a pipe until it exits, `stop_at` appears, or `timeout`.
pub fn run_captured(
    opts: &QemuOptions,
    image: &Path,
    stop_at: Option<&str>,
    timeout: Duration,
) -> Result<Transcript, String> {
    let argv = headless_args(opts, image)?;
    let mut child = Command::new("qemu-system-aarch64")
        .args(&argv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run qemu-system-aarch64: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (rx, reader) = read_in_background(stdout);
    let start = Instant::now();
    let mut bytes = Vec::new();
    let mut exited = false;
    let mut stopped_at_marker = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                exited = true;
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Some(marker) = stop_at {
            if String::from_utf8_lossy(&bytes).contains(marker) {
                stopped_at_marker = true;
                // Let the line finish printing.
                std::thread::sleep(Duration::from_millis(100));
                while let Ok(chunk) = rx.try_recv() {
                    bytes.extend_from_slice(&chunk);
                }
                break;
            }
        }
        if start.elapsed() > timeout {
            break;
        }
    }
    if !exited {
        let _ = child.kill();
    }
    let _ = child.wait();
    let _ = reader.join();
    let mut err = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut err);
    }
    let mut text = String::from_utf8_lossy(&bytes).replace('\r', "");
    if !err.trim().is_empty() {
        text.push_str("\n--- QEMU stderr ---\n");
        text.push_str(&err);
    }
    Ok(Transcript {
        text,
        exited,
        stopped_at_marker,
    })
}

/// One step of a console session: wait until `wait_for` appears in the output (after
/// where the previous step's text was found), wait `pause` more, then type `send`.
#[derive(Debug, Clone)]
pub struct Step {
    /// Text to wait for ("" to go on at once).
    pub wait_for: String,
    /// How long to wait after it appeared before typing (a job to start, say).
    pub pause: Duration,
    /// What to type: raw bytes, so `\r` is Enter and `\u{3}` is Ctrl-C.
    pub send: String,
}

impl Step {
    /// Wait for `wait_for`, then type `send`.
    pub fn new(wait_for: &str, send: &str) -> Self {
        Self {
            wait_for: wait_for.into(),
            pause: Duration::from_millis(100),
            send: send.into(),
        }
    }

    /// Wait for `wait_for`, then `pause`, then type `send`.
    pub fn after(wait_for: &str, pause: Duration, send: &str) -> Self {
        Self {
            wait_for: wait_for.into(),
            pause,
            send: send.into(),
        }
    }
}

/// Boot, then play `steps` on the console, as a person at a terminal would (Linux's
/// `expect` scripts). Returns the transcript once the steps are done and `end` appeared
/// (or QEMU exited, or the time ran out); `stopped_at_marker` says whether every step ran
/// and `end` was seen.
pub fn run_session(
    opts: &QemuOptions,
    image: &Path,
    steps: &[Step],
    end: &str,
    timeout: Duration,
) -> Result<Transcript, String> {
    use std::io::Write;
    let argv = headless_args(opts, image)?;
    let mut child = Command::new("qemu-system-aarch64")
        .args(&argv)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run qemu-system-aarch64: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let (rx, reader) = read_in_background(stdout);
    let start = Instant::now();
    let mut bytes = Vec::new();
    let mut next = 0;
    let mut searched_from = 0;
    let mut seen_at: Option<Instant> = None;
    let mut exited = false;
    let mut done = false;
    while start.elapsed() < timeout {
        match rx.recv_timeout(Duration::from_millis(20)) {
            // Without `\r`, so "line\n" matches what the terminal shows as a line end.
            Ok(chunk) => bytes.extend(chunk.iter().filter(|&&b| b != b'\r')),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                exited = true;
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let text = String::from_utf8_lossy(&bytes[searched_from.min(bytes.len())..]).into_owned();
        if next == steps.len() {
            if text.contains(end) {
                done = true;
                // Give QEMU a moment to exit by itself (poweroff).
                let deadline = Instant::now() + Duration::from_secs(10);
                while Instant::now() < deadline {
                    match rx.recv_timeout(Duration::from_millis(50)) {
                        Ok(chunk) => bytes.extend(chunk.iter().filter(|&&b| b != b'\r')),
                        Err(mpsc::RecvTimeoutError::Disconnected) => {
                            exited = true;
                            break;
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                    }
                }
                break;
            }
            continue;
        }
        let step = &steps[next];
        if seen_at.is_none() {
            if let Some(pos) = text.find(&step.wait_for) {
                // Byte offsets of the lossy text match the raw bytes for ASCII output.
                searched_from += pos + step.wait_for.len();
                seen_at = Some(Instant::now());
            }
        }
        if seen_at.is_some_and(|t| t.elapsed() >= step.pause) {
            let _ = stdin.write_all(step.send.as_bytes());
            let _ = stdin.flush();
            next += 1;
            seen_at = None;
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    while let Ok(chunk) = rx.try_recv() {
        bytes.extend(chunk.iter().filter(|&&b| b != b'\r'));
    }
    if !exited {
        let _ = child.kill();
    }
    let _ = child.wait();
    drop(stdin);
    let _ = reader.join();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(Transcript {
        text,
        exited,
        stopped_at_marker: done,
    })
}
