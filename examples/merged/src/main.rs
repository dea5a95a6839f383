//! Two functions with identical bodies, which an optimized build merges
//! into one: a table built at start-up holds a pointer to each. Editing the
//! one the merge kept must not change the other.
use std::hint::black_box;
use std::time::Duration;

#[inline(never)]
fn alpha(x: u64) -> u64 {
    x.wrapping_mul(7).wrapping_add(black_box(1))
}

#[inline(never)]
fn beta(x: u64) -> u64 {
    x.wrapping_mul(7).wrapping_add(black_box(1))
}

type Handler = (&'static str, fn(u64) -> u64);

#[inline(never)]
fn report(handlers: &[Handler]) -> String {
    let parts: Vec<String> = handlers.iter().map(|(name, f)| format!("{name}={}", f(3))).collect();
    parts.join(" ")
}

fn main() {
    let handlers: Vec<Handler> = vec![("alpha", alpha), ("beta", beta)];
    loop {
        println!("{}", report(black_box(&handlers)));
        std::thread::sleep(Duration::from_millis(150));
    }
}
