//! Stopping every other thread of the process while code is rewritten.
//!
//! Each thread is sent a real-time signal whose handler records where the
//! thread was (its program counter) and then parks until the agent releases
//! it. Only when every thread is parked, and none of them is inside the
//! bytes about to change, does the agent run its action.
//!
//! Everything between "stop" and "release" avoids allocating and taking
//! locks: a parked thread may hold the malloc or stdio lock, and waiting on
//! it would deadlock the agent and, with it, the whole app.

use crate::arch::{Architecture, Current};
use crate::thread_list::{last_errno, list_threads, ListError, ThreadIds};
use std::fmt;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How many threads one stop can record. More is refused, not overflowed.
const MAX_THREADS: usize = 4096;
/// How long the agent waits for every thread to reach the handler.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a stop is retried because a thread sits in the bytes to write.
const MAX_ATTEMPTS: u32 = 200;
const RETRY_PAUSE: Duration = Duration::from_millis(1);
const POLL_PAUSE: Duration = Duration::from_micros(50);
/// A parked thread resumes by itself after this long, so a stuck agent can
/// never freeze the app for good. No single stop lasts anywhere near it.
const PARK_LIMIT_NS: i64 = 10_000_000_000;

/// Odd while a stop is in progress, even when threads may run. A `u32` so
/// that parked threads can futex-wait on it directly.
static ROUND: AtomicU32 = AtomicU32::new(0);
/// Total arrivals ever; a stop reads the slots from its starting value on.
static NEXT_ARRIVAL: AtomicUsize = AtomicUsize::new(0);
static ARRIVALS: [Arrival; MAX_THREADS] = [const { Arrival::empty() }; MAX_THREADS];
static STOPPER: Mutex<()> = Mutex::new(());
static STOP_SIGNAL: OnceLock<Result<libc::c_int, String>> = OnceLock::new();

/// One parked thread. `round` is stored last, so a slot whose round matches
/// the current stop has a complete `tid` and `pc`; a late handler from an
/// earlier stop writes its own, older round and is ignored.
struct Arrival {
    round: AtomicU32,
    tid: AtomicI32,
    pc: AtomicU64,
}

impl Arrival {
    const fn empty() -> Self {
        Arrival {
            round: AtomicU32::new(0),
            tid: AtomicI32::new(0),
            pc: AtomicU64::new(0),
        }
    }
}

#[derive(Debug)]
pub enum StopError {
    SignalUnavailable(String),
    ListThreads(i32),
    Signal { tid: libc::pid_t, errno: i32 },
    TooManyThreads,
    Timeout { tid: libc::pid_t },
    Busy { tid: libc::pid_t, pc: u64 },
}

impl fmt::Display for StopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopError::SignalUnavailable(why) => write!(f, "cannot stop threads: {why}"),
            StopError::ListThreads(errno) => write!(
                f,
                "cannot list threads in /proc/self/task: {}",
                std::io::Error::from_raw_os_error(*errno)
            ),
            StopError::Signal { tid, errno } => write!(
                f,
                "cannot signal thread {tid}: {}",
                std::io::Error::from_raw_os_error(*errno)
            ),
            StopError::TooManyThreads => {
                write!(f, "the app has more than {MAX_THREADS} threads")
            }
            StopError::Timeout { tid } => write!(
                f,
                "thread {tid} did not stop within {} ms (does it block signals, or is it stopped by a debugger?)",
                ARRIVAL_TIMEOUT.as_millis()
            ),
            StopError::Busy { tid, pc } => write!(
                f,
                "thread {tid} kept executing the bytes to rewrite (pc 0x{pc:x}) over {MAX_ATTEMPTS} attempts"
            ),
        }
    }
}

/// Runs `action` while every other thread is parked and no thread's program
/// counter lies in any of `avoid` (half-open `[start, end)` ranges).
/// `action` must not allocate or take locks.
pub fn with_world_stopped<R>(
    avoid: &[(u64, u64)],
    action: impl FnOnce() -> R,
) -> Result<R, StopError> {
    // One stop at a time: two concurrent stops would park each other.
    let _one_at_a_time = STOPPER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let signal = stop_signal()?;
    // Every buffer the stop needs is allocated here, before anyone parks.
    let mut buffers = Buffers {
        listing: ThreadIds::with_capacity(MAX_THREADS),
        signaled: ThreadIds::with_capacity(MAX_THREADS),
        arrived: ThreadIds::with_capacity(MAX_THREADS),
    };
    let mut last_busy = None;
    for _ in 0..MAX_ATTEMPTS {
        let stop = Stop::begin();
        stop.wait_for_everyone(signal, &mut buffers)?;
        match stop.thread_inside(avoid) {
            None => return Ok(action()),
            Some(busy) => last_busy = Some(busy),
        }
        drop(stop); // release, let the busy thread move on, try again
        std::thread::sleep(RETRY_PAUSE);
    }
    let (tid, pc) = last_busy.unwrap_or((0, 0));
    Err(StopError::Busy { tid, pc })
}

struct Buffers {
    listing: ThreadIds,
    signaled: ThreadIds,
    arrived: ThreadIds,
}

/// One stop in progress; dropping it releases the parked threads, also
/// when the agent unwinds from a panic.
struct Stop {
    round: u32,
    first_arrival: usize,
}

impl Stop {
    fn begin() -> Stop {
        let first_arrival = NEXT_ARRIVAL.load(Ordering::Acquire);
        let round = ROUND.fetch_add(1, Ordering::AcqRel).wrapping_add(1);
        debug_assert!(round % 2 == 1);
        Stop {
            round,
            first_arrival,
        }
    }

    fn wait_for_everyone(
        &self,
        signal: libc::c_int,
        buffers: &mut Buffers,
    ) -> Result<(), StopError> {
        // SAFETY: getpid and gettid have no preconditions.
        let (pid, own_tid) = unsafe { (libc::getpid(), libc::gettid()) };
        let deadline = Instant::now() + ARRIVAL_TIMEOUT;
        buffers.signaled.clear();
        loop {
            // Arrivals are read *before* the listing: a thread that was
            // parked before the listing was taken cannot have created a
            // thread that the listing misses.
            self.collect_arrived(&mut buffers.arrived)?;
            list_threads(&mut buffers.listing).map_err(|e| match e {
                ListError::TooMany => StopError::TooManyThreads,
                ListError::Os(errno) => StopError::ListThreads(errno),
            })?;
            let mut missing = None;
            for tid in buffers.listing.iter() {
                if tid == own_tid || buffers.arrived.contains(tid) {
                    continue;
                }
                if !buffers.signaled.contains(tid) {
                    // SAFETY: tgkill only sends a signal; the handler for it
                    // is installed (stop_signal succeeded).
                    let sent = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, signal) };
                    if sent == 0 {
                        buffers
                            .signaled
                            .push(tid)
                            .map_err(|_| StopError::TooManyThreads)?;
                    } else {
                        match last_errno() {
                            libc::ESRCH => continue, // it exited meanwhile
                            libc::EAGAIN => {}       // signal queue full: next pass
                            errno => return Err(StopError::Signal { tid, errno }),
                        }
                    }
                }
                missing.get_or_insert(tid);
            }
            let Some(tid) = missing else {
                return Ok(());
            };
            if Instant::now() >= deadline {
                return Err(StopError::Timeout { tid });
            }
            std::thread::sleep(POLL_PAUSE);
        }
    }

    fn collect_arrived(&self, into: &mut ThreadIds) -> Result<(), StopError> {
        into.clear();
        let end = NEXT_ARRIVAL.load(Ordering::Acquire);
        if end.wrapping_sub(self.first_arrival) > MAX_THREADS {
            return Err(StopError::TooManyThreads);
        }
        for (_, tid, _) in self.arrivals(end) {
            into.push(tid).map_err(|_| StopError::TooManyThreads)?;
        }
        Ok(())
    }

    /// `(slot, tid, pc)` of each thread parked in this round.
    fn arrivals(&self, end: usize) -> impl Iterator<Item = (usize, libc::pid_t, u64)> + '_ {
        (self.first_arrival..end).filter_map(move |index| {
            let slot = &ARRIVALS[index % MAX_THREADS];
            (slot.round.load(Ordering::Acquire) == self.round).then(|| {
                (
                    index,
                    slot.tid.load(Ordering::Relaxed),
                    slot.pc.load(Ordering::Relaxed),
                )
            })
        })
    }

    fn thread_inside(&self, avoid: &[(u64, u64)]) -> Option<(libc::pid_t, u64)> {
        let end = NEXT_ARRIVAL.load(Ordering::Acquire);
        self.arrivals(end)
            .find(|(_, _, pc)| {
                avoid
                    .iter()
                    .any(|&(start, stop)| (start..stop).contains(pc))
            })
            .map(|(_, tid, pc)| (tid, pc))
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        ROUND.fetch_add(1, Ordering::AcqRel);
        // SAFETY: ROUND is a live static u32-sized atomic; FUTEX_WAKE only
        // wakes waiters on that address.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                ROUND.as_ptr(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                i32::MAX,
            );
        }
    }
}

/// The signal used to park threads, with our handler installed once.
fn stop_signal() -> Result<libc::c_int, StopError> {
    STOP_SIGNAL
        .get_or_init(install_handler)
        .clone()
        .map_err(StopError::SignalUnavailable)
}

fn install_handler() -> Result<libc::c_int, String> {
    let signal = libc::SIGRTMIN() + 7;
    if signal > libc::SIGRTMAX() {
        return Err(format!("real-time signal {signal} does not exist"));
    }
    // SAFETY: sigaction is given valid pointers to zero-initialised structs
    // (a valid bit pattern for sigaction_t), and the handler installed is
    // async-signal-safe (see `park_this_thread`).
    unsafe {
        let mut previous: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(signal, std::ptr::null(), &mut previous) != 0 {
            return Err(format!(
                "sigaction({signal}): {}",
                std::io::Error::last_os_error()
            ));
        }
        // Never take over a signal the app itself uses.
        if previous.sa_sigaction != libc::SIG_DFL && previous.sa_sigaction != libc::SIG_IGN {
            return Err(format!("signal {signal} is already handled by the app"));
        }
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = park_this_thread as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
            return Err(format!(
                "sigaction({signal}): {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(signal)
}

/// The signal handler. Async-signal-safe: atomics and raw syscalls only, no
/// allocation, no locks, no panics; errno is preserved for the interrupted
/// code.
extern "C" fn park_this_thread(
    _signal: libc::c_int,
    _info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: __errno_location returns this thread's errno slot.
    let errno = unsafe { libc::__errno_location() };
    // SAFETY: see above; reading and restoring an int.
    let saved_errno = unsafe { *errno };

    let round = ROUND.load(Ordering::Acquire);
    if round % 2 == 1 {
        // SAFETY: with SA_SIGINFO the kernel passes a valid ucontext_t as
        // the third argument, live for the duration of the handler.
        let pc = unsafe {
            context
                .cast::<libc::ucontext_t>()
                .as_ref()
                .map_or(0, Current::program_counter)
        };
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let index = NEXT_ARRIVAL.fetch_add(1, Ordering::AcqRel);
        if let Some(slot) = ARRIVALS.get(index % MAX_THREADS) {
            slot.tid.store(tid, Ordering::Relaxed);
            slot.pc.store(pc, Ordering::Relaxed);
            slot.round.store(round, Ordering::Release);
        }
        wait_for_release(round);
    }

    // SAFETY: restoring the value read above into this thread's errno.
    unsafe { *errno = saved_errno };
}

fn wait_for_release(round: u32) {
    let started = monotonic_ns();
    while ROUND.load(Ordering::Acquire) == round {
        if monotonic_ns() - started > PARK_LIMIT_NS {
            return;
        }
        let timeout = libc::timespec {
            tv_sec: 0,
            tv_nsec: 100_000_000,
        };
        // SAFETY: futex-waits on the live static ROUND while it still holds
        // `round`; returns at once if it changed. The timeout is a live
        // stack value.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                ROUND.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                round,
                &timeout as *const libc::timespec,
            );
        }
    }
}

fn monotonic_ns() -> i64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime is async-signal-safe and writes into `now`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec * 1_000_000_000 + now.tv_nsec
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    #[test]
    fn busy_threads_are_parked_and_released() {
        let stop_spinning = Arc::new(AtomicBool::new(false));
        let counter = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let stop_spinning = stop_spinning.clone();
                let counter = counter.clone();
                std::thread::spawn(move || {
                    while !stop_spinning.load(Ordering::Relaxed) {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        for _ in 0..20 {
            let frozen = with_world_stopped(&[], || {
                let before = counter.load(Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
                before == counter.load(Ordering::Relaxed)
            })
            .unwrap();
            assert!(frozen, "a worker kept running during the stop");
        }
        let after_release = counter.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(20));
        assert!(counter.load(Ordering::Relaxed) > after_release);
        stop_spinning.store(true, Ordering::Relaxed);
        for worker in workers {
            worker.join().unwrap();
        }
    }

    #[test]
    fn a_thread_inside_the_avoided_range_is_reported() {
        // Every thread's pc is somewhere in [0, u64::MAX): never safe.
        let parked = std::thread::spawn(|| std::thread::sleep(Duration::from_millis(500)));
        std::thread::sleep(Duration::from_millis(10));
        let error = with_world_stopped(&[(0, u64::MAX)], || ()).unwrap_err();
        assert!(matches!(error, StopError::Busy { .. }), "{error}");
        parked.join().unwrap();
    }
}
