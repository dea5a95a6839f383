//! A binary with `required-features = ["extra"]`: cargo builds it only with that feature.

#[inline(never)]
fn word(tick: u64) -> String {
    format!("extra-word {tick}")
}

fn main() {
    let mut tick = 0u64;
    loop {
        println!("{}", word(tick));
        tick += 1;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
