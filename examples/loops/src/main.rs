//! A program that is almost always inside a call: `step` sleeps, and `main`
//! loops forever. A patch of `step` reaches the next call; a patch of
//! `main`'s loop never would, since `main` is never called again, nor would
//! one of `watch_forever`, a loop that never returns below a thread's
//! outermost closure.
use std::time::Duration;

#[inline(never)]
fn step(count: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(300));
    count + 1
}

#[inline(never)]
fn watch_forever(name: &str) {
    let mut rounds = 0u64;
    loop {
        rounds += 1;
        if rounds % 10 == 0 {
            println!("{name} watched {rounds}");
        }
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn main() {
    std::thread::spawn(|| watch_forever("watcher"));
    let mut count = 0;
    loop {
        count = step(count);
        println!("count {count}");
    }
}
