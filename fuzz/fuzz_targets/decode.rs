//! `cargo +nightly fuzz run decode`: any payload through `Message::decode`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|payload: &[u8]| {
    if let Ok(message) = ipbp_fuzz::check_decode(payload) {
        // Whatever decodes also survives a trip through a frame.
        let framed = ipbp_fuzz::protocol::frame(&message.encode());
        assert_eq!(ipbp_fuzz::check_frames(&framed, payload.len() as u64, 7), 1);
    }
});
