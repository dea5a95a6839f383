//! Prints, every tick, what it was started with: its arguments and the
//! message of the day it read once from `config/motd.txt`.
mod scratch;

use std::time::Duration;

#[inline(never)]
fn line(tick: u64) -> String {
    format!("settings tick {tick}")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let motd = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/motd.txt"))
        .unwrap_or_default();
    for tick in 0.. {
        println!(
            "{} args=[{}] motd=[{}] scratch={}",
            line(tick),
            args.join(" "),
            motd.trim(),
            scratch::scratch_value()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
