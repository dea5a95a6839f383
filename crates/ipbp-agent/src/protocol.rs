//! The messages exchanged with the ipbp CLI, byte for byte the same as the
//! CLI's own protocol module (its deliver stage); the golden fixtures in
//! `test/fixtures/protocol/` hold both sides to it.
//!
//! A frame is a `u32` little-endian payload length followed by the payload.
//! A payload is a one-byte tag followed by the fields in order; integers are
//! little-endian, `string` and `bytes` are a `u32` length and the bytes.
//! Decoding is strict: a missing or a trailing byte is an error, so a
//! disagreement between the two sides shows up at once instead of as a
//! silently misread field.

use std::fmt;

pub const PROTOCOL_VERSION: u32 = 6;

/// The largest payload either side accepts. A frame announcing more is
/// refused before anything is allocated for it.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;

const TAG_HELLO: u8 = 1;
const TAG_LOAD_PATCH: u8 = 2;
const TAG_PATCH_RESULT: u8 = 3;
const TAG_LOG: u8 = 4;
const TAG_CHALLENGE: u8 = 5;
const TAG_AUTH: u8 = 6;
const TAG_AUTH_OK: u8 = 7;
const TAG_SAMPLE_STACKS: u8 = 8;
const TAG_STACKS: u8 = 9;

/// The fewest bytes one [`ThreadStack`] takes: tid, status, frame count.
const STACK_MIN_BYTES: usize = 4 + 1 + 4;

/// One function entry to overwrite with a jump: `from` is where the running
/// code lives, `to` where its replacement lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redirect {
    pub from: u64,
    pub to: u64,
}

/// The fewest bytes one [`TlsFixup`] takes: address, value, form.
const TLS_FIXUP_BYTES: usize = 8 + 8 + 1;

/// An immediate of the patch's code holding a thread-pointer offset
/// (local-exec access) of one of the patch's own thread-locals, known only
/// once the loader placed the patch's TLS block: the agent writes `value`
/// plus that block's offset from the thread pointer, in the `form` the
/// instruction takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsFixup {
    pub address: u64,
    /// The variable's offset in the patch's TLS block plus the relocation's
    /// addend, two's complement.
    pub value: u64,
    /// One of the `FIXUP_*` forms.
    pub form: u8,
}

/// The offset over 4 bytes (x86_64 `TPOFF32`).
pub const FIXUP_U32: u8 = 4;
/// The offset over 8 bytes.
pub const FIXUP_U64: u8 = 8;
/// Bits 0–11 of the offset, as the immediate of an aarch64 `add` (`TLSLE_ADD_TPREL_LO12`).
pub const FIXUP_ADD_LO12: u8 = 12;
/// Bits 12–23 of the offset, as the immediate of an aarch64 `add …, lsl #12` (`TLSLE_ADD_TPREL_HI12`).
pub const FIXUP_ADD_HI12: u8 = 24;

/// How much of a stopped thread's stack the agent could walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackStatus {
    /// Every frame of the thread is listed: the walk reached its outermost frame.
    Complete = 0,
    /// The stack is deeper than the agent records; its innermost frames are listed.
    Truncated = 1,
    /// The walk could not go past the last frame listed (no unwind
    /// information for it, or an unreadable stack): what the thread runs
    /// beyond it is unknown.
    Unknown = 2,
}

impl StackStatus {
    const ALL: [StackStatus; 3] = [
        StackStatus::Complete,
        StackStatus::Truncated,
        StackStatus::Unknown,
    ];
}

/// Where one thread was executing while the other threads were stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadStack {
    pub tid: u32,
    pub status: StackStatus,
    /// The program counter, then the return addresses of its callers,
    /// innermost first. A frame a signal interrupted (the thread was in a
    /// signal handler) is listed by its program counter, not a return address.
    pub frames: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// agent -> CLI, sent once right after connecting.
    Hello {
        protocol_version: u32,
        pid: u32,
        build_id: Vec<u8>,
        exe_path: String,
        load_bias: u64,
        image_start: u64,
        image_end: u64,
    },
    /// CLI -> agent.
    LoadPatch {
        patch_id: u32,
        build_id: Vec<u8>,
        path: String,
        /// The patch library's bytes, for an agent that cannot open `path`
        /// (connected over TCP, on another machine); empty: open `path`.
        library: Vec<u8>,
        base: u64,
        redirects: Vec<Redirect>,
        /// Runtime address of the app's `IPBP_HOOK_TABLE_V1` (the `ipbp`
        /// crate), or 0 when the app does not use it.
        hooks: u64,
        /// Types whose layout the patch changes, one per line (empty: none).
        /// The app must have registered a migration for each of them, or
        /// the patch is refused with `needs_restart`.
        migrations: String,
        /// Written after dlopen and before any redirect.
        tls_fixups: Vec<TlsFixup>,
    },
    /// agent -> CLI, one per `LoadPatch`, in order.
    PatchResult {
        patch_id: u32,
        ok: bool,
        message: String,
        load_us: u64,
        redirect_us: u64,
        /// The patch was refused because only a restart can apply it (a
        /// layout change the app has no migration for); nothing was loaded.
        needs_restart: bool,
        /// On success, every other thread's stack as recorded while the
        /// patch's jumps were written, one entry per thread (the agent's own
        /// thread, which did the writing, is not listed). Empty on failure,
        /// and when the patch redirected nothing (no thread was stopped).
        stacks: Vec<ThreadStack>,
    },
    /// agent -> CLI, a warning the CLI should show.
    Log { message: String },
    /// CLI -> agent: record every other thread's stack now (in one stop,
    /// as a patch does), to see whether calls running when a patch came
    /// have returned since.
    SampleStacks { request_id: u32 },
    /// agent -> CLI, one per `SampleStacks`, in order: the stacks, or why
    /// they could not be taken (`message` is empty on success).
    Stacks {
        request_id: u32,
        message: String,
        stacks: Vec<ThreadStack>,
    },
    /// CLI -> agent, first on a TCP connection: a fresh random nonce.
    Challenge { nonce: Vec<u8> },
    /// agent -> CLI: the agent's nonce and its proof of the session token,
    /// HMAC-SHA256(token, "ipbp-agent" || challenge nonce || agent nonce).
    Auth { nonce: Vec<u8>, mac: Vec<u8> },
    /// CLI -> agent: the CLI's proof of the same token,
    /// HMAC-SHA256(token, "ipbp-cli" || agent nonce || challenge nonce).
    AuthOk { mac: Vec<u8> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl Message {
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Hello { .. } => "hello",
            Message::LoadPatch { .. } => "load-patch",
            Message::PatchResult { .. } => "patch-result",
            Message::Log { .. } => "log",
            Message::Challenge { .. } => "challenge",
            Message::Auth { .. } => "auth",
            Message::AuthOk { .. } => "auth-ok",
            Message::SampleStacks { .. } => "sample-stacks",
            Message::Stacks { .. } => "stacks",
        }
    }

    /// The payload (without the length prefix; see [`frame`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Writer(Vec::with_capacity(64));
        match self {
            Message::Hello {
                protocol_version,
                pid,
                build_id,
                exe_path,
                load_bias,
                image_start,
                image_end,
            } => {
                out.u8(TAG_HELLO);
                out.u32(*protocol_version);
                out.u32(*pid);
                out.bytes(build_id);
                out.bytes(exe_path.as_bytes());
                out.u64(*load_bias);
                out.u64(*image_start);
                out.u64(*image_end);
            }
            Message::LoadPatch {
                patch_id,
                build_id,
                path,
                library,
                base,
                redirects,
                hooks,
                migrations,
                tls_fixups,
            } => {
                out.u8(TAG_LOAD_PATCH);
                out.u32(*patch_id);
                out.bytes(build_id);
                out.bytes(path.as_bytes());
                out.bytes(library);
                out.u64(*base);
                out.u32(clamp_len(redirects.len()));
                for redirect in redirects.iter().take(clamp_len(redirects.len()) as usize) {
                    out.u64(redirect.from);
                    out.u64(redirect.to);
                }
                out.u64(*hooks);
                out.bytes(migrations.as_bytes());
                out.u32(clamp_len(tls_fixups.len()));
                for fixup in tls_fixups.iter().take(clamp_len(tls_fixups.len()) as usize) {
                    out.u64(fixup.address);
                    out.u64(fixup.value);
                    out.u8(fixup.form);
                }
            }
            Message::PatchResult {
                patch_id,
                ok,
                message,
                load_us,
                redirect_us,
                needs_restart,
                stacks,
            } => {
                out.u8(TAG_PATCH_RESULT);
                out.u32(*patch_id);
                out.u8(u8::from(*ok));
                out.bytes(message.as_bytes());
                out.u64(*load_us);
                out.u64(*redirect_us);
                out.u8(u8::from(*needs_restart));
                out.stacks(stacks);
            }
            Message::Log { message } => {
                out.u8(TAG_LOG);
                out.bytes(message.as_bytes());
            }
            Message::Challenge { nonce } => {
                out.u8(TAG_CHALLENGE);
                out.bytes(nonce);
            }
            Message::Auth { nonce, mac } => {
                out.u8(TAG_AUTH);
                out.bytes(nonce);
                out.bytes(mac);
            }
            Message::AuthOk { mac } => {
                out.u8(TAG_AUTH_OK);
                out.bytes(mac);
            }
            Message::SampleStacks { request_id } => {
                out.u8(TAG_SAMPLE_STACKS);
                out.u32(*request_id);
            }
            Message::Stacks {
                request_id,
                message,
                stacks,
            } => {
                out.u8(TAG_STACKS);
                out.u32(*request_id);
                out.bytes(message.as_bytes());
                out.stacks(stacks);
            }
        }
        out.0
    }

    pub fn decode(payload: &[u8]) -> Result<Message, DecodeError> {
        let mut input = Reader {
            bytes: payload,
            offset: 0,
        };
        let tag = input.u8("tag")?;
        let message = match tag {
            TAG_HELLO => Message::Hello {
                protocol_version: input.u32("hello.protocol_version")?,
                pid: input.u32("hello.pid")?,
                build_id: input.bytes("hello.build_id")?.to_vec(),
                exe_path: input.string("hello.exe_path")?,
                load_bias: input.u64("hello.load_bias")?,
                image_start: input.u64("hello.image_start")?,
                image_end: input.u64("hello.image_end")?,
            },
            TAG_LOAD_PATCH => {
                let patch_id = input.u32("load-patch.patch_id")?;
                let build_id = input.bytes("load-patch.build_id")?.to_vec();
                let path = input.string("load-patch.path")?;
                let library = input.bytes("load-patch.library")?.to_vec();
                let base = input.u64("load-patch.base")?;
                let count = input.u32("load-patch.redirect_count")? as usize;
                // Check the count against what is left before allocating, so
                // a garbled count cannot ask for gigabytes.
                let needed = count.saturating_mul(16);
                if needed > input.remaining() {
                    return Err(input.error(
                        "load-patch.redirects",
                        &format!("{count} redirects need {needed} bytes"),
                    ));
                }
                let mut redirects = Vec::with_capacity(count);
                for _ in 0..count {
                    redirects.push(Redirect {
                        from: input.u64("load-patch.redirect.from")?,
                        to: input.u64("load-patch.redirect.to")?,
                    });
                }
                let hooks = input.u64("load-patch.hooks")?;
                let migrations = input.string("load-patch.migrations")?;
                let tls_fixups = decode_tls_fixups(&mut input)?;
                Message::LoadPatch {
                    patch_id,
                    build_id,
                    path,
                    library,
                    base,
                    redirects,
                    hooks,
                    migrations,
                    tls_fixups,
                }
            }
            TAG_PATCH_RESULT => Message::PatchResult {
                patch_id: input.u32("patch-result.patch_id")?,
                ok: input.bool("patch-result.ok")?,
                message: input.string("patch-result.message")?,
                load_us: input.u64("patch-result.load_us")?,
                redirect_us: input.u64("patch-result.redirect_us")?,
                needs_restart: input.bool("patch-result.needs_restart")?,
                stacks: decode_stacks(&mut input)?,
            },
            TAG_LOG => Message::Log {
                message: input.string("log.message")?,
            },
            TAG_CHALLENGE => Message::Challenge {
                nonce: input.bytes("challenge.nonce")?.to_vec(),
            },
            TAG_AUTH => Message::Auth {
                nonce: input.bytes("auth.nonce")?.to_vec(),
                mac: input.bytes("auth.mac")?.to_vec(),
            },
            TAG_AUTH_OK => Message::AuthOk {
                mac: input.bytes("auth-ok.mac")?.to_vec(),
            },
            TAG_SAMPLE_STACKS => Message::SampleStacks {
                request_id: input.u32("sample-stacks.request_id")?,
            },
            TAG_STACKS => Message::Stacks {
                request_id: input.u32("stacks.request_id")?,
                message: input.string("stacks.message")?,
                stacks: decode_stacks(&mut input)?,
            },
            other => {
                return Err(DecodeError(format!("unknown message tag {other}")));
            }
        };
        if input.remaining() != 0 {
            return Err(DecodeError(format!(
                "{} trailing bytes after a {} message",
                input.remaining(),
                message.kind()
            )));
        }
        Ok(message)
    }
}

fn decode_tls_fixups(input: &mut Reader<'_>) -> Result<Vec<TlsFixup>, DecodeError> {
    let count = input.u32("load-patch.tls_fixup_count")? as usize;
    // Checked against what is left before allocating, as for redirects.
    let needed = count.saturating_mul(TLS_FIXUP_BYTES);
    if needed > input.remaining() {
        return Err(input.error(
            "load-patch.tls_fixups",
            &format!("{count} TLS fixups need {needed} bytes"),
        ));
    }
    let mut fixups = Vec::with_capacity(count);
    for _ in 0..count {
        let address = input.u64("load-patch.tls_fixup.address")?;
        let value = input.u64("load-patch.tls_fixup.value")?;
        let form = input.tls_fixup_form("load-patch.tls_fixup.form")?;
        fixups.push(TlsFixup {
            address,
            value,
            form,
        });
    }
    Ok(fixups)
}

fn decode_stacks(input: &mut Reader<'_>) -> Result<Vec<ThreadStack>, DecodeError> {
    let count = input.u32("stack_count")? as usize;
    // Counts are checked against what is left before allocating, as for redirects.
    let needed = count.saturating_mul(STACK_MIN_BYTES);
    if needed > input.remaining() {
        return Err(input.error(
            "stacks",
            &format!("{count} stacks need at least {needed} bytes"),
        ));
    }
    let mut stacks = Vec::with_capacity(count);
    for _ in 0..count {
        let tid = input.u32("stack.tid")?;
        let status = input.stack_status("stack.status")?;
        let frame_count = input.u32("stack.frame_count")? as usize;
        let needed = frame_count.saturating_mul(8);
        if needed > input.remaining() {
            return Err(input.error(
                "stack.frames",
                &format!("{frame_count} frames need {needed} bytes"),
            ));
        }
        let mut frames = Vec::with_capacity(frame_count);
        for _ in 0..frame_count {
            frames.push(input.u64("stack.frame")?);
        }
        stacks.push(ThreadStack {
            tid,
            status,
            frames,
        });
    }
    Ok(stacks)
}

/// A whole frame: the length prefix and the payload.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + payload.len());
    out.extend_from_slice(&clamp_len(payload.len()).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Lengths on the wire are `u32`. Nothing the agent sends comes near that
/// (the frame writer refuses payloads over 16 MiB anyway); clamping keeps the
/// encoder total instead of panicking inside the app.
fn clamp_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, value: u8) {
        self.0.push(value);
    }
    fn u32(&mut self, value: u32) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }
    fn u64(&mut self, value: u64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }
    fn bytes(&mut self, value: &[u8]) {
        let len = clamp_len(value.len());
        self.u32(len);
        self.0.extend_from_slice(&value[..len as usize]);
    }
    /// Threads' stacks: a count, then each thread's tid, status, frame count and frames.
    fn stacks(&mut self, stacks: &[ThreadStack]) {
        self.u32(clamp_len(stacks.len()));
        for stack in stacks.iter().take(clamp_len(stacks.len()) as usize) {
            self.u32(stack.tid);
            self.u8(stack.status as u8);
            self.u32(clamp_len(stack.frames.len()));
            for &frame in stack
                .frames
                .iter()
                .take(clamp_len(stack.frames.len()) as usize)
            {
                self.u64(frame);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.offset
    }

    fn error(&self, field: &str, detail: &str) -> DecodeError {
        DecodeError(format!("{field} at offset {}: {detail}", self.offset))
    }

    fn take(&mut self, field: &str, len: usize) -> Result<&'a [u8], DecodeError> {
        if len > self.remaining() {
            return Err(self.error(
                field,
                &format!(
                    "needs {len} bytes but only {} are left (truncated message)",
                    self.remaining()
                ),
            ));
        }
        let slice = &self.bytes[self.offset..self.offset + len];
        self.offset += len;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }

    fn u8(&mut self, field: &str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn bool(&mut self, field: &str) -> Result<bool, DecodeError> {
        // The error points at the byte itself, as the TypeScript decoder's does.
        let start = self.offset;
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError(format!(
                "{field} at offset {start}: expected 0 or 1, got {other}"
            ))),
        }
    }

    fn stack_status(&mut self, field: &str) -> Result<StackStatus, DecodeError> {
        // Like `bool`, the error points at the byte itself.
        let start = self.offset;
        let value = self.u8(field)?;
        StackStatus::ALL
            .get(usize::from(value))
            .copied()
            .ok_or_else(|| {
                DecodeError(format!(
                    "{field} at offset {start}: expected 0, 1 or 2, got {value}"
                ))
            })
    }

    fn tls_fixup_form(&mut self, field: &str) -> Result<u8, DecodeError> {
        // Like `bool`, the error points at the byte itself.
        let start = self.offset;
        match self.u8(field)? {
            form @ (FIXUP_U32 | FIXUP_U64 | FIXUP_ADD_LO12 | FIXUP_ADD_HI12) => Ok(form),
            other => Err(DecodeError(format!(
                "{field} at offset {start}: expected 4, 8, 12 or 24, got {other}"
            ))),
        }
    }

    fn u32(&mut self, field: &str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    fn u64(&mut self, field: &str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    fn bytes(&mut self, field: &str) -> Result<&'a [u8], DecodeError> {
        let len = self.u32(field)? as usize;
        self.take(field, len)
    }

    fn string(&mut self, field: &str) -> Result<String, DecodeError> {
        let start = self.offset;
        let raw = self.bytes(field)?;
        String::from_utf8(raw.to_vec())
            .map_err(|_| DecodeError(format!("{field} at offset {start}: not valid UTF-8")))
    }
}

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;
