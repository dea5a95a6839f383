//! A program that is almost always inside a call: `step` sleeps, and `main`
//! loops forever. A patch of `step` reaches the next call; a patch of
//! `main`'s loop never would, since `main` is never called again.
use std::time::Duration;

#[inline(never)]
fn step(count: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(300));
    count + 1
}

fn main() {
    let mut count = 0;
    loop {
        count = step(count);
        println!("count {count}");
    }
}
