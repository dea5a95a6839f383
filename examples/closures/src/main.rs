//! Closures created once and kept, beside closures made anew on every tick:
//! an edit that adds a closure before another renumbers them, and the kept
//! ones must keep running the code they were created with.
use std::time::Duration;

type Step = Box<dyn Fn(u64) -> u64 + Send>;

#[inline(never)]
fn make(k: u64) -> Vec<Step> {
    let first: Step = Box::new(move |x| x * k + 1);
    vec![first]
}

#[inline(never)]
fn run_all(steps: &[Step], x: u64) -> Vec<u64> {
    steps.iter().map(|step| step(x)).collect()
}

fn main() {
    let kept = make(3);
    for tick in 1.. {
        let fresh = make(3);
        println!("kept={:?} fresh={:?}", run_all(&kept, 10), run_all(&fresh, 10));
        std::thread::sleep(Duration::from_millis(150));
        if tick > 100_000 {
            break;
        }
    }
}
