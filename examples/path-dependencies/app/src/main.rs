//! Prints a line per tick built by code outside this workspace: a path
//! dependency (`shared-lib`) and a `[patch]`ed local checkout of `itoa`.
use std::{thread, time::Duration};

fn main() {
    let interval = std::env::args().nth(1).and_then(|ms| ms.parse().ok()).unwrap_or(100);
    let mut tally = shared_lib::Tally::default();
    for tick in 1u64.. {
        tally.add(tick);
        let mut buffer = itoa::Buffer::new();
        println!("tick={tick} {} number={}", tally.describe(), buffer.format(tick * 1000));
        thread::sleep(Duration::from_millis(interval));
    }
}
