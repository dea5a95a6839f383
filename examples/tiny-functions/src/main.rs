//! Functions of a few bytes, packed one after the other by an optimization
//! for size: `one` is shorter than the 5-byte jump a redirect writes.
use std::hint::black_box;
use std::time::Duration;

#[inline(never)]
fn zero() -> u64 {
    0
}

#[inline(never)]
fn one() -> u64 {
    1
}

fn main() {
    loop {
        println!("zero={} one={}", black_box(zero as fn() -> u64)(), black_box(one as fn() -> u64)());
        std::thread::sleep(Duration::from_millis(150));
    }
}
