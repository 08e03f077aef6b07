//! KUnit tests of the lock table (`locks.rs`) on tables of their own, apart from the
//! system's: ranges split and merge, the record limit gives ENOLCK, the deadlock check
//! follows waiters, and a flock conversion drops the old lock first.

use alloc::vec::Vec;

use super::locks::{Attempt, Blocked, FileLock, FileLocks, LockKind, LockType};
use crate::kernel::errno::Errno;
use crate::kunit::Test;
use crate::{kunit_expect, kunit_test_suite};

/// The inode every test locks (any number: the table only compares keys).
const INODE: usize = 0x1000;
const ID: (u64, u64) = (0, 1);
const EOF: i64 = i64::MAX;

fn posix(owner: usize, start: i64, end: i64) -> FileLock {
    FileLock {
        kind: LockKind::Posix,
        owner,
        ty: LockType::Read,
        pid: 1,
        start,
        end,
    }
}

/// One non-blocking POSIX request; its result (Err(EAGAIN) for a conflict).
fn setlk(
    t: &mut FileLocks,
    owner: usize,
    ty: Option<LockType>,
    start: i64,
    end: i64,
) -> Result<(), Errno> {
    let mut released = false;
    match t.posix_lock_inode(
        INODE,
        ID,
        &posix(owner, start, end),
        ty,
        false,
        &mut released,
    ) {
        Attempt::Done(r) => r,
        Attempt::Wait(_) => Err(Errno::EINTR),
    }
}

/// The table's POSIX locks as (owner, type, start, end).
fn ranges(t: &FileLocks) -> Vec<(usize, LockType, i64, i64)> {
    t.posix_locks(INODE)
        .iter()
        .map(|l| (l.owner, l.ty, l.start, l.end))
        .collect()
}

fn split_and_merge(test: &mut Test) {
    use LockType::{Read, Write};
    let mut t = FileLocks::new(100);
    kunit_expect!(test, setlk(&mut t, 1, Some(Write), 0, EOF).is_ok());
    kunit_expect!(test, setlk(&mut t, 1, None, 10, 19).is_ok());
    kunit_expect!(
        test,
        ranges(&t) == [(1, Write, 0, 9), (1, Write, 20, EOF)],
        "split: {:?}",
        ranges(&t)
    );
    kunit_expect!(test, setlk(&mut t, 1, Some(Read), 5, 24).is_ok());
    kunit_expect!(
        test,
        ranges(&t) == [(1, Write, 0, 4), (1, Read, 5, 24), (1, Write, 25, EOF)],
        "a read lock across both: {:?}",
        ranges(&t)
    );
    kunit_expect!(test, setlk(&mut t, 1, Some(Write), 5, 24).is_ok());
    kunit_expect!(
        test,
        ranges(&t) == [(1, Write, 0, EOF)],
        "merged back: {:?}",
        ranges(&t)
    );
    kunit_expect!(
        test,
        setlk(&mut t, 2, Some(Read), 3, 3) == Err(Errno::EAGAIN)
    );
    kunit_expect!(test, setlk(&mut t, 1, None, 0, EOF).is_ok());
    kunit_expect!(
        test,
        t.count == 0 && t.inodes.is_empty(),
        "count {} after unlocking all",
        t.count
    );
}

fn record_limit(test: &mut Test) {
    let mut t = FileLocks::new(100);
    for i in 0..100 {
        let r = setlk(&mut t, 1, Some(LockType::Write), 2 * i, 2 * i);
        kunit_expect!(test, r.is_ok(), "lock {i}: {r:?}");
    }
    kunit_expect!(
        test,
        setlk(&mut t, 1, Some(LockType::Write), 1000, 1000) == Err(Errno::ENOLCK)
    );
    kunit_expect!(
        test,
        setlk(&mut t, 2, Some(LockType::Write), 1000, 1000) == Err(Errno::ENOLCK)
    );
    let mut released = false;
    let flock = t.flock_lock_inode(INODE, ID, 3, Some(LockType::Read), false, &mut released);
    kunit_expect!(
        test,
        matches!(flock, Attempt::Done(Err(Errno::ENOLCK))),
        "flock at the limit"
    );
    // A merge needs no new record: 0..2 joins the locks on bytes 0 and 2.
    kunit_expect!(test, setlk(&mut t, 1, Some(LockType::Write), 0, 2).is_ok());
    kunit_expect!(test, t.count == 99, "count {} after a merge", t.count);
    kunit_expect!(test, setlk(&mut t, 1, None, 0, EOF).is_ok());
    kunit_expect!(
        test,
        t.count == 0 && t.records(INODE) == (0, 0),
        "count {} after unlocking",
        t.count
    );
}

fn deadlock_detection(test: &mut Test) {
    let mut t = FileLocks::new(100);
    kunit_expect!(test, setlk(&mut t, 1, Some(LockType::Write), 0, 0).is_ok());
    kunit_expect!(test, setlk(&mut t, 2, Some(LockType::Write), 1, 1).is_ok());
    kunit_expect!(test, setlk(&mut t, 3, Some(LockType::Write), 2, 2).is_ok());
    // 2 waits for 1's byte 0, 3 for 2's byte 1.
    t.blocked.push(Blocked {
        id: 1,
        waiter: 2,
        blocker: 1,
    });
    t.blocked.push(Blocked {
        id: 2,
        waiter: 3,
        blocker: 2,
    });
    let mut released = false;
    let mut ask = |t: &mut FileLocks, owner, byte| {
        t.posix_lock_inode(
            INODE,
            ID,
            &posix(owner, byte, byte),
            Some(LockType::Write),
            true,
            &mut released,
        )
    };
    kunit_expect!(
        test,
        matches!(ask(&mut t, 1, 2), Attempt::Done(Err(Errno::EDEADLK))),
        "1 waiting for 3 closes the cycle 1 -> 3 -> 2 -> 1"
    );
    kunit_expect!(
        test,
        matches!(ask(&mut t, 4, 2), Attempt::Wait(l) if l.owner == 3),
        "4 may wait for 3"
    );
    t.blocked.clear();
    kunit_expect!(
        test,
        matches!(ask(&mut t, 1, 2), Attempt::Wait(_)),
        "no cycle without the waiters"
    );
}

fn flock_conversion(test: &mut Test) {
    let mut t = FileLocks::new(100);
    let mut released = false;
    let mut flock = |t: &mut FileLocks, file, ty| match t.flock_lock_inode(
        INODE,
        ID,
        file,
        ty,
        false,
        &mut released,
    ) {
        Attempt::Done(r) => r,
        Attempt::Wait(_) => Err(Errno::EINTR),
    };
    kunit_expect!(test, flock(&mut t, 1, Some(LockType::Read)).is_ok());
    kunit_expect!(test, flock(&mut t, 2, Some(LockType::Read)).is_ok());
    kunit_expect!(
        test,
        flock(&mut t, 1, Some(LockType::Write)) == Err(Errno::EAGAIN)
    );
    kunit_expect!(
        test,
        t.records(INODE) == (0, 1),
        "the failed conversion dropped 1's lock: {:?}",
        t.records(INODE)
    );
    kunit_expect!(
        test,
        flock(&mut t, 2, Some(LockType::Write)).is_ok(),
        "2 converts alone"
    );
    kunit_expect!(test, flock(&mut t, 2, None).is_ok());
    kunit_expect!(test, t.count == 0 && t.inodes.is_empty());
}

kunit_test_suite!(
    file_locks,
    [
        split_and_merge,
        record_limit,
        deadlock_detection,
        flock_conversion
    ]
);
