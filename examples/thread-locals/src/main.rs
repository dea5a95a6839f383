//! Two threads call `count()` in a loop and print what it returns. The
//! thread-locals test edits `count` to use thread-locals new in the edit (one
//! `const`-initialized, one lazily initialized): each thread must count its
//! own values from their initial ones, in the same process. `rounds` and
//! `library_rounds` count in thread-locals the program had from the start.
use std::cell::Cell;
use std::time::Duration;

use thread_locals::library_rounds;

thread_local! {
    static ROUNDS: Cell<u64> = const { Cell::new(0) };
}

/// How often this thread has called it (local exec: the executable's own thread-local).
#[inline(never)]
fn rounds() -> u64 {
    ROUNDS.set(ROUNDS.get() + 1);
    ROUNDS.get()
}

#[inline(never)]
fn count() -> (u64, u64) {
    (0, 0)
}

fn run(name: &'static str) {
    let pid = std::process::id();
    loop {
        let (eager, lazy) = count();
        println!("pid={pid} thread={name} eager={eager} lazy={lazy} rounds={} library={}", rounds(), library_rounds());
        std::thread::sleep(Duration::from_millis(40));
    }
}

fn main() {
    std::thread::spawn(|| run("a"));
    std::thread::spawn(|| run("b"));
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}
