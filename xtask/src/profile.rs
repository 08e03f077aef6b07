//! `cargo xtask profile METRIC`: where a benchmark row's kernel instructions go, per symbol.
//!
//! QEMU here has no TCG plugins, so the profile comes from its debug log: with
//! `-d in_asm,exec,nochain` QEMU prints every translation block (TB) it translates (`IN:`
//! and one line per guest instruction) and every TB it executes (`Trace 0: host
//! [flags2/pc/flags/cflags]`); `nochain` makes every execution pass through the logging
//! loop. `-dfilter` keeps the log to kernel addresses (the upper half of the address space).
//! The log goes through a FIFO straight into this parser, so nothing large reaches the disk.
//!
//! Counting: a TB's size is the number of instructions `in_asm` printed for its first pc
//! (the largest, if QEMU translated it more than once); an execution whose `cflags` carries
//! an instruction limit (`CF_COUNT_MASK`, -icount cutting a TB at a timer deadline) counts
//! that many at most. Each instruction is charged to the symbol of `vmlinux` that contains
//! its address; a TB starting at a symbol's address counts one call of it. A TB interrupted
//! by an exception part-way (a fault in a uaccess copy) is over-counted; that is rare.
//!
//! Two boots of the benchmark with `only=METRIC` differ only in the iteration count (`iters=N`
//! and `iters=2N`): their difference, divided by the extra operations (warm-up included,
//! bench.c's `warmup()` is a tenth), is the cost of one operation with the boot and the
//! program's start-up taken out. Deterministic under -icount, like the benchmark itself.
//!
//! `--callers SYMBOL` (repeatable; a whole name or its last `::` part) adds rows
//! `SYMBOL  <-  CALLER`: the symbol's instructions and calls split by the symbol that
//! called it (the TB executed just before its entry TB).
//!
//! `--tree DIR` profiles another worktree's build (its `target/cradle/Image`, `vmlinux` and
//! `bench/initramfs-bench.cpio`, made by `cargo xtask bench` there): the way to compare a
//! commit with an older one. The full table goes to `target/cradle/profile/METRIC.txt`
//! (`METRIC-DIRNAME.txt` with `--tree`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

use crate::env::{ensure_qemu, out_dir};
use crate::qemu::QemuOptions;

const USAGE: &str =
    "usage: cargo xtask profile METRIC [--iters N] [--top K] [--tree DIR] [--callers SYMBOL]...";

/// QEMU's `CF_COUNT_MASK`: an instruction limit carried in a TB's cflags.
const CF_COUNT_MASK: u64 = 0x1ff;

/// Kernel addresses: the upper half of the 48-bit address space (`-dfilter`).
const KERNEL_RANGE: &str = "0xffff000000000000..0xffffffffffffffff";

struct Args {
    metric: String,
    iters: u64,
    top: usize,
    tree: Option<PathBuf>,
    /// Symbols whose instructions are also split by caller.
    callers: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut it = args.iter();
    let mut parsed = Args {
        metric: String::new(),
        iters: 200,
        top: 40,
        tree: None,
        callers: Vec::new(),
    };
    while let Some(arg) = it.next() {
        let mut number = |what: &str| -> Result<u64, String> {
            let v = it.next().ok_or_else(|| format!("{what} needs a number"))?;
            v.parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{what} takes a positive number, not {v}"))
        };
        match arg.as_str() {
            "--iters" => parsed.iters = number("--iters")?,
            "--top" => parsed.top = number("--top")? as usize,
            "--tree" => {
                let dir = it.next().ok_or("--tree needs a directory")?;
                parsed.tree = Some(PathBuf::from(dir));
            }
            "--callers" => {
                let name = it.next().ok_or("--callers needs a symbol")?;
                parsed.callers.push(name.clone());
            }
            m if !m.starts_with('-') && parsed.metric.is_empty() => parsed.metric = m.to_string(),
            other => return Err(format!("unknown profile option '{other}'\n{USAGE}")),
        }
    }
    if !crate::bench::METRICS
        .iter()
        .any(|(m, _)| *m == parsed.metric)
    {
        return Err(format!("name a benchmark metric\n{USAGE}"));
    }
    Ok(parsed)
}

/// The text symbols of `vmlinux`, sorted by address: (address, demangled name).
fn symbols(vmlinux: &Path) -> Result<Vec<(u64, String)>, String> {
    let bytes = std::fs::read(vmlinux).map_err(|e| format!("{}: {e}", vmlinux.display()))?;
    let file = object::File::parse(&*bytes).map_err(|e| format!("vmlinux: {e}"))?;
    let text: Vec<(u64, u64)> = file
        .sections()
        .filter(|s| s.kind() == object::SectionKind::Text)
        .map(|s| (s.address(), s.address() + s.size()))
        .collect();
    let mut syms: Vec<(u64, String)> = file
        .symbols()
        .filter(|s| matches!(s.kind(), SymbolKind::Text | SymbolKind::Unknown))
        .filter(|s| text.iter().any(|(a, b)| (*a..*b).contains(&s.address())))
        .filter_map(|s| {
            let name = s.name().ok()?;
            if name.is_empty() || name.starts_with('$') || name.starts_with(".L") {
                return None;
            }
            Some((s.address(), format!("{:#}", rustc_demangle::demangle(name))))
        })
        .collect();
    syms.sort();
    syms.dedup_by_key(|s| s.0);
    Ok(syms)
}

/// What one boot executed: TB executions by (pc, instruction limit), TB sizes by pc; for
/// the symbols `--callers` names, instructions and calls by (symbol, caller) index.
#[derive(Default)]
struct Trace {
    executions: HashMap<(u64, u64), u64>,
    sizes: HashMap<u64, u64>,
    callers: HashMap<(usize, usize), (u64, u64)>,
}

/// The index of the symbol containing `addr` in `syms` (sorted by address).
fn symbol_index(syms: &[(u64, String)], addr: u64) -> usize {
    match syms.binary_search_by_key(&addr, |s| s.0) {
        Ok(i) => i,
        Err(i) => i.saturating_sub(1),
    }
}

/// Read QEMU's `-d in_asm,exec,nochain` log. A TB of a symbol in `watched` is charged to
/// the caller that last entered that symbol: the symbol of the TB executed just before
/// the symbol's entry TB (exact for leaf functions such as `memcpy`).
fn parse_log(log: impl BufRead, syms: &[(u64, String)], watched: &[bool]) -> Trace {
    let mut trace = Trace::default();
    let mut previous_pc = 0u64;
    let mut entered_from: HashMap<usize, usize> = HashMap::new();
    let mut block: Option<(u64, u64)> = None; // (first pc, instructions) of an IN: block
    for line in log.split(b'\n').map_while(Result::ok) {
        if let Some(rest) = line.strip_prefix(b"Trace ") {
            // "Trace 0: 0x7f.. [00005001/ffff8000000fa020/00000021/ff022200] sym"
            let Some(open) = rest.iter().position(|&c| c == b'[') else {
                continue;
            };
            let fields: Vec<&[u8]> = rest[open + 1..]
                .split(|&c| c == b'/' || c == b']')
                .take(4)
                .collect();
            let hex = |f: &[u8]| u64::from_str_radix(std::str::from_utf8(f).ok()?, 16).ok();
            if let (Some(pc), Some(cflags)) = (
                fields.get(1).and_then(|f| hex(f)),
                fields.get(3).and_then(|f| hex(f)),
            ) {
                let limit = cflags & CF_COUNT_MASK;
                *trace.executions.entry((pc, limit)).or_default() += 1;
                if watched.iter().any(|w| *w) {
                    let s = symbol_index(syms, pc);
                    if watched[s] {
                        let size = trace.sizes.get(&pc).copied().unwrap_or(1);
                        let size = if limit > 0 { size.min(limit) } else { size };
                        if syms[s].0 == pc {
                            entered_from.insert(s, symbol_index(syms, previous_pc));
                        }
                        let caller = entered_from.get(&s).copied().unwrap_or(s);
                        let entry = trace.callers.entry((s, caller)).or_default();
                        entry.0 += size;
                        entry.1 += u64::from(syms[s].0 == pc);
                    }
                }
                previous_pc = pc;
            }
        } else if line.starts_with(b"IN:") {
            block = Some((0, 0));
        } else if let (Some(b), Some(rest)) = (block.as_mut(), line.strip_prefix(b"0x")) {
            if b.1 == 0 {
                let end = rest.iter().position(|&c| c == b':').unwrap_or(rest.len());
                b.0 = std::str::from_utf8(&rest[..end])
                    .ok()
                    .and_then(|s| u64::from_str_radix(s, 16).ok())
                    .unwrap_or(0);
            }
            b.1 += 1;
        } else if let Some((pc, n)) = block.take() {
            if n > 0 {
                let size = trace.sizes.entry(pc).or_default();
                *size = (*size).max(n);
            }
        }
    }
    trace
}

/// Per symbol: (instructions, calls).
type Profile = HashMap<String, (f64, f64)>;

fn attribute(trace: &Trace, syms: &[(u64, String)]) -> Profile {
    let find = |addr: u64| symbol_index(syms, addr);
    let mut profile = Profile::new();
    for (&(pc, limit), &n) in &trace.executions {
        let size = trace.sizes.get(&pc).copied().unwrap_or(1);
        let size = if limit > 0 { size.min(limit) } else { size };
        for i in 0..size {
            let addr = pc + 4 * i;
            let s = find(addr);
            let entry = profile.entry(syms[s].1.clone()).or_default();
            entry.0 += n as f64;
            if i == 0 && syms[s].0 == pc {
                entry.1 += n as f64;
            }
        }
    }
    for (&(s, caller), &(insns, calls)) in &trace.callers {
        let name = format!("{}  <-  {}", syms[s].1, syms[caller].1);
        profile.insert(name, (insns as f64, calls as f64));
    }
    profile
}

/// Boot the benchmark once with the log going through a FIFO into [`parse_log`].
fn traced_boot(
    image: &Path,
    initrd: &Path,
    metric: &str,
    iters: u64,
    syms: &[(u64, String)],
    watched: &[bool],
) -> Result<Trace, String> {
    let dir = out_dir().join("profile");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let fifo = dir.join("qemu-log.fifo");
    let _ = std::fs::remove_file(&fifo);
    let ok = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map_err(|e| format!("cannot run mkfifo: {e}"))?;
    if !ok.success() {
        return Err(format!("mkfifo {} failed", fifo.display()));
    }
    let mut opts = QemuOptions::for_board("virt");
    opts.smp = Some(1);
    opts.mem = Some("512M".into());
    opts.initrd = Some(initrd.to_path_buf());
    opts.append = Some(format!(
        "{} -- iters={iters} only={metric}",
        crate::bench::CMDLINE
    ));
    opts.extra = [
        "-icount",
        crate::bench::ICOUNT,
        "-d",
        "in_asm,exec,nochain",
        "-dfilter",
        KERNEL_RANGE,
        "-D",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([fifo.display().to_string()])
    .collect();
    let argv = crate::qemu::headless_args(&opts, image)?;
    eprintln!("xtask: profile: {metric}, iters={iters}");
    let mut child = Command::new("qemu-system-aarch64")
        .args(&argv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run qemu-system-aarch64: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let console = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    // Opening the FIFO waits for QEMU to open its end.
    let log = std::fs::File::open(&fifo).map_err(|e| format!("{}: {e}", fifo.display()))?;
    let trace = parse_log(BufReader::with_capacity(1 << 20, log), syms, watched);
    let _ = child.wait();
    let text = console.join().unwrap_or_default();
    let _ = std::fs::remove_file(&fifo);
    let _ = std::fs::write(dir.join(format!("{metric}-iters{iters}.log")), &text);
    if !text.contains(&format!("bench: {metric} ")) {
        return Err(format!(
            "the benchmark printed no figure for {metric}: see {}",
            dir.join(format!("{metric}-iters{iters}.log")).display()
        ));
    }
    Ok(trace)
}

/// bench.c's untimed warm-up: a tenth of the iterations, at least one.
fn warmup(iters: u64) -> u64 {
    (iters / 10).max(1)
}

/// `cargo xtask profile`.
pub fn cmd_profile(args: &[String]) -> Result<(), String> {
    let args = parse_args(args)?;
    ensure_qemu()?;
    let (image, vmlinux, initrd) = match &args.tree {
        Some(tree) => {
            let out = tree.join("target").join("cradle");
            (
                out.join("Image"),
                out.join("vmlinux"),
                out.join("bench").join("initramfs-bench.cpio"),
            )
        }
        None => {
            let initrd = crate::bench::build_bench_initramfs()?;
            let built = crate::build::build_kernel()?;
            (built.image, built.vmlinux, initrd)
        }
    };
    let syms = symbols(&vmlinux)?;
    let (n1, n2) = (args.iters, 2 * args.iters);
    let watched: Vec<bool> = syms
        .iter()
        .map(|(_, name)| {
            args.callers
                .iter()
                .any(|c| name == c || name.ends_with(&format!("::{c}")))
        })
        .collect();
    let boot = |iters| traced_boot(&image, &initrd, &args.metric, iters, &syms, &watched);
    let small = attribute(&boot(n1)?, &syms);
    let large = attribute(&boot(n2)?, &syms);
    let ops = ((n2 + warmup(n2)) - (n1 + warmup(n1))) as f64;
    let mut rows: Vec<(String, f64, f64)> = large
        .iter()
        .map(|(name, (insns, calls))| {
            let (i0, c0) = small.get(name).copied().unwrap_or_default();
            (name.clone(), (insns - i0) / ops, (calls - c0) / ops)
        })
        .filter(|r| r.1.abs() >= 0.05)
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = rows
        .iter()
        .filter(|r| !r.0.contains("  <-  "))
        .map(|r| r.1)
        .sum();
    let mut out = format!(
        "kernel instructions per {} operation: {total:.0} ({} symbols; image {})\n\
         {:>10} {:>6} {:>8}  symbol\n",
        args.metric,
        rows.len(),
        image.display(),
        "insns/op",
        "%",
        "calls/op"
    );
    for (name, insns, calls) in &rows {
        out.push_str(&format!(
            "{insns:>10.1} {:>6.2} {calls:>8.2}  {name}\n",
            100.0 * insns / total
        ));
    }
    // Another tree's profile is named after it, so the two can be diffed.
    let suffix = match &args.tree {
        Some(tree) => format!(
            "-{}",
            tree.file_name()
                .map_or("tree".into(), |n| n.to_string_lossy())
        ),
        None => String::new(),
    };
    let file = out_dir()
        .join("profile")
        .join(format!("{}{suffix}.txt", args.metric));
    std::fs::write(&file, &out).map_err(|e| format!("{}: {e}", file.display()))?;
    for line in out.lines().take(args.top + 2) {
        println!("{line}");
    }
    println!("(full table: {})", file.display());
    Ok(())
}
