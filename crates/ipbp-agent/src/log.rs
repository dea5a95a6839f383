//! Agent diagnostics go to the app's stderr, prefixed so a developer can tell
//! them from the app's own output.

use std::fmt;

/// Writes one `ipbp-agent: ...` line with a single `write(2)`, so lines from
/// the agent and the app's threads never interleave mid-line, and without
/// Rust's stderr lock, which a stopped thread could be holding.
pub fn log_line(message: fmt::Arguments<'_>) {
    let line = format!("ipbp-agent: {message}\n");
    let mut rest = line.as_bytes();
    while !rest.is_empty() {
        // SAFETY: `rest` is a live byte slice; write(2) reads at most
        // `rest.len()` bytes from it.
        let written = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
        if written <= 0 {
            return; // stderr is gone or full: nothing better to do.
        }
        rest = &rest[written as usize..];
    }
}

macro_rules! agent_log {
    ($($arg:tt)*) => {
        $crate::log::log_line(format_args!($($arg)*))
    };
}
pub(crate) use agent_log;
