//! Making sure the agent talks to the user's own CLI before it accepts any
//! patch: a patch is code that runs in the app.
//!
//! - Unix socket: the socket lives in a 0700 directory, and the peer's
//!   credentials (SO_PEERCRED) must show our own user.
//! - TCP: both sides prove they know the session token without sending it,
//!   with HMAC-SHA256 over fresh nonces from each side.

use crate::frame_io::{read_frame, write_frame};
use crate::protocol::Message;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

const NONCE_BYTES: usize = 32;
const AUTH_TIMEOUT: Duration = Duration::from_secs(5);
const AGENT_LABEL: &[u8] = b"ipbp-agent";
const CLI_LABEL: &[u8] = b"ipbp-cli";

type HmacSha256 = Hmac<Sha256>;

/// The peer of a Unix socket must be a process of our own user.
pub fn check_unix_peer(stream: &UnixStream) -> Result<(), String> {
    let mut credentials = libc::ucred {
        pid: 0,
        uid: u32::MAX,
        gid: u32::MAX,
    };
    let mut length = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: SO_PEERCRED writes a `struct ucred` of at most `length` bytes
    // into `credentials`; the fd belongs to `stream`.
    let status = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut credentials as *mut libc::ucred).cast(),
            &mut length,
        )
    };
    // SAFETY: getuid cannot fail.
    let own = unsafe { libc::getuid() };
    if status != 0 {
        return Err(format!(
            "cannot read the CLI's credentials: {}",
            std::io::Error::last_os_error()
        ));
    }
    if credentials.uid != own {
        return Err(format!(
            "the socket's peer runs as uid {}, not as this user ({own})",
            credentials.uid
        ));
    }
    Ok(())
}

/// The TCP handshake, agent side. On success the CLI knows the token too.
pub fn authenticate_cli(stream: &TcpStream, token: &[u8]) -> Result<(), String> {
    stream
        .set_read_timeout(Some(AUTH_TIMEOUT))
        .map_err(|e| format!("cannot set a timeout: {e}"))?;
    let challenge = match receive(stream)? {
        Message::Challenge { nonce } if nonce.len() == NONCE_BYTES => nonce,
        other => return Err(format!("expected a challenge, got {}", other.kind())),
    };
    let nonce = random_nonce()?;
    let mac = sign(token, AGENT_LABEL, &challenge, &nonce);
    let auth = Message::Auth {
        nonce: nonce.to_vec(),
        mac,
    };
    write_frame(stream, &auth.encode()).map_err(|e| format!("cannot send auth: {e}"))?;
    match receive(stream)? {
        Message::AuthOk { mac } if verify(token, CLI_LABEL, &nonce, &challenge, &mac) => {}
        Message::AuthOk { .. } => {
            return Err("the peer does not know the session token; refusing it".to_owned())
        }
        other => return Err(format!("expected auth-ok, got {}", other.kind())),
    }
    stream
        .set_read_timeout(None)
        .map_err(|e| format!("cannot clear the timeout: {e}"))
}

fn receive(stream: &TcpStream) -> Result<Message, String> {
    let mut reader = stream;
    let payload = read_frame(&mut reader).map_err(|e| e.to_string())?;
    Message::decode(&payload).map_err(|e| format!("malformed message: {e}"))
}

fn sign(token: &[u8], label: &[u8], first: &[u8], second: &[u8]) -> Vec<u8> {
    mac_of(token, label, first, second)
        .finalize()
        .into_bytes()
        .to_vec()
}

/// Constant-time comparison, through the hmac crate.
fn verify(token: &[u8], label: &[u8], first: &[u8], second: &[u8], mac: &[u8]) -> bool {
    mac_of(token, label, first, second)
        .verify_slice(mac)
        .is_ok()
}

fn mac_of(token: &[u8], label: &[u8], first: &[u8], second: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(token).expect("HMAC takes keys of any length");
    mac.update(label);
    mac.update(first);
    mac.update(second);
    mac
}

fn random_nonce() -> Result<[u8; NONCE_BYTES], String> {
    let mut nonce = [0u8; NONCE_BYTES];
    // SAFETY: getrandom writes at most `nonce.len()` bytes into the buffer.
    let filled = unsafe { libc::getrandom(nonce.as_mut_ptr().cast(), nonce.len(), 0) };
    if filled != NONCE_BYTES as isize {
        return Err("the kernel gave no random bytes for a nonce".to_owned());
    }
    Ok(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_depend_on_token_label_and_order() {
        let token = b"0123456789abcdef";
        let mac = sign(token, AGENT_LABEL, b"a", b"b");
        assert!(verify(token, AGENT_LABEL, b"a", b"b", &mac));
        assert!(!verify(b"another token!!!", AGENT_LABEL, b"a", b"b", &mac));
        assert!(!verify(token, CLI_LABEL, b"a", b"b", &mac));
        assert!(!verify(token, AGENT_LABEL, b"b", b"a", &mac));
    }
}
