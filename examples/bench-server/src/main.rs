//! The server benchmark app: a small notes service on axum. It listens on a
//! loopback port chosen by the OS and prints `listening on http://127.0.0.1:<port>`.
//! `bench/` edits the `hello` handler while it serves and polls `GET /hello`.
mod notes;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use notes::NoteStore;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Shared by every handler; lives across patches, as the process does.
pub struct AppState {
    pub notes: NoteStore,
    pub requests: AtomicU64,
    pub started: Instant,
}

/// The handler the benchmark edits: it waits for the new `rev` in the body.
async fn hello(State(state): State<Arc<AppState>>) -> String {
    let served = state.requests.fetch_add(1, Ordering::Relaxed);
    format!("hello [rev 0] request {served}\n")
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    uptime_ms: u128,
    requests: u64,
    notes: usize,
}

async fn health(State(state): State<Arc<AppState>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        uptime_ms: state.started.elapsed().as_millis(),
        requests: state.requests.load(Ordering::Relaxed),
        notes: state.notes.len().await,
    })
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/hello", get(hello))
        .route("/health", get(health))
        .merge(notes::routes())
        .with_state(state)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let state = Arc::new(AppState { notes: NoteStore::default(), requests: AtomicU64::new(0), started: Instant::now() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    println!("listening on http://{address}");
    axum::serve(listener, router(state)).await.expect("serve");
}
