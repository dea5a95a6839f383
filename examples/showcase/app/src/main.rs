//! The showcase app prints what each kind of call returns, every tick. The
//! end-to-end tests edit it while it runs and read the same process's output.
use shapes::{describe, Shape, Square};
use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static TICKS: AtomicU64 = AtomicU64::new(0);

#[inline(never)]
fn value() -> u64 {
    std::hint::black_box(1)
}

#[inline(never)]
fn risky(tick: u64) -> u64 {
    std::hint::black_box(tick)
}

#[inline(never)]
fn extra() -> String {
    String::from("none")
}

struct Holder {
    callback: Box<dyn Fn(u64) -> u64>,
}

/// A socket opened before any patch; the tests connect to it after patching.
fn serve_forever(listener: TcpListener) {
    for mut stream in listener.incoming().flatten() {
        let _ = stream.write_all(b"still listening\n");
    }
}

fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || serve_forever(listener));
    let value_pointer: fn() -> u64 = value;
    let holder = Holder { callback: Box::new(|x| x + 100) };
    let shape: Box<dyn Shape> = Box::new(Square(3));
    loop {
        let tick = TICKS.fetch_add(1, Ordering::Relaxed);
        let same = std::ptr::fn_addr_eq(value_pointer, value as fn() -> u64);
        println!("tick={tick} value={} pointer={} same-pointer={same}", value(), value_pointer());
        println!("tick={tick} area={} closure={} describe={}", shape.area(), (holder.callback)(1), describe(tick));
        let risky = match std::panic::catch_unwind(|| risky(tick)) {
            Ok(value) => value.to_string(),
            Err(_) => "panicked".to_string(),
        };
        println!("tick={tick} risky={risky} extra={}", extra());
        println!("tick={tick} port={port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
