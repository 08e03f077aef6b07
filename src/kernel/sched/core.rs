//! The scheduler's core: `schedule`, wake-ups, preemption, migration
//! (Linux: `kernel/sched/core.c`).
//!
//! Every CPU has a run queue (`rq.rs`) holding its runnable tasks in a CFS tree (see
//! `fair.rs`), the task it is running, and its idle task (`swapper/N`, PID 0, which is never
//! in the tree: it runs only when the tree is empty). `schedule` picks the next task and calls
//! `cpu_switch_to`; the run-queue lock is held across the switch and released by the task
//! that wakes up on the other side (`finish_task_switch`), as in Linux.
//!
//! Tasks run on every online CPU. Where a task runs is chosen when it is created and when
//! it wakes (`select_task_rq`, in `balance.rs`), and idle or under-loaded CPUs pull queued
//! tasks from busier ones (`newidle_balance`, `trigger_load_balance`). A wake-up that makes
//! work for another CPU queues the task on that CPU's run queue and, if the task should
//! run there now (or the CPU idles in `wfi`), sends it a reschedule IPI.
//!
//! Wake-ups follow Linux's `try_to_wake_up`: the task's `pi_lock` serialises them (and
//! affinity changes); a task still queued only has its state set back to running; a task
//! that went to sleep is first waited for until the CPU that ran it has finished switching
//! away (`on_cpu`, cleared in `finish_task_switch` before the run-queue lock is released),
//! then placed on a run queue. A task whose affinity no longer allows its CPU leaves it at
//! its next switch: `__schedule` takes it off the queue and `finish_task_switch` places it
//! on an allowed CPU once its old CPU no longer runs it.
//!
//! Preemption: the tick (`scheduler_tick`) and wake-ups set the running task's
//! `need_resched`; it is honoured on return from an interrupt, on `preempt_enable` (every
//! spinlock release), at `cond_resched`, and on return to user space — whenever the task's
//! `preempt_count` is 0.
//!
//! Lock order: a task's `pi_lock`, then run-queue locks (a second one only with `try_lock`),
//! then a task's `mm` lock and the heap's (taken to switch address spaces and to queue
//! tasks).

use core::sync::atomic::{fence, AtomicBool, AtomicU64, Ordering};

use super::fair::{CfsRq, SchedEntity};
use super::rq::{cpu_rq, se, this_rq, Rq, RqInner};
use crate::arch::irqflags::{
    irqs_disabled, local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save,
};
use crate::arch::mmu_context;
use crate::arch::percpu::{smp_processor_id, NR_CPUS};
use crate::arch::process::__switch_to as switch_to;
use crate::kernel::smp::{cpu_online_mask, smp_send_reschedule, CpuMask};
use crate::kernel::task::{current, state, TaskRef, TaskStruct, PF_IDLE};

/// True once `sched_init` ran: before it, nothing may schedule.
static SCHEDULER_RUNNING: AtomicBool = AtomicBool::new(false);

/// Total context switches, all CPUs (for /proc/stat's `ctxt`).
static NR_SWITCHES: AtomicU64 = AtomicU64::new(0);

/// Nanoseconds since boot by the generic counter: the scheduler's clock.
pub fn sched_clock() -> u64 {
    crate::kernel::time::ktime_get_ns()
}

/// The CPUs `task` may run on (Linux's `p->cpus_ptr`).
pub fn task_cpus_allowed(task: &TaskStruct) -> CpuMask {
    CpuMask::from_bits(task.cpus_mask.load(Ordering::Relaxed))
}

/// The CPU whose run queue has `task` (Linux's `task_cpu`).
pub fn task_cpu(task: &TaskStruct) -> usize {
    task.cpu.load(Ordering::Relaxed) as usize
}

/// Linux's `init_idle`: `idle` becomes `cpu`'s idle task, running now.
pub fn init_idle(idle: &'static TaskStruct, cpu: usize) {
    let rq = cpu_rq(cpu);
    let flags = local_irq_save();
    let inner = rq.lock_raw();
    idle.flags.fetch_or(PF_IDLE, Ordering::Relaxed);
    idle.cpu.store(cpu as u32, Ordering::Relaxed);
    idle.state.store(state::TASK_RUNNING, Ordering::Relaxed);
    idle.cpus_mask
        .store(CpuMask::of(cpu).bits(), Ordering::Relaxed);
    idle.on_cpu.store(true, Ordering::Relaxed);
    inner.idle = idle;
    inner.curr = idle;
    rq.lock.unlock();
    local_irq_restore(flags);
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

/// Once the other CPUs are up, let the caller (PID 1, which inherited the boot idle task's
/// CPU 0 alone) run on any of them (Linux's `sched_init_smp`, which moves init off the
/// boot CPU's idle mask).
pub fn sched_init_smp() {
    let all = CpuMask::first_n(NR_CPUS);
    if let Err(e) = set_cpus_allowed_ptr(current(), all) {
        log::error!("sched_init_smp: {e}");
    }
}

/// Called by the tick on every timer interrupt, on every CPU: run expired timers (on the
/// CPU that advances jiffies only), account the running task.
fn tick_hook() {
    // Timers expire in jiffies, which only TICK_DO_TIMER_CPU moves on, so its tick is the
    // only one that can find a newly expired timer. Running the one global timer list from
    // every CPU's tick found nothing more and made the CPUs queue on its lock 250 times a
    // second each: with 8 CPUs under QEMU, the boot stalled there.
    if smp_processor_id() == crate::kernel::time::TICK_DO_TIMER_CPU {
        crate::kernel::time::timer::run_timers();
    }
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
    let nr_running = rq.nr_running.load(Ordering::Relaxed);
    if is_idle(curr) {
        if nr_running > 0 {
            curr.need_resched.store(true, Ordering::Relaxed);
        }
    } else {
        let now = sched_clock();
        // SAFETY: the run-queue lock is held.
        let curr_se = unsafe { se(curr) };
        inner.cfs.update_curr(curr_se, now);
        if inner.cfs.check_preempt_tick(curr_se, nr_running) {
            curr.need_resched.store(true, Ordering::Relaxed);
        }
    }
    rq.lock.unlock();
    super::balance::trigger_load_balance(smp_processor_id());
}

/// A reschedule IPI arrived (Linux's `scheduler_ipi`). The CPU that sent it set
/// `need_resched` on the task running here; the return from this interrupt (or the idle
/// loop, woken from `wfi`) acts on it. Only make sure idle does not sleep on queued work.
pub fn scheduler_ipi() {
    let curr = current();
    if is_idle(curr) && this_rq().nr_running.load(Ordering::Relaxed) > 0 {
        curr.need_resched.store(true, Ordering::Relaxed);
    }
}

/// Put a runnable task on `rq`'s queue (Linux's `activate_task`), and ask the running task
/// to make way if the new one should run now (Linux's `check_preempt_curr`). True if it
/// asked.
pub(super) fn activate_task(
    rq: &Rq,
    inner: &mut RqInner,
    task: &TaskStruct,
    initial: bool,
) -> bool {
    // SAFETY: the caller holds the run-queue lock.
    let task_se = unsafe { se(task) };
    inner.cfs.place_entity(task_se, initial);
    inner.cfs.enqueue(task_se, task.get_ref());
    task_se.on_rq = true;
    rq.add_nr_running(1);
    check_preempt_curr(inner, task_se)
}

/// Should the running task of `inner` give way to `woken`? If so, set its `need_resched`.
pub(super) fn check_preempt_curr(inner: &mut RqInner, woken: &SchedEntity) -> bool {
    // SAFETY: `curr` is the running task, alive while it runs.
    let curr = unsafe { &*inner.curr };
    let preempt = if is_idle(curr) {
        true
    } else {
        // SAFETY: the run-queue lock is held.
        let curr_se = unsafe { se(curr) };
        inner.cfs.update_curr(curr_se, sched_clock());
        CfsRq::<TaskRef>::check_preempt_wakeup(curr_se, woken)
    };
    if preempt {
        curr.need_resched.store(true, Ordering::Relaxed);
    }
    preempt
}

/// Lock the run queue `task` is on (Linux's `__task_rq_lock`), with interrupts masked and
/// the task's `pi_lock` held, so that only a load balancer can move it meanwhile (and that
/// holds the run-queue lock while it does).
fn task_rq_lock(task: &TaskStruct) -> (&'static Rq, &'static mut RqInner) {
    loop {
        let cpu = task_cpu(task);
        let rq = cpu_rq(cpu);
        let inner = rq.lock_raw();
        if task_cpu(task) == cpu {
            return (rq, inner);
        }
        rq.lock.unlock();
    }
}

/// Put `task`, which is on no run queue and no CPU, on `cpu`'s queue and get it run (Linux's
/// `set_task_cpu` + `ttwu_queue` / the tail of `wake_up_new_task`). The caller holds the
/// task's `pi_lock` with interrupts masked. A relative `vruntime` (see
/// `detach_for_migration`) becomes absolute on the new queue, unless `initial`.
fn activate_on(task: &TaskStruct, cpu: usize, initial: bool) {
    task.cpu.store(cpu as u32, Ordering::Release);
    let rq = cpu_rq(cpu);
    let inner = rq.lock_raw();
    if !initial {
        // SAFETY: the lock of the task's (new) run queue is held.
        unsafe { se(task) }.vruntime += inner.cfs.min_vruntime;
    }
    let preempt = activate_task(rq, inner, task, initial);
    rq.lock.unlock();
    if preempt && cpu != smp_processor_id() {
        smp_send_reschedule(cpu);
    }
}

/// Make `task`'s `vruntime` relative to the queue it leaves, so that it keeps its place
/// relative to the others when it joins another (Linux's `migrate_task_rq_fair`).
///
/// # Safety
///
/// `inner` is the locked run queue the task was on.
unsafe fn detach_for_migration(inner: &RqInner, task: &TaskStruct) {
    // SAFETY: the caller holds the lock of the task's run queue.
    let task_se = unsafe { se(task) };
    task_se.vruntime = task_se.vruntime.saturating_sub(inner.cfs.min_vruntime);
}

/// Make a newly created task runnable for the first time, on an idle or the least loaded
/// CPU it may use (Linux's `wake_up_new_task`).
pub fn wake_up_new_task(task: &TaskStruct) {
    let flags = local_irq_save();
    task.pi_lock.lock();
    task.state.store(state::TASK_RUNNING, Ordering::Release);
    let cpu = super::balance::select_task_rq(task, smp_processor_id(), true);
    activate_on(task, cpu, true);
    task.pi_lock.unlock();
    local_irq_restore(flags);
}

/// Wake `task` if its state is in `mask` (Linux's `try_to_wake_up`). True if it was woken.
///
/// The waker's stores (the condition the sleeper checks) are ordered before the read of
/// the task's state by a full barrier, as Linux's `smp_mb__after_spinlock`; the sleeper
/// sets its state with a full barrier before checking the condition
/// (`set_current_state`). So either the waker sees the sleeping state, or the sleeper
/// sees the condition.
pub fn try_to_wake_up(task: &TaskStruct, mask: u32) -> bool {
    let flags = local_irq_save();
    task.pi_lock.lock();
    fence(Ordering::SeqCst);
    let woke = task.state.load(Ordering::Relaxed) & mask != 0;
    if woke {
        let (rq, inner) = task_rq_lock(task);
        // SAFETY: the lock of the task's run queue is held.
        if unsafe { se(task) }.on_rq {
            // Still queued or running (it has not reached `__schedule`, or was preempted
            // there): it only needs to be runnable again (Linux's `ttwu_runnable`).
            task.state.store(state::TASK_RUNNING, Ordering::Release);
            rq.lock.unlock();
        } else {
            // SAFETY: `inner` is the task's locked run queue.
            unsafe { detach_for_migration(inner, task) };
            rq.lock.unlock();
            // The CPU that ran it may still be switching away from it: its registers and
            // stack are in use until `finish_task_switch` (Linux's
            // `smp_cond_load_acquire(&p->on_cpu, !VAL)`).
            while task.on_cpu.load(Ordering::Acquire) {
                crate::arch::barrier::cmpwait_bool(&task.on_cpu, true);
            }
            task.state.store(state::TASK_RUNNING, Ordering::Release);
            let cpu = super::balance::select_task_rq(task, task_cpu(task), false);
            activate_on(task, cpu, false);
        }
    }
    task.pi_lock.unlock();
    local_irq_restore(flags);
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
    let cpu = smp_processor_id();
    let rq = cpu_rq(cpu);
    let inner = rq.lock_irq();
    // Order the read of prev's state after a waker's change to it (Linux's
    // `smp_mb__after_spinlock`).
    fence(Ordering::SeqCst);
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
            rq.add_nr_running(-1);
        } else if !task_cpus_allowed(prev).test(cpu) {
            // Its affinity no longer allows this CPU: off the queue now, onto an allowed
            // CPU's once we no longer run it (Linux uses the stopper's migration_cpu_stop).
            prev_se.on_rq = false;
            rq.add_nr_running(-1);
            inner.push_task = Some(prev.get_ref());
        } else {
            inner.cfs.enqueue(prev_se, prev.get_ref()); // put_prev_task
        }
    }
    prev.need_resched.store(false, Ordering::Relaxed);
    if inner.cfs.nr_queued() == 0 {
        // About to idle: pull work from a busier CPU first.
        super::balance::newidle_balance(cpu, inner);
    }

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
    next.on_cpu.store(true, Ordering::Relaxed);
    inner.nr_switches += 1;
    super::cputime::account_context_switch(
        prev,
        !preempt && prev.state.load(Ordering::Relaxed) != state::TASK_RUNNING,
    );
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
    switch_mm(prev, next);
    // SAFETY: we are the scheduler, holding the run-queue lock with interrupts masked; `prev`
    // is running and `next` was queued with a valid saved context and stack. `next` releases
    // the lock in finish_task_switch or schedule_tail.
    unsafe { switch_to(prev, next) }
}

/// Load `next`'s address space, or the kernel's alone for a kernel thread (Linux's
/// `switch_mm_irqs_off`). Nothing to do between two threads of one process: `prev`'s
/// address space is the one loaded here, with a live ASID (arm64's `switch_mm` returns at
/// once when `prev == next`; a rollover keeps the ASIDs CPUs have loaded).
fn switch_mm(prev: &TaskStruct, next: &TaskStruct) {
    // Only `prev` itself changes its `mm` (exec, exit), and it is here, switching away.
    let loaded = prev.mm.lock().as_ref().map(alloc::sync::Arc::as_ptr);
    match next.mm.lock().as_ref() {
        Some(mm) if loaded == Some(alloc::sync::Arc::as_ptr(mm)) => {}
        Some(mm) => mmu_context::switch_mm(mm),
        None => mmu_context::switch_to_kernel_mm(),
    }
}

/// Finish a switch away from `prev` (Linux's `finish_task_switch`): let other CPUs run
/// `prev` (`on_cpu`), release the run-queue lock, move a task whose affinity excludes this
/// CPU, and, if `prev` died, free what it can no longer use.
fn finish_task_switch(prev: &TaskStruct) {
    let rq = this_rq();
    // SAFETY: the run-queue lock is held (taken by whoever switched to us).
    let push = unsafe { &mut *rq.inner.get() }.push_task.take();
    // Read before `on_cpu` is cleared: after it, a woken prev may run elsewhere and exit.
    let prev_state = prev.state.load(Ordering::Acquire);
    prev.on_cpu.store(false, Ordering::Release);
    rq.unlock_irq();
    if let Some(task) = push {
        push_task_away(&task);
    }
    if prev_state == state::TASK_DEAD {
        crate::kernel::exit::put_task_struct_dead(prev);
    }
}

/// Place a task that `__schedule` took off a CPU its affinity excludes. If it was preempted
/// while on its way to sleep (its state is not TASK_RUNNING), a wake-up may have placed it
/// already: then there is nothing left to do.
fn push_task_away(task: &TaskStruct) {
    let flags = local_irq_save();
    task.pi_lock.lock();
    let (rq, inner) = task_rq_lock(task);
    // SAFETY: the lock of the task's run queue is held.
    let queued = unsafe { se(task) }.on_rq;
    if !queued {
        // SAFETY: `inner` is the task's locked run queue.
        unsafe { detach_for_migration(inner, task) };
    }
    rq.lock.unlock();
    if !queued {
        let cpu = super::balance::select_task_rq(task, task_cpu(task), false);
        activate_on(task, cpu, false);
    }
    task.pi_lock.unlock();
    local_irq_restore(flags);
}

/// Change the CPUs `task` may run on (Linux's `__set_cpus_allowed_ptr`): EINVAL if `mask`
/// has no online CPU. A task queued on a CPU it may no longer use moves now; a running one
/// is asked to reschedule and moves at its next switch.
pub fn set_cpus_allowed_ptr(
    task: &TaskStruct,
    mask: CpuMask,
) -> Result<(), crate::kernel::errno::Errno> {
    if mask.and(cpu_online_mask()).is_empty() {
        return Err(crate::kernel::errno::Errno::EINVAL);
    }
    let flags = local_irq_save();
    task.pi_lock.lock();
    task.cpus_mask.store(mask.bits(), Ordering::Relaxed);
    let (rq, inner) = task_rq_lock(task);
    let cpu = task_cpu(task);
    let mut resched_cpu = None;
    let mut moving = false;
    if !mask.test(cpu) {
        // SAFETY: the lock of the task's run queue is held.
        let task_se = unsafe { se(task) };
        if task_se.is_queued() {
            drop(inner.cfs.dequeue(task_se));
            task_se.on_rq = false;
            rq.add_nr_running(-1);
            // SAFETY: `inner` is the task's locked run queue.
            unsafe { detach_for_migration(inner, task) };
            moving = true;
        } else if core::ptr::eq(inner.curr, task) {
            task.need_resched.store(true, Ordering::Relaxed);
            resched_cpu = Some(cpu);
        }
    }
    rq.lock.unlock();
    if moving {
        let dest = super::balance::select_task_rq(task, cpu, false);
        activate_on(task, dest, false);
    }
    task.pi_lock.unlock();
    local_irq_restore(flags);
    if let Some(cpu) = resched_cpu {
        if cpu != smp_processor_id() {
            smp_send_reschedule(cpu);
        }
    }
    Ok(())
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

/// Runnable tasks on every CPU, the running ones included (Linux's `nr_running`).
pub fn nr_running() -> usize {
    cpu_online_mask()
        .iter()
        .map(|cpu| cpu_rq(cpu).nr_running.load(Ordering::Relaxed))
        .sum()
}

/// Runnable tasks on `cpu`, the running one included.
pub fn cpu_nr_running(cpu: usize) -> usize {
    cpu_rq(cpu).nr_running.load(Ordering::Relaxed)
}

/// The CPU time `p` has had, nanoseconds, including the slice it is running now on
/// whichever CPU (Linux's `task_sched_runtime`): under the run-queue lock of its CPU, the
/// running task is first charged up to now.
pub fn task_sched_runtime(p: &TaskStruct) -> u64 {
    let flags = crate::arch::irqflags::local_irq_save();
    let ns = loop {
        let cpu = p.cpu.load(Ordering::Acquire) as usize;
        let rq = cpu_rq(cpu);
        let inner = rq.lock_raw();
        if p.cpu.load(Ordering::Acquire) as usize != cpu {
            rq.lock.unlock(); // it moved meanwhile: lock its new CPU's queue
            continue;
        }
        // SAFETY: the run-queue lock of the task's CPU is held.
        let p_se = unsafe { se(p) };
        if core::ptr::eq(inner.curr, p) && !is_idle(p) {
            inner.cfs.update_curr(p_se, sched_clock());
        }
        let ns = p_se.sum_exec_runtime;
        rq.lock.unlock();
        break ns;
    };
    crate::arch::irqflags::local_irq_restore(flags);
    ns
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

/// Give `task` the weight and wake-up behaviour of its policy and nice value (Linux's
/// `set_load_weight` + `reweight_task`): a queued task leaves the tree and comes back with
/// the new weight; the running one is first charged its time at the old one.
pub fn set_load_weight(task: &TaskStruct) {
    use super::syscalls::{SCHED_BATCH, SCHED_IDLE};
    let policy = task.policy.load(Ordering::Relaxed);
    let weight = if policy == SCHED_IDLE {
        super::fair::WEIGHT_IDLEPRIO
    } else {
        super::fair::nice_to_weight(task_nice(task))
    };
    let flags = local_irq_save();
    task.pi_lock.lock();
    let (rq, inner) = task_rq_lock(task);
    // SAFETY: the lock of the task's run queue is held.
    let task_se = unsafe { se(task) };
    if core::ptr::eq(inner.curr, task) && !is_idle(task) {
        inner.cfs.update_curr(task_se, sched_clock());
    }
    if task_se.is_queued() {
        inner.cfs.reweight(task_se, weight, task.get_ref());
    } else {
        task_se.weight = weight;
    }
    task_se.no_wakeup_preempt = policy == SCHED_BATCH || policy == SCHED_IDLE;
    task_se.idle_policy = policy == SCHED_IDLE;
    rq.lock.unlock();
    task.pi_lock.unlock();
    local_irq_restore(flags);
}

/// The nice value of `task`, -20..=19 (Linux's `task_nice`).
pub fn task_nice(task: &TaskStruct) -> i32 {
    task.static_prio.load(Ordering::Relaxed) - 120
}

/// A child's policy and priority (Linux's `sched_fork`): the parent's, unless the parent
/// asked for `SCHED_RESET_ON_FORK`, which gives the child of a real-time parent
/// `SCHED_NORMAL` at nice 0, any other child no negative nice, and is not inherited.
pub fn sched_fork_policy(parent: &TaskStruct, p: &TaskStruct) {
    use super::syscalls::{SCHED_FIFO, SCHED_NORMAL, SCHED_RR};
    let mut policy = parent.policy.load(Ordering::Relaxed);
    let mut static_prio = parent.static_prio.load(Ordering::Relaxed);
    let mut rt_priority = parent.rt_priority.load(Ordering::Relaxed);
    if parent.sched_reset_on_fork.load(Ordering::Relaxed) {
        if policy == SCHED_FIFO || policy == SCHED_RR {
            policy = SCHED_NORMAL;
            static_prio = 120;
            rt_priority = 0;
        } else {
            static_prio = static_prio.max(120);
        }
    }
    p.policy.store(policy, Ordering::Relaxed);
    p.static_prio.store(static_prio, Ordering::Relaxed);
    p.rt_priority.store(rt_priority, Ordering::Relaxed);
    p.sched_reset_on_fork.store(false, Ordering::Relaxed);
    p.ioprio
        .store(parent.ioprio.load(Ordering::Relaxed), Ordering::Relaxed);
    let weight = if policy == super::syscalls::SCHED_IDLE {
        super::fair::WEIGHT_IDLEPRIO
    } else {
        super::fair::nice_to_weight(static_prio - 120)
    };
    // SAFETY: `p` is not yet on any run queue nor reachable by another CPU's scheduler.
    let p_se = unsafe { se(p) };
    p_se.weight = weight;
    p_se.no_wakeup_preempt =
        policy == super::syscalls::SCHED_BATCH || policy == super::syscalls::SCHED_IDLE;
    p_se.idle_policy = policy == super::syscalls::SCHED_IDLE;
}

/// The address space of the task `cpu` runs now, if it has one (what Linux's membarrier
/// reads as `cpu_rq(cpu)->curr->mm`). Takes that task's `mm` lock under the run-queue lock,
/// the documented order.
pub fn cpu_curr_mm(cpu: usize) -> Option<alloc::sync::Arc<crate::mm::mm_types::MmStruct>> {
    let flags = local_irq_save();
    let rq = cpu_rq(cpu);
    let inner = rq.lock_raw();
    // SAFETY: `curr` is the running task of this run queue, alive while it runs (the lock
    // is held).
    let curr = unsafe { &*inner.curr };
    let mm = curr.mm.lock().clone();
    rq.lock.unlock();
    local_irq_restore(flags);
    mm
}
