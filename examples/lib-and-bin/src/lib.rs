//! A package with a library and a binary of the same name: ipbp must patch
//! the library crate and tell it apart from the binary crate.

pub fn message(tick: u64) -> String {
    if cfg!(feature = "loud") {
        format!("LOUD {tick}")
    } else {
        format!("quiet {tick}")
    }
}
