//! Prints what the build script generated, once per tick, with a counter
//! that a patch must not reset.
use std::{thread, time::Duration};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}

fn flavour() -> &'static str {
    env!("BUILD_FLAVOUR")
}

#[cfg(fancy)]
fn decoration() -> &'static str {
    "*"
}

#[cfg(not(fancy))]
fn decoration() -> &'static str {
    "-"
}

/// The next total: the step comes from the build script.
fn advance(total: u64) -> u64 {
    total + generated::STEP
}

fn main() {
    let interval = std::env::args().nth(1).and_then(|ms| ms.parse().ok()).unwrap_or(100);
    let mut total: u64 = 0;
    for tick in 1.. {
        total = advance(total);
        println!("tick={tick} total={total} greeting={} flavour={} decoration={}", generated::greeting(), flavour(), decoration());
        thread::sleep(Duration::from_millis(interval));
    }
}
