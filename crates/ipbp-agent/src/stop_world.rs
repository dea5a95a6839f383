//! Stopping every other thread of the process while code is rewritten.
//!
//! Each thread is sent a real-time signal whose handler records where the
//! thread was (its program counter and the return addresses on its stack,
//! see `unwind`) and then parks until the agent releases it. Only when every
//! thread is parked, and none of them is inside the bytes about to change,
//! does the agent run its action.
//!
//! Everything between "stop" and "release" avoids allocating and taking
//! locks: a parked thread may hold the malloc or stdio lock, and waiting on
//! it would deadlock the agent and, with it, the whole app.

use crate::arch::{Architecture, Current};
use crate::protocol::{StackStatus, ThreadStack};
use crate::thread_list::{last_errno, list_threads, ListError, ThreadIds};
use crate::thread_signals::{blocks_signal, emulator};
use crate::unwind::{self, Outcome, MAX_FRAMES};
use std::fmt;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How many threads one stop can record. More is refused, not overflowed.
const MAX_THREADS: usize = 4096;
/// How long the agent waits for every thread to reach the handler.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a stop is retried because a thread sits in the bytes to write
/// (or will return into them).
const MAX_ATTEMPTS: u32 = 200;
const RETRY_PAUSE: Duration = Duration::from_millis(1);
const POLL_PAUSE: Duration = Duration::from_micros(50);
/// How long a signalled thread may take to arrive before its signal mask
/// is looked at: a new thread blocks every signal for a moment as it starts.
const MASK_GRACE: Duration = Duration::from_millis(50);
/// The emulator's own threads found so far (see `thread_signals`): later
/// stops leave them at once. Ids only ever added; 0 is an empty slot.
static EMULATOR_THREADS: [AtomicI32; 8] = [const { AtomicI32::new(0) }; 8];
/// A parked thread resumes by itself after this long, so a stuck agent can
/// never freeze the app for good. No single stop lasts anywhere near it.
const PARK_LIMIT_NS: i64 = 10_000_000_000;

/// Odd while a stop is in progress, even when threads may run. A `u32` so
/// that parked threads can futex-wait on it directly.
static ROUND: AtomicU32 = AtomicU32::new(0);
/// Total arrivals ever; a stop reads the slots from its starting value on.
/// That is rounded up to a multiple of `MAX_THREADS` when it can be, so that
/// each stop fills the slots from the first and only as many slots are ever
/// touched (about 540 bytes each) as the app has threads.
static NEXT_ARRIVAL: AtomicUsize = AtomicUsize::new(0);
/// Handlers between reading `ROUND` and publishing their slot. A stop starts
/// again from the first slot only when none is: a handler of an earlier stop
/// that is still recording (it timed out) keeps an index of that stop's,
/// which the new stop's first slots could share.
static RECORDING: AtomicU32 = AtomicU32::new(0);
static ARRIVALS: [Arrival; MAX_THREADS] = [const { Arrival::empty() }; MAX_THREADS];
static STOPPER: Mutex<()> = Mutex::new(());
static STOP_SIGNAL: OnceLock<Result<libc::c_int, String>> = OnceLock::new();

/// One parked thread. `round` is stored last, so a slot whose round matches
/// the current stop has a complete `tid` and stack; a late handler from an
/// earlier stop writes its own, older round and is ignored.
struct Arrival {
    round: AtomicU32,
    tid: AtomicI32,
    /// How many of `frames` are set: at least 1 (the program counter).
    depth: AtomicU32,
    /// A `StackStatus`, as its wire value.
    status: AtomicU8,
    /// The program counter, then return addresses, innermost first.
    frames: [AtomicU64; MAX_FRAMES],
}

impl Arrival {
    const fn empty() -> Self {
        Arrival {
            round: AtomicU32::new(0),
            tid: AtomicI32::new(0),
            depth: AtomicU32::new(0),
            status: AtomicU8::new(StackStatus::Unknown as u8),
            frames: [const { AtomicU64::new(0) }; MAX_FRAMES],
        }
    }

    /// The recorded frames (at most `MAX_FRAMES`).
    fn frames(&self) -> impl Iterator<Item = u64> + '_ {
        let depth = self.depth.load(Ordering::Relaxed) as usize;
        self.frames
            .iter()
            .take(depth)
            .map(|frame| frame.load(Ordering::Relaxed))
    }
}

/// Where a stopped thread is found in the bytes to rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inside {
    /// Its program counter is there.
    Executing,
    /// A return address on its stack points there: a call made by the
    /// first instructions of a function being redirected has not returned.
    Returning,
}

#[derive(Debug)]
pub enum StopError {
    SignalUnavailable(String),
    ListThreads(i32),
    Signal {
        tid: libc::pid_t,
        errno: i32,
    },
    TooManyThreads,
    Timeout {
        tid: libc::pid_t,
    },
    /// The thread blocks the stop signal, so it can never be parked.
    Blocked {
        tid: libc::pid_t,
    },
    Busy {
        tid: libc::pid_t,
        address: u64,
        inside: Inside,
    },
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
            StopError::Blocked { tid } => write!(
                f,
                "thread {tid} blocks the signal that pauses threads for a patch, so it cannot be paused while its code is rewritten"
            ),
            StopError::Busy {
                tid,
                address,
                inside: Inside::Executing,
            } => write!(
                f,
                "thread {tid} kept executing the bytes to rewrite (pc 0x{address:x}) over {MAX_ATTEMPTS} attempts"
            ),
            StopError::Busy {
                tid,
                address,
                inside: Inside::Returning,
            } => write!(
                f,
                "thread {tid} kept a return address inside the bytes to rewrite (0x{address:x}: a call at the start of a function being redirected has not returned) over {MAX_ATTEMPTS} attempts"
            ),
        }
    }
}

/// Runs `action` while every other thread is parked, none of them is
/// executing any of `avoid` (the half-open `[start, end)` ranges of bytes
/// about to be rewritten) and none will return into one: no recorded return
/// address lies strictly inside `(start, end)`. (One at `start` belongs to a
/// call that never returns, ending the function before; a function may
/// begin with a call shorter than the bytes rewritten, such as the 2-byte
/// `call *%rax`, whose return address lies inside them.) Returns what
/// `action` returned and every other thread's stack as recorded in that
/// stop. `action` must not allocate or take locks.
///
/// A thread whose stack could only be walked in part is checked on the
/// frames found, and reported with its stack marked so.
pub fn with_world_stopped<R>(
    avoid: &[(u64, u64)],
    action: impl FnOnce() -> R,
) -> Result<(R, Vec<ThreadStack>), StopError> {
    // One stop at a time: two concurrent stops would park each other.
    let _one_at_a_time = STOPPER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    stop_holding_the_lock(avoid, action)
}

/// `with_world_stopped`, for a caller that holds `STOPPER`.
fn stop_holding_the_lock<R>(
    avoid: &[(u64, u64)],
    action: impl FnOnce() -> R,
) -> Result<(R, Vec<ThreadStack>), StopError> {
    let signal = stop_signal()?;
    // Read before any thread parks (it allocates, once).
    let emulated = emulator().is_some();
    // What the handlers' stack walks may read; if it cannot be taken, the
    // stop goes on and every stack is reported as unknown.
    unwind::process_space::refresh();
    // Every buffer the stop needs is allocated here, before anyone parks.
    let mut buffers = Buffers {
        listing: ThreadIds::with_capacity(MAX_THREADS),
        signaled: ThreadIds::with_capacity(MAX_THREADS),
        arrived: ThreadIds::with_capacity(MAX_THREADS),
        left: ThreadIds::with_capacity(MAX_THREADS),
        seasoned: ThreadIds::with_capacity(MAX_THREADS),
    };
    let mut last_busy = None;
    for _ in 0..MAX_ATTEMPTS {
        let stop = Stop::begin();
        stop.wait_for_everyone(signal, emulated, &mut buffers)?;
        match stop.thread_inside(avoid) {
            None => {
                let result = action();
                let (round, first_arrival) = (stop.round, stop.first_arrival);
                drop(stop); // release first: copying the stacks allocates
                return Ok((result, recorded_stacks(round, first_arrival)));
            }
            Some(busy) => last_busy = Some(busy),
        }
        drop(stop); // release, let the busy thread move on, try again
        std::thread::sleep(RETRY_PAUSE);
    }
    let (tid, address, inside) = last_busy.unwrap_or((0, 0, Inside::Executing));
    Err(StopError::Busy {
        tid,
        address,
        inside,
    })
}

/// Runs `f` while no stop can begin: for tests that take their own
/// snapshot of the address space.
#[cfg(test)]
pub fn exclusive_for_test<R>(f: impl FnOnce() -> R) -> R {
    let _one_at_a_time = STOPPER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f()
}

/// The stacks recorded in the round that just ended. Its slots stay as they
/// are until the next stop, which cannot begin while the caller holds the
/// stopper lock.
fn recorded_stacks(round: u32, first_arrival: usize) -> Vec<ThreadStack> {
    let end = NEXT_ARRIVAL.load(Ordering::Acquire);
    let mut stacks: Vec<ThreadStack> = (first_arrival..end)
        .filter_map(|index| {
            let slot = &ARRIVALS[index % MAX_THREADS];
            (slot.round.load(Ordering::Acquire) == round).then(|| ThreadStack {
                tid: slot.tid.load(Ordering::Relaxed) as u32,
                status: status_from_wire(slot.status.load(Ordering::Relaxed)),
                frames: slot.frames().collect(),
            })
        })
        .collect();
    stacks.sort_by_key(|stack| stack.tid);
    // A thread parks once per stop; this only guards the report.
    stacks.dedup_by_key(|stack| stack.tid);
    stacks
}

fn status_from_wire(value: u8) -> StackStatus {
    match value {
        0 => StackStatus::Complete,
        1 => StackStatus::Truncated,
        _ => StackStatus::Unknown,
    }
}

struct Buffers {
    listing: ThreadIds,
    signaled: ThreadIds,
    arrived: ThreadIds,
    /// The emulator's threads, which this stop leaves running.
    left: ThreadIds,
    /// Threads signalled before the last mask check: a grace period ago at
    /// least, so their masks are no longer those of a thread starting up.
    seasoned: ThreadIds,
}

/// One stop in progress; dropping it releases the parked threads, also
/// when the agent unwinds from a panic.
struct Stop {
    round: u32,
    first_arrival: usize,
}

impl Stop {
    fn begin() -> Stop {
        // No handler of this round runs yet (its signals are sent later). A
        // handler counted in RECORDING after this check reads ROUND after it
        // too (both SeqCst), so it sees no earlier stop's round: it records
        // for this one, with an index of its own, or not at all.
        let next = NEXT_ARRIVAL.load(Ordering::SeqCst);
        let first_arrival = if RECORDING.load(Ordering::SeqCst) == 0 {
            let first = next.next_multiple_of(MAX_THREADS);
            NEXT_ARRIVAL.fetch_max(first, Ordering::SeqCst);
            first
        } else {
            next
        };
        let round = ROUND.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
        debug_assert!(round % 2 == 1);
        Stop {
            round,
            first_arrival,
        }
    }

    /// Signals every thread and waits until each has parked, or is the
    /// emulator's own (`emulated`: see `thread_signals`).
    fn wait_for_everyone(
        &self,
        signal: libc::c_int,
        emulated: bool,
        buffers: &mut Buffers,
    ) -> Result<(), StopError> {
        // SAFETY: getpid and gettid have no preconditions.
        let (pid, own_tid) = unsafe { (libc::getpid(), libc::gettid()) };
        let started = Instant::now();
        let deadline = started + ARRIVAL_TIMEOUT;
        buffers.signaled.clear();
        buffers.left.clear();
        buffers.seasoned.clear();
        // Masks are read once per grace at most: a slow thread is not read again every poll.
        let mut next_mask_check = started + MASK_GRACE;
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
            let now = Instant::now();
            let mask_time = now >= next_mask_check;
            if mask_time {
                next_mask_check = now + MASK_GRACE;
            }
            for tid in buffers.listing.iter() {
                if tid == own_tid || buffers.arrived.contains(tid) || buffers.left.contains(tid) {
                    continue;
                }
                // Under emulation, a thread blocking the signal is the emulator's: one
                // found in an earlier stop is left at once (its mask checked again, as a
                // thread id can be reused), another once it was signalled a grace ago.
                if emulated
                    && ((mask_time && buffers.seasoned.contains(tid)) || is_emulator_thread(tid))
                    && blocks_signal(tid, signal) == Some(true)
                {
                    remember_emulator_thread(tid);
                    buffers
                        .left
                        .push(tid)
                        .map_err(|_| StopError::TooManyThreads)?;
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
            if mask_time {
                buffers.seasoned.clear();
                for tid in buffers.signaled.iter() {
                    buffers
                        .seasoned
                        .push(tid)
                        .map_err(|_| StopError::TooManyThreads)?;
                }
            }
            let Some(tid) = missing else {
                return Ok(());
            };
            if Instant::now() >= deadline {
                return Err(if blocks_signal(tid, signal) == Some(true) {
                    StopError::Blocked { tid }
                } else {
                    StopError::Timeout { tid }
                });
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
        for slot in self.arrivals(end) {
            into.push(slot.tid.load(Ordering::Relaxed))
                .map_err(|_| StopError::TooManyThreads)?;
        }
        Ok(())
    }

    /// The slot of each thread parked in this round.
    fn arrivals(&self, end: usize) -> impl Iterator<Item = &'static Arrival> + '_ {
        (self.first_arrival..end).filter_map(move |index| {
            let slot = &ARRIVALS[index % MAX_THREADS];
            (slot.round.load(Ordering::Acquire) == self.round).then_some(slot)
        })
    }

    /// A thread executing `avoid`, or with a return address strictly inside
    /// one of its ranges: `(tid, address, how)`. No allocation.
    fn thread_inside(&self, avoid: &[(u64, u64)]) -> Option<(libc::pid_t, u64, Inside)> {
        let end = NEXT_ARRIVAL.load(Ordering::Acquire);
        self.arrivals(end).find_map(|slot| {
            let tid = slot.tid.load(Ordering::Relaxed);
            slot.frames().enumerate().find_map(|(index, address)| {
                let inside = if index == 0 {
                    avoid
                        .iter()
                        .any(|&(start, stop)| (start..stop).contains(&address))
                } else {
                    avoid
                        .iter()
                        .any(|&(start, stop)| address > start && address < stop)
                };
                let how = if index == 0 {
                    Inside::Executing
                } else {
                    Inside::Returning
                };
                inside.then_some((tid, address, how))
            })
        })
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        ROUND.fetch_add(1, Ordering::SeqCst);
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

fn is_emulator_thread(tid: libc::pid_t) -> bool {
    EMULATOR_THREADS
        .iter()
        .any(|slot| slot.load(Ordering::Relaxed) == tid)
}

fn remember_emulator_thread(tid: libc::pid_t) {
    if is_emulator_thread(tid) {
        return;
    }
    for slot in &EMULATOR_THREADS {
        if slot
            .compare_exchange(0, tid, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            return;
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

/// This thread's `errno`, which glibc and bionic name differently.
fn errno_slot() -> *mut libc::c_int {
    // SAFETY: both return the calling thread's errno slot, valid for its life.
    #[cfg(target_os = "android")]
    unsafe {
        libc::__errno()
    }
    #[cfg(not(target_os = "android"))]
    unsafe {
        libc::__errno_location()
    }
}

/// The signal handler. Async-signal-safe: atomics, raw syscalls and the
/// stack walk (`unwind`: no allocation, no locks, checked reads) only, no
/// panics; errno is preserved for the interrupted code.
extern "C" fn park_this_thread(
    _signal: libc::c_int,
    _info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    let errno = errno_slot();
    // SAFETY: see above; reading and restoring an int.
    let saved_errno = unsafe { *errno };

    RECORDING.fetch_add(1, Ordering::SeqCst);
    let round = ROUND.load(Ordering::SeqCst);
    if round % 2 == 1 {
        // SAFETY: with SA_SIGINFO the kernel passes a valid ucontext_t as
        // the third argument, live for the duration of the handler.
        let context = unsafe { context.cast::<libc::ucontext_t>().as_ref() };
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let index = NEXT_ARRIVAL.fetch_add(1, Ordering::AcqRel);
        if let Some(slot) = ARRIVALS.get(index % MAX_THREADS) {
            let (depth, status) = record_stack(slot, context);
            slot.tid.store(tid, Ordering::Relaxed);
            slot.depth.store(depth, Ordering::Relaxed);
            slot.status.store(status as u8, Ordering::Relaxed);
            slot.round.store(round, Ordering::Release);
        }
        RECORDING.fetch_sub(1, Ordering::SeqCst);
        wait_for_release(round);
    } else {
        RECORDING.fetch_sub(1, Ordering::SeqCst);
    }

    // SAFETY: restoring the value read above into this thread's errno.
    unsafe { *errno = saved_errno };
}

/// Walks the interrupted thread's stack into `slot.frames`; returns how many
/// frames were written (at least one, the program counter) and how the walk
/// ended. Part of the handler: bounded, no allocation, no panics.
fn record_stack(slot: &Arrival, context: Option<&libc::ucontext_t>) -> (u32, StackStatus) {
    let mut depth = 0usize;
    let outcome = context.map_or(Outcome::Unknown, |context| {
        unwind::walk_interrupted(&Current::unwind_registers(context), |address| {
            let Some(frame) = slot.frames.get(depth) else {
                return false;
            };
            frame.store(address, Ordering::Relaxed);
            depth += 1;
            true
        })
    });
    if depth == 0 {
        // No walk: the program counter alone, and the rest unknown.
        let pc = context.map_or(0, Current::program_counter);
        if let Some(frame) = slot.frames.first() {
            frame.store(pc, Ordering::Relaxed);
            depth = 1;
        }
    }
    let status = match outcome {
        Outcome::Complete => StackStatus::Complete,
        Outcome::TooDeep => StackStatus::Truncated,
        Outcome::Unknown => StackStatus::Unknown,
    };
    (depth as u32, status)
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
            let (frozen, _) = with_world_stopped(&[], || {
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
        assert!(
            matches!(
                error,
                StopError::Busy {
                    inside: Inside::Executing,
                    ..
                }
            ),
            "{error}"
        );
        parked.join().unwrap();
    }

    #[test]
    fn a_thread_that_blocks_the_stop_signal_fails_the_stop_and_is_named() {
        // While the thread lives, no other test's stop may begin: it would fail on it too.
        exclusive_for_test(stop_with_a_thread_that_blocks_the_signal);
    }

    fn stop_with_a_thread_that_blocks_the_signal() {
        let signal = stop_signal().unwrap();
        let release = Arc::new(AtomicBool::new(false));
        let (tid_sender, tid_receiver) = std::sync::mpsc::channel();
        let blocking = {
            let release = release.clone();
            std::thread::spawn(move || {
                // SAFETY: valid sigset pointers; this thread's own mask.
                unsafe {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, signal);
                    libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                }
                // SAFETY: gettid has no preconditions.
                tid_sender.send(unsafe { libc::gettid() }).unwrap();
                while !release.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        let tid = tid_receiver.recv().unwrap();
        let error = stop_holding_the_lock(&[], || ()).unwrap_err();
        release.store(true, Ordering::Relaxed);
        blocking.join().unwrap();
        // Natively its mask says why; under an emulator the host mask is not the
        // guest's, and the stop times out on it: either way it never goes on without it.
        let named = match error {
            StopError::Blocked { tid: named } => named,
            StopError::Timeout { tid: named } if emulator().is_some() => named,
            other => panic!("{other}"),
        };
        assert_eq!(named, tid);
    }
}

// Their functions are written in assembly for each architecture (`test_frames`).
#[cfg(test)]
mod frame_tests {
    use super::*;
    use crate::test_frames::{
        block, bounds, ipbp_test_blocked_frame, ipbp_test_blocked_frame_end,
        ipbp_test_stopping_frame, ipbp_test_stopping_frame_end, Blocker,
    };

    type Recorded = Option<Result<Vec<ThreadStack>, String>>;

    /// Stops the world from inside `ipbp_test_stopping_frame`.
    extern "C" fn stop_from_here(into: *const ()) {
        let recorded = with_world_stopped(&[], || ())
            .map(|((), stacks)| stacks)
            .map_err(|e| e.to_string());
        // SAFETY: `into` is the `Recorded` the test passed, alive and not
        // otherwise borrowed during this call.
        unsafe { *(into as *mut Recorded) = Some(recorded) };
    }

    #[test]
    fn a_blocked_thread_is_recorded_with_its_whole_stack_and_the_stopper_is_not() {
        static BLOCKER: Blocker = Blocker::new();
        let blocked = std::thread::spawn(|| {
            // SAFETY: calls `block(&BLOCKER)` from a frame of its own.
            unsafe {
                ipbp_test_blocked_frame((&BLOCKER as *const Blocker).cast(), block as *const ())
            }
        });
        let blocked_tid = BLOCKER.wait_until_entered() as u32;
        let mut recorded: Recorded = None;
        // SAFETY: calls `stop_from_here(&mut recorded)` from a frame of its own.
        unsafe {
            ipbp_test_stopping_frame(
                (&mut recorded as *mut Recorded).cast_const().cast(),
                stop_from_here as *const (),
            )
        };
        BLOCKER.release();
        blocked.join().unwrap();
        let stacks = recorded.unwrap().unwrap();

        let (start, end) = bounds(ipbp_test_blocked_frame, ipbp_test_blocked_frame_end);
        let stack = stacks
            .iter()
            .find(|stack| stack.tid == blocked_tid)
            .unwrap_or_else(|| panic!("no stack for thread {blocked_tid} in {stacks:x?}"));
        // Its return address into the blocked frame (the frame's first byte
        // would be a pc, and the thread is sleeping further up).
        assert!(
            stack.frames.iter().any(|&a| a > start && a < end),
            "no frame in 0x{start:x}..0x{end:x}: {stack:x?}"
        );
        // Through Rust, std and glibc frames down to the thread's start.
        assert_eq!(stack.status, StackStatus::Complete, "{stack:x?}");

        // The stopper, inside its own framed call, is nowhere in the report.
        // SAFETY: gettid has no preconditions.
        let own_tid = unsafe { libc::gettid() } as u32;
        let (start, end) = bounds(ipbp_test_stopping_frame, ipbp_test_stopping_frame_end);
        for stack in &stacks {
            assert_ne!(stack.tid, own_tid, "the stopping thread was reported");
            assert!(!stack.frames.is_empty(), "{stack:x?}");
            assert!(
                !stack.frames.iter().any(|&a| a >= start && a < end),
                "thread {} has a frame of the stopping thread: {stack:x?}",
                stack.tid
            );
        }
        let mut tids: Vec<u32> = stacks.iter().map(|stack| stack.tid).collect();
        tids.dedup();
        assert_eq!(tids.len(), stacks.len(), "one stack per thread");
    }
}
