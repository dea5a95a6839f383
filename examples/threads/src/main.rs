//! Eight threads call `work()` in a tight loop while ipbp patches it over and
//! over. Each thread remembers the newest value it has seen; the main thread
//! reports the oldest and newest across threads, and any thread that ever saw
//! an older version after a newer one (which would mean a stale entry).
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const THREADS: usize = 8;

static LATEST: [AtomicU64; THREADS] = [const { AtomicU64::new(0) }; THREADS];
static CALLS: AtomicU64 = AtomicU64::new(0);
static REGRESSIONS: AtomicU64 = AtomicU64::new(0);

#[inline(never)]
fn work() -> u64 {
    std::hint::black_box(1)
}

fn main() {
    for slot in LATEST.iter() {
        std::thread::spawn(move || loop {
            let value = work();
            let seen = slot.load(Ordering::Relaxed);
            if value < seen {
                REGRESSIONS.fetch_add(1, Ordering::Relaxed);
            }
            slot.store(value.max(seen), Ordering::Relaxed);
            CALLS.fetch_add(1, Ordering::Relaxed);
        });
    }
    let pid = std::process::id();
    loop {
        let values: Vec<u64> = LATEST.iter().map(|slot| slot.load(Ordering::Relaxed)).collect();
        let oldest = values.iter().min().copied().unwrap_or(0);
        let newest = values.iter().max().copied().unwrap_or(0);
        println!(
            "pid={pid} oldest={oldest} newest={newest} regressions={} calls={}",
            REGRESSIONS.load(Ordering::Relaxed),
            CALLS.load(Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
