//! `cargo +nightly fuzz run frames`: the first byte picks the chunking, the
//! rest is a stream read frame by frame with `frame_io::read_frame`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let max_chunk = 1 + usize::from(control & 0x1f);
    let seed = u64::from(control).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ stream.len() as u64;
    ipbp_fuzz::check_frames(stream, seed, max_chunk);
});
