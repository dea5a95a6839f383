//! What a thread's signal mask says, and whether the process runs under a
//! user-mode emulator: together they tell the threads a stop can park from
//! those it cannot.
//!
//! qemu-user runs guest threads as host threads and adds one of its own (its
//! RCU thread), which blocks nearly every host signal and never runs guest
//! code. A guest thread's host mask stays open (qemu masks guest signals
//! itself), so under emulation a thread whose host mask blocks the stop
//! signal is the emulator's own, and a stop may leave it running. Natively,
//! such a thread is the app's, and no stop may go on without it.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Whether thread `tid` of this process blocks `signal` (its `SigBlk` in
/// `/proc/self/task/<tid>/status`); `None` if that cannot be read. Allocates
/// nothing: it runs while other threads are parked.
pub fn blocks_signal(tid: libc::pid_t, signal: libc::c_int) -> Option<bool> {
    let mut path = [0u8; 48];
    let prefix = b"/proc/self/task/";
    let suffix = b"/status\0";
    path[..prefix.len()].copy_from_slice(prefix);
    let mut at = prefix.len() + write_decimal(&mut path[prefix.len()..], u64::try_from(tid).ok()?)?;
    path.get_mut(at..at + suffix.len())?.copy_from_slice(suffix);
    at += suffix.len();
    debug_assert!(at <= path.len());
    // SAFETY: `path` is NUL-terminated; the fd is closed below.
    let fd = unsafe { libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    let mut buffer = [0u8; 4096];
    let mut filled = 0;
    while filled < buffer.len() {
        // SAFETY: reads into the unfilled rest of the live stack buffer.
        let read = unsafe {
            libc::read(
                fd,
                buffer[filled..].as_mut_ptr().cast(),
                buffer.len() - filled,
            )
        };
        if read <= 0 {
            break;
        }
        filled += read as usize;
    }
    // SAFETY: `fd` was opened above and is closed exactly once.
    unsafe { libc::close(fd) };
    let mask = blocked_mask(&buffer[..filled])?;
    let bit = u32::try_from(signal.checked_sub(1)?).ok()?;
    Some(mask.checked_shr(bit)? & 1 == 1)
}

/// The `SigBlk:` line of a status file, as a mask (bit n-1 for signal n).
fn blocked_mask(status: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\nSigBlk:\t";
    let start = status.windows(KEY.len()).position(|window| window == KEY)? + KEY.len();
    let digits = status
        .get(start..)?
        .iter()
        .take_while(|byte| byte.is_ascii_hexdigit());
    let mut mask = 0u64;
    let mut count = 0;
    for &digit in digits {
        mask = mask.checked_mul(16)? | u64::from((digit as char).to_digit(16)?);
        count += 1;
    }
    (count > 0).then_some(mask)
}

/// Writes `value` in decimal at the start of `into`; returns its length.
fn write_decimal(into: &mut [u8], value: u64) -> Option<usize> {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut rest = value;
    loop {
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let target = into.get_mut(..len)?;
    for (slot, digit) in target.iter_mut().zip(digits[..len].iter().rev()) {
        *slot = *digit;
    }
    Some(len)
}

/// The emulator's executable, when this process runs under one. qemu-user
/// answers `/proc/self/exe` with the guest program, but not the per-thread
/// view, which shows the host process: qemu itself. Natively both are the
/// program. Read once (it allocates), before any stop.
pub fn emulator() -> Option<&'static PathBuf> {
    static EMULATOR: OnceLock<Option<PathBuf>> = OnceLock::new();
    EMULATOR
        .get_or_init(|| {
            let program = std::fs::read_link("/proc/self/exe").ok()?;
            let host = std::fs::read_link("/proc/thread-self/exe").ok()?;
            (host != program).then_some(host)
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blocked_mask_is_read_from_a_status_file() {
        let status = b"Name:\tapp\nSigQ:\t0/1\nSigPnd:\t0000000000000000\nSigBlk:\tfffffffe7ffbfa77\nSigIgn:\t0\n";
        assert_eq!(blocked_mask(status), Some(0xffff_fffe_7ffb_fa77));
        assert_eq!(blocked_mask(b"Name:\tapp\n"), None);
    }

    #[test]
    fn this_threads_own_mask_is_seen() {
        let signal = libc::SIGRTMIN() + 11;
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        let mut previous: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid sigset pointers; the mask is restored below.
        unsafe {
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut previous);
        }
        let blocked = blocks_signal(tid, signal);
        // SAFETY: restores the mask saved above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut()) };
        let open = blocks_signal(tid, signal);
        if emulator().is_some() {
            // Under qemu the host mask is not the guest's: only that it can be read holds.
            assert!(blocked.is_some() && open.is_some());
        } else {
            assert_eq!((blocked, open), (Some(true), Some(false)));
        }
    }

    #[test]
    fn thread_ids_are_written_in_decimal() {
        let mut buffer = [0u8; 12];
        assert_eq!(write_decimal(&mut buffer, 0), Some(1));
        assert_eq!(&buffer[..1], b"0");
        assert_eq!(write_decimal(&mut buffer, 4_194_304), Some(7));
        assert_eq!(&buffer[..7], b"4194304");
        assert_eq!(write_decimal(&mut buffer[..3], 12_345), None);
    }
}
