//! An app that uses the optional `ipbp` crate: it logs around each patch and,
//! with `--sync`, lets patches land only at the top of every tenth frame.
use std::time::Duration;

#[inline(never)]
fn value() -> u64 {
    std::hint::black_box(1)
}

fn main() {
    ipbp::before_patch(|info| println!("before patch {}", info.patch));
    ipbp::on_patch(|info| println!("after patch {}", info.patch));
    let sync_points = std::env::args().any(|arg| arg == "--sync");
    let mut frame = 0u64;
    loop {
        if sync_points && frame % 10 == 0 {
            ipbp::sync();
            println!("sync point at frame={frame}");
        }
        println!("frame={frame} value={}", value());
        frame += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
}
