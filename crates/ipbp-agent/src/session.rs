//! The agent thread: connect to the CLI, say hello, serve requests in
//! order; on any trouble drop the connection and connect again.

use crate::endpoint::Endpoint;
use crate::frame_io::{read_frame, write_frame, FrameError};
use crate::image::{describe_main_image, MainImage};
use crate::log::agent_log;
use crate::patch_loader::{load_patch, LoadedPatch, PatchRequest};
use crate::peer_auth::{authenticate_cli, check_unix_peer};
use crate::protocol::{Message, PROTOCOL_VERSION};
use crate::stop_world::with_world_stopped;
use std::any::Any;
use std::io::Read;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

/// Cheap enough to run forever while no CLI listens: one failed connect(2)
/// every 100 ms.
const RECONNECT_PAUSE: Duration = Duration::from_millis(100);

pub fn serve_forever(endpoint: &Endpoint) -> ! {
    let image = describe_main_image();
    if image.build_id.is_empty() {
        agent_log!("the executable has no GNU build id, so every patch will be refused (link it with -Wl,--build-id)");
    }
    // Outlives connections: a new CLI must not make us forget what is loaded.
    let mut loaded: Vec<LoadedPatch> = Vec::new();
    loop {
        let outcome = match endpoint {
            Endpoint::Unix(path) => UnixStream::connect(path).ok().map(|stream| {
                let result = check_unix_peer(&stream)
                    .and_then(|()| serve_guarded(&stream, &image, &mut loaded));
                (result, Box::new(stream) as Box<dyn AsRawFd>)
            }),
            Endpoint::Tcp { address, token } => TcpStream::connect(address).ok().map(|stream| {
                let result = authenticate_cli(&stream, token)
                    .and_then(|()| serve_guarded(&stream, &image, &mut loaded));
                (result, Box::new(stream) as Box<dyn AsRawFd>)
            }),
        };
        if let Some((Err(reason), stream)) = outcome {
            agent_log!(
                "dropping the connection to {}: {reason}",
                endpoint.describe()
            );
            // Best effort: the CLI may still be reading.
            let _ = write_frame(
                &*stream,
                &Message::Log {
                    message: format!("agent dropped the connection: {reason}"),
                }
                .encode(),
            );
        }
        std::thread::sleep(RECONNECT_PAUSE);
    }
}

/// Serves one connection; a panic inside becomes a reason to reconnect.
fn serve_guarded<S>(
    stream: &S,
    image: &MainImage,
    loaded: &mut Vec<LoadedPatch>,
) -> Result<(), String>
where
    S: AsRawFd,
    for<'a> &'a S: Read,
{
    catch_unwind(AssertUnwindSafe(|| serve_connection(stream, image, loaded)))
        .unwrap_or_else(|panic| Err(format!("internal error: {}", panic_text(&*panic))))
}

/// Returns `Ok` when the CLI hung up, `Err` with the reason for dropping it.
fn serve_connection<S>(
    stream: &S,
    image: &MainImage,
    loaded: &mut Vec<LoadedPatch>,
) -> Result<(), String>
where
    S: AsRawFd,
    for<'a> &'a S: Read,
{
    let hello = Message::Hello {
        protocol_version: PROTOCOL_VERSION,
        pid: std::process::id(),
        build_id: image.build_id.clone(),
        exe_path: image.exe_path.clone(),
        load_bias: image.load_bias,
        image_start: image.image_start,
        image_end: image.image_end,
    };
    send(stream, &hello)?;
    let mut reader = stream;
    loop {
        let payload = match read_frame(&mut reader) {
            Ok(payload) => payload,
            Err(FrameError::Closed) => return Ok(()),
            Err(error) => return Err(error.to_string()),
        };
        let request = Message::decode(&payload).map_err(|e| format!("malformed message: {e}"))?;
        let reply = match request {
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
                let request = PatchRequest {
                    patch_id,
                    build_id: &build_id,
                    path: &path,
                    library: &library,
                    base,
                    redirects: &redirects,
                    hooks,
                    migrations: &migrations,
                    tls_fixups: &tls_fixups,
                };
                // A panic while loading one patch becomes that patch's
                // error, not a dropped connection.
                catch_unwind(AssertUnwindSafe(|| {
                    load_patch(&image.build_id, &request, loaded)
                }))
                .unwrap_or_else(|panic| Message::PatchResult {
                    patch_id,
                    ok: false,
                    message: format!("internal error in the agent: {}", panic_text(&*panic)),
                    load_us: 0,
                    redirect_us: 0,
                    needs_restart: false,
                    stacks: Vec::new(),
                })
            }
            Message::SampleStacks { request_id } => sample_stacks(request_id),
            other @ (Message::Hello { .. }
            | Message::PatchResult { .. }
            | Message::Stacks { .. }
            | Message::Log { .. }
            | Message::Challenge { .. }
            | Message::Auth { .. }
            | Message::AuthOk { .. }) => {
                return Err(format!(
                    "the CLI sent a {} message, which only agents send",
                    other.kind()
                ));
            }
        };
        send(stream, &reply)?;
    }
}

fn send(stream: &impl AsRawFd, message: &Message) -> Result<(), String> {
    write_frame(stream, &message.encode())
        .map_err(|e| format!("cannot send {}: {e}", message.kind()))
}

fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// Every other thread's stack, recorded in one stop as a patch records them
/// (nothing is written): whether calls that were running when a patch came
/// have returned since.
fn sample_stacks(request_id: u32) -> Message {
    match with_world_stopped(&[], || ()) {
        Ok(((), stacks)) => Message::Stacks {
            request_id,
            message: String::new(),
            stacks,
        },
        Err(error) => Message::Stacks {
            request_id,
            message: error.to_string(),
            stacks: Vec::new(),
        },
    }
}
