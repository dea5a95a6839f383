//! The demo app: a loop that prints one line per tick. `ipbp demo` edits
//! `greeting` while it runs; the tick counter keeps counting.
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static TICKS: AtomicU64 = AtomicU64::new(0);

#[inline(never)]
fn greeting(tick: u64) -> String {
    format!("hello from tick {tick}")
}

fn main() {
    loop {
        let tick = TICKS.fetch_add(1, Ordering::Relaxed);
        println!("{}", greeting(tick));
        std::thread::sleep(Duration::from_millis(200));
    }
}
