//! The threads of this process, read from `/proc/self/task` without
//! allocating: the listing is re-read while other threads are stopped, and a
//! stopped thread may hold the malloc lock.

use std::io;

/// A fixed-capacity list of thread ids, allocated before the world stops.
pub struct ThreadIds {
    ids: Vec<libc::pid_t>,
}

impl ThreadIds {
    pub fn with_capacity(capacity: usize) -> Self {
        ThreadIds {
            ids: Vec::with_capacity(capacity),
        }
    }

    pub fn clear(&mut self) {
        self.ids.clear();
    }

    /// Adds `tid` unless full; never reallocates.
    pub fn push(&mut self, tid: libc::pid_t) -> Result<(), TooManyThreads> {
        if self.ids.len() == self.ids.capacity() {
            return Err(TooManyThreads);
        }
        self.ids.push(tid);
        Ok(())
    }

    pub fn contains(&self, tid: libc::pid_t) -> bool {
        self.ids.contains(&tid)
    }

    pub fn iter(&self) -> impl Iterator<Item = libc::pid_t> + '_ {
        self.ids.iter().copied()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct TooManyThreads;

#[derive(Debug, Clone, Copy)]
pub enum ListError {
    TooMany,
    Os(i32),
}

/// Replaces `into` with the ids of every thread of this process.
pub fn list_threads(into: &mut ThreadIds) -> Result<(), ListError> {
    into.clear();
    // SAFETY: a NUL-terminated literal path; the fd is closed below.
    let fd = unsafe {
        libc::open(
            c"/proc/self/task".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(ListError::Os(last_errno()));
    }
    let result = read_entries(fd, into);
    // SAFETY: `fd` was opened above and is closed exactly once.
    unsafe { libc::close(fd) };
    result
}

fn read_entries(fd: libc::c_int, into: &mut ThreadIds) -> Result<(), ListError> {
    // u64 elements keep the buffer aligned for the dirent64 headers.
    let mut buffer = [0u64; 512];
    loop {
        // SAFETY: getdents64 writes at most `size_of_val(&buffer)` bytes
        // into the live stack buffer.
        let filled = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                fd,
                buffer.as_mut_ptr(),
                std::mem::size_of_val(&buffer),
            )
        };
        if filled < 0 {
            return Err(ListError::Os(last_errno()));
        }
        if filled == 0 {
            return Ok(());
        }
        // SAFETY: reinterpreting the initialized u64 buffer as bytes.
        let bytes =
            unsafe { std::slice::from_raw_parts(buffer.as_ptr().cast::<u8>(), filled as usize) };
        parse_entries(bytes, into)?;
    }
}

/// `struct linux_dirent64 { u64 ino; i64 off; u16 reclen; u8 type; char name[]; }`
fn parse_entries(bytes: &[u8], into: &mut ThreadIds) -> Result<(), ListError> {
    const NAME_OFFSET: usize = 19;
    let mut offset = 0usize;
    while offset + NAME_OFFSET <= bytes.len() {
        let record_len = u16::from_ne_bytes([bytes[offset + 16], bytes[offset + 17]]) as usize;
        if record_len == 0 || offset + record_len > bytes.len() {
            break;
        }
        let name = &bytes[offset + NAME_OFFSET..offset + record_len];
        if let Some(tid) = parse_tid(name) {
            into.push(tid).map_err(|_| ListError::TooMany)?;
        }
        offset += record_len;
    }
    Ok(())
}

/// A decimal thread id, NUL-terminated ("." and ".." are not).
fn parse_tid(name: &[u8]) -> Option<libc::pid_t> {
    let mut tid: libc::pid_t = 0;
    let mut digits = 0;
    for &byte in name.iter().take_while(|&&b| b != 0) {
        if !byte.is_ascii_digit() {
            return None;
        }
        tid = tid
            .checked_mul(10)?
            .checked_add(libc::pid_t::from(byte - b'0'))?;
        digits += 1;
    }
    (digits > 0).then_some(tid)
}

pub fn last_errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_this_thread_and_a_new_one() {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let helper = std::thread::spawn(move || {
            // SAFETY: gettid has no preconditions.
            ready_tx.send(unsafe { libc::gettid() }).unwrap();
            done_rx.recv().ok();
        });
        let helper_tid = ready_rx.recv().unwrap();
        let mut ids = ThreadIds::with_capacity(1024);
        list_threads(&mut ids).unwrap();
        // SAFETY: gettid has no preconditions.
        assert!(ids.contains(unsafe { libc::gettid() }));
        assert!(ids.contains(helper_tid));
        done_tx.send(()).unwrap();
        helper.join().unwrap();
    }

    #[test]
    fn a_full_list_is_an_error_not_a_reallocation() {
        let mut ids = ThreadIds::with_capacity(0);
        assert!(matches!(list_threads(&mut ids), Err(ListError::TooMany)));
    }

    #[test]
    fn only_decimal_names_are_thread_ids() {
        assert_eq!(parse_tid(b"1234\0"), Some(1234));
        assert_eq!(parse_tid(b".\0"), None);
        assert_eq!(parse_tid(b"..\0"), None);
        assert_eq!(parse_tid(b"\0"), None);
    }
}
