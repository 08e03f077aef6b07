//! The fair scheduling class, CFS (Linux: `kernel/sched/fair.c`).
//!
//! Each runnable task has a virtual runtime: the CPU time it has had, scaled by its weight
//! (Linux's `sched_prio_to_weight`: 1024 at nice 0, about 1.25 times less per nice level,
//! 15 at nice 19, 3 for `SCHED_IDLE`), so that a task's share of the CPU is its weight over
//! the sum of the runnable ones'. The queue is ordered by it, and the scheduler always
//! runs the task that has had the least. A running task is preempted when it has run its
//! share of the latency target, or has got ahead of the leftmost waiter by that much; a
//! waking task preempts the current one when it is behind by more than the wakeup
//! granularity. The currently running task is kept out of the tree, as in Linux.
//!
//! This file is the portable bookkeeping (unit-tested on the host); `sched/core.rs` holds
//! the run queues, locking and context switching.

use alloc::collections::BTreeMap;

/// The period in which every runnable task should run once (Linux's
/// `sysctl_sched_latency`, 6 ms).
pub const SCHED_LATENCY_NS: u64 = 6_000_000;
/// The shortest slice a task gets however many there are (`sysctl_sched_min_granularity`).
pub const SCHED_MIN_GRANULARITY_NS: u64 = 750_000;
/// How far behind a waking task must be to preempt (`sysctl_sched_wakeup_granularity`).
pub const SCHED_WAKEUP_GRANULARITY_NS: u64 = 1_000_000;

/// The weight of a nice-0 task (Linux's `NICE_0_LOAD`, without the fixed-point bits).
pub const NICE_0_LOAD: u64 = 1024;
/// The weight of a `SCHED_IDLE` task (Linux's `WEIGHT_IDLEPRIO`).
pub const WEIGHT_IDLEPRIO: u64 = 3;

/// The weight of each nice level from -20 to 19 (Linux's `sched_prio_to_weight`): each
/// level is worth about 10% of the CPU against a task one level away.
pub const SCHED_PRIO_TO_WEIGHT: [u64; 40] = [
    88761, 71755, 56483, 46273, 36291, // -20
    29154, 23254, 18705, 14949, 11916, // -15
    9548, 7620, 6100, 4904, 3906, // -10
    3121, 2501, 1991, 1586, 1277, // -5
    1024, 820, 655, 526, 423, // 0
    335, 272, 215, 172, 137, // 5
    110, 87, 70, 56, 45, // 10
    36, 29, 23, 18, 15, // 15
];

/// The weight of a task at `nice` (-20..=19; clamped).
pub fn nice_to_weight(nice: i32) -> u64 {
    SCHED_PRIO_TO_WEIGHT[(nice.clamp(-20, 19) + 20) as usize]
}

/// `delta` of CPU time as virtual time for an entity of `weight` (Linux's
/// `calc_delta_fair`): heavier tasks' clocks run slower.
pub fn calc_delta_fair(delta: u64, weight: u64) -> u64 {
    if weight == NICE_0_LOAD {
        delta
    } else {
        ((delta as u128 * NICE_0_LOAD as u128) / weight.max(1) as u128) as u64
    }
}

/// A task's scheduling state (Linux's `struct sched_entity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedEntity {
    /// Virtual runtime in nanoseconds.
    pub vruntime: u64,
    /// Total CPU time consumed, in nanoseconds.
    pub sum_exec_runtime: u64,
    /// Clock value when the task last started running (or was last accounted).
    pub exec_start: u64,
    /// `sum_exec_runtime` when the task was last picked, to measure its current slice.
    pub prev_sum_exec_runtime: u64,
    /// Runnable: in the tree or running (Linux's `on_rq`).
    pub on_rq: bool,
    /// The load weight (Linux's `load.weight`): from the nice value, or `WEIGHT_IDLEPRIO`.
    /// Changed only off the tree (`CfsRq::reweight`).
    pub weight: u64,
    /// `SCHED_BATCH` or `SCHED_IDLE`: never preempts on wake-up (Linux's
    /// `check_preempt_wakeup_fair` leaves such tasks to the tick).
    pub no_wakeup_preempt: bool,
    /// `SCHED_IDLE`: any other waking task preempts it.
    pub idle_policy: bool,
    /// The tree key while queued: (vruntime at insertion, tie-breaking sequence).
    key: (u64, u64),
    /// True while the entity is in the tree.
    queued: bool,
}

impl SchedEntity {
    /// A fresh entity.
    pub const fn new() -> Self {
        Self {
            vruntime: 0,
            sum_exec_runtime: 0,
            exec_start: 0,
            prev_sum_exec_runtime: 0,
            on_rq: false,
            weight: NICE_0_LOAD,
            no_wakeup_preempt: false,
            idle_policy: false,
            key: (0, 0),
            queued: false,
        }
    }

    /// True while in the run-queue tree (runnable but not running).
    pub fn is_queued(&self) -> bool {
        self.queued
    }

    /// Record that [`CfsRq::pick_next`] took this entity out of the tree to run it.
    pub fn set_picked(&mut self) {
        self.queued = false;
    }
}

/// The ideal slice of one task when `nr_running` share the CPU (Linux's `sched_slice`).
pub fn sched_slice(nr_running: usize) -> u64 {
    let nr = nr_running.max(1) as u64;
    (SCHED_LATENCY_NS / nr).max(SCHED_MIN_GRANULARITY_NS)
}

/// The runnable tasks of one CPU, by virtual runtime (Linux's `struct cfs_rq`). `T` names
/// a task (a reference in the kernel, a number in tests).
pub struct CfsRq<T> {
    tree: BTreeMap<(u64, u64), (T, u64)>,
    /// The sum of the queued entities' weights (the running one is not counted).
    pub load: u64,
    /// Never decreases; where new and waking tasks are placed (Linux's `min_vruntime`).
    pub min_vruntime: u64,
    seq: u64,
}

impl<T> Default for CfsRq<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> CfsRq<T> {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            tree: BTreeMap::new(),
            load: 0,
            min_vruntime: 0,
            seq: 0,
        }
    }

    /// Tasks waiting in the tree (the running one is not counted).
    pub fn nr_queued(&self) -> usize {
        self.tree.len()
    }

    /// Put a runnable task in the tree (Linux's `__enqueue_entity`).
    pub fn enqueue(&mut self, se: &mut SchedEntity, task: T) {
        debug_assert!(!se.queued, "enqueue of a queued entity");
        self.seq += 1;
        se.key = (se.vruntime, self.seq);
        se.queued = true;
        self.load += se.weight;
        self.tree.insert(se.key, (task, se.weight));
    }

    /// Take a task out of the tree (Linux's `__dequeue_entity`).
    pub fn dequeue(&mut self, se: &mut SchedEntity) -> Option<T> {
        if !se.queued {
            return None;
        }
        se.queued = false;
        let (task, weight) = self.tree.remove(&se.key)?;
        self.load -= weight;
        Some(task)
    }

    /// Give the entity a new weight (Linux's `reweight_entity`): a queued one leaves the
    /// tree and comes back, so that the queue's load stays the sum of its entities'.
    pub fn reweight(&mut self, se: &mut SchedEntity, weight: u64, task: T) {
        let queued = self.dequeue(se).is_some();
        se.weight = weight;
        if queued {
            self.enqueue(se, task);
        }
    }

    /// The task with the least virtual runtime, taken out of the tree. The caller marks its
    /// entity with [`SchedEntity::set_picked`].
    pub fn pick_next(&mut self) -> Option<T> {
        let (_, (task, weight)) = self.tree.pop_first()?;
        self.load -= weight;
        Some(task)
    }

    /// Take out of the tree the waiting task with the least virtual runtime for which
    /// `can_migrate` holds (Linux's `detach_tasks` walk, `can_migrate_task`). The caller marks
    /// its entity with [`SchedEntity::set_picked`].
    pub fn detach_where(&mut self, mut can_migrate: impl FnMut(&T) -> bool) -> Option<T> {
        let key = *self
            .tree
            .iter()
            .find(|(_, (task, _))| can_migrate(task))
            .map(|(key, _)| key)?;
        let (task, weight) = self.tree.remove(&key)?;
        self.load -= weight;
        Some(task)
    }

    /// The least virtual runtime waiting, if any.
    pub fn leftmost_vruntime(&self) -> Option<u64> {
        self.tree.first_key_value().map(|((v, _), _)| *v)
    }

    /// Keep `min_vruntime` up with the running task and the leftmost waiter, never backwards
    /// (Linux's `update_min_vruntime`).
    pub fn update_min_vruntime(&mut self, curr: Option<u64>) {
        let candidate = match (curr, self.leftmost_vruntime()) {
            (Some(c), Some(l)) => c.min(l),
            (Some(c), None) => c,
            (None, Some(l)) => l,
            (None, None) => return,
        };
        self.min_vruntime = self.min_vruntime.max(candidate);
    }

    /// Where a task joins: a new task starts one slice after `min_vruntime` (so forking
    /// cannot be used to grab the CPU); a waking one no further back than half a latency
    /// period, so sleeping earns only a little credit (Linux's `place_entity`).
    pub fn place_entity(&self, se: &mut SchedEntity, initial: bool) {
        let vruntime = if initial {
            // Linux's `sched_vslice`: the slice as this entity's virtual time.
            let slice = self.slice_of(se.weight, self.load + se.weight, self.nr_queued() + 1);
            self.min_vruntime + calc_delta_fair(slice, se.weight)
        } else {
            self.min_vruntime.saturating_sub(SCHED_LATENCY_NS / 2)
        };
        se.vruntime = if initial {
            vruntime
        } else {
            se.vruntime.max(vruntime)
        };
    }

    /// Charge `delta_ns` of CPU time to the running entity (Linux's `update_curr`).
    pub fn update_curr(&mut self, curr: &mut SchedEntity, now: u64) {
        let delta = now.saturating_sub(curr.exec_start);
        curr.exec_start = now;
        curr.sum_exec_runtime += delta;
        curr.vruntime += calc_delta_fair(delta, curr.weight);
        self.update_min_vruntime(Some(curr.vruntime));
    }

    /// Should the running entity give up the CPU at this tick (Linux's `check_preempt_tick`)?
    /// `nr_running` counts it too.
    pub fn check_preempt_tick(&self, curr: &SchedEntity, nr_running: usize) -> bool {
        let ideal = self.slice_of(curr.weight, self.load + curr.weight, nr_running);
        let ran = curr.sum_exec_runtime - curr.prev_sum_exec_runtime;
        if ran > ideal {
            return true;
        }
        if ran < SCHED_MIN_GRANULARITY_NS {
            return false;
        }
        match self.leftmost_vruntime() {
            Some(left) => curr.vruntime.saturating_sub(left) > ideal,
            None => false,
        }
    }

    /// Should a task that just woke with `woken` preempt the running `curr` (Linux's
    /// `wakeup_preempt_entity`)?
    pub fn check_preempt_wakeup(curr: &SchedEntity, woken: &SchedEntity) -> bool {
        if curr.idle_policy && !woken.idle_policy {
            return true;
        }
        if woken.no_wakeup_preempt {
            return false;
        }
        woken.vruntime + calc_delta_fair(SCHED_WAKEUP_GRANULARITY_NS, woken.weight) < curr.vruntime
    }

    /// The wall-clock slice of an entity of `weight` when the runnable ones weigh `total`
    /// (Linux's `sched_slice`: its share of the period), but no less than the minimum
    /// granularity.
    fn slice_of(&self, weight: u64, total: u64, nr_running: usize) -> u64 {
        let period = sched_slice(nr_running) * nr_running.max(1) as u64;
        let slice = (period as u128 * weight as u128 / total.max(1) as u128) as u64;
        slice.max(SCHED_MIN_GRANULARITY_NS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run `n` always-runnable tasks for `ticks` ticks of `tick_ns`, preempting as the
    /// scheduler would; return each task's CPU time.
    fn simulate(n: usize, ticks: u64, tick_ns: u64) -> Vec<u64> {
        simulate_weights(&vec![NICE_0_LOAD; n], ticks, tick_ns)
    }

    /// As `simulate`, with one task per weight.
    fn simulate_weights(weights: &[u64], ticks: u64, tick_ns: u64) -> Vec<u64> {
        let n = weights.len();
        let mut rq = CfsRq::new();
        let mut se = vec![SchedEntity::new(); n];
        for (i, e) in se.iter_mut().enumerate() {
            e.weight = weights[i];
            rq.place_entity(e, true);
            rq.enqueue(e, i);
        }
        let mut now = 0;
        let mut curr = rq.pick_next().unwrap();
        se[curr].set_picked();
        se[curr].exec_start = now;
        se[curr].prev_sum_exec_runtime = se[curr].sum_exec_runtime;
        for _ in 0..ticks {
            now += tick_ns;
            rq.update_curr(&mut se[curr], now);
            if rq.check_preempt_tick(&se[curr], n) {
                rq.enqueue(&mut se[curr], curr);
                curr = rq.pick_next().unwrap();
                se[curr].set_picked();
                se[curr].exec_start = now;
                se[curr].prev_sum_exec_runtime = se[curr].sum_exec_runtime;
            }
        }
        se.iter().map(|e| e.sum_exec_runtime).collect()
    }

    #[test]
    fn busy_tasks_share_the_cpu_fairly() {
        for n in [2, 3, 4, 8] {
            let times = simulate(n, 2500, 4_000_000); // 10 s at HZ=250
            let total: u64 = times.iter().sum();
            let fair = total / n as u64;
            for t in &times {
                // Within two ticks of the fair share after 10 s: the tick is the scheduler's
                // granularity, and a task may be one tick ahead while another is one behind.
                assert!(t.abs_diff(fair) <= 8_000_000, "n={n}: {times:?}");
            }
        }
    }

    #[test]
    fn nice_levels_share_by_weight() {
        // nice 0 against nice 10: 1024 / 110, Linux's ~9.3x; nice 19: 15 / 1039, ~1.4%.
        let times = simulate_weights(&[nice_to_weight(0), nice_to_weight(10)], 2500, 4_000_000);
        let ratio = times[0] as f64 / times[1] as f64;
        assert!((8.0..11.0).contains(&ratio), "{times:?} ratio {ratio}");
        let times = simulate_weights(&[nice_to_weight(0), nice_to_weight(19)], 2500, 4_000_000);
        let share = times[1] as f64 / (times[0] + times[1]) as f64;
        assert!((0.005..0.03).contains(&share), "{times:?} share {share}");
    }

    #[test]
    fn reweight_keeps_the_load_sum() {
        let mut rq = CfsRq::new();
        let mut a = SchedEntity::new();
        let mut b = SchedEntity::new();
        rq.enqueue(&mut a, 'a');
        rq.enqueue(&mut b, 'b');
        assert_eq!(rq.load, 2 * NICE_0_LOAD);
        rq.reweight(&mut a, nice_to_weight(19), 'a');
        assert_eq!(rq.load, NICE_0_LOAD + 15);
        assert!(rq.dequeue(&mut b).is_some());
        assert_eq!(rq.pick_next(), Some('a'));
        assert_eq!(rq.load, 0);
    }

    #[test]
    fn slices_shrink_with_load_but_not_below_the_minimum() {
        assert_eq!(sched_slice(1), SCHED_LATENCY_NS);
        assert_eq!(sched_slice(2), SCHED_LATENCY_NS / 2);
        assert_eq!(sched_slice(100), SCHED_MIN_GRANULARITY_NS);
    }

    #[test]
    fn new_tasks_start_behind_and_sleepers_get_bounded_credit() {
        let mut rq: CfsRq<u32> = CfsRq::new();
        rq.min_vruntime = 100_000_000;
        let mut fresh = SchedEntity::new();
        rq.place_entity(&mut fresh, true);
        assert!(fresh.vruntime > rq.min_vruntime);
        let mut sleeper = SchedEntity {
            vruntime: 1,
            ..SchedEntity::new()
        };
        rq.place_entity(&mut sleeper, false);
        assert_eq!(sleeper.vruntime, rq.min_vruntime - SCHED_LATENCY_NS / 2);
        let mut ahead = SchedEntity {
            vruntime: 200_000_000,
            ..SchedEntity::new()
        };
        rq.place_entity(&mut ahead, false);
        assert_eq!(
            ahead.vruntime, 200_000_000,
            "a waking task never moves forward"
        );
    }

    #[test]
    fn tree_orders_by_vruntime_and_dequeues_by_key() {
        let mut rq = CfsRq::new();
        let mut a = SchedEntity {
            vruntime: 30,
            ..SchedEntity::new()
        };
        let mut b = SchedEntity {
            vruntime: 10,
            ..SchedEntity::new()
        };
        let mut c = SchedEntity {
            vruntime: 20,
            ..SchedEntity::new()
        };
        rq.enqueue(&mut a, 'a');
        rq.enqueue(&mut b, 'b');
        rq.enqueue(&mut c, 'c');
        assert_eq!(rq.dequeue(&mut c), Some('c'));
        assert_eq!(rq.dequeue(&mut c), None, "double dequeue");
        assert_eq!(rq.pick_next(), Some('b'));
        assert_eq!(rq.pick_next(), Some('a'));
        assert_eq!(rq.pick_next(), None);
    }

    #[test]
    fn wakeup_preempts_only_past_the_granularity() {
        let curr = SchedEntity {
            vruntime: 10_000_000,
            ..SchedEntity::new()
        };
        let close = SchedEntity {
            vruntime: 9_500_000,
            ..SchedEntity::new()
        };
        let far = SchedEntity {
            vruntime: 5_000_000,
            ..SchedEntity::new()
        };
        assert!(!CfsRq::<u8>::check_preempt_wakeup(&curr, &close));
        assert!(CfsRq::<u8>::check_preempt_wakeup(&curr, &far));
    }

    #[test]
    fn detach_takes_the_leftmost_task_allowed() {
        let mut rq = CfsRq::new();
        let mut e = [SchedEntity::new(); 3];
        for (i, se) in e.iter_mut().enumerate() {
            se.vruntime = 10 * (i as u64 + 1);
            rq.enqueue(se, i);
        }
        assert_eq!(rq.detach_where(|&t| t != 0), Some(1));
        assert_eq!(rq.detach_where(|&t| t == 7), None);
        assert_eq!(rq.nr_queued(), 2);
        assert_eq!(rq.pick_next(), Some(0));
        assert_eq!(rq.pick_next(), Some(2));
    }

    #[test]
    fn min_vruntime_never_goes_back() {
        let mut rq: CfsRq<u8> = CfsRq::new();
        rq.update_min_vruntime(Some(50));
        rq.update_min_vruntime(Some(10));
        assert_eq!(rq.min_vruntime, 50);
    }
}
