//! KUnit tests of the futex hash table and FUTEX_WAKE_OP's encoding (Linux has
//! `tools/testing/selftests/futex`; these test the parts that need no user memory).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::core::{bucket, hash_bucket, mark_woken, unqueue, FutexKey, FutexQ, Waiter, HASH_SIZE};
use super::waitwake::decode_wake_op;
use crate::kernel::task::current;
use crate::kunit::Test;
use crate::{kunit_expect, kunit_test_suite};

fn waiter(key: FutexKey, bitset: u32) -> Waiter {
    Waiter {
        key,
        bitset,
        q: Arc::new(FutexQ {
            task: current().get_ref(),
            woken: AtomicBool::new(false),
            bucket: AtomicUsize::new(0),
        }),
    }
}

const A: FutexKey = FutexKey::Private {
    mm: 0x1000,
    addr: 0x40,
};
const B: FutexKey = FutexKey::Private {
    mm: 0x1000,
    addr: 0x44,
};

fn wake_order_bitsets_and_count(test: &mut Test) {
    let mut queue: Vec<Waiter> = alloc::vec![
        waiter(A, 1),
        waiter(B, u32::MAX),
        waiter(A, 2),
        waiter(A, 4),
    ];
    let (first, third) = (queue[0].q.clone(), queue[2].q.clone());
    // Bitset 2 takes only the waiter whose bitset meets it.
    kunit_expect!(test, mark_woken(&mut queue, &A, 10, 2) == 1);
    kunit_expect!(test, third.woken.load(Ordering::Acquire));
    kunit_expect!(test, !first.woken.load(Ordering::Acquire));
    // nr_wake 0 still wakes one (Linux's loop), the oldest first.
    kunit_expect!(test, mark_woken(&mut queue, &A, 0, u32::MAX) == 1);
    kunit_expect!(test, first.woken.load(Ordering::Acquire));
    // Another key's waiter stays.
    kunit_expect!(test, mark_woken(&mut queue, &A, 10, u32::MAX) == 1);
    kunit_expect!(test, queue.len() == 1 && queue[0].key == B);
}

fn unqueue_follows_a_requeue(test: &mut Test) {
    let (i, b) = hash_bucket(&A);
    let w = waiter(A, u32::MAX);
    let q = w.q.clone();
    q.bucket.store(i, Ordering::Release);
    b.waiters.lock().push(w);
    // Move it to another bucket as futex_requeue does: both locks, then the index.
    let j = (i + 1) % HASH_SIZE;
    {
        let mut from = b.waiters.lock();
        let pos = from.iter().position(|w| Arc::ptr_eq(&w.q, &q));
        kunit_expect!(test, pos.is_some());
        if let Some(pos) = pos {
            let mut moved = from.remove(pos);
            moved.key = B;
            drop(from);
            let mut to = bucket(j).waiters.lock();
            q.bucket.store(j, Ordering::Release);
            to.push(moved);
        }
    }
    kunit_expect!(test, unqueue(&q));
    kunit_expect!(test, !unqueue(&q)); // gone: as if a waker had taken it
}

fn keys_hash_stably(test: &mut Test) {
    kunit_expect!(test, hash_bucket(&A).0 == hash_bucket(&A).0);
    kunit_expect!(test, hash_bucket(&A).0 < HASH_SIZE);
    let shared = FutexKey::Shared { phys: 0x4000_0040 };
    kunit_expect!(test, shared != A);
}

fn wake_op_decoding(test: &mut Test) {
    // FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 0)
    kunit_expect!(test, decode_wake_op((1 << 28) | (5 << 12)) == (1, 5, 0, 0));
    // FUTEX_OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 3, FUTEX_OP_CMP_LT, 1)
    kunit_expect!(
        test,
        decode_wake_op((8 << 28) | (2 << 24) | (3 << 12) | 1) == (0, 8, 2, 1)
    );
    // The 12-bit fields are signed: oparg -1 (0xfff), cmparg -2 (0xffe).
    kunit_expect!(
        test,
        decode_wake_op((4 << 28) | (5 << 24) | (0xfff << 12) | 0xffe) == (4, u32::MAX, 5, -2)
    );
}

kunit_test_suite!(
    futex,
    [
        wake_order_bitsets_and_count,
        unqueue_follows_a_requeue,
        keys_hash_stably,
        wake_op_decoding
    ]
);
