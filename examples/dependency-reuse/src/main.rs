//! An app with a dependency from crates.io, built by the user with
//! `cargo build` before the first `ipbp run`.
use std::time::Duration;

fn line(tick: u64) -> String {
    let mut buffer = itoa::Buffer::new();
    format!("tick {}", buffer.format(tick))
}

fn main() {
    for tick in 0.. {
        println!("{}", line(tick));
        std::thread::sleep(Duration::from_millis(100));
    }
}
