//! Call cost: two identical functions, one of which the benchmark patches.
//! Timing the same loop around each shows what the entry jump of a patched
//! function costs, and that an unpatched one costs nothing extra.
use std::hint::black_box;
use std::time::Instant;

/// Edited by the benchmark (a rotation constant), so it runs through a patch.
#[inline(never)]
pub fn mix_patched(x: u64) -> u64 {
    (x ^ (x >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17)
}

/// Never edited: the control.
#[inline(never)]
pub fn mix_unpatched(x: u64) -> u64 {
    (x ^ (x >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17)
}

pub struct Cost {
    pub patched_ns: f64,
    pub unpatched_ns: f64,
}

const CALLS: u64 = 2_000_000;
const ROUNDS: usize = 7;

/// Alternates the two functions round by round and keeps each one's fastest
/// round: the minimum is the figure least disturbed by other work on the machine.
pub fn measure() -> Cost {
    let mut patched = f64::MAX;
    let mut unpatched = f64::MAX;
    for _ in 0..ROUNDS {
        patched = patched.min(time_calls(mix_patched));
        unpatched = unpatched.min(time_calls(mix_unpatched));
    }
    Cost { patched_ns: patched, unpatched_ns: unpatched }
}

/// Nanoseconds per call; `black_box` keeps the calls from being folded away
/// and the function pointer from being called directly by a known address.
fn time_calls(function: fn(u64) -> u64) -> f64 {
    let function = black_box(function);
    let mut acc = 0u64;
    let start = Instant::now();
    let mut i = 0u64;
    while i < CALLS {
        acc = acc.wrapping_add(function(black_box(i)));
        i += 1;
    }
    let elapsed = start.elapsed();
    black_box(acc);
    elapsed.as_nanos() as f64 / CALLS as f64
}
