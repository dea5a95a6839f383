//! An app whose types change layout under edits. `Player` values survive
//! such an edit through `ipbp::migrate`; `Board` has no migration, so
//! changing its layout restarts the app.
use std::sync::Mutex;
use std::time::Duration;

struct Player {
    name: String,
    score: u32,
}

struct Board {
    width: u32,
}

static PLAYERS: Mutex<Vec<Player>> = Mutex::new(Vec::new());
/// Where the migration keeps the players while no `Player` layout is live.
static SAVED: Mutex<Vec<(String, u32)>> = Mutex::new(Vec::new());
static BOARD: Mutex<Option<Box<Board>>> = Mutex::new(None);

/// Runs the old code: takes every player out of live state.
fn save_players() {
    let players = std::mem::take(&mut *PLAYERS.lock().unwrap());
    *SAVED.lock().unwrap() = players
        .into_iter()
        .map(|player| (player.name, player.score))
        .collect();
}

/// Runs the new code: builds the players again in the new layout.
fn restore_players() {
    let saved = std::mem::take(&mut *SAVED.lock().unwrap());
    *PLAYERS.lock().unwrap() = saved
        .into_iter()
        .map(|(name, score)| new_player(name, score))
        .collect();
}

fn new_player(name: String, score: u32) -> Player {
    Player { name, score }
}

fn describe(player: &Player) -> String {
    format!("{}={}", player.name, player.score)
}

fn board() -> String {
    let board = BOARD.lock().unwrap();
    board
        .as_ref()
        .map(|board| format!("{}", board.width))
        .unwrap_or_default()
}

/// One round: every player scores, then the state is printed.
fn step(round: u32) {
    let mut players = PLAYERS.lock().unwrap();
    for player in players.iter_mut() {
        player.score += 1;
    }
    let line: Vec<String> = players.iter().map(describe).collect();
    println!(
        "round={round} pid={} players={} board={}",
        std::process::id(),
        line.join(","),
        board()
    );
}

fn main() {
    ipbp::migrate::<Player>(save_players, restore_players);
    PLAYERS
        .lock()
        .unwrap()
        .extend([new_player("ann".into(), 0), new_player("bob".into(), 100)]);
    *BOARD.lock().unwrap() = Some(Box::new(Board { width: 8 }));
    let mut round = 0;
    loop {
        round += 1;
        step(round);
        std::thread::sleep(Duration::from_millis(50));
    }
}
