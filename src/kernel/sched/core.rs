//! The scheduler's core: run queues, `schedule`, wake-ups, preemption
//! (Linux: `kernel/sched/core.c`).
//!
//! Every CPU has a run queue holding its runnable tasks in a CFS tree (see `fair.rs`), the
//! task it is running, and its idle task (PID 0 on the boot CPU, which is never in the
//! tree: it runs only when the tree is empty). `schedule` picks the next task and calls
//! `cpu_switch_to`; the run-queue lock is held across the switch and released by the task
//! that wakes up on the other side (`finish_task_switch`), as in Linux.
//!
//! Preemption: the tick (`scheduler_tick`) and wake-ups set the running task's
//! `need_resched`; it is honoured on return from an interrupt, on `preempt_enable` (every
//! spinlock release), at `cond_resched`, and on return to user space — whenever the task's
//! `preempt_count` is 0.
//!
//! Lock order: a run-queue lock is the innermost lock but for a task's `mm` lock and the
//! heap's (taken to switch address spaces and to queue tasks).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::fair::{CfsRq, SchedEntity};
use crate::arch::irqflags::{irqs_disabled, local_irq_disable, local_irq_enable};
use crate::arch::mmu_context;
use crate::arch::percpu::{smp_processor_id, NR_CPUS};
use crate::arch::process::__switch_to as switch_to;
use crate::kernel::locking::RawSpinLock;
use crate::kernel::task::{current, state, TaskRef, TaskStruct, PF_IDLE};

/// What a run queue holds. Only touched with `Rq::lock` held.
struct RqInner {
    cfs: CfsRq<TaskRef>,
    /// The running task.
    curr: *const TaskStruct,
    /// This CPU's idle task.
    idle: *const TaskStruct,
    /// Runnable tasks, the running one included (the idle task never counts).
    nr_running: usize,
    /// Context switches so far.
    nr_switches: u64,
}

/// One CPU's run queue (Linux's `struct rq`).
///
/// # Invariants
///
/// `inner` is only accessed with `lock` held and interrupts masked.
pub struct Rq {
    /// Held across `cpu_switch_to` and released by the next task, so it has no guard.
    lock: RawSpinLock,
    inner: UnsafeCell<RqInner>,
}

// SAFETY: `inner` is only reached with the lock held (the type's invariant); the raw task
// pointers in it are kept alive by the tasks' reference counts.
unsafe impl Sync for Rq {}

static RUNQUEUES: [Rq; NR_CPUS] = [const {
    Rq {
        lock: RawSpinLock::new(),
        inner: UnsafeCell::new(RqInner {
            cfs: CfsRq::new(),
            curr: core::ptr::null(),
            idle: core::ptr::null(),
            nr_running: 0,
            nr_switches: 0,
        }),
    }
}; NR_CPUS];

/// True once `sched_init` ran: before it, nothing may schedule.
static SCHEDULER_RUNNING: AtomicBool = AtomicBool::new(false);

/// Total context switches, all CPUs (for /proc/stat's `ctxt`).
static NR_SWITCHES: AtomicU64 = AtomicU64::new(0);

/// Nanoseconds since boot by the generic counter: the scheduler's clock.
pub fn sched_clock() -> u64 {
    crate::kernel::time::ktime_get_ns()
}

impl Rq {
    /// Lock with interrupts masked; the caller must call `unlock_irq`. The lock is released
    /// by hand (possibly by another task, after a context switch), so this hands out the
    /// data directly instead of a guard.
    #[allow(clippy::mut_from_ref)]
    fn lock_irq(&self) -> &mut RqInner {
        local_irq_disable();
        self.lock.lock();
        // SAFETY: the lock is held and interrupts are masked, so this is the only access.
        unsafe { &mut *self.inner.get() }
    }

    fn unlock_irq(&self) {
        self.lock.unlock();
        local_irq_enable();
    }

    /// Lock, keeping the interrupt state (for callers that already masked interrupts).
    #[allow(clippy::mut_from_ref)]
    fn lock_raw(&self) -> &mut RqInner {
        debug_assert!(irqs_disabled());
        self.lock.lock();
        // SAFETY: as in `lock_irq`.
        unsafe { &mut *self.inner.get() }
    }
}

fn cpu_rq(cpu: usize) -> &'static Rq {
    &RUNQUEUES[cpu]
}

fn this_rq() -> &'static Rq {
    cpu_rq(smp_processor_id())
}

/// The scheduling entity of `task`.
///
/// # Safety
///
/// The caller holds the run-queue lock of the task's CPU.
#[allow(clippy::mut_from_ref)]
unsafe fn se(task: &TaskStruct) -> &mut SchedEntity {
    // SAFETY: the caller holds the lock that protects `se` (TaskStruct's invariant).
    unsafe { &mut *task.se.get() }
}

/// Linux's `init_idle`: `idle` becomes `cpu`'s idle task, running now.
pub fn init_idle(idle: &'static TaskStruct, cpu: usize) {
    let rq = cpu_rq(cpu);
    let inner = rq.lock_irq();
    idle.flags.fetch_or(PF_IDLE, Ordering::Relaxed);
    idle.cpu.store(cpu as u32, Ordering::Relaxed);
    idle.state.store(state::TASK_RUNNING, Ordering::Relaxed);
    inner.idle = idle;
    inner.curr = idle;
    rq.unlock_irq();
}

/// Linux's `sched_init`: the boot CPU's run queue, with init_task (PID 0) as its idle task.
pub fn sched_init() {
    let init = &crate::init::init_task::init_task;
    init_idle(init, 0);
    // PID 0 runs with preemption disabled from here on, as Linux's idle does.
    init.preempt_count.store(1, Ordering::Relaxed);
    SCHEDULER_RUNNING.store(true, Ordering::Release);
    crate::kernel::time::set_tick_hook(tick_hook);
}

/// The receiving side of a reschedule IPI (Linux's `scheduler_ipi`): the task running on
/// this CPU gives up the CPU on the way out of the interrupt.
pub fn scheduler_ipi() {
    current().need_resched.store(true, Ordering::Relaxed);
}

/// Called by the tick on every timer interrupt: run expired timers, account the running task.
fn tick_hook() {
    crate::kernel::time::timer::run_timers();
    scheduler_tick();
}

/// True if `task` is its CPU's idle task.
fn is_idle(task: &TaskStruct) -> bool {
    task.flags.load(Ordering::Relaxed) & PF_IDLE != 0
}

/// Charge the running task its CPU time and check whether it has had its share (Linux's
/// `scheduler_tick` → `task_tick_fair`).
pub fn scheduler_tick() {
    let rq = this_rq();
    let inner = rq.lock_raw();
    // SAFETY: `curr` is the running task of this run queue, alive while it runs.
    let curr = unsafe { &*inner.curr };
    if is_idle(curr) {
        if inner.nr_running > 0 {
            curr.need_resched.store(true, Ordering::Relaxed);
        }
    } else {
        let now = sched_clock();
        // SAFETY: the run-queue lock is held.
        let curr_se = unsafe { se(curr) };
        inner.cfs.update_curr(curr_se, now);
        if inner.cfs.check_preempt_tick(curr_se, inner.nr_running) {
            curr.need_resched.store(true, Ordering::Relaxed);
        }
    }
    rq.lock.unlock();
}

/// Put a runnable task on `inner`'s queue (Linux's `activate_task`).
fn activate_task(inner: &mut RqInner, task: &TaskStruct, initial: bool) {
    // SAFETY: the caller holds the run-queue lock.
    let task_se = unsafe { se(task) };
    inner.cfs.place_entity(task_se, initial);
    inner.cfs.enqueue(task_se, task.get_ref());
    task_se.on_rq = true;
    inner.nr_running += 1;
    // Wake-up preemption (Linux's `check_preempt_curr`).
    // SAFETY: `curr` is the running task, alive while it runs.
    let curr = unsafe { &*inner.curr };
    if is_idle(curr) {
        curr.need_resched.store(true, Ordering::Relaxed);
    } else {
        // SAFETY: the run-queue lock is held.
        let curr_se = unsafe { se(curr) };
        inner.cfs.update_curr(curr_se, sched_clock());
        if CfsRq::<TaskRef>::check_preempt_wakeup(curr_se, task_se) {
            curr.need_resched.store(true, Ordering::Relaxed);
        }
    }
}

/// Make a newly created task runnable for the first time (Linux's `wake_up_new_task`).
pub fn wake_up_new_task(task: &TaskStruct) {
    let cpu = smp_processor_id();
    task.cpu.store(cpu as u32, Ordering::Relaxed);
    task.state.store(state::TASK_RUNNING, Ordering::Release);
    let rq = cpu_rq(cpu);
    let was_disabled = irqs_disabled();
    let inner = rq.lock_irq();
    activate_task(inner, task, true);
    rq.lock.unlock();
    if !was_disabled {
        local_irq_enable();
    }
}

/// Wake `task` if its state is in `mask` (Linux's `try_to_wake_up`). True if it was woken.
pub fn try_to_wake_up(task: &TaskStruct, mask: u32) -> bool {
    let rq = cpu_rq(task.cpu.load(Ordering::Relaxed) as usize);
    let was_disabled = irqs_disabled();
    let inner = rq.lock_irq();
    let woke = task.state.load(Ordering::Relaxed) & mask != 0;
    if woke {
        task.state.store(state::TASK_RUNNING, Ordering::Release);
        // SAFETY: the run-queue lock is held.
        if !unsafe { se(task) }.on_rq {
            activate_task(inner, task, false);
        }
    }
    rq.lock.unlock();
    if !was_disabled {
        local_irq_enable();
    }
    woke
}

/// Wake a sleeping task (Linux's `wake_up_process`).
pub fn wake_up_process(task: &TaskStruct) -> bool {
    try_to_wake_up(
        task,
        state::TASK_INTERRUPTIBLE | state::TASK_UNINTERRUPTIBLE,
    )
}

/// Set the current task's state before checking a sleep condition (Linux's
/// `set_current_state`, with its barrier).
pub fn set_current_state(new: u32) {
    current().state.store(new, Ordering::SeqCst);
}

/// True if the running task should give up the CPU.
pub fn need_resched() -> bool {
    current().need_resched.load(Ordering::Relaxed)
}

/// Disable preemption of the current task (Linux's `preempt_disable`).
#[inline]
#[track_caller]
pub fn preempt_disable() {
    let task = current();
    if task.preempt_count.fetch_add(1, Ordering::Relaxed) == 0 {
        task.preempt_site.store(
            core::panic::Location::caller() as *const _ as usize,
            Ordering::Relaxed,
        );
    }
}

/// Re-enable preemption without rescheduling now.
#[inline]
pub fn preempt_enable_no_resched() {
    current().preempt_count.fetch_sub(1, Ordering::Relaxed);
}

/// Re-enable preemption, and reschedule if that was asked for meanwhile (Linux's
/// `preempt_enable`).
#[inline]
pub fn preempt_enable() {
    let task = current();
    if task.preempt_count.fetch_sub(1, Ordering::Relaxed) == 1
        && task.need_resched.load(Ordering::Relaxed)
        && !irqs_disabled()
        && SCHEDULER_RUNNING.load(Ordering::Relaxed)
    {
        preempt_schedule();
    }
}

/// The current task's preemption nesting.
pub fn preempt_count() -> u32 {
    current().preempt_count.load(Ordering::Relaxed)
}

/// Reschedule because preemption was re-enabled with `need_resched` set.
fn preempt_schedule() {
    loop {
        preempt_disable();
        __schedule(true);
        preempt_enable_no_resched();
        if !need_resched() {
            break;
        }
    }
}

/// Reschedule on the way out of an interrupt (Linux's `preempt_schedule_irq`). Called with
/// interrupts masked and preemption enabled.
pub fn preempt_schedule_irq() {
    loop {
        preempt_disable();
        local_irq_enable();
        __schedule(true);
        local_irq_disable();
        preempt_enable_no_resched();
        if !need_resched() {
            break;
        }
    }
}

/// Called on the way out of an interrupt taken in the kernel: preempt if allowed.
pub fn irq_exit_preempt() {
    if SCHEDULER_RUNNING.load(Ordering::Relaxed) && preempt_count() == 0 && need_resched() {
        preempt_schedule_irq();
    }
}

/// Give up the CPU (Linux's `schedule`). If the current state is not TASK_RUNNING the task
/// sleeps until woken.
pub fn schedule() {
    assert!(
        preempt_count() == 0 || is_idle(current()),
        "BUG: scheduling while atomic: {}/{}/{:#x} (preemption disabled at {})",
        current().comm(),
        current().pid(),
        preempt_count(),
        preempt_site(current())
    );
    loop {
        preempt_disable();
        __schedule(false);
        preempt_enable_no_resched();
        if !need_resched() {
            break;
        }
    }
}

/// Linux's `schedule_preempt_disabled`: schedule from a preempt-disabled context (PID 0 in
/// `rest_init`).
pub fn schedule_preempt_disabled() {
    preempt_enable_no_resched();
    schedule();
    preempt_disable();
}

/// Reschedule if asked to (Linux's `cond_resched`).
pub fn cond_resched() {
    if need_resched() && preempt_count() == 0 && !irqs_disabled() {
        preempt_schedule();
    }
}

/// Called by the idle loop when there is work (Linux's `schedule_idle`): idle runs with
/// preemption disabled, so it switches without the checks `schedule` makes.
pub fn schedule_idle() {
    loop {
        __schedule(false);
        if !need_resched() {
            break;
        }
    }
}

/// Schedule away for the last time (Linux's `do_task_dead`): the next task's
/// `finish_task_switch` sees TASK_DEAD and frees this task's stack.
///
/// Preemption goes off before the state changes, as in Linux, where `do_exit` runs this
/// with preemption disabled. Otherwise an interrupt between the two could preempt the task
/// with TASK_DEAD set: `__schedule(true)` keeps a preempted task queued, the next task
/// would free the stack it is still queued to run on, and the stack's next owner (a task
/// forked meanwhile) would share it with the dead task when it ran again.
pub fn do_task_dead() -> ! {
    preempt_disable();
    set_current_state(state::TASK_DEAD);
    __schedule(false);
    unreachable!("a dead task was scheduled again");
}

/// Give the CPU to another runnable task if there is one (Linux's `sched_yield`).
pub fn yield_now() {
    current().need_resched.store(true, Ordering::Relaxed);
    schedule();
}

/// The heart of it (Linux's `__schedule`). `preempt` is true when the task is being
/// preempted rather than going to sleep: it stays runnable whatever its state says.
fn __schedule(preempt: bool) {
    let rq = this_rq();
    let inner = rq.lock_irq();
    let prev = current();
    let now = sched_clock();
    if !is_idle(prev) {
        // SAFETY: the run-queue lock is held.
        let prev_se = unsafe { se(prev) };
        inner.cfs.update_curr(prev_se, now);
        let prev_state = prev.state.load(Ordering::Relaxed);
        // A dead task must leave the queue: finish_task_switch frees its stack.
        assert!(
            !(preempt && prev_state == state::TASK_DEAD),
            "BUG: {}[{}] preempted with TASK_DEAD set",
            prev.comm(),
            prev.pid()
        );
        if !preempt && prev_state != state::TASK_RUNNING {
            prev_se.on_rq = false; // deactivate_task: it sleeps
            inner.nr_running -= 1;
        } else {
            inner.cfs.enqueue(prev_se, prev.get_ref()); // put_prev_task
        }
    }
    prev.need_resched.store(false, Ordering::Relaxed);

    let next_ref = inner.cfs.pick_next();
    let next: &TaskStruct = match &next_ref {
        // SAFETY: the task stays referenced by the pid table (or its own self-reference)
        // while it is runnable; the tree's reference is dropped just below.
        Some(task) => unsafe { &*task.as_ptr() },
        // SAFETY: the idle task lives as long as its CPU.
        None => unsafe { &*inner.idle },
    };
    drop(next_ref);
    if !is_idle(next) {
        // SAFETY: the run-queue lock is held.
        let next_se = unsafe { se(next) };
        next_se.set_picked();
        next_se.exec_start = now;
        next_se.prev_sum_exec_runtime = next_se.sum_exec_runtime;
    }
    inner.cfs.update_min_vruntime(None);

    if core::ptr::eq(prev, next) {
        rq.unlock_irq();
        return;
    }
    inner.curr = next;
    inner.nr_switches += 1;
    NR_SWITCHES.fetch_add(1, Ordering::Relaxed);
    let last = context_switch(prev, next);
    // Back in `prev`, possibly much later: the task that ran before us finishes its switch.
    // SAFETY: `last` is the task cpu_switch_to switched away from; it holds its
    // self-reference until finish_task_switch drops it.
    finish_task_switch(unsafe { &*last });
}

/// Switch address space, then everything else the CPU holds of the task (Linux's
/// `context_switch`: `switch_mm`, then `switch_to`). Called with the run-queue lock held and
/// interrupts masked; returns in the context of `prev` once something switches back to it.
fn context_switch(prev: &TaskStruct, next: &TaskStruct) -> *const TaskStruct {
    if prev.stack_end_corrupted() {
        panic!("corrupted stack end detected inside scheduler");
    }
    switch_mm(next);
    // SAFETY: we are the scheduler, holding the run-queue lock with interrupts masked; `prev`
    // is running and `next` was queued with a valid saved context and stack. `next` releases
    // the lock in finish_task_switch or schedule_tail.
    unsafe { switch_to(prev, next) }
}

/// Load `next`'s address space, or the kernel's alone for a kernel thread (Linux's
/// `switch_mm_irqs_off`).
fn switch_mm(next: &TaskStruct) {
    match next.mm.lock().as_ref() {
        Some(mm) => mmu_context::switch_mm(mm),
        None => mmu_context::switch_to_kernel_mm(),
    }
}

/// Finish a switch away from `prev` (Linux's `finish_task_switch`): release the run-queue
/// lock and, if `prev` died, free what it can no longer use.
fn finish_task_switch(prev: &TaskStruct) {
    this_rq().unlock_irq();
    if prev.state.load(Ordering::Acquire) == state::TASK_DEAD {
        crate::kernel::exit::put_task_struct_dead(prev);
    }
}

/// The first thing a new task runs, from `ret_from_fork` (Linux's `schedule_tail`).
#[no_mangle]
extern "C" fn schedule_tail(prev: *const TaskStruct) {
    // SAFETY: `prev` is what cpu_switch_to returned: the task that ran before us.
    finish_task_switch(unsafe { &*prev });
    preempt_enable();
    // CLONE_CHILD_SETTID: the child writes its TID in its own memory (Linux does it here).
    let task = current();
    let tid_ptr = task.set_child_tid.swap(0, Ordering::Relaxed);
    if tid_ptr != 0 {
        let _ = crate::arch::uaccess::copy_to_user(tid_ptr, &task.pid().to_le_bytes());
    }
}

/// Runnable tasks on this CPU, the running one included.
pub fn nr_running() -> usize {
    let rq = this_rq();
    let n = rq.lock_irq().nr_running;
    rq.unlock_irq();
    n
}

/// Context switches since boot.
pub fn nr_context_switches() -> u64 {
    NR_SWITCHES.load(Ordering::Relaxed)
}

/// True once the scheduler runs.
pub fn scheduler_running() -> bool {
    SCHEDULER_RUNNING.load(Ordering::Relaxed)
}

/// Where `task` last disabled preemption from enabled, for "scheduling while atomic".
fn preempt_site(task: &TaskStruct) -> &'static core::panic::Location<'static> {
    let site = task.preempt_site.load(Ordering::Relaxed) as *const core::panic::Location<'static>;
    if site.is_null() {
        core::panic::Location::caller()
    } else {
        // SAFETY: only `preempt_disable` stores here, the address of a `&'static Location`.
        unsafe { &*site }
    }
}
