//! Reading and writing length-prefixed frames on the CLI connection.

use crate::protocol::{frame, MAX_PAYLOAD_BYTES};
use std::io::{self, Read};
use std::os::fd::AsRawFd;

#[derive(Debug)]
pub enum FrameError {
    /// The CLI closed the connection between two frames: a normal goodbye.
    Closed,
    /// The announced payload length is over the limit; nothing was read.
    TooLarge(u32),
    Io(io::Error),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Closed => f.write_str("connection closed"),
            FrameError::TooLarge(len) => write!(
                f,
                "frame announces {len} bytes, more than the {MAX_PAYLOAD_BYTES}-byte limit"
            ),
            FrameError::Io(error) => write!(f, "{error}"),
        }
    }
}

/// Reads one whole payload, or says why there is none.
pub fn read_frame(stream: &mut impl Read) -> Result<Vec<u8>, FrameError> {
    let mut header = [0u8; 4];
    let mut filled = 0;
    while filled < header.len() {
        match stream.read(&mut header[filled..]) {
            Ok(0) if filled == 0 => return Err(FrameError::Closed),
            Ok(0) => {
                return Err(FrameError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed inside a frame header",
                )))
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let len = u32::from_le_bytes(header);
    if len as usize > MAX_PAYLOAD_BYTES {
        return Err(FrameError::TooLarge(len));
    }
    let mut payload = vec![0u8; len as usize];
    stream.read_exact(&mut payload).map_err(FrameError::Io)?;
    Ok(payload)
}

/// Sends one frame. `send(MSG_NOSIGNAL)` rather than `write`: if the CLI has
/// gone, the app must get an error here, not a SIGPIPE that could kill it
/// (not every app ignores SIGPIPE, and a Rust app only does so once `main`
/// starts).
pub fn write_frame(stream: &(impl AsRawFd + ?Sized), payload: &[u8]) -> io::Result<()> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "payload is over the frame limit",
        ));
    }
    let bytes = frame(payload);
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        // SAFETY: the fd belongs to `stream`, which outlives this call, and
        // send(2) reads at most `rest.len()` bytes from the live slice.
        let sent = unsafe {
            libc::send(
                stream.as_raw_fd(),
                rest.as_ptr().cast(),
                rest.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if sent < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        rest = &rest[sent as usize..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_length_is_refused_before_reading_the_payload() {
        let announced = (MAX_PAYLOAD_BYTES as u32 + 1).to_le_bytes();
        let error = read_frame(&mut &announced[..]).unwrap_err();
        assert!(matches!(error, FrameError::TooLarge(_)), "{error}");
    }

    #[test]
    fn eof_between_frames_is_a_clean_close_and_inside_one_is_not() {
        assert!(matches!(
            read_frame(&mut &[][..]).unwrap_err(),
            FrameError::Closed
        ));
        assert!(matches!(
            read_frame(&mut &[5u8, 0][..]).unwrap_err(),
            FrameError::Io(_)
        ));
        assert!(matches!(
            read_frame(&mut &[5u8, 0, 0, 0, 1][..]).unwrap_err(),
            FrameError::Io(_)
        ));
    }

    #[test]
    fn reads_back_what_was_framed() {
        let bytes = frame(b"abc");
        assert_eq!(read_frame(&mut &bytes[..]).unwrap(), b"abc");
    }
}
