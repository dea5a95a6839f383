//! The package's main binary: its name and path are set in Cargo.toml.

/// A checked-in text file, compiled in: its text is read-only data of this
/// function, so an edit of the file is an edit of `banner`.
#[inline(never)]
fn banner() -> &'static str {
    include_str!("../../text/banner.txt").trim_end()
}

#[inline(never)]
fn word(tick: u64) -> String {
    format!("service-word {tick}")
}

#[inline(never)]
fn flag() -> &'static str {
    // Set by RUSTFLAGS="--cfg shapes_flag" in the environment.
    if cfg!(shapes_flag) { "flag=on" } else { "flag=off" }
}

fn main() {
    let mut tick = 0u64;
    loop {
        println!("{} | {} | {} | {}", word(tick), flag(), banner(), shapes_plugin::plugin_word(tick));
        tick += 1;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
