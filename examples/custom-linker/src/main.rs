//! An app linked by the linker its `.cargo/config.toml` names (clang with
//! mold): ipbp's capture must run that linker, not its own default.
use std::time::Duration;

#[inline(never)]
fn greeting(tick: u64) -> String {
    format!("linked by mold, tick {tick}")
}

fn main() {
    for tick in 0.. {
        println!("{}", greeting(tick));
        std::thread::sleep(Duration::from_millis(150));
    }
}
