//! The small benchmark app: a simulated job queue that prints one status line
//! per tick. `bench/` edits `banner` (the observable change) and
//! `mix_patched` (for the call-cost figure) while it runs.
//!
//! Usage: `bench-small [TICK_MS]` (default 200). Commands on stdin, one a line:
//! `cost` prints `cost patched=<ns> unpatched=<ns>`, the time of one call of
//! each of two identical functions; `quit` exits.
mod calls;
mod commands;
mod queue;
mod stats;

use queue::{JobQueue, Outcome};
use stats::Summary;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A static the patches must leave alone: the count carries on across patches.
static TICKS: AtomicU64 = AtomicU64::new(0);

/// The line the benchmark edits: it waits for the new `rev` to be printed.
#[inline(never)]
fn banner(tick: u64, queued: usize, summary: &Summary) -> String {
    format!("tick {tick} [rev 0] queued={queued} {summary}")
}

fn main() {
    let tick_ms = std::env::args().nth(1).and_then(|arg| arg.parse::<u64>().ok()).unwrap_or(200);
    let commands = commands::listen();
    let mut queue = JobQueue::new(0x5eed);
    let mut summary = Summary::default();
    loop {
        let tick = TICKS.fetch_add(1, Ordering::Relaxed);
        for outcome in queue.step(tick) {
            match outcome {
                Outcome::Done { id, latency } => summary.record(id, latency),
                Outcome::Retried { attempt } => summary.retried(attempt),
                Outcome::Dropped { id } => summary.dropped(id),
            }
        }
        println!("{}", banner(tick, queue.len(), &summary));
        for command in commands.try_iter() {
            match command {
                commands::Command::Cost => {
                    let cost = calls::measure();
                    println!("cost patched={:.3} unpatched={:.3}", cost.patched_ns, cost.unpatched_ns);
                }
                commands::Command::Quit => return,
            }
        }
        std::thread::sleep(Duration::from_millis(tick_ms));
    }
}
