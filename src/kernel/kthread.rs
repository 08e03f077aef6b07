//! Kernel threads and kthreadd, PID 2 (Linux: `kernel/kthread.c`).
//!
//! Every kernel thread after the first two is created by kthreadd, so its parent is PID 2:
//! `kthread_create` puts a request on `kthread_create_list` and wakes kthreadd, which forks
//! the thread (`kernel_thread(kthread, ...)`) and goes back to sleep. The new thread names
//! itself, reports back through the request's completion, and sleeps until
//! `wake_up_process` (`kthread_run` does both) — or `kthread_stop`, which makes
//! `kthread_should_stop` true and waits for the thread to exit. `kthread_bind` (and
//! `kthread_create_on_cpu`) pins a thread to one CPU before it first runs, for per-CPU
//! threads like `kworker/N:0`.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use crate::kernel::errno::Errno;
use crate::kernel::exit::do_exit;
use crate::kernel::fork::clone::{CLONE_FILES, CLONE_FS};
use crate::kernel::fork::kernel_thread;
use crate::kernel::locking::{InitOnce, SpinLock};
use crate::kernel::sched::completion::Completion;
use crate::kernel::sched::core::{
    schedule, set_cpus_allowed_ptr, set_current_state, wake_up_process,
};
use crate::kernel::smp::CpuMask;
use crate::kernel::task::{comm_from, current, state, TaskRef, PF_NO_SETAFFINITY, TASK_COMM_LEN};

/// A request to kthreadd (Linux's `struct kthread_create_info`).
struct KthreadCreateInfo {
    threadfn: fn(usize) -> i32,
    data: usize,
    name: [u8; TASK_COMM_LEN],
    result: SpinLock<Option<Result<TaskRef, Errno>>>,
    done: Completion,
}

/// Requests waiting for kthreadd (Linux's `kthread_create_list`, under its lock).
static KTHREAD_CREATE_LIST: SpinLock<VecDeque<Arc<KthreadCreateInfo>>> =
    SpinLock::new(VecDeque::new());

/// PID 2 (Linux's `kthreadd_task`), set by `rest_init`.
pub static KTHREADD_TASK: InitOnce<TaskRef> = InitOnce::new();

/// kthreadd's main loop: create every requested thread, sleep when there are none.
pub extern "C" fn kthreadd(_unused: usize) -> i32 {
    current().set_comm("kthreadd");
    // Forked by PID 0 with its one CPU: kthreadd and its threads may run on any (Linux's
    // `set_cpus_allowed_ptr(tsk, housekeeping_cpumask(HK_TYPE_KTHREAD))`).
    if let Err(e) = set_cpus_allowed_ptr(current(), CpuMask::first_n(crate::arch::percpu::NR_CPUS))
    {
        log::error!("kthreadd: {e}");
    }
    loop {
        set_current_state(state::TASK_INTERRUPTIBLE);
        if KTHREAD_CREATE_LIST.lock().is_empty() {
            schedule();
        }
        set_current_state(state::TASK_RUNNING);
        loop {
            let Some(create) = KTHREAD_CREATE_LIST.lock().pop_front() else {
                break;
            };
            create_kthread(create);
        }
    }
}

fn create_kthread(create: Arc<KthreadCreateInfo>) {
    let raw = Arc::into_raw(create.clone()) as usize;
    // Children of kthreadd reap themselves (kthreadd ignores SIGCHLD): exit signal 0.
    if let Err(e) = kernel_thread(kthread, raw, None, CLONE_FS | CLONE_FILES) {
        // SAFETY: the thread was not created, so the reference passed to it is still ours.
        drop(unsafe { Arc::from_raw(raw as *const KthreadCreateInfo) });
        *create.result.lock() = Some(Err(e));
        create.done.complete();
    }
}

/// Every kernel thread kthreadd creates starts here (Linux's `kthread`).
extern "C" fn kthread(raw: usize) -> i32 {
    // SAFETY: `create_kthread` passed us one reference from `Arc::into_raw`.
    let create = unsafe { Arc::from_raw(raw as *const KthreadCreateInfo) };
    let me = current();
    *me.comm.lock() = create.name;
    *create.result.lock() = Some(Ok(me.get_ref()));
    let (threadfn, data) = (create.threadfn, create.data);
    // Sleep until kthread_run / wake_up_process (or kthread_stop) wakes us.
    set_current_state(state::TASK_UNINTERRUPTIBLE);
    create.done.complete();
    drop(create);
    schedule();
    let ret = if me.kthread_should_stop.load(Ordering::Acquire) {
        -Errno::EINTR.0
    } else {
        threadfn(data)
    };
    do_exit(ret)
}

/// Ask kthreadd for a thread running `threadfn(data)`, named `name`; it sleeps until woken
/// (Linux's `kthread_create`).
pub fn kthread_create(
    threadfn: fn(usize) -> i32,
    data: usize,
    name: &str,
) -> Result<TaskRef, Errno> {
    let kthreadd = KTHREADD_TASK.get().ok_or(Errno::EAGAIN)?;
    let create = Arc::new(KthreadCreateInfo {
        threadfn,
        data,
        name: comm_from(name),
        result: SpinLock::new(None),
        done: Completion::new(),
    });
    KTHREAD_CREATE_LIST.lock().push_back(create.clone());
    wake_up_process(kthreadd);
    create.done.wait_for_completion();
    let result = create.result.lock().take();
    result.unwrap_or(Err(Errno::ENOMEM))
}

/// Pin a kernel thread made by `kthread_create`, not yet woken, to `cpu`; user space can no
/// longer change its affinity (Linux's `kthread_bind`). EINVAL if `cpu` is not online.
pub fn kthread_bind(task: &TaskRef, cpu: usize) -> Result<(), Errno> {
    if cpu >= crate::arch::percpu::NR_CPUS {
        return Err(Errno::EINVAL);
    }
    set_cpus_allowed_ptr(task, CpuMask::of(cpu))?;
    task.flags.fetch_or(PF_NO_SETAFFINITY, Ordering::Relaxed);
    Ok(())
}

/// A kernel thread bound to `cpu`, not yet woken (Linux's `kthread_create_on_cpu`).
pub fn kthread_create_on_cpu(
    threadfn: fn(usize) -> i32,
    data: usize,
    cpu: usize,
    name: &str,
) -> Result<TaskRef, Errno> {
    let task = kthread_create(threadfn, data, name)?;
    if let Err(e) = kthread_bind(&task, cpu) {
        kthread_stop(&task);
        return Err(e);
    }
    Ok(task)
}

/// Create a kernel thread and start it (Linux's `kthread_run`).
pub fn kthread_run(threadfn: fn(usize) -> i32, data: usize, name: &str) -> Result<TaskRef, Errno> {
    let task = kthread_create(threadfn, data, name)?;
    wake_up_process(&task);
    Ok(task)
}

/// True once someone called `kthread_stop` on the current thread.
pub fn kthread_should_stop() -> bool {
    current().kthread_should_stop.load(Ordering::Acquire)
}

/// Tell `task` to stop, wake it, and wait until it exits; returns its result
/// (Linux's `kthread_stop`).
pub fn kthread_stop(task: &TaskRef) -> i32 {
    task.kthread_should_stop.store(true, Ordering::Release);
    wake_up_process(task);
    task.exit_done.wait_for_completion();
    task.exit_code.load(Ordering::Relaxed)
}
