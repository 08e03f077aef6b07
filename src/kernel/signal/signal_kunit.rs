//! KUnit tests of the signal tables allocated on demand: the actions ([`SigActions`]) and
//! the queue of pending signals' information ([`SigQueue`]), which a task or process that never
//! sets a handler or has a signal pending does without.

use super::signal_struct::{SigActions, SighandStruct};
use super::sigqueue::{sigpending_of, Charge, PreallocCharge, SigQueue};
use super::{si, sig, KernelSigInfo, SigAction, SIG_DFL, SIG_IGN};
use crate::kunit::Test;
use crate::{kunit_expect, kunit_test_suite};

/// Reading the default actions allocates nothing; setting one does, and it reads back;
/// `compact` frees the table only once every action is the default again.
fn actions_allocated_when_first_set(test: &mut Test) {
    let mut actions = SigActions::new();
    let handler = actions.with(|a| a[sig::SIGINT as usize - 1].handler);
    kunit_expect!(
        test,
        handler == SIG_DFL,
        "default SIGINT handler {handler:#x}"
    );
    kunit_expect!(test, !actions.is_allocated(), "a read allocated the table");
    actions.with(|a| a[sig::SIGINT as usize - 1].handler = SIG_IGN);
    kunit_expect!(
        test,
        actions.is_allocated(),
        "setting SIG_IGN kept no table"
    );
    let handler = actions.with(|a| a[sig::SIGINT as usize - 1].handler);
    kunit_expect!(test, handler == SIG_IGN, "SIGINT reads back {handler:#x}");
    actions.compact();
    kunit_expect!(
        test,
        actions.is_allocated(),
        "compact dropped a changed table"
    );
    actions.with(|a| a[sig::SIGINT as usize - 1] = SigAction::DEFAULT);
    actions.compact();
    kunit_expect!(test, !actions.is_allocated(), "all-default table not freed");
}

/// A copy of default actions allocates nothing; a copy of a changed table is a copy.
fn sighand_copy_follows_the_source(test: &mut Test) {
    let mut table = [SigAction::DEFAULT; super::NSIG];
    kunit_expect!(
        test,
        !SighandStruct::from_actions(&table)
            .action
            .lock()
            .is_allocated(),
        "copying default actions allocated a table"
    );
    table[sig::SIGUSR1 as usize - 1].handler = 0x1234;
    let copy = SighandStruct::from_actions(&table);
    let handler = copy
        .action
        .lock()
        .with(|a| a[sig::SIGUSR1 as usize - 1].handler);
    kunit_expect!(
        test,
        handler == 0x1234,
        "copied SIGUSR1 handler {handler:#x}"
    );
}

fn rt(signo: i32, value: u64) -> KernelSigInfo {
    KernelSigInfo {
        signo,
        code: si::SI_QUEUE,
        value,
        ..KernelSigInfo::default()
    }
}

/// The queue holds no memory until the first entry, gives a signal's entries back oldest
/// first and says while more of that signal remain; each entry is charged to its user
/// until taken or flushed, and a user at its limit gets no more unless the limit is
/// overridden; a timer's preallocated charge is refused at the limit without changing the
/// count, and given back when dropped.
fn sigqueue_fifo_and_charges(test: &mut Test) {
    // A user ID nobody else has, so the count is this test's alone.
    const UID: u32 = 0xdead_0001;
    let charge = |limit, override_rlimit| Charge::User {
        uid: UID,
        limit,
        override_rlimit,
    };
    let mut q = SigQueue::new();
    kunit_expect!(test, !q.is_allocated(), "an empty queue holds memory");
    kunit_expect!(test, q.take(34).0.is_none(), "an empty queue gave an entry");
    kunit_expect!(test, q.push(rt(34, 1), charge(3, false)), "push 1 failed");
    kunit_expect!(test, q.push(rt(33, 2), charge(3, false)), "push 2 failed");
    kunit_expect!(test, q.push(rt(34, 3), charge(3, false)), "push 3 failed");
    kunit_expect!(
        test,
        sigpending_of(UID) == 3,
        "count {} not 3",
        sigpending_of(UID)
    );
    kunit_expect!(
        test,
        !q.push(rt(34, 4), charge(3, false)),
        "pushed over the limit"
    );
    kunit_expect!(test, sigpending_of(UID) == 3, "a refused entry was charged");
    kunit_expect!(test, q.push(rt(10, 5), charge(3, true)), "override refused");
    kunit_expect!(test, sigpending_of(UID) == 4, "an override was not charged");
    let (first, still) = q.take(34);
    kunit_expect!(
        test,
        first.map(|i| i.value) == Some(1) && still,
        "first of 34: {first:?}, still {still}"
    );
    let (second, still) = q.take(34);
    kunit_expect!(
        test,
        second.map(|i| i.value) == Some(3) && !still,
        "second of 34: {second:?}, still {still}"
    );
    kunit_expect!(test, sigpending_of(UID) == 2, "taking did not uncharge");
    q.flush_mask(super::bit(33) | super::bit(10));
    kunit_expect!(test, q.is_empty(), "flush left {} entries", q.len());
    kunit_expect!(test, sigpending_of(UID) == 0, "flush did not uncharge");
    kunit_expect!(
        test,
        q.push(rt(40, 6), Charge::None),
        "an uncharged push failed"
    );
    kunit_expect!(test, sigpending_of(UID) == 0, "Charge::None was charged");
    drop(q);
    // A timer's charge: refused at the limit without touching the count.
    let first = PreallocCharge::new(UID, 1);
    kunit_expect!(test, first.is_some(), "the first prealloc was refused");
    kunit_expect!(
        test,
        PreallocCharge::new(UID, 1).is_none(),
        "prealloc over the limit"
    );
    kunit_expect!(
        test,
        sigpending_of(UID) == 1,
        "a refused prealloc changed the count to {}",
        sigpending_of(UID)
    );
    drop(first);
    kunit_expect!(
        test,
        sigpending_of(UID) == 0,
        "dropping a prealloc did not uncharge"
    );
}

kunit_test_suite!(
    signal,
    [
        actions_allocated_when_first_set,
        sighand_copy_follows_the_source,
        sigqueue_fifo_and_charges
    ]
);
