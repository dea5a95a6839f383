//! Where the agent connects: the CLI's private Unix socket (the default), or
//! a TCP address with the session token (remote devices, `ipbp run --listen`).

use std::path::PathBuf;

pub const SOCKET_VARIABLE: &str = "IPBP_SOCKET";
pub const CONNECT_VARIABLE: &str = "IPBP_CONNECT";
pub const TOKEN_VARIABLE: &str = "IPBP_TOKEN";

pub enum Endpoint {
    Unix(PathBuf),
    Tcp { address: String, token: Vec<u8> },
}

impl Endpoint {
    /// The endpoint the environment names, with the variables removed so the
    /// app's children do not inherit them. `None` when the agent was loaded
    /// without a CLI (it then stays inert).
    pub fn take_from_env() -> Option<Result<Endpoint, String>> {
        let socket = std::env::var_os(SOCKET_VARIABLE);
        let connect = std::env::var(CONNECT_VARIABLE).ok();
        let token = std::env::var(TOKEN_VARIABLE).ok();
        for variable in [SOCKET_VARIABLE, CONNECT_VARIABLE, TOKEN_VARIABLE] {
            std::env::remove_var(variable);
        }
        if let Some(socket) = socket {
            return Some(Ok(Endpoint::Unix(PathBuf::from(socket))));
        }
        let address = connect?;
        Some(match token.as_deref().map(decode_hex) {
            Some(Some(token)) if token.len() >= 16 => Ok(Endpoint::Tcp { address, token }),
            Some(_) => Err(format!("{TOKEN_VARIABLE} must be at least 32 hex digits")),
            None => Err(format!(
                "{CONNECT_VARIABLE} needs {TOKEN_VARIABLE}: a TCP channel is never used without the session token"
            )),
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Endpoint::Unix(path) => path.display().to_string(),
            Endpoint::Tcp { address, .. } => format!("tcp {address}"),
        }
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::decode_hex;

    #[test]
    fn decodes_only_whole_hex_bytes() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
    }
}
