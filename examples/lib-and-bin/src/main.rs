/// What the binary adds to the library's message.
fn decorate(line: String) -> String {
    line
}

fn main() {
    let mut tick = 0u64;
    loop {
        println!("{}", lib_and_bin::framed(decorate(lib_and_bin::message(tick))));
        tick += 1;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
