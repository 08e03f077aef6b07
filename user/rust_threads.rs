//! rust_threads.rs - Rust's std::thread, std::sync::mpsc, Mutex, Condvar, RwLock, Barrier,
//! thread-locals, scoped threads and park/unpark, on the kernel's threads and futexes.
//!
//! Built by `cargo xtask user` with `rustc --target aarch64-unknown-linux-musl -C
//! linker=rust-lld` (a static musl program; Rust's std uses `clone` with CLONE_THREAD,
//! futex waits and wakes, and `set_tid_address`). It prints TAP like the C programs, and
//! only what the threads computed, never how the scheduler interleaved them; it exits 0
//! only if every test passed.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Condvar, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

type TestResult = Result<(), String>;

fn spawn_and_join() -> TestResult {
    let handles: Vec<_> = (0..8u64)
        .map(|i| thread::spawn(move || i * i))
        .collect();
    let sum: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    if sum != 140 {
        return Err(format!("sum of squares {sum}, want 140"));
    }
    Ok(())
}

fn mutex_counter() -> TestResult {
    let counter = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                for i in 0..10_000 {
                    let mut n = counter.lock().unwrap_or_else(|e| e.into_inner());
                    *n += 1;
                    if i % 1000 == 0 {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a thread panicked".to_string())?;
    }
    let n = *counter.lock().unwrap_or_else(|e| e.into_inner());
    if n != 80_000 {
        return Err(format!("counter {n}, want 80000"));
    }
    Ok(())
}

fn channels() -> TestResult {
    let (tx, rx) = mpsc::channel();
    for p in 0..4u64 {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..100u64 {
                let _ = tx.send(p * 1000 + i);
            }
        });
    }
    drop(tx);
    let got: Vec<u64> = rx.iter().collect();
    let sum: u64 = got.iter().sum();
    if got.len() != 400 || sum != 4 * 4950 + 100 * (1000 + 2000 + 3000) {
        return Err(format!("{} messages, sum {sum}", got.len()));
    }
    // A rendezvous channel: every send waits for its receive.
    let (tx, rx) = mpsc::sync_channel::<u32>(0);
    let sender = thread::spawn(move || {
        for i in 0..50 {
            if tx.send(i).is_err() {
                return false;
            }
        }
        true
    });
    let mut expect = 0;
    for v in rx.iter() {
        if v != expect {
            return Err(format!("got {v}, want {expect}"));
        }
        expect += 1;
    }
    if !sender.join().unwrap_or(false) || expect != 50 {
        return Err(format!("rendezvous ended after {expect}"));
    }
    Ok(())
}

fn condvar() -> TestResult {
    let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    // A timed wait with nothing to wake it times out, no earlier than asked.
    {
        let (lock, cv) = &*pair;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let start = Instant::now();
        let (_guard, result) = cv
            .wait_timeout(guard, Duration::from_millis(50))
            .unwrap_or_else(|e| e.into_inner());
        if !result.timed_out() {
            return Err("wait_timeout did not time out".into());
        }
        if start.elapsed() < Duration::from_millis(50) {
            return Err("wait_timeout returned early".into());
        }
    }
    // notify_all wakes every waiter.
    let woken = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..5)
        .map(|_| {
            let pair = Arc::clone(&pair);
            let woken = Arc::clone(&woken);
            thread::spawn(move || {
                let (lock, cv) = &*pair;
                let mut go = lock.lock().unwrap_or_else(|e| e.into_inner());
                while *go == 0 {
                    go = cv.wait(go).unwrap_or_else(|e| e.into_inner());
                }
                woken.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(20));
    {
        let (lock, cv) = &*pair;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = 1;
        cv.notify_all();
    }
    for w in waiters {
        let _ = w.join();
    }
    if woken.load(Ordering::SeqCst) != 5 {
        return Err(format!("{} of 5 woke", woken.load(Ordering::SeqCst)));
    }
    Ok(())
}

fn rwlock_and_barrier() -> TestResult {
    let data = Arc::new(RwLock::new(Vec::<u32>::new()));
    let barrier = Arc::new(Barrier::new(4));
    let leaders = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..4u32)
        .map(|id| {
            let data = Arc::clone(&data);
            let barrier = Arc::clone(&barrier);
            let leaders = Arc::clone(&leaders);
            thread::spawn(move || {
                for round in 0..5u32 {
                    data.write()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(round * 10 + id);
                    if barrier.wait().is_leader() {
                        leaders.fetch_add(1, Ordering::SeqCst);
                    }
                    let len = data.read().unwrap_or_else(|e| e.into_inner()).len();
                    if len < ((round + 1) * 4) as usize {
                        return false;
                    }
                    barrier.wait();
                }
                true
            })
        })
        .collect();
    for h in handles {
        if !h.join().unwrap_or(false) {
            return Err("a reader saw a round before the barrier".into());
        }
    }
    let mut all = data.read().unwrap_or_else(|e| e.into_inner()).clone();
    all.sort_unstable();
    let want: Vec<u32> = (0..5).flat_map(|r| (0..4).map(move |i| r * 10 + i)).collect();
    if all != want {
        return Err("the writes are not all there".into());
    }
    if leaders.load(Ordering::SeqCst) != 5 {
        return Err(format!("{} leaders in 5 rounds", leaders.load(Ordering::SeqCst)));
    }
    Ok(())
}

thread_local! {
    static LOCAL: Cell<u32> = const { Cell::new(1) };
}

fn thread_locals_and_scope() -> TestResult {
    LOCAL.with(|l| l.set(99));
    let mut results = [0u32; 6];
    thread::scope(|s| {
        for (i, slot) in results.iter_mut().enumerate() {
            s.spawn(move || {
                let start = LOCAL.with(Cell::get);
                LOCAL.with(|l| l.set(100 + i as u32));
                thread::sleep(Duration::from_millis(2));
                *slot = if start == 1 { LOCAL.with(Cell::get) } else { 0 };
            });
        }
    });
    for (i, r) in results.iter().enumerate() {
        if *r != 100 + i as u32 {
            return Err(format!("thread {i} saw {r}"));
        }
    }
    if LOCAL.with(Cell::get) != 99 {
        return Err("the main thread's local changed".into());
    }
    Ok(())
}

fn park_unpark() -> TestResult {
    let flag = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&flag);
    let parked = thread::spawn(move || {
        while f.load(Ordering::SeqCst) == 0 {
            thread::park();
        }
        f.load(Ordering::SeqCst)
    });
    thread::sleep(Duration::from_millis(20));
    flag.store(7, Ordering::SeqCst);
    parked.thread().unpark();
    match parked.join() {
        Ok(7) => Ok(()),
        Ok(v) => Err(format!("saw {v}")),
        Err(_) => Err("panicked".into()),
    }
}

fn many_threads() -> TestResult {
    let handles: Vec<_> = (0..200u32)
        .map(|i| {
            thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || i)
                .map_err(|e| format!("spawn {i}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let sum: u32 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    if sum != 199 * 200 / 2 {
        return Err(format!("sum {sum}"));
    }
    Ok(())
}

fn main() {
    let tests: [(&str, fn() -> TestResult); 8] = [
        ("std::thread::spawn and join return values", spawn_and_join),
        ("Mutex serialises 8 threads", mutex_counter),
        ("mpsc channels: 4 producers, and a rendezvous channel", channels),
        ("Condvar: wait_timeout times out, notify_all wakes all", condvar),
        ("RwLock and Barrier across 4 threads", rwlock_and_barrier),
        ("thread_local! and thread::scope", thread_locals_and_scope),
        ("park and unpark", park_unpark),
        ("200 threads with small stacks", many_threads),
    ];
    println!("1..{}", tests.len());
    let mut failures = 0;
    for (i, (name, test)) in tests.iter().enumerate() {
        match test() {
            Ok(()) => println!("ok {} - {name}", i + 1),
            Err(detail) => {
                failures += 1;
                println!("not ok {} - {name} # {detail}", i + 1);
            }
        }
    }
    std::process::exit(if failures == 0 { 0 } else { 1 });
}
