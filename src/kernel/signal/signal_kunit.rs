//! KUnit tests of the signal tables allocated on demand: the actions ([`SigActions`]) and
//! the siginfo of pending signals ([`SigInfoTable`]), which a task or process that never
//! sets a handler or has a signal pending does without.

use super::signal_struct::{SigActions, SighandStruct};
use super::{si, sig, KernelSigInfo, SigAction, SigInfoTable, SIG_DFL, SIG_IGN};
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

/// An empty siginfo table answers signal number 0 (the caller's SI_KERNEL fallback) and
/// allocates at the first store; numbers outside 1..=64 are ignored.
fn siginfo_table_allocated_at_first_signal(test: &mut Test) {
    let mut table = SigInfoTable::new();
    kunit_expect!(
        test,
        table.get(sig::SIGTERM).signo == 0,
        "empty table has info"
    );
    kunit_expect!(test, !table.is_allocated(), "a read allocated the table");
    table.set(0, KernelSigInfo::default());
    table.set(65, KernelSigInfo::default());
    kunit_expect!(
        test,
        !table.is_allocated(),
        "an invalid signal allocated the table"
    );
    let info = KernelSigInfo {
        signo: sig::SIGTERM,
        code: si::SI_USER,
        pid: 42,
        ..KernelSigInfo::default()
    };
    table.set(sig::SIGTERM, info);
    kunit_expect!(test, table.is_allocated(), "a signal's info was not stored");
    kunit_expect!(
        test,
        table.get(sig::SIGTERM) == info,
        "SIGTERM's info changed"
    );
    kunit_expect!(test, table.get(sig::SIGHUP).signo == 0, "SIGHUP has info");
    kunit_expect!(test, table.get(-1).signo == 0, "signal -1 has info");
}

kunit_test_suite!(
    signal,
    [
        actions_allocated_when_first_set,
        sighand_copy_follows_the_source,
        siginfo_table_allocated_at_first_signal
    ]
);
