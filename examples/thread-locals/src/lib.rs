//! A thread-local of a library crate: compiled position-independent, its
//! accesses go through the general-dynamic model (a TLS descriptor on
//! aarch64), which the linker relaxed in the program and a patch resolves
//! itself.
use std::cell::Cell;

thread_local! {
    static LIBRARY_ROUNDS: Cell<u64> = const { Cell::new(0) };
}

/// How often this thread has called it.
#[inline(never)]
pub fn library_rounds() -> u64 {
    LIBRARY_ROUNDS.set(LIBRARY_ROUNDS.get() + 1);
    LIBRARY_ROUNDS.get()
}
