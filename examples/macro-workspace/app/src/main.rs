use greet_macro::{banner, Greet};

banner!("robots");

#[derive(Greet)]
struct Robot;

#[inline(never)]
fn report(tick: u64) -> String {
    format!("{} | {} {}", Robot.greeting(tick), shapes::Square.greeting(tick), banner())
}

fn main() {
    let mut tick = 0u64;
    loop {
        println!("{}", report(tick));
        tick += 1;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
