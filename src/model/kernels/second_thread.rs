//! A second thread that polls for work between ops, for the forward pass's many small matmuls
//! (native only; the browser's worker has one thread).
//!
//! At 10 tokens each weight product is ~0.1 ms of work, below burn-flex's size for a parallel
//! matmul, and handing half of it to a sleeping rayon worker cost about what it saved (docs/performance.md
//! "Where the time goes"). Inside [`with_second_thread`] a helper thread polls one job slot
//! (yielding the CPU between polls, so it gives way to any other runnable thread; parking
//! after a millisecond without work), and
//! [`join`] hands it one half of a product: a hand-off costs microseconds, as with llama.cpp's
//! spinning threads. Outside it, or on the helper itself, [`join`] runs both halves in turn.
//! It is what makes a native forward use a second core at all (docs/performance.md "What was
//! tried": without it, 2 threads run as fast as 1).
//!
//! # Safety
//!
//! One [`Slot`] per [`with_second_thread`], shared by the thread that called it (the poster) and
//! its helper; its `state` says who owns the two `UnsafeCell`s, and only the owner touches them:
//!
//! - `EMPTY`: the poster. [`join`] writes the job, then stores `POSTED` (release).
//! - `POSTED`: whoever wins the compare-exchange. The helper (`POSTED → TAKEN`) takes the job,
//!   runs it, writes a panic if there was one, and stores `DONE` (release). Or the poster
//!   (`POSTED → EMPTY`) takes the job back and runs it itself.
//! - `TAKEN`: the helper, until it stores `DONE`.
//! - `DONE`: the poster again: it reads the panic and stores `EMPTY`.
//!
//! The job borrows the poster's stack frame; its lifetime is erased (`transmute` to `'static`)
//! to cross to the helper. That is sound because [`join`] does not return, nor unwind, before it
//! has either taken the job back or seen `DONE`: `a` runs under `catch_unwind`, and a panic of
//! either half is resumed only after that point. The helper lives in a `std::thread::scope`
//! inside [`with_second_thread`], so it cannot outlive the slot either.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant};

const EMPTY: u8 = 0;
const POSTED: u8 = 1;
const TAKEN: u8 = 2;
const DONE: u8 = 3;

type Job = *mut (dyn FnMut() + Send + 'static);

/// The one job slot shared by the thread that posts and the helper that runs.
struct Slot {
    state: AtomicU8,
    /// Written by the poster before `POSTED`, read by the helper after taking it.
    job: UnsafeCell<Option<Job>>,
    /// A panic of the job on the helper, handed back to the poster.
    panic: UnsafeCell<Option<Box<dyn Any + Send>>>,
    stop: AtomicBool,
    /// Set while the helper is parked (after [`PARK_AFTER`] without work), so that a poster
    /// unparks it.
    parked: AtomicBool,
    helper: OnceLock<Thread>,
}

/// How long the helper polls without work before it parks: the ops between two products of a
/// forward take far less, a backward pass or the time between forwards far more (where a
/// polling thread would only take CPU from others).
const PARK_AFTER: Duration = Duration::from_millis(1);

impl Slot {
    fn wake(&self) {
        if let Some(t) = self.helper.get() {
            t.unpark();
        }
    }
}

// The cells are only touched by whoever owns the slot's current state (see `join`).
unsafe impl Sync for Slot {}

/// Off: [`with_second_thread`] runs its closure without a helper (`bench-forward
/// --no-second-thread`, to measure what the helper buys).
static OFF: AtomicBool = AtomicBool::new(false);

pub fn switch_off() {
    OFF.store(true, Ordering::Relaxed);
}

thread_local! {
    static CURRENT: Cell<*const Slot> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` with a helper thread that [`join`] calls made on this thread (and no other) hand
/// work to. The helper stops when `f` returns or panics.
pub fn with_second_thread<R>(f: impl FnOnce() -> R) -> R {
    if OFF.load(Ordering::Relaxed) {
        return f();
    }
    let slot = Slot {
        state: AtomicU8::new(EMPTY),
        job: UnsafeCell::new(None),
        panic: UnsafeCell::new(None),
        stop: AtomicBool::new(false),
        parked: AtomicBool::new(false),
        helper: OnceLock::new(),
    };
    std::thread::scope(|s| {
        let helper = s.spawn(|| serve(&slot));
        let _ = slot.helper.set(helper.thread().clone());
        // Resets this thread's slot and stops the helper, on return and on unwinding alike.
        struct Leave<'a>(&'a Slot, *const Slot);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.1));
                self.0.stop.store(true, Ordering::SeqCst);
                self.0.wake();
            }
        }
        let _leave = Leave(&slot, CURRENT.with(|c| c.replace(&slot)));
        f()
    })
}

/// The helper's loop: take a posted job, run it, say it is done; until told to stop.
fn serve(slot: &Slot) {
    let mut idle_since = Instant::now();
    loop {
        if slot.state.load(Ordering::Acquire) == POSTED
            && slot.state.compare_exchange(POSTED, TAKEN, Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            // SAFETY: the poster wrote the job before POSTED and waits for DONE before its
            // stack frame (which the job borrows) ends.
            let job = unsafe { (*slot.job.get()).take() }.expect("a posted slot holds a job");
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| unsafe { (*job)() })) {
                unsafe { *slot.panic.get() = Some(p) };
            }
            slot.state.store(DONE, Ordering::Release);
            idle_since = Instant::now();
        } else if slot.stop.load(Ordering::SeqCst) {
            return;
        } else if idle_since.elapsed() > PARK_AFTER {
            // SeqCst on `parked`, `state` and `stop`: a poster either sees `parked` and
            // unparks, or its POSTED (or stop) is seen here before parking.
            slot.parked.store(true, Ordering::SeqCst);
            if slot.state.load(Ordering::SeqCst) != POSTED && !slot.stop.load(Ordering::SeqCst) {
                std::thread::park();
            }
            slot.parked.store(false, Ordering::SeqCst);
            idle_since = Instant::now();
        } else {
            for _ in 0..32 {
                std::hint::spin_loop();
            }
            std::thread::yield_now();
        }
    }
}

/// Whether this thread is inside [`with_second_thread`] (so splitting work in two pays).
pub fn active() -> bool {
    !CURRENT.with(|c| c.get()).is_null()
}

/// Runs `a` here and `b` on the helper if one is there and free (else here too), and returns
/// both results. If the helper has not taken `b` by the time `a` is done, `b` runs here.
pub fn join<RA, RB>(a: impl FnOnce() -> RA, b: impl FnOnce() -> RB + Send) -> (RA, RB)
where
    RB: Send,
{
    let slot = CURRENT.with(|c| c.get());
    // SAFETY: CURRENT points at the slot of an enclosing `with_second_thread` on this thread.
    let Some(slot) = (unsafe { slot.as_ref() }) else { return (a(), b()) };
    if slot.state.load(Ordering::Acquire) != EMPTY {
        return (a(), b()); // a join inside `a` of an outer join: the slot is in use
    }
    let mut b = Some(b);
    let mut rb = None;
    let mut task = || rb = Some((b.take().expect("b runs once"))());
    let job: *mut (dyn FnMut() + Send + '_) = &mut task;
    // SAFETY: the lifetime is erased; `task` outlives every use, since this frame reclaims the
    // job or waits for DONE below before returning or unwinding.
    unsafe { *slot.job.get() = Some(std::mem::transmute::<*mut (dyn FnMut() + Send + '_), Job>(job)) };
    slot.state.store(POSTED, Ordering::SeqCst);
    if slot.parked.load(Ordering::SeqCst) {
        slot.wake();
    }
    let ra = catch_unwind(AssertUnwindSafe(a));
    if slot.state.compare_exchange(POSTED, EMPTY, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        // The helper never took it: run it here.
        unsafe { *slot.job.get() = None };
        task();
    } else {
        while slot.state.load(Ordering::Acquire) != DONE {
            std::hint::spin_loop();
        }
        let panic = unsafe { (*slot.panic.get()).take() };
        slot.state.store(EMPTY, Ordering::Release);
        if let Some(p) = panic {
            resume_unwind(p);
        }
    }
    let ra = ra.unwrap_or_else(|p| resume_unwind(p));
    (ra, rb.expect("b ran"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_returns_both_results_with_and_without_a_helper() {
        assert_eq!(join(|| 1, || 2), (1, 2));
        let sums = with_second_thread(|| (0..2000u64).map(|i| join(|| i, || i * 2)).map(|(a, b)| a + b).sum::<u64>());
        assert_eq!(sums, (0..2000u64).map(|i| 3 * i).sum::<u64>());
    }

    #[test]
    fn b_runs_on_the_helper_when_it_is_free() {
        let here = std::thread::current().id();
        // The helper takes a posted job within microseconds; `a` waits long enough for that.
        let ids = with_second_thread(|| {
            join(|| std::thread::sleep(std::time::Duration::from_millis(50)), || std::thread::current().id()).1
        });
        assert_ne!(ids, here, "b ran on the posting thread although the helper was idle");
    }

    #[test]
    fn a_parked_helper_wakes_for_a_job() {
        let here = std::thread::current().id();
        let ids = with_second_thread(|| {
            std::thread::sleep(PARK_AFTER * 20); // the helper parks
            join(|| std::thread::sleep(std::time::Duration::from_millis(50)), || std::thread::current().id()).1
        });
        assert_ne!(ids, here, "the parked helper was not woken for the job");
    }

    #[test]
    fn a_panic_in_b_reaches_the_caller_and_the_helper_stops() {
        let r = catch_unwind(|| {
            with_second_thread(|| join(|| std::thread::sleep(std::time::Duration::from_millis(20)), || panic!("in b")))
        });
        let msg = r.expect_err("the panic was lost");
        assert_eq!(msg.downcast_ref::<&str>(), Some(&"in b"));
        assert_eq!(join(|| 3, || 4), (3, 4), "the slot outlived its scope");
    }
}
