//! Property tests of the decoder and the frame reader over mutated golden
//! frames: the fast, stable-toolchain slice of `fuzz/` (whose cargo-fuzz
//! targets check the same properties, coverage-guided, on nightly).
//!
//! A hand-rolled xorshift generator keeps them deterministic and free of
//! dependencies; `IPBP_FUZZ_SEED` picks another sequence, and a failure
//! prints the seed, the case number and the input.
//!
//! For any input: `Message::decode` does not panic; a message it returns
//! re-encodes to exactly the input; an error is one line whose offset lies
//! inside the input. `read_frame` over a stream arriving in arbitrary chunks
//! (with `EINTR`s) returns exactly the frames a hand-written model finds, then
//! ends as the model says.

use super::*;
use crate::frame_io::{read_frame, FrameError};
use std::io::{self, Read};
use std::path::PathBuf;

const FIXTURES: [&str; 6] = [
    "hello.bin",
    "load-patch.bin",
    "patch-result.bin",
    "patch-result-stacks.bin",
    "log.bin",
    "stacks.bin",
];

fn payloads() -> Vec<Vec<u8>> {
    FIXTURES
        .iter()
        .map(|name| {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../test/fixtures/protocol")
                .join(name);
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            bytes[4..].to_vec()
        })
        .collect()
}

fn seed() -> u64 {
    std::env::var("IPBP_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15)
}

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Values that sit on the decoder's boundaries: lengths, counts, tags, bools.
const INTERESTING: [u64; 16] = [
    0,
    1,
    2,
    4,
    7,
    8,
    16,
    0x7f,
    0xff,
    0xffff,
    0x0fff_ffff,
    0x1000_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    u64::MAX,
];

/// One to four havoc edits of `input`, splicing from `donors`.
fn mutate(rng: &mut Rng, input: &[u8], donors: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(9) {
            0 if len > 0 => {
                let at = rng.below(len);
                out[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                out[at] = rng.next() as u8;
            }
            2 | 3 if len > 0 => {
                // A boundary value over a 1-, 4- or 8-byte field.
                let width = [1, 4, 8][rng.below(3)];
                let at = rng.below(len);
                let value = INTERESTING[rng.below(INTERESTING.len())];
                let value = if rng.below(4) == 0 {
                    value.wrapping_add(len as u64)
                } else {
                    value
                };
                for (i, byte) in value.to_le_bytes().iter().take(width).enumerate() {
                    if let Some(slot) = out.get_mut(at + i) {
                        *slot = *byte;
                    }
                }
            }
            4 if len > 0 => {
                // Arithmetic on a u32 length field.
                let at = rng.below(len);
                let mut field = [0u8; 4];
                for (i, byte) in field.iter_mut().enumerate() {
                    *byte = out.get(at + i).copied().unwrap_or(0);
                }
                let delta = rng.below(33) as i64 - 16;
                let value = (u32::from_le_bytes(field) as i64 + delta) as u32;
                for (i, byte) in value.to_le_bytes().iter().enumerate() {
                    if let Some(slot) = out.get_mut(at + i) {
                        *slot = *byte;
                    }
                }
            }
            5 => out.truncate(rng.below(len + 1)),
            6 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(16)).min(len);
                out.drain(at..end);
            }
            7 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes = rng.bytes(n);
                out.splice(at..at, bytes);
            }
            _ => {
                let donor = &donors[rng.below(donors.len())];
                if !donor.is_empty() && len > 0 {
                    let from = rng.below(donor.len());
                    let at = rng.below(len);
                    let n = (1 + rng.below(32)).min(donor.len() - from).min(len - at);
                    out[at..at + n].copy_from_slice(&donor[from..from + n]);
                }
            }
        }
    }
    out
}

/// Decodes `payload` and checks the result; returns whether it decoded.
fn check_decode(payload: &[u8], context: &dyn Fn() -> String) -> bool {
    match Message::decode(payload) {
        Ok(message) => {
            assert!(
                message.encode() == payload,
                "a {} message does not re-encode to its input; {}",
                message.kind(),
                context()
            );
            true
        }
        Err(error) => {
            let text = error.to_string();
            assert!(
                !text.is_empty() && !text.contains('\n'),
                "error {text:?}; {}",
                context()
            );
            if let Some(at) = text.find(" at offset ") {
                let digits: String = text[at + 11..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let offset: usize = digits.parse().expect("digits after 'at offset'");
                assert!(
                    offset <= payload.len(),
                    "offset past the input in {text:?}; {}",
                    context()
                );
            }
            false
        }
    }
}

#[test]
fn mutated_golden_payloads_decode_strictly_or_fail_cleanly() {
    let seed = seed();
    let golden = payloads();
    let mut rng = Rng::new(seed);
    let mut decoded = 0;
    const CASES: usize = 60_000;
    for case in 0..CASES {
        let base = &golden[case % golden.len()];
        let input = mutate(&mut rng, base, &golden);
        if check_decode(&input, &|| {
            format!("seed {seed}, case {case}, input {input:02x?}")
        }) {
            decoded += 1;
        }
    }
    // Most edits break a message; enough must survive for the Ok side to be exercised.
    assert!(decoded > CASES / 50, "only {decoded} of {CASES} decoded");
}

fn random_message(rng: &mut Rng) -> Message {
    let text = |rng: &mut Rng| -> String {
        let n = rng.below(12);
        (0..n)
            .map(|_| ['a', 'é', '✓', '\0', '/', '𝄞'][rng.below(6)])
            .collect()
    };
    let blob = |rng: &mut Rng| -> Vec<u8> {
        let n = rng.below(24);
        rng.bytes(n)
    };
    match rng.below(4) {
        0 => Message::Hello {
            protocol_version: rng.next() as u32,
            pid: rng.next() as u32,
            build_id: blob(rng),
            exe_path: text(rng),
            load_bias: rng.next(),
            image_start: rng.next(),
            image_end: rng.next(),
        },
        1 => Message::LoadPatch {
            patch_id: rng.next() as u32,
            build_id: blob(rng),
            path: text(rng),
            library: blob(rng),
            base: rng.next(),
            redirects: (0..rng.below(5))
                .map(|_| Redirect {
                    from: rng.next(),
                    to: rng.next(),
                })
                .collect(),
            hooks: rng.next(),
            migrations: text(rng),
            tls_fixups: (0..rng.below(4))
                .map(|_| TlsFixup {
                    address: rng.next(),
                    value: rng.next(),
                    form: [4, 8, 12, 24][rng.below(4)],
                })
                .collect(),
        },
        2 => Message::PatchResult {
            patch_id: rng.next() as u32,
            ok: rng.below(2) == 1,
            message: text(rng),
            load_us: rng.next(),
            redirect_us: rng.next(),
            needs_restart: rng.below(2) == 1,
            stacks: (0..rng.below(4))
                .map(|_| ThreadStack {
                    tid: rng.next() as u32,
                    status: [
                        StackStatus::Complete,
                        StackStatus::Truncated,
                        StackStatus::Unknown,
                    ][rng.below(3)],
                    frames: (0..rng.below(6)).map(|_| rng.next()).collect(),
                })
                .collect(),
        },
        _ => Message::Log { message: text(rng) },
    }
}

#[test]
fn generated_messages_round_trip_and_their_mutants_fail_cleanly() {
    let seed = seed();
    let mut rng = Rng::new(seed ^ 0x5555);
    let golden = payloads();
    for case in 0..20_000 {
        let message = random_message(&mut rng);
        let payload = message.encode();
        assert_eq!(
            Message::decode(&payload).as_ref(),
            Ok(&message),
            "seed {seed}, case {case}"
        );
        for cut in [0, payload.len() / 2, payload.len().saturating_sub(1)] {
            if cut < payload.len() {
                assert!(
                    Message::decode(&payload[..cut]).is_err(),
                    "seed {seed}, case {case}, cut {cut}"
                );
            }
        }
        let input = mutate(&mut rng, &payload, &golden);
        check_decode(&input, &|| {
            format!("seed {seed}, case {case}, input {input:02x?}")
        });
    }
}

/// Hands a stream out in chunks of random sizes, failing now and then with `Interrupted`.
struct Chunked<'a> {
    rest: &'a [u8],
    rng: Rng,
    max_chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.rng.below(8) == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = (1 + self.rng.below(self.max_chunk))
            .min(buf.len())
            .min(self.rest.len());
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

#[derive(Debug, PartialEq)]
enum End {
    Closed,
    TooLarge(u32),
    CutShort,
}

/// The framing by hand: the whole frames at the front of `stream`, and how it ends.
fn model(stream: &[u8]) -> (Vec<&[u8]>, End) {
    let mut frames = Vec::new();
    let mut rest = stream;
    loop {
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
        rest = &rest[4 + len as usize..];
    }
}

#[test]
fn streams_of_mutated_frames_read_as_the_model_says() {
    let seed = seed();
    let mut rng = Rng::new(seed ^ 0xf4a3e);
    let golden = payloads();
    let frames: Vec<Vec<u8>> = golden.iter().map(|p| frame(p)).collect();
    let mut complete = 0;
    for case in 0..5_000 {
        let mut stream = Vec::new();
        for _ in 0..rng.below(5) {
            stream.extend_from_slice(&frames[rng.below(frames.len())]);
        }
        // Edits can land on lengths, making frames short, long or oversized.
        let stream = if rng.below(3) == 0 {
            stream
        } else {
            mutate(&mut rng, &stream, &frames)
        };
        let (expected, end) = model(&stream);
        let mut reader = Chunked {
            rest: &stream,
            rng: Rng::new(rng.next()),
            max_chunk: 1 + rng.below(40),
        };
        let context = || format!("seed {seed}, case {case}, stream {stream:02x?}");
        for (index, want) in expected.iter().enumerate() {
            match read_frame(&mut reader) {
                Ok(payload) => assert!(payload == *want, "frame {index} differs; {}", context()),
                Err(error) => panic!("frame {index}: {error}; {}", context()),
            }
            check_decode(want, &context);
        }
        match (&end, read_frame(&mut reader)) {
            (End::Closed, Err(FrameError::Closed)) => complete += 1,
            (End::TooLarge(want), Err(FrameError::TooLarge(got))) => assert_eq!(*want, got),
            (End::CutShort, Err(FrameError::Io(error))) => {
                assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof, "{}", context())
            }
            (end, outcome) => panic!(
                "the model ends with {end:?}, read_frame gave {outcome:?}; {}",
                context()
            ),
        }
    }
    assert!(
        complete > 500,
        "only {complete} streams were read to a clean close"
    );
}

/// Found by the differential run in `fuzz/`: the Rust decoder used to report
/// a bad boolean one byte past it, the TypeScript decoder at the byte.
#[test]
fn a_bad_boolean_is_reported_at_its_own_offset_as_in_typescript() {
    let mut payload = Message::PatchResult {
        patch_id: 1,
        ok: true,
        message: String::new(),
        load_us: 0,
        redirect_us: 0,
        needs_restart: false,
        stacks: Vec::new(),
    }
    .encode();
    payload[5] = 2;
    assert_eq!(
        Message::decode(&payload).unwrap_err().0,
        "patch-result.ok at offset 5: expected 0 or 1, got 2"
    );
}
