//! A package with a library and a binary of the same name: ipbp must patch
//! the library crate and tell it apart from the binary crate.

pub fn message(tick: u64) -> String {
    if cfg!(feature = "loud") {
        format!("LOUD {tick}")
    } else {
        format!("quiet {tick}")
    }
}

/// What the binary prints each line in. Generic, so the binary compiles a
/// copy of its own (`framed::<String>`): an edit of it recompiles the binary.
pub fn framed<T: std::fmt::Display>(line: T) -> String {
    format!("{line}")
}
