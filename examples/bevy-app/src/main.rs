//! A headless bevy app: systems run once per frame on a schedule built at
//! start-up, and a resource counts frames across patches.
use bevy_app::{App, Update};
use bevy_ecs::prelude::*;
use std::time::Duration;

#[derive(Resource, Default)]
struct Frames(u64);

#[derive(Component)]
struct Position(i64);

#[derive(Component)]
struct Player;

#[derive(Component)]
struct Enemy;

fn spawn(mut commands: Commands) {
    commands.spawn((Position(0), Player));
    commands.spawn((Position(100), Enemy));
}

fn advance(mut frames: ResMut<Frames>, mut positions: Query<&mut Position>) {
    frames.0 += 1;
    for mut position in &mut positions {
        position.0 += 1;
    }
}

fn report(frames: Res<Frames>, positions: Query<&Position, With<Player>>) {
    for position in &positions {
        println!("frame {} position {}", frames.0, position.0);
    }
}

fn main() {
    let mut app = App::new();
    app.init_resource::<Frames>();
    app.add_systems(bevy_app::Startup, spawn);
    app.add_systems(Update, (advance, report).chain());
    loop {
        app.update();
        std::thread::sleep(Duration::from_millis(150));
    }
}
