//! Executing a program (Linux: `fs/exec.c`, `fs/binfmt_elf.c` `load_elf_binary`).
//!
//! `do_execve` reads the first bytes of the file (a `#!` line, or the ELF header and program
//! headers), checks the headers (`fs::elf`), builds a new address space whose `PT_LOAD`
//! segments map the file's page cache (`elf_map`: text shared by every process running the
//! program, data copy-on-write, bss anonymous, all faulted in on first touch; nothing of the
//! file is read or copied up front, so exec costs the same whatever the file's size), a
//! stack holding argv, envp and the auxiliary vector (`fs::exec_stack`), and then — past
//! the point of no return — swaps it in, closes
//! close-on-exec descriptors, renames the task after the file, and points the saved user
//! registers at the entry point (`start_thread`). The task keeps its PID: this is how
//! `kernel_init` (PID 1) becomes `/init`.

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::elf::{self, ElfInfo};
use super::exec_stack::{build_initial_stack_below, AuxvInput};
use super::inode::FileType;
use super::namei::{path_lookup, LookupFlags};
use crate::arch::memory::PAGE_SIZE;
use crate::arch::process::task_pt_regs;
use crate::arch::ptrace::PtRegs;
use crate::fs::permission::MAY_EXEC;
use crate::kernel::cred::{commit_creds, current_cred, Cred};
use crate::kernel::errno::Errno;
use crate::kernel::task::{current, state, TaskStruct, PF_KTHREAD};
use crate::mm::mm_types::{ExeFile, MmStruct, VmFile};
use crate::mm::util::{
    arch_align_stack, arch_mmap_rnd, arch_randomize_brk, exec_randomizes, mmap_base,
    randomize_stack_top, randomize_va_space, stack_align_offset, PER_CLEAR_ON_SETID,
};
use crate::mm::vma::VmFlags;

/// Top of the user stack before randomization (Linux arm64's `STACK_TOP`: `TASK_SIZE_64`).
pub use crate::mm::util::STACK_TOP;
/// How much stack the new VMA has below the arguments (Linux's `setup_arg_pages`
/// `stack_expand`, 128 KiB); it grows down on faults from there (`mm::fault`).
pub const STACK_EXPAND: u64 = 128 << 10;
/// Linux arm64's `ELF_ET_DYN_BASE`, 2/3 of TASK_SIZE (not page-aligned).
const ELF_ET_DYN_BASE_EXACT: u64 = 2 * (1u64 << 48) / 3;
/// Where a PIE program with an interpreter is loaded, before randomization and its own
/// alignment: [`ELF_ET_DYN_BASE_EXACT`] page-aligned down.
pub const ELF_ET_DYN_BASE: u64 = ELF_ET_DYN_BASE_EXACT & !(PAGE_SIZE - 1);
/// The largest program accepted.
const MAX_EXEC_SIZE: u64 = 256 << 20;

fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

fn page_up(x: u64) -> u64 {
    (x + PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// How much `execve` reads first: a `#!` line (Linux's `BINPRM_BUF_SIZE`) and, in most
/// programs, the ELF header and the program header table.
const EXEC_HEAD: usize = 1024;
/// The most `execve` reads to reach the program header table.
const MAX_HEADERS: u64 = 64 << 10;

/// Read the first `len` bytes of a file (fewer if it is shorter).
fn read_head(
    inode: &alloc::sync::Arc<dyn super::inode::Inode>,
    len: usize,
) -> Result<Vec<u8>, Errno> {
    let mut data = Vec::new();
    data.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    data.resize(len, 0);
    let mut done = 0;
    while done < data.len() {
        let n = super::inode::kernel_read(&**inode, done as u64, &mut data[done..])?;
        if n == 0 {
            break;
        }
        done += n;
    }
    data.truncate(done);
    Ok(data)
}

/// The bytes `execve` parses: the head of the file, extended to the end of the program
/// header table if that lies further in (Linux's `prepare_binprm` then `elf_read` of the
/// program headers).
fn read_headers(inode: &alloc::sync::Arc<dyn super::inode::Inode>) -> Result<Vec<u8>, Errno> {
    let size = inode.stat().size;
    if size > MAX_EXEC_SIZE {
        return Err(Errno::E2BIG);
    }
    let head = read_head(inode, EXEC_HEAD.min(size as usize))?;
    match elf::headers_end(&head) {
        Some(end) if end > head.len() as u64 && end <= size.min(MAX_HEADERS) => {
            read_head(inode, end as usize)
        }
        _ => Ok(head),
    }
}

/// Map a `PT_LOAD` segment (Linux's `elf_map` and `set_brk`/`padzero` for its bss): the
/// file's pages privately from `page_down(p_offset)`, the tail of the last file page zeroed,
/// anonymous memory after them to `p_memsz`. Returns the end of the segment's memory.
fn elf_map(
    mm: &alloc::sync::Arc<MmStruct>,
    file: &VmFile,
    ph: &elf::ProgramHeader,
    bias: u64,
) -> Result<u64, Errno> {
    let mut flags = VmFlags::NONE;
    if ph.p_flags & elf::PF_R != 0 {
        flags |= VmFlags::READ;
    }
    if ph.p_flags & elf::PF_W != 0 {
        flags |= VmFlags::WRITE;
    }
    if ph.p_flags & elf::PF_X != 0 {
        flags |= VmFlags::EXEC;
    }
    let vaddr = ph.p_vaddr + bias;
    let start = page_down(vaddr);
    let file_end = vaddr + ph.p_filesz;
    let file_map_end = page_up(file_end);
    let mem_end = page_up(vaddr + ph.p_memsz);
    if ph.p_memsz == 0 {
        return Ok(mem_end); // nothing to map (Linux's elf_map of size 0)
    }
    // A segment may share its first page with the previous one. A segment with file bytes
    // replaces that page, as Linux's MAP_FIXED elf_map does; a bss-only one leaves it and
    // zeroes its own part of it (Linux's padzero).
    let taken = mm
        .inner
        .lock()
        .vmas
        .find_vma(start)
        .is_some_and(|v| v.start < mem_end);
    let mut anon_start = start;
    if ph.p_filesz > 0 {
        if taken {
            mm.unmap_region(start, mem_end - start)?;
        }
        let pgoff = page_down(ph.p_offset) / PAGE_SIZE;
        mm.map_file(start, file_map_end - start, flags, file.clone(), pgoff)?;
        if ph.p_memsz > ph.p_filesz && !file_end.is_multiple_of(PAGE_SIZE) {
            let zeros = [0u8; PAGE_SIZE as usize];
            let tail = (file_map_end - file_end) as usize;
            mm.populate_write(file_end, &zeros[..tail])?;
        }
        anon_start = file_map_end;
    } else if taken && mm.inner.lock().vmas.find(start).is_some() {
        let zeros = [0u8; PAGE_SIZE as usize];
        let head_end = page_up(vaddr + 1).min(vaddr + ph.p_memsz);
        mm.populate_write(vaddr, &zeros[..(head_end - vaddr) as usize])?;
        anon_start = start + PAGE_SIZE;
        if mem_end > anon_start {
            mm.unmap_region(anon_start, mem_end - anon_start)?;
        }
    } else if taken {
        mm.unmap_region(start, mem_end - start)?;
    }
    if mem_end > anon_start {
        mm.map_region(anon_start, mem_end - anon_start, flags)?;
    }
    Ok(mem_end)
}

/// The new address space, not yet installed, and where the program starts.
struct NewImage {
    mm: alloc::sync::Arc<MmStruct>,
    entry: u64,
    sp: u64,
}

/// The program interpreter a dynamically linked program names (`PT_INTERP`), opened and
/// checked (Linux's `open_exec(elf_interpreter)` and the checks `load_elf_binary` makes on
/// it): its file and headers.
struct Interpreter {
    file: VmFile,
    info: ElfInfo,
}

/// Open the interpreter `path`: its errors are `open_exec`'s (ENOENT if it is missing,
/// EACCES if it is not an executable regular file); an interpreter that is not an AArch64
/// ELF file, or whose program headers cannot be read, is ELIBBAD, as on Linux.
fn open_interpreter(path: &str) -> Result<Interpreter, Errno> {
    let task = current();
    let cwd = task.fs()?.lock().cwd.clone();
    let dentry = path_lookup(&cwd, path, LookupFlags { follow: true })?;
    if dentry.inode.file_type() != FileType::Regular || dentry.inode.stat().mode & 0o111 == 0 {
        return Err(Errno::EACCES);
    }
    let data = read_headers(&dentry.inode)?;
    let st = dentry.inode.stat();
    let info = ElfInfo::parse_head(&data, st.size).map_err(|e| {
        log::info!(
            "{}[{}]: execve: interpreter {path}: {e}",
            task.comm(),
            task.pid()
        );
        Errno::ELIBBAD
    })?;
    let file = VmFile {
        id: 0,
        mapping: dentry.inode.mapping().ok_or(Errno::ELIBBAD)?,
        name: dentry.path(),
        dev: st.dev,
        ino: st.ino,
    };
    Ok(Interpreter { file, info })
}

/// Map every `PT_LOAD` of `info` from `file` at `bias`; the end of the highest one.
fn map_segments(
    mm: &alloc::sync::Arc<MmStruct>,
    file: &VmFile,
    info: &ElfInfo,
    bias: u64,
) -> Result<u64, Errno> {
    info.check_load_bias(bias).map_err(|e| e.errno)?;
    let mut end = 0;
    for ph in info.loads() {
        end = end.max(elf_map(mm, file, ph, bias)?);
    }
    Ok(end)
}

/// Where an `ET_DYN` program is loaded (Linux 6.1 `load_elf_binary`, as Debian's 6.1.192
/// has it). With an interpreter: `ELF_ET_DYN_BASE`, plus the random offset when
/// `randomize`, aligned down to its largest segment alignment, less its first address.
/// Without one (a static-PIE program, or `ld.so` run as a command): where mmap would put
/// its whole span, top-down below the mmap base, aligned down the same way (Linux's
/// "Honor PT_LOAD alignment for static PIE"). `ET_EXEC`: 0.
fn load_bias(
    mm: &alloc::sync::Arc<MmStruct>,
    info: &ElfInfo,
    has_interp: bool,
    randomize: bool,
) -> Result<u64, Errno> {
    if !info.is_dyn() {
        return Ok(0);
    }
    let base = if has_interp {
        ELF_ET_DYN_BASE + if randomize { arch_mmap_rnd() } else { 0 }
    } else {
        mm.get_unmapped_area(page_up(info.total_mapping_size()))?
    };
    let base = base & !(info.max_align() - 1);
    Ok(page_down(base - info.lowest_vaddr()))
}

/// What the new program gets besides its file (the part of Linux's `linux_binprm` the ELF
/// loader reads): its arguments, environment and name, and the credentials it runs with.
struct Bprm<'a> {
    argv: &'a [Vec<u8>],
    envp: &'a [Vec<u8>],
    /// `AT_EXECFN`: the path execve was given.
    execfn: &'a [u8],
    cred: &'a Cred,
    /// `AT_SECURE`: the credentials changed (a set-ID program).
    secure: bool,
    /// The personality the new program runs with (the caller's, less
    /// `PER_CLEAR_ON_SETID` for a set-ID program: Linux's `bprm->per_clear`).
    personality: u32,
}

fn load_elf_binary(
    file: &VmFile,
    info: &ElfInfo,
    interp: Option<&Interpreter>,
    bprm: &Bprm<'_>,
) -> Result<NewImage, Errno> {
    let Bprm {
        argv,
        envp,
        execfn,
        cred,
        secure,
        personality,
    } = *bprm;
    // PF_RANDOMIZE, decided once for the whole layout.
    let randomize = exec_randomizes(personality);
    let mm = MmStruct::new()?;
    // arch_pick_mmap_layout: mmap searches down from below the stack's reach.
    let rnd = if randomize { arch_mmap_rnd() } else { 0 };
    mm.inner.lock().mmap_base = mmap_base(randomize, rnd);
    let bias = load_bias(&mm, info, interp.is_some(), randomize)?;
    let brk = map_segments(&mm, file, info, bias)?;
    {
        // A program without an interpreter sits in the mmap area: its heap goes to the
        // unused ELF_ET_DYN_BASE region instead, where it cannot run into libraries or the
        // stack, randomized or not (Linux's "Move brk for static PIE even if ASLR
        // disabled", in Debian's 6.1).
        let moved = info.is_dyn() && interp.is_none();
        let mut start_brk = if moved {
            page_up(ELF_ET_DYN_BASE_EXACT)
        } else {
            page_up(brk)
        };
        if randomize && randomize_va_space() > 1 {
            if !moved {
                // A gap between .bss and the heap.
                start_brk += PAGE_SIZE;
            }
            start_brk = arch_randomize_brk(start_brk);
        }
        let mut inner = mm.inner.lock();
        inner.start_brk = start_brk;
        inner.brk = start_brk;
    }
    // load_elf_interp: an ET_DYN interpreter goes where mmap would put it (top-down below
    // the mmap base), all its segments in one span.
    let (entry, base) = match interp {
        None => (info.entry + bias, 0),
        Some(interp) => {
            let ibias = if interp.info.is_dyn() {
                let span = page_up(interp.info.total_mapping_size());
                mm.get_unmapped_area(span)? - interp.info.lowest_vaddr()
            } else {
                0
            };
            map_segments(&mm, &interp.file, &interp.info, ibias)?;
            (interp.info.entry + ibias, ibias)
        }
    };

    // ARCH_SETUP_ADDITIONAL_PAGES: [vvar] and [vdso], below the interpreter.
    let vdso = crate::arch::vdso::arch_setup_additional_pages(&mm)?;

    let mut random = [0u8; 16];
    crate::kernel::random::get_random_bytes(&mut random);
    let phdr = info.phdr_vaddr.map_or(0, |v| v + bias);
    let aux = AuxvInput {
        sysinfo_ehdr: vdso,
        hwcap: crate::arch::cpufeature::elf_hwcap(),
        hwcap2: 0,
        phdr,
        phent: 56,
        phnum: info.phdrs.len() as u64,
        base,
        entry: info.entry + bias,
        uid: cred.uid as u64,
        euid: cred.euid as u64,
        gid: cred.gid as u64,
        egid: cred.egid as u64,
        secure: secure as u64,
        flags: 0,
    };
    let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let envs: Vec<&[u8]> = envp.iter().map(|e| e.as_slice()).collect();
    // setup_arg_pages(randomize_stack_top(STACK_TOP)): the top, moved down at random, then
    // by up to 8 KiB more (arch_align_stack) and page-aligned.
    let stack_top = page_up(arch_align_stack(
        randomize_stack_top(STACK_TOP, randomize),
        randomize,
    ));
    // create_elf_tables aligns the end of the strings the same way.
    let stack = build_initial_stack_below(
        stack_top,
        stack_align_offset(randomize),
        &args,
        &envs,
        &aux,
        random,
        execfn,
    )?;
    // The stack VMA holds the arguments and 128 KiB more.
    let stack_start = page_down(stack.sp) - STACK_EXPAND;
    mm.map_region(
        stack_start,
        stack_top - stack_start,
        VmFlags::READ | VmFlags::WRITE | VmFlags::GROWSDOWN,
    )?;
    mm.populate_write(stack.sp, &stack.bytes)?;
    {
        let mut inner = mm.inner.lock();
        inner.arg_start = stack.arg_start;
        inner.arg_end = stack.arg_end;
        inner.env_start = stack.env_start;
        inner.env_end = stack.env_end;
    }
    Ok(NewImage {
        mm,
        entry,
        sp: stack.sp,
    })
}

/// Set the user registers to start a new program (Linux's `start_thread`).
fn start_thread(regs: &mut PtRegs, pc: u64, sp: u64) {
    *regs = PtRegs::default();
    regs.pc = pc;
    regs.sp = sp;
    regs.pstate = crate::arch::ptrace::PSR_MODE_EL0T;
    regs.syscallno = -1;
}

/// Longest `#!` line the kernel reads (Linux's BINPRM_BUF_SIZE).
const BINPRM_BUF_SIZE: usize = 256;
/// How many `#!` interpreters may lead to another (Linux's binfmt depth limit).
const MAX_SCRIPT_DEPTH: usize = 4;

/// A `#!` line: the interpreter and its optional argument.
type Shebang<'a> = (&'a [u8], Option<&'a [u8]>);

/// The interpreter and its optional argument from a `#!` line (Linux's `load_script`):
/// `None` if `data` is not a script; ENOEXEC if the line is too long or names nothing.
pub fn parse_shebang(data: &[u8]) -> Option<Result<Shebang<'_>, Errno>> {
    let rest = data.strip_prefix(b"#!")?;
    let window = &rest[..rest.len().min(BINPRM_BUF_SIZE - 2)];
    let Some(end) = window.iter().position(|&b| b == b'\n') else {
        // The whole file is the line (it fits), or the line is too long to trust.
        if rest.len() > window.len() {
            return Some(Err(Errno::ENOEXEC));
        }
        return Some(parse_shebang_line(window));
    };
    Some(parse_shebang_line(&window[..end]))
}

fn parse_shebang_line(line: &[u8]) -> Result<Shebang<'_>, Errno> {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let line = line.trim_ascii();
    let name_end = line.iter().position(blank).unwrap_or(line.len());
    let (interp, arg) = line.split_at(name_end);
    if interp.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    let arg = arg.trim_ascii();
    Ok((interp, (!arg.is_empty()).then_some(arg)))
}

/// Replace the current program with the one at `path` (Linux's `do_execve`).
pub fn do_execve(path: &str, argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>) -> Result<(), Errno> {
    exec_at_depth(path, path, argv, envp, 0)
}

/// Exec `path`; `name` is what the caller asked for (the task's new `comm` even when a
/// `#!` script runs through its interpreter).
fn exec_at_depth(
    path: &str,
    name: &str,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    depth: usize,
) -> Result<(), Errno> {
    let cwd = current().fs()?.lock().cwd.clone();
    let dentry = path_lookup(&cwd, path, LookupFlags { follow: true })?;
    exec_dentry(dentry, path, name, argv, envp, depth)
}

/// Exec the file `dentry` names, which the caller calls `path` (what a `#!` interpreter is
/// given, and `AT_EXECFN`).
fn exec_dentry(
    dentry: alloc::sync::Arc<super::namei::Dentry>,
    path: &str,
    name: &str,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    depth: usize,
) -> Result<(), Errno> {
    let task = current();
    match dentry.inode.file_type() {
        FileType::Regular => {}
        FileType::Directory => return Err(Errno::EACCES),
        _ => return Err(Errno::EACCES),
    }
    crate::fs::namei::inode_permission(&dentry.inode, MAY_EXEC)?;
    let data = read_headers(&dentry.inode)?;
    if let Some(script) = parse_shebang(&data) {
        // binfmt_script: run the interpreter with the script's path as its argument, in
        // place of argv[0].
        let (interp, arg) = script?;
        if depth >= MAX_SCRIPT_DEPTH {
            return Err(Errno::ELOOP);
        }
        let interp = core::str::from_utf8(interp).map_err(|_| Errno::ENOEXEC)?;
        let mut args = alloc::vec![interp.as_bytes().to_vec()];
        args.extend(arg.map(<[u8]>::to_vec));
        args.push(path.as_bytes().to_vec());
        args.extend(argv.into_iter().skip(1));
        return exec_at_depth(interp, name, args, envp, depth + 1);
    }
    let size = dentry.inode.stat().size;
    let info = match ElfInfo::parse_head(&data, size) {
        Ok(info) => info,
        Err(e) => {
            log::info!("{}[{}]: execve {path}: {e}", task.comm(), task.pid());
            return Err(e.errno);
        }
    };
    let interp = match &info.interp {
        Some(interp) => Some(open_interpreter(interp)?),
        None => None,
    };
    let st = dentry.inode.stat();
    let mapping = dentry.inode.mapping().ok_or(Errno::ENOEXEC)?;
    let exe_file = ExeFile::deny(mapping.clone())?;
    let file = VmFile {
        id: 0,
        mapping,
        name: dentry.path(),
        dev: st.dev,
        ino: st.ino,
    };
    // bprm_fill_uid: a set-user-ID or set-group-ID program runs with its owner's IDs.
    let attr = dentry.inode.attr();
    let old_cred = current_cred();
    let (new_cred, secure) = old_cred.for_exec(attr.mode, attr.uid, attr.gid, false);
    let personality =
        task.personality.load(Ordering::Relaxed) & !(if secure { PER_CLEAR_ON_SETID } else { 0 });
    let bprm = Bprm {
        argv: &argv,
        envp: &envp,
        execfn: path.as_bytes(),
        cred: &new_cred,
        secure,
        personality,
    };
    let image = load_elf_binary(&file, &info, interp.as_ref(), &bprm)?;
    {
        let mut inner = image.mm.inner.lock();
        inner.exe_path = Some(dentry.path());
        inner.exe_file = Some(exe_file);
    }

    // begin_new_exec: the other threads go first (a thread that execs becomes the
    // process's only thread, with its PID).
    de_thread(task)?;
    // Point of no return: the old program is gone from here on.
    exec_mm_release(task);
    let old_mm = task.mm.lock().replace(image.mm.clone());
    crate::arch::mmu_context::switch_mm(&image.mm);
    drop(old_mm);
    if let Ok(files) = task.files() {
        let closed = files.lock().close_on_exec();
        drop(closed);
    }
    // The old program's POSIX timers go with it (Linux's `begin_new_exec` → `exit_itimers`).
    crate::kernel::time::posix_timers::exit_itimers(
        task.tgid.load(core::sync::atomic::Ordering::Relaxed),
    );
    let name = name.rsplit('/').next().unwrap_or(name);
    task.set_comm(name);
    if new_cred != *old_cred {
        commit_creds(new_cred);
    }
    task.personality.store(personality, Ordering::Relaxed);
    task.did_exec.store(true, Ordering::Relaxed);
    task.flags.fetch_and(!PF_KTHREAD, Ordering::Relaxed);
    crate::kernel::signal::flush_signal_handlers(task);
    crate::arch::process::flush_thread(task);
    // SAFETY: the task is running this code: its pt_regs are its own.
    unsafe { start_thread(&mut *task_pt_regs(task), image.entry, image.sp) };
    Ok(())
}

/// Make the calling thread the only one of its process (Linux's `de_thread`): every other
/// thread is killed, and the caller waits until they are gone. A thread other than the
/// leader then takes over the leader's identity — its PID, parent and children — and the
/// old leader is released. EAGAIN if the process is already dying or another thread is
/// exec'ing; the pending SIGKILL then ends the caller too.
fn de_thread(task: &TaskStruct) -> Result<(), Errno> {
    let group = task.signal();
    if group.nr_threads() == 1 {
        return Ok(());
    }
    if !group.start_group_exec(task) {
        return Err(Errno::EAGAIN);
    }
    crate::kernel::signal::zap_other_threads(task);
    let leader = task.group_leader();
    let i_lead = leader.ptr_eq(task);
    group.exec_wait.wait_event(|| {
        let threads = group.threads.lock();
        let others = if i_lead { 1 } else { 2 };
        (threads.len() <= others
            && (i_lead || leader.exit_state.load(Ordering::Acquire) == state::EXIT_ZOMBIE))
            || crate::kernel::signal::fatal_signal_pending(task)
                && group.group_exit.load(Ordering::Acquire)
    });
    if group.group_exit.load(Ordering::Acquire) {
        group
            .group_exec_task
            .store(core::ptr::null_mut(), Ordering::Release);
        return Err(Errno::EAGAIN);
    }
    if !i_lead {
        crate::kernel::exit::exchange_leader(task, &leader);
    }
    group
        .group_exec_task
        .store(core::ptr::null_mut(), Ordering::Release);
    Ok(())
}

/// What a thread leaving its old address space owes others (Linux's `exec_mm_release`):
/// its robust futexes are released, and if someone else still uses the memory (a vfork
/// parent), its CLONE_CHILD_CLEARTID word is cleared and woken.
fn exec_mm_release(task: &TaskStruct) {
    let shared = task
        .mm
        .lock()
        .as_ref()
        .is_some_and(|mm| alloc::sync::Arc::strong_count(mm) > 1);
    if shared {
        crate::kernel::exit::mm_release(task);
    } else {
        crate::kernel::futex::exit_robust_list(task);
        task.clear_child_tid.store(0, Ordering::Relaxed);
    }
}

/// Execute `path` as the current kernel thread, making it a user process (Linux's
/// `kernel_execve`, as `run_init_process` calls it). argv is `[path]` plus the arguments
/// after `--` on the command line; envp holds `HOME=/` and `TERM=linux`, as Linux passes.
pub fn kernel_execve(path: &str, init_args: &[&str]) -> Result<(), Errno> {
    let mut argv = vec![Vec::from(path.as_bytes())];
    argv.extend(init_args.iter().map(|a| Vec::from(a.as_bytes())));
    let envp = vec![Vec::from(&b"HOME=/"[..]), Vec::from(&b"TERM=linux"[..])];
    do_execve(path, argv, envp)
}

/// Read a NULL-terminated array of user string pointers (argv or envp).
fn copy_strings(ptr: u64, total: &mut usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if ptr == 0 {
        return Ok(out);
    }
    for i in 0..MAX_ARG_STRINGS {
        let mut p = [0u8; 8];
        crate::arch::uaccess::copy_from_user(&mut p, ptr + 8 * i as u64)?;
        let s = u64::from_le_bytes(p);
        if s == 0 {
            return Ok(out);
        }
        let buf = crate::fs::namei::strndup_user(s, MAX_ARG_STRLEN).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        let len = buf.len();
        *total += len + 1 + 8;
        if *total > MAX_ARG_TOTAL {
            return Err(Errno::E2BIG);
        }
        out.push(buf);
    }
    Err(Errno::E2BIG)
}

/// Most argv + envp entries.
const MAX_ARG_STRINGS: usize = 0x7fff;
/// Longest single argument (Linux's MAX_ARG_STRLEN, 32 pages).
const MAX_ARG_STRLEN: usize = 32 * 4096;
/// Most bytes of arguments and environment (a quarter of the 8 MiB stack, as Linux).
const MAX_ARG_TOTAL: usize = 2 << 20;

/// `execve(2)`.
pub fn sys_execve(filename: u64, argv: u64, envp: u64) -> Result<u64, Errno> {
    let path = crate::fs::namei::getname(filename)?;
    let mut total = 0;
    let args = copy_strings(argv, &mut total)?;
    let envs = copy_strings(envp, &mut total)?;
    do_execve(&path, args, envs)?;
    current().vfork_done.complete_all();
    Ok(0)
}

/// `execveat(2)`: `execve` of the file `filename` names from `dirfd` (Linux's
/// `do_execveat_common`): with `AT_EMPTY_PATH` and an empty name, the file `dirfd` is
/// open on (`fexecve`); with `AT_SYMLINK_NOFOLLOW`, ELOOP if the name is a symbolic link.
/// The program's name (`AT_EXECFN`, a script's argument) is `/dev/fd/<dirfd>` or
/// `/dev/fd/<dirfd>/<filename>` when it is not an absolute or cwd-relative path, as
/// Linux's `bprm->filename`. EINVAL for other flags.
pub fn sys_execveat(
    dirfd: i32,
    filename: u64,
    argv: u64,
    envp: u64,
    flags: u32,
) -> Result<u64, Errno> {
    use super::namei::{lookup_at, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = crate::fs::namei::getname(filename)?;
    if path.is_empty() && flags & AT_EMPTY_PATH == 0 {
        return Err(Errno::ENOENT);
    }
    let mut total = 0;
    let args = copy_strings(argv, &mut total)?;
    let envs = copy_strings(envp, &mut total)?;
    let name = if path.starts_with('/') || dirfd == AT_FDCWD {
        path.clone()
    } else if path.is_empty() {
        alloc::format!("/dev/fd/{dirfd}")
    } else {
        alloc::format!("/dev/fd/{dirfd}/{path}")
    };
    let dentry = if path.is_empty() {
        if dirfd == AT_FDCWD {
            current().fs()?.lock().cwd.clone()
        } else {
            super::file::fdget(dirfd)?.dentry.clone()
        }
    } else {
        let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
        let dentry = lookup_at(dirfd, &path, follow)?;
        if !follow && dentry.inode.file_type() == FileType::Symlink {
            return Err(Errno::ELOOP);
        }
        dentry
    };
    exec_dentry(dentry, &name, &name, args, envs, 0)?;
    current().vfork_done.complete_all();
    Ok(0)
}

/// KUnit: the `#!` line parser (binfmt_script's rules).
mod kunit_tests {
    use super::parse_shebang;
    use crate::kernel::errno::Errno;
    use crate::kunit::Test;
    use crate::{kunit_expect, kunit_test_suite};

    fn interpreter_and_argument(test: &mut Test) {
        let got = parse_shebang(b"#!/bin/sh -e \nexit 0\n");
        kunit_expect!(test, got == Some(Ok((&b"/bin/sh"[..], Some(&b"-e"[..])))));
        let got = parse_shebang(b"#! \t/bin/busybox   sh  -x  \n");
        // Everything after the name is one argument, as on Linux.
        kunit_expect!(
            test,
            got == Some(Ok((&b"/bin/busybox"[..], Some(&b"sh  -x"[..]))))
        );
        kunit_expect!(
            test,
            parse_shebang(b"#!/bin/true") == Some(Ok((&b"/bin/true"[..], None)))
        );
    }

    fn not_a_script_or_broken(test: &mut Test) {
        kunit_expect!(test, parse_shebang(b"\x7fELF").is_none());
        kunit_expect!(test, parse_shebang(b"#!\n") == Some(Err(Errno::ENOEXEC)));
        let mut long = alloc::vec![b'#', b'!', b'/'];
        long.resize(400, b'a');
        long.push(b'\n');
        kunit_expect!(test, parse_shebang(&long) == Some(Err(Errno::ENOEXEC)));
    }

    kunit_test_suite!(
        binfmt_script,
        [interpreter_and_argument, not_a_script_or_broken]
    );
}
