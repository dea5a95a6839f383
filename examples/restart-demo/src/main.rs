//! For the hot-restart and fault tests: every line shows the process id and
//! the values a patch cannot change in place (statics, a thread-local, a
//! trait object's vtable, the build script's output, a feature) next to one
//! it can (`label`). The tests edit a copy and watch which process prints what.
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static LIMIT: u64 = 1000;
static mut SCALE: u64 = 1;
static TICKS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static LOCAL: Cell<u64> = Cell::new(7);
}

trait Shape {
    fn area(&self) -> u64;
}

struct Square(u64);

impl Shape for Square {
    fn area(&self) -> u64 {
        self.0 * self.0
    }
}

#[inline(never)]
fn label() -> &'static str {
    "v1"
}

/// The fault tests make this crash once the process has been up a while.
#[inline(never)]
fn check(uptime: Duration) {
    std::hint::black_box(uptime);
}

/// Outside `main`, so that patching `main` never touches thread-local storage.
#[inline(never)]
fn local_value() -> u64 {
    LOCAL.with(|cell| cell.get())
}

#[inline(never)]
fn area_of(shape: &dyn Shape) -> u64 {
    shape.area()
}

#[inline(never)]
fn scale() -> u64 {
    // SAFETY: only this thread reads SCALE, and nothing writes it.
    unsafe { SCALE }
}

#[inline(never)]
fn limit() -> u64 {
    LIMIT
}

/// Called through a pointer `main` takes once, before any edit.
#[inline(never)]
fn twice(x: u64) -> u64 {
    x * 2
}

fn loudness() -> &'static str {
    if cfg!(feature = "loud") {
        "loud"
    } else {
        "quiet"
    }
}

fn main() {
    let started = Instant::now();
    // Made once, before any edit: a patch cannot change the vtable it points to.
    let shape: Box<dyn Shape> = Box::new(Square(3));
    let callback: fn(u64) -> u64 = twice;
    loop {
        let tick = TICKS.fetch_add(1, Ordering::Relaxed);
        check(started.elapsed());
        println!(
            "pid={} tick={tick} label={} limit={} scale={} local={} area={} note={} {} ext={} cb={}",
            std::process::id(),
            label(),
            limit(),
            scale(),
            local_value(),
            area_of(shape.as_ref()),
            env!("BUILD_NOTE"),
            loudness(),
            extlib::edition(),
            callback(21)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
