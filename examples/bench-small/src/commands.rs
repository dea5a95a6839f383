//! Commands from stdin, read on their own thread so the tick loop never blocks.
use std::io::BufRead;
use std::sync::mpsc::{channel, Receiver};

pub enum Command {
    Cost,
    Quit,
}

/// Unknown lines are ignored; end of input (no stdin) simply ends the thread.
pub fn listen() -> Receiver<Command> {
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let command = match line.trim() {
                "cost" => Command::Cost,
                "quit" => Command::Quit,
                _ => continue,
            };
            if sender.send(command).is_err() {
                break;
            }
        }
    });
    receiver
}
