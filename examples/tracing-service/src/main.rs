//! A small tokio service instrumented with tracing: a task handles a
//! "request" every tick and logs what it did. The request counter lives in
//! the task and must survive every patch.
use std::time::Duration;
use tracing::info;

#[inline(never)]
fn handle(request: u64) -> u64 {
    request * 2
}

#[tracing::instrument]
async fn serve(request: u64) -> u64 {
    let answer = handle(request);
    info!(request, answer, "handled");
    answer
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    tracing_subscriber::fmt().with_ansi(false).without_time().with_target(false).with_writer(std::io::stdout).init();
    let mut request = 0;
    loop {
        request += 1;
        serve(request).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}
