//! Sending every caller of a function to its replacement: a jump written
//! over the original entry, so direct calls, vtables and stored function
//! pointers all reach the new code.

use crate::arch::{Architecture, Current};
use crate::code_writer::{pages_of, write_code, CodeEdit};
use crate::image::code_segment_protection;
use crate::protocol::Redirect;
use crate::stop_world::with_world_stopped;

/// Applies all `redirects` at once, in a single stop of the other threads,
/// or none of them.
pub fn apply_redirects(redirects: &[Redirect]) -> Result<(), String> {
    if redirects.is_empty() {
        return Ok(());
    }
    let edits = plan_edits(redirects)?;
    let pages = pages_of(&edits);
    // No thread may be stopped inside the bytes we replace: resuming in the
    // middle of the new jump would execute garbage. (A return address there
    // is impossible: a call is itself 5 bytes, so it cannot end inside the
    // first 5 bytes of a function.)
    let avoid: Vec<(u64, u64)> = edits
        .iter()
        .map(|e| (e.address, e.address + e.bytes.as_bytes().len() as u64))
        .collect();
    with_world_stopped(&avoid, || write_code(&pages, &edits))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// Checks and encodes every redirect before anything is written.
fn plan_edits(redirects: &[Redirect]) -> Result<Vec<CodeEdit>, String> {
    redirects
        .iter()
        .map(|&Redirect { from, to }| {
            let outside = |what: &str, address: u64| {
                format!("redirect {what} 0x{address:x} is not inside the code of any loaded object")
            };
            code_segment_protection(from, 1).ok_or_else(|| outside("source", from))?;
            code_segment_protection(to, 1).ok_or_else(|| outside("target", to))?;
            let bytes = Current::entry_jump(from, to)?;
            let restore_protection = code_segment_protection(from, bytes.as_bytes().len() as u64)
                .ok_or_else(|| outside("source", from))?;
            Ok(CodeEdit {
                address: from,
                bytes,
                restore_protection,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[inline(never)]
    fn original() -> u64 {
        black_box(1)
    }

    #[inline(never)]
    fn replacement() -> u64 {
        black_box(2)
    }

    #[test]
    fn redirects_a_function_while_other_threads_call_it() {
        let call = || black_box(original as fn() -> u64)();
        assert_eq!(call(), 1);
        let done = Arc::new(AtomicBool::new(false));
        let callers: Vec<_> = (0..3)
            .map(|_| {
                let done = done.clone();
                std::thread::spawn(move || {
                    let mut calls = 0u64;
                    while !done.load(Ordering::Relaxed) {
                        calls += black_box(original as fn() -> u64)();
                    }
                    calls
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(20));
        apply_redirects(&[Redirect {
            from: original as *const () as u64,
            to: replacement as *const () as u64,
        }])
        .unwrap();
        assert_eq!(call(), 2);
        done.store(true, Ordering::Relaxed);
        for caller in callers {
            assert!(caller.join().unwrap() > 0);
        }
    }

    #[test]
    fn addresses_outside_code_are_refused() {
        let data = [0u8; 16];
        let error = apply_redirects(&[Redirect {
            from: data.as_ptr() as u64,
            to: original as *const () as u64,
        }])
        .unwrap_err();
        assert!(error.contains("not inside the code"), "{error}");
        let error = apply_redirects(&[Redirect {
            from: original as *const () as u64,
            to: data.as_ptr() as u64,
        }])
        .unwrap_err();
        assert!(error.contains("not inside the code"), "{error}");
    }
}
