//! Sending every caller of a function to its replacement: a jump written
//! over the original entry, so direct calls, vtables and stored function
//! pointers all reach the new code.

use crate::arch::{Architecture, Current};
use crate::code_writer::{pages_of, write_code, CodeEdit};
use crate::image::code_segment_protection;
use crate::protocol::{Redirect, ThreadStack};
use crate::stop_world::with_world_stopped;

/// Applies all `redirects` at once, in a single stop of the other threads,
/// or none of them. Returns the other threads' stacks as recorded in that
/// stop (none when there is nothing to redirect: then nothing is stopped).
pub fn apply_redirects(redirects: &[Redirect]) -> Result<Vec<ThreadStack>, String> {
    if redirects.is_empty() {
        return Ok(Vec::new());
    }
    let edits = plan_edits(redirects)?;
    let pages = pages_of(&edits);
    // No thread may be stopped inside the bytes we replace, nor about to
    // return into them: resuming in the middle of the new jump would
    // execute garbage. A return address can lie inside them: a function may
    // begin with a call shorter than the jump (`call *%rax` is 2 bytes).
    // `with_world_stopped` checks both, on every frame it could walk.
    let avoid: Vec<(u64, u64)> = edits
        .iter()
        .map(|e| (e.address, e.address + e.bytes.as_bytes().len() as u64))
        .collect();
    let (written, stacks) =
        with_world_stopped(&avoid, || write_code(&pages, &edits)).map_err(|e| e.to_string())?;
    written.map_err(|e| e.to_string())?;
    Ok(stacks)
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

// Their functions are written in x86_64 assembly (`test_frames`).
#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::test_frames::{
        ipbp_test_call_first_refused, ipbp_test_call_first_waited, ipbp_test_misaligned_block,
        Blocker,
    };
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

    fn entry_bytes(address: u64) -> [u8; 5] {
        // SAFETY: `address` is the entry of a test function in this binary's
        // code, which is at least 5 bytes long with its padding.
        unsafe { std::ptr::read_volatile(address as *const [u8; 5]) }
    }

    /// A thread blocked in `block`, called by the first instruction of the
    /// function at `entry` (a 2-byte `call *%rdi`).
    fn block_in_entry_call(
        blocker: &'static Blocker,
        function: unsafe extern "C" fn(*const (), &Blocker),
    ) -> std::thread::JoinHandle<()> {
        let entry = function as *const () as u64;
        assert_eq!(entry_bytes(entry)[..2], [0xff, 0xd7], "call *%rdi");
        let thread = std::thread::spawn(move || {
            // SAFETY: the assembly calls `ipbp_test_misaligned_block(_, blocker)`,
            // which calls `block(blocker)`.
            unsafe { function(ipbp_test_misaligned_block as *const (), blocker) }
        });
        blocker.wait_until_entered();
        thread
    }

    #[test]
    fn a_return_address_inside_the_entry_refuses_the_redirect() {
        static BLOCKER: Blocker = Blocker::new();
        let thread = block_in_entry_call(&BLOCKER, ipbp_test_call_first_refused);
        let entry = ipbp_test_call_first_refused as *const () as u64;
        let before = entry_bytes(entry);
        let error = apply_redirects(&[Redirect {
            from: entry,
            to: replacement as *const () as u64,
        }])
        .unwrap_err();
        assert!(
            error.contains("kept a return address inside the bytes to rewrite")
                && error.contains(&format!("0x{:x}", entry + 2)),
            "{error}"
        );
        assert_eq!(entry_bytes(entry), before, "nothing was written");
        BLOCKER.release();
        thread.join().unwrap();
    }

    #[test]
    fn a_redirect_waits_for_a_call_at_the_entry_to_return() {
        static BLOCKER: Blocker = Blocker::new();
        let thread = block_in_entry_call(&BLOCKER, ipbp_test_call_first_waited);
        let entry = ipbp_test_call_first_waited as *const () as u64;
        let release = std::thread::spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(40));
            BLOCKER.release();
        });
        let stacks = apply_redirects(&[Redirect {
            from: entry,
            to: replacement as *const () as u64,
        }])
        .unwrap();
        // Written only once the call had returned and the thread was out of
        // the entry: it returned through the old bytes, not into the jump.
        assert!(BLOCKER.is_released(), "written while the call was pending");
        assert_eq!(entry_bytes(entry)[0], 0xe9, "jmp rel32");
        for stack in &stacks {
            assert!(
                !stack.frames.iter().any(|&a| a > entry && a < entry + 5),
                "{stack:x?}"
            );
        }
        release.join().unwrap();
        thread.join().unwrap();
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
