//! KUnit tests of procfs: files read through the VFS (a path walk from a procfs root, then
//! `read_at`), in Linux's formats, and a process that exits while its files are open.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::proc_root;
use crate::fs::namei::{path_lookup, Dentry, LookupFlags};
use crate::kernel::errno::Errno;
use crate::kernel::kthread::{kthread_run, kthread_should_stop, kthread_stop};
use crate::kernel::pid::find_task_by_pid;
use crate::kernel::task::current;
use crate::kunit::Test;
use crate::{kunit_assert, kunit_expect, kunit_test_suite};

/// A procfs root of its own, so the tests need no mount.
fn proc_dentry() -> Arc<Dentry> {
    Dentry::root(proc_root())
}

/// Walk `path` (relative to a procfs root) and read the whole file, in small pieces so that
/// reads at an offset are exercised too.
fn read_proc(path: &str) -> Result<String, Errno> {
    let dentry = path_lookup(&proc_dentry(), path, LookupFlags { follow: true })?;
    let mut data = Vec::new();
    let mut chunk = [0u8; 61];
    loop {
        let n = crate::fs::inode::kernel_read(&*dentry.inode, data.len() as u64, &mut chunk)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(data).map_err(|_| Errno::EINVAL)
}

/// The kB value of a `/proc/meminfo` line `Label:   1234 kB`.
fn meminfo_value(text: &str, label: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(label))?;
    line.get(16..24)?.trim().parse().ok()
}

fn meminfo_format(test: &mut Test) {
    let text = read_proc("meminfo");
    kunit_assert!(test, text.is_ok(), "reading meminfo: {:?}", text.err());
    let text = text.unwrap_or_default();
    kunit_expect!(
        test,
        text.starts_with("MemTotal:"),
        "meminfo starts {:?}",
        text.lines().next()
    );
    for line in text.lines() {
        kunit_expect!(
            test,
            line.len() == 27 && line.ends_with(" kB") && line.as_bytes()[15] == b' ',
            "not Linux's %-16s%8lu kB: {line:?}"
        );
    }
    let total = meminfo_value(&text, "MemTotal:");
    let free = meminfo_value(&text, "MemFree:");
    kunit_assert!(
        test,
        total.is_some() && free.is_some(),
        "no MemTotal/MemFree"
    );
    let (total, free) = (total.unwrap_or(0), free.unwrap_or(0));
    kunit_expect!(
        test,
        total > 0 && free <= total,
        "MemFree {free} > MemTotal {total}"
    );
    kunit_expect!(
        test,
        total == crate::mm::pages::totalram_pages() * 4,
        "MemTotal {total} kB"
    );
}

fn self_stat_fields(test: &mut Test) {
    let text = read_proc("self/stat");
    kunit_assert!(test, text.is_ok(), "reading self/stat: {:?}", text.err());
    let text = text.unwrap_or_default();
    kunit_expect!(test, text.ends_with('\n'), "no newline: {text:?}");
    let me = current();
    let head = alloc::format!("{} ({}) ", me.pid(), me.comm());
    kunit_expect!(test, text.starts_with(&head), "self/stat starts {text:?}");
    let rest = text.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    kunit_expect!(
        test,
        fields.len() == 50,
        "{} fields after the name, want 50 (52 in all)",
        fields.len()
    );
    kunit_expect!(
        test,
        fields.first() == Some(&"R"),
        "state {:?}",
        fields.first()
    );
    let ppid = alloc::format!("{}", me.ppid());
    kunit_expect!(
        test,
        fields.get(1) == Some(&ppid.as_str()),
        "ppid {:?}",
        fields.get(1)
    );
    kunit_expect!(
        test,
        fields.get(15) == Some(&"20"),
        "priority {:?}",
        fields.get(15)
    );
    let status = read_proc("self/status").unwrap_or_default();
    let pid_line = alloc::format!("\nPid:\t{}\n", me.pid());
    kunit_expect!(test, status.starts_with("Name:\t"), "status: {status:?}");
    kunit_expect!(
        test,
        status.contains(&pid_line),
        "status has no {pid_line:?}"
    );
}

fn pid1_cmdline(test: &mut Test) {
    // KUnit runs in PID 1 before it execs init: a kernel thread, whose cmdline is empty.
    let cmdline = read_proc("1/cmdline");
    kunit_expect!(test, cmdline.as_deref() == Ok(""), "1/cmdline: {cmdline:?}");
    let comm = read_proc("1/comm").unwrap_or_default();
    let want = alloc::format!(
        "{}\n",
        find_task_by_pid(1)
            .map(|t| t.comm().to_string())
            .unwrap_or_default()
    );
    kunit_expect!(test, comm == want, "1/comm {comm:?}, want {want:?}");
    let exe = path_lookup(&proc_dentry(), "1/exe", LookupFlags { follow: false })
        .and_then(|d| d.inode.readlink());
    kunit_expect!(
        test,
        exe == Err(Errno::ENOENT),
        "a kernel thread's exe: {exe:?}"
    );
}

fn root_lists_pids(test: &mut Test) {
    let root = proc_root();
    let entries = root.readdir().unwrap_or_default();
    let has = |name: &str| entries.iter().any(|e| e.name == name);
    kunit_expect!(test, has("1") && has("2"), "no 1 and 2 in /proc");
    kunit_expect!(test, !has("0"), "PID 0 listed");
    for name in [
        "self", "meminfo", "stat", "uptime", "loadavg", "cpuinfo", "version",
    ] {
        kunit_expect!(test, has(name), "no {name} in /proc");
    }
    for (path, prefix) in [
        ("uptime", ""),
        ("loadavg", ""),
        ("stat", "cpu  "),
        ("cpuinfo", "processor\t: 0\nBogoMIPS\t: "),
        ("version", "Linux version 6.1.0-cradle-"),
    ] {
        let text = read_proc(path).unwrap_or_default();
        kunit_expect!(
            test,
            text.starts_with(prefix) && text.ends_with('\n'),
            "{path}: {text:?}"
        );
    }
    let loadavg = read_proc("loadavg").unwrap_or_default();
    let fields: Vec<&str> = loadavg.split_whitespace().collect();
    kunit_expect!(
        test,
        fields.len() == 5
            && fields[..3]
                .iter()
                .all(|f| f.len() >= 4 && f.as_bytes()[f.len() - 3] == b'.'),
        "loadavg: {loadavg:?}"
    );
    kunit_expect!(
        test,
        root.lookup("01").is_err() && root.lookup("0").is_err() && root.lookup("x").is_err(),
        "bad PID names looked up"
    );
}

fn victim(_: usize) -> i32 {
    while !kthread_should_stop() {
        crate::kernel::sched::core::set_current_state(
            crate::kernel::task::state::TASK_INTERRUPTIBLE,
        );
        if !kthread_should_stop() {
            crate::kernel::sched::core::schedule();
        }
        crate::kernel::sched::core::set_current_state(crate::kernel::task::state::TASK_RUNNING);
    }
    0
}

fn exited_task_reads_esrch(test: &mut Test) {
    let task = kthread_run(victim, 0, "procvictim");
    kunit_assert!(test, task.is_ok(), "kthread_run failed");
    let Ok(task) = task else { return };
    let pid = task.pid();
    let dentry = proc_dentry();
    let stat = path_lookup(
        &dentry,
        &alloc::format!("{pid}/stat"),
        LookupFlags { follow: true },
    );
    let dir = path_lookup(
        &dentry,
        &alloc::format!("{pid}"),
        LookupFlags { follow: true },
    );
    kunit_assert!(
        test,
        stat.is_ok() && dir.is_ok(),
        "lookup of /proc/{pid} failed"
    );
    let (Ok(stat), Ok(dir)) = (stat, dir) else {
        return;
    };
    let mut buf = [0u8; 512];
    let n = crate::fs::inode::kernel_read(&*stat.inode, 0, &mut buf).unwrap_or(0);
    let text = core::str::from_utf8(&buf[..n]).unwrap_or("");
    kunit_expect!(test, text.contains(" (procvictim) "), "live stat: {text:?}");

    kthread_stop(&task);
    drop(task);
    // kthread_stop returns once the thread has exited; it leaves the table just after.
    for _ in 0..100 {
        if find_task_by_pid(pid).is_none() {
            break;
        }
        crate::kernel::time::timer::msleep(1);
    }
    kunit_assert!(
        test,
        find_task_by_pid(pid).is_none(),
        "PID {pid} never went away"
    );
    let after = crate::fs::inode::kernel_read(&*stat.inode, 0, &mut buf);
    kunit_expect!(
        test,
        after == Err(Errno::ESRCH),
        "stat after exit: {after:?}"
    );
    let listed = dir.inode.readdir().map(|e| e.len());
    kunit_expect!(
        test,
        listed == Err(Errno::ENOENT),
        "readdir after exit: {listed:?}"
    );
    let again = path_lookup(
        &dentry,
        &alloc::format!("{pid}/stat"),
        LookupFlags { follow: true },
    );
    kunit_expect!(
        test,
        again.err() == Some(Errno::ENOENT),
        "lookup after exit"
    );
}

fn pipe_fd_name(test: &mut Test) {
    let (read, _write) = crate::fs::pipe::create_pipe(0);
    let name = super::base::file_path(&read);
    let want = alloc::format!("pipe:[{}]", read.inode.stat().ino);
    kunit_expect!(test, name == want, "pipe named {name:?}, want {want:?}");
}

kunit_test_suite!(
    procfs,
    [
        meminfo_format,
        self_stat_fields,
        pid1_cmdline,
        root_lists_pids,
        exited_task_reads_esrch,
        pipe_fd_name
    ]
);
