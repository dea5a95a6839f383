//! The golden fixtures under `test/fixtures/protocol/` are shared with the
//! TypeScript tests: both sides must decode them to the same fields and
//! re-encode them byte for byte.

use super::*;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../test/fixtures/protocol")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Splits the length prefix off a whole-frame fixture.
fn payload_of(frame_bytes: &[u8]) -> &[u8] {
    let len = u32::from_le_bytes(frame_bytes[..4].try_into().unwrap()) as usize;
    assert_eq!(len, frame_bytes.len() - 4, "fixture length prefix");
    &frame_bytes[4..]
}

fn build_id() -> Vec<u8> {
    (0u8..20).collect()
}

fn check_golden(name: &str, expected: Message) {
    let bytes = fixture(name);
    let decoded = Message::decode(payload_of(&bytes)).expect("fixture decodes");
    assert_eq!(decoded, expected);
    assert_eq!(frame(&decoded.encode()), bytes, "re-encoding {name}");
}

#[test]
fn golden_hello() {
    check_golden(
        "hello.bin",
        Message::Hello {
            protocol_version: 1,
            pid: 4242,
            build_id: build_id(),
            exe_path: "/home/dev/app/target/debug/démo".into(),
            load_bias: 0x5555_5555_4000,
            image_start: 0x5555_5555_4000,
            image_end: 0x5555_5559_b000,
        },
    );
}

#[test]
fn golden_load_patch() {
    check_golden(
        "load-patch.bin",
        Message::LoadPatch {
            patch_id: 7,
            build_id: build_id(),
            path: "/tmp/ipbp-x/patch-7.so".into(),
            library: b"\x7fELF".to_vec(),
            base: 0x5555_5155_4000,
            redirects: vec![
                Redirect {
                    from: 0x5555_5555_5130,
                    to: 0x5555_5155_5000,
                },
                Redirect {
                    from: 0xfedc_ba98_7654_3210,
                    to: 0x0123_4567_89ab_cdef,
                },
            ],
            hooks: 0x5555_5558_1230,
            migrations: "app::Counter\napp::Shape".into(),
            tls_fixups: vec![
                TlsFixup {
                    address: 0x5555_5155_5013,
                    value: 0x10,
                    form: 4,
                },
                TlsFixup {
                    address: 0x5555_5155_6000,
                    value: 0xffff_ffff_ffff_fff8,
                    form: 8,
                },
            ],
        },
    );
}

#[test]
fn golden_patch_result() {
    check_golden(
        "patch-result.bin",
        Message::PatchResult {
            patch_id: 7,
            ok: false,
            message: "patch is for build aa, this process is build bb".into(),
            load_us: 1234,
            redirect_us: 0x1_0000_0001,
            needs_restart: true,
            stacks: Vec::new(),
        },
    );
}

#[test]
fn golden_patch_result_with_stacks() {
    let stack = |tid, status, frames: &[u64]| ThreadStack {
        tid,
        status,
        frames: frames.to_vec(),
    };
    check_golden(
        "patch-result-stacks.bin",
        Message::PatchResult {
            patch_id: 8,
            ok: true,
            message: String::new(),
            load_us: 812,
            redirect_us: 97,
            needs_restart: false,
            stacks: vec![
                stack(
                    4242,
                    StackStatus::Complete,
                    &[0x5555_5555_5142, 0x5555_5555_6a1d, 0x7fff_f7c2_7d8f],
                ),
                stack(
                    4243,
                    StackStatus::Truncated,
                    &[0x5555_5155_5004, 0xffff_ffff_ffff_ffff],
                ),
                stack(4244, StackStatus::Unknown, &[0x7fff_f7c9_4ac3]),
                stack(0xffff_fffe, StackStatus::Unknown, &[]),
            ],
        },
    );
}

#[test]
fn golden_stack_samples() {
    check_golden("sample-stacks.bin", Message::SampleStacks { request_id: 3 });
    check_golden(
        "stacks.bin",
        Message::Stacks {
            request_id: 3,
            message: String::new(),
            stacks: vec![
                ThreadStack {
                    tid: 4242,
                    status: StackStatus::Complete,
                    frames: vec![0x5555_5555_5142, 0x7fff_f7c2_7d8f],
                },
                ThreadStack {
                    tid: 4245,
                    status: StackStatus::Truncated,
                    frames: vec![0x5555_5155_5004],
                },
            ],
        },
    );
}

#[test]
fn golden_log() {
    check_golden(
        "log.bin",
        Message::Log {
            message: "thread 17 was slow to stop ✓".into(),
        },
    );
}

fn range(from: u8, to: u8) -> Vec<u8> {
    (from..to).collect()
}

#[test]
fn golden_authentication() {
    check_golden(
        "challenge.bin",
        Message::Challenge {
            nonce: range(0, 32),
        },
    );
    check_golden(
        "auth.bin",
        Message::Auth {
            nonce: range(32, 64),
            mac: range(64, 96),
        },
    );
    check_golden(
        "auth-ok.bin",
        Message::AuthOk {
            mac: range(96, 128),
        },
    );
}

#[test]
fn every_truncation_of_every_fixture_is_an_error() {
    for name in [
        "hello.bin",
        "load-patch.bin",
        "patch-result.bin",
        "patch-result-stacks.bin",
        "log.bin",
        "challenge.bin",
        "auth.bin",
        "auth-ok.bin",
        "sample-stacks.bin",
        "stacks.bin",
    ] {
        let bytes = fixture(name);
        let payload = payload_of(&bytes);
        for cut in 0..payload.len() {
            assert!(
                Message::decode(&payload[..cut]).is_err(),
                "{name} cut at {cut} decoded"
            );
        }
    }
}

#[test]
fn a_trailing_byte_is_an_error() {
    let mut payload = Message::Log {
        message: "x".into(),
    }
    .encode();
    payload.push(0);
    let error = Message::decode(&payload).unwrap_err();
    assert!(error.0.contains("trailing"), "{error}");
}

#[test]
fn unknown_tags_and_bad_booleans_are_errors() {
    assert!(Message::decode(&[0]).unwrap_err().0.contains("unknown"));
    assert!(Message::decode(&[99, 1, 2])
        .unwrap_err()
        .0
        .contains("unknown"));
    let mut result = Message::PatchResult {
        patch_id: 1,
        ok: true,
        message: String::new(),
        load_us: 0,
        redirect_us: 0,
        needs_restart: false,
        stacks: vec![ThreadStack {
            tid: 1,
            status: StackStatus::Complete,
            frames: vec![2],
        }],
    }
    .encode();
    result[5] = 2;
    assert!(Message::decode(&result).unwrap_err().0.contains("0 or 1"));
    // The status of the first stack: after tag, id, ok, message, the two
    // timings, needs_restart, the stack count and the tid.
    let status_at = 1 + 4 + 1 + 4 + 8 + 8 + 1 + 4 + 4;
    result[5] = 1;
    result[status_at] = 3;
    assert_eq!(
        Message::decode(&result).unwrap_err().0,
        format!("stack.status at offset {status_at}: expected 0, 1 or 2, got 3")
    );
}

#[test]
fn invalid_utf8_is_an_error() {
    let payload = [TAG_LOG, 2, 0, 0, 0, 0xc3, 0x28];
    assert!(Message::decode(&payload).unwrap_err().0.contains("UTF-8"));
}

#[test]
fn a_huge_redirect_count_is_refused_without_allocating() {
    let mut payload = vec![TAG_LOAD_PATCH];
    payload.extend_from_slice(&1u32.to_le_bytes()); // patch_id
    payload.extend_from_slice(&0u32.to_le_bytes()); // build_id
    payload.extend_from_slice(&0u32.to_le_bytes()); // path
    payload.extend_from_slice(&0u32.to_le_bytes()); // library
    payload.extend_from_slice(&0u64.to_le_bytes()); // base
    payload.extend_from_slice(&u32::MAX.to_le_bytes()); // redirect_count
    let error = Message::decode(&payload).unwrap_err();
    assert!(error.0.contains("redirects need"), "{error}");
}

fn patch_result_head() -> Vec<u8> {
    Message::PatchResult {
        patch_id: 1,
        ok: true,
        message: String::new(),
        load_us: 0,
        redirect_us: 0,
        needs_restart: false,
        stacks: Vec::new(),
    }
    .encode()
}

#[test]
fn huge_stack_and_frame_counts_are_refused_without_allocating() {
    let mut payload = patch_result_head();
    let count_at = payload.len() - 4;
    payload[count_at..].copy_from_slice(&u32::MAX.to_le_bytes());
    let error = Message::decode(&payload).unwrap_err();
    assert_eq!(
        error.0,
        format!(
            "stacks at offset {}: 4294967295 stacks need at least 38654705655 bytes",
            payload.len()
        )
    );

    let mut payload = patch_result_head();
    payload[count_at..].copy_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(&7u32.to_le_bytes()); // tid
    payload.push(0); // complete
    payload.extend_from_slice(&u32::MAX.to_le_bytes()); // frame count
    let error = Message::decode(&payload).unwrap_err();
    assert_eq!(
        error.0,
        format!(
            "stack.frames at offset {}: 4294967295 frames need 34359738360 bytes",
            payload.len()
        )
    );
}

#[test]
fn garbage_never_panics() {
    // A small deterministic generator: no dependency beyond libc.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 48) as usize;
        let mut bytes = Vec::with_capacity(len);
        let mut s = state;
        for _ in 0..len {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            bytes.push((s >> 56) as u8);
        }
        if let Some(first) = bytes.first_mut() {
            *first = 1 + *first % 5; // mostly valid tags, to reach the fields
        }
        if let Ok(message) = Message::decode(&bytes) {
            assert_eq!(message.encode(), bytes);
        }
    }
}

fn load_patch_with(tls_fixups: Vec<TlsFixup>) -> Vec<u8> {
    Message::LoadPatch {
        patch_id: 1,
        build_id: build_id(),
        path: String::new(),
        library: Vec::new(),
        base: 0,
        redirects: Vec::new(),
        hooks: 0,
        migrations: String::new(),
        tls_fixups,
    }
    .encode()
}

#[test]
fn a_huge_tls_fixup_count_and_a_bad_form_are_refused_as_the_cli_words_them() {
    let mut payload = load_patch_with(Vec::new());
    let count_at = payload.len() - 4;
    payload[count_at..].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        Message::decode(&payload).unwrap_err().0,
        format!(
            "load-patch.tls_fixups at offset {}: 4294967295 TLS fixups need 73014444015 bytes",
            payload.len()
        )
    );
    let mut payload = load_patch_with(vec![TlsFixup {
        address: 1,
        value: 2,
        form: 8,
    }]);
    let form_at = payload.len() - 1;
    payload[form_at] = 2;
    assert_eq!(
        Message::decode(&payload).unwrap_err().0,
        format!("load-patch.tls_fixup.form at offset {form_at}: expected 4, 8, 12 or 24, got 2")
    );
}
