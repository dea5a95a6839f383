//! Writing instruction bytes into mapped code pages.

use crate::arch::{Architecture, Current, EntryJump};
use crate::image::page_size;

/// Bytes to place at an address in code.
#[derive(Debug, Clone, Copy)]
pub struct CodeEdit {
    pub address: u64,
    pub bytes: EntryJump,
    /// The protection to restore on the edited pages (that of their segment).
    pub restore_protection: libc::c_int,
}

#[derive(Debug, Clone, Copy)]
pub struct CodeWriteError {
    pub page: u64,
    pub errno: i32,
}

impl std::fmt::Display for CodeWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot make page 0x{:x} writable: {}",
            self.page,
            std::io::Error::from_raw_os_error(self.errno)
        )
    }
}

/// The page(s) each edit touches (an edit may straddle two), as
/// `(page, protection to restore)`. Computed before the world stops, since
/// it allocates.
pub fn pages_of(edits: &[CodeEdit]) -> Vec<(u64, libc::c_int)> {
    let page = page_size();
    let mut pages: Vec<(u64, libc::c_int)> = Vec::new();
    for edit in edits {
        let first = edit.address & !(page - 1);
        let last = (edit.address + edit.bytes.as_bytes().len() as u64 - 1) & !(page - 1);
        for p in [first, last] {
            if !pages.iter().any(|&(seen, _)| seen == p) {
                pages.push((p, edit.restore_protection));
            }
        }
    }
    pages
}

/// Makes `pages` writable, applies every edit, and restores the pages'
/// protection. No allocation: this runs while other threads are parked.
/// On failure nothing has been written.
pub fn write_code(pages: &[(u64, libc::c_int)], edits: &[CodeEdit]) -> Result<(), CodeWriteError> {
    let page_len = page_size() as usize;
    for (made_writable, &(page, _)) in pages.iter().enumerate() {
        // SAFETY: `page` is page-aligned and belongs to an executable
        // segment of a loaded object (checked by the caller), so changing
        // its protection affects only code we are about to edit.
        let changed = unsafe {
            libc::mprotect(
                page as *mut libc::c_void,
                page_len,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
            )
        };
        if changed != 0 {
            let errno = crate::thread_list::last_errno();
            restore(&pages[..made_writable], page_len);
            return Err(CodeWriteError { page, errno });
        }
    }
    for edit in edits {
        let bytes = edit.bytes.as_bytes();
        // SAFETY: the destination lies in pages made writable above; every
        // other thread is parked outside these bytes, so none executes them
        // half-written.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), edit.address as *mut u8, bytes.len());
        }
        Current::sync_instruction_cache(edit.address, bytes.len());
    }
    restore(pages, page_len);
    Ok(())
}

fn restore(pages: &[(u64, libc::c_int)], page_len: usize) {
    for &(page, protection) in pages {
        // SAFETY: as above; back to the segment's own protection. A failure
        // here leaves the page RWX, which is harmless to the app's logic.
        unsafe { libc::mprotect(page as *mut libc::c_void, page_len, protection) };
    }
}
