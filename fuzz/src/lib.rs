//! The agent's own decoder and frame reader, compiled from its sources (the
//! agent is a `cdylib`, so it cannot be a dependency), and the properties
//! the fuzz targets check.
//!
//! Properties, for any input:
//! - `Message::decode` never panics; an `Ok` message re-encodes to exactly
//!   the input (decoding is strict, so the encoding is canonical); an error
//!   is one line that names an offset inside the payload.
//! - `read_frame` over a stream delivered in arbitrary chunks (with
//!   `EINTR`s) returns exactly the frames a trivial model finds, then the
//!   same terminal outcome: `Closed` at a frame boundary, `TooLarge` for an
//!   announced length over the limit, an I/O error for a frame cut short.

#![allow(dead_code)]

#[path = "../../crates/ipbp-agent/src/protocol.rs"]
pub mod protocol;

#[path = "../../crates/ipbp-agent/src/frame_io.rs"]
pub mod frame_io;

use frame_io::{read_frame, FrameError};
use protocol::{frame, Message, MAX_PAYLOAD_BYTES};
use std::io::{self, Read};

/// Decodes one payload and checks what came out.
pub fn check_decode(payload: &[u8]) -> Result<Message, String> {
    match Message::decode(payload) {
        Ok(message) => {
            let encoded = message.encode();
            assert!(
                encoded == payload,
                "{} message re-encodes to {} bytes that differ from the {} decoded",
                message.kind(),
                encoded.len(),
                payload.len()
            );
            Ok(message)
        }
        Err(error) => {
            let text = error.to_string();
            assert!(
                !text.is_empty() && !text.contains('\n'),
                "error text {text:?}"
            );
            if let Some(at) = text.find(" at offset ") {
                let digits: String = text[at + 11..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let offset: usize = digits.parse().expect("an offset after 'at offset'");
                assert!(
                    offset <= payload.len(),
                    "error offset {offset} past the {}-byte payload: {text}",
                    payload.len()
                );
            }
            Err(text)
        }
    }
}

/// Hands out a byte stream in chunks of pseudo-random sizes, now and then
/// failing a read with `Interrupted` (which the reader must retry).
pub struct ChunkedReader<'a> {
    rest: &'a [u8],
    state: u64,
    max_chunk: usize,
}

impl<'a> ChunkedReader<'a> {
    pub fn new(bytes: &'a [u8], seed: u64, max_chunk: usize) -> Self {
        ChunkedReader {
            rest: bytes,
            state: seed | 1,
            max_chunk: max_chunk.max(1),
        }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }
}

impl Read for ChunkedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let roll = self.next();
        if roll.is_multiple_of(16) {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        let want = 1 + (roll >> 8) as usize % self.max_chunk;
        let n = want.min(buf.len()).min(self.rest.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

/// What `read_frame` must end with after the frames before it.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    Closed,
    TooLarge(u32),
    CutShort,
}

/// The reference: frames split by hand, without any reader.
pub fn model_frames(stream: &[u8]) -> (Vec<&[u8]>, End) {
    let mut frames = Vec::new();
    let mut at = 0;
    loop {
        let rest = &stream[at..];
        if rest.is_empty() {
            return (frames, End::Closed);
        }
        if rest.len() < 4 {
            return (frames, End::CutShort);
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        if len as usize > MAX_PAYLOAD_BYTES {
            return (frames, End::TooLarge(len));
        }
        if rest.len() - 4 < len as usize {
            return (frames, End::CutShort);
        }
        frames.push(&rest[4..4 + len as usize]);
        at += 4 + len as usize;
    }
}

/// Reads `stream` frame by frame through `read_frame` and compares with the model;
/// every payload read is also decoded. Returns how many frames were read.
pub fn check_frames(stream: &[u8], seed: u64, max_chunk: usize) -> usize {
    let (expected, end) = model_frames(stream);
    let mut reader = ChunkedReader::new(stream, seed, max_chunk);
    for (index, want) in expected.iter().enumerate() {
        match read_frame(&mut reader) {
            Ok(payload) => assert!(payload == *want, "frame {index} differs from the model"),
            Err(error) => panic!(
                "frame {index}: read_frame failed with {error:?}, the model has a whole frame"
            ),
        }
        let _ = check_decode(want);
        // A whole frame rebuilt from the payload is the bytes it came from.
        assert_eq!(frame(want).len(), 4 + want.len());
    }
    let outcome = read_frame(&mut reader);
    match (&end, outcome) {
        (End::Closed, Err(FrameError::Closed)) => {}
        (End::TooLarge(want), Err(FrameError::TooLarge(got))) => assert_eq!(*want, got),
        (End::CutShort, Err(FrameError::Io(error))) => {
            assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof, "{error}")
        }
        (end, outcome) => panic!(
            "after {} frames the model ends with {end:?}, read_frame gave {outcome:?}",
            expected.len()
        ),
    }
    expected.len()
}
