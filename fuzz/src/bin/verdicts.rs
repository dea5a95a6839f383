//! Prints the Rust decoder's verdict on each payload of a file of frames
//! (each a `u32` little-endian length and the payload), one line per frame:
//! `ok\t<kind>` or `error\t<message>`. `fuzz/long-run.ts` decodes the same
//! payloads with the TypeScript decoder and compares: the two sides must
//! accept the same payloads and word their errors the same way.

use std::io::{BufWriter, Write};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: verdicts <file of frames>");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let out = std::io::stdout();
    let mut out = BufWriter::new(out.lock());
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let len = u32::from_le_bytes(rest[..4].try_into().expect("a whole length")) as usize;
        let payload = &rest[4..4 + len];
        rest = &rest[4 + len..];
        match ipbp_fuzz::protocol::Message::decode(payload) {
            Ok(message) => writeln!(out, "ok\t{}", message.kind()),
            Err(error) => writeln!(out, "error\t{error}"),
        }
        .expect("writing stdout");
    }
}
