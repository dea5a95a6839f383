import type { Domain } from './domains.js';
import { GENERATED } from './record-modules.js';

/** The fixed files of inventory-app, the binary, keyed by path inside the crate. */
export function appCrate(domains: readonly Domain[]): Record<string, string> {
  return {
    'Cargo.toml': `[package]
name = "inventory-app"
version = "0.1.0"
edition = "2021"
publish = false

[[bin]]
name = "inventory"
path = "src/main.rs"

[dependencies]
inventory-engine = { path = "../engine" }
inventory-model = { path = "../model" }
serde_json = { workspace = true }
tokio = { workspace = true }
`,
    'src/main.rs': `${GENERATED}
//! The inventory service: one tokio task per record kind makes batches of
//! sample records and runs them through that kind's policy; a collector task
//! adds up the outcomes, and the main task prints a status line every tick.
//!
//! Usage: \`inventory [TICK_MS]\` (default 200).
mod domain;
mod domains;
mod rng;

use inventory_engine::report::{status_line, BatchOutcome, Totals};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often each record kind makes a batch.
const BATCH_PERIOD: Duration = Duration::from_millis(250);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let tick_ms = std::env::args().nth(1).and_then(|arg| arg.parse::<u64>().ok()).unwrap_or(200);
    let (sender, mut receiver) = mpsc::channel::<BatchOutcome>(1024);
    let _workers = domains::spawn_all(&sender, BATCH_PERIOD);
    drop(sender);

    let totals = Arc::new(Mutex::new(Totals::default()));
    let collector_totals = Arc::clone(&totals);
    tokio::spawn(async move {
        while let Some(batch) = receiver.recv().await {
            collector_totals.lock().expect("totals lock").absorb(&batch);
        }
    });

    let mut interval = tokio::time::interval(Duration::from_millis(tick_ms));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tick = 0u64;
    loop {
        interval.tick().await;
        let line = status_line(tick, &totals.lock().expect("totals lock"));
        println!("{line}");
        tick += 1;
    }
}
`,
    'src/domain.rs': `${GENERATED}
//! The worker loop every record kind shares, generic over the kind.
use crate::rng::Rng;
use inventory_engine::pipeline::Pipeline;
use inventory_engine::report::BatchOutcome;
use inventory_engine::rules::{RuleSet, Verdict};
use inventory_model::Record;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub trait Domain: Send + Sync + 'static {
    type Item: Record;

    fn generate(&self, rng: &mut Rng, id: u64, tick: u64) -> Self::Item;
    fn rules(&self) -> &RuleSet<Self::Item>;
    fn pipeline(&self) -> &Pipeline<Self::Item>;

    fn batch_size(&self) -> usize {
        3
    }
}

/// One batch: make records, send each through JSON as the wire would, then
/// the pipeline and the rules.
pub fn run_batch<D: Domain>(domain: &D, rng: &mut Rng, next_id: &mut u64, tick: u64) -> BatchOutcome {
    let mut outcome = BatchOutcome { kind: <D::Item as Record>::KIND, ..BatchOutcome::default() };
    for _ in 0..domain.batch_size() {
        let record = domain.generate(rng, *next_id, tick);
        *next_id += 1;
        outcome.produced += 1;
        let json = serde_json::to_string(&record).expect("a record serializes");
        outcome.wire_bytes += json.len() as u64;
        let record: D::Item = serde_json::from_str(&json).expect("a record deserializes");
        let Some(record) = domain.pipeline().run(record) else {
            outcome.dropped += 1;
            continue;
        };
        match domain.rules().evaluate(&record) {
            Verdict::Pass => outcome.passed += 1,
            Verdict::Flag(_) => outcome.flagged += 1,
            Verdict::Reject(_) => outcome.rejected += 1,
        }
        outcome.weight += record.weight();
    }
    outcome
}

/// Runs a batch every \`period\` until the receiver goes away.
pub fn spawn_worker<D: Domain>(domain: D, seed: u64, period: Duration, sender: mpsc::Sender<BatchOutcome>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut rng = Rng::new(seed);
        let mut next_id = 1;
        let mut interval = tokio::time::interval(period);
        for tick in 0.. {
            interval.tick().await;
            let outcome = run_batch(&domain, &mut rng, &mut next_id, tick);
            if sender.send(outcome).await.is_err() {
                break;
            }
        }
    })
}
`,
    'src/rng.rs': `${GENERATED}
//! A small deterministic generator of sample values (xorshift64*).
use inventory_model::{LineItem, Money};

const WORDS: [&str; 12] = ["north", "blue", "crate", "steel", "fresh", "rapid", "spare", "bulk", "test", "prime", "tmp", "local"];
const TAGS: [&str; 8] = ["fragile", "cold", "hazmat", "oversize", "priority", "gift", "bulk", "return"];

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in \`low..high\`.
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low).max(1) as u64) as i64
    }

    /// A value in \`0.0..1.0\`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[(self.next() % words.len() as u64) as usize]
    }

    pub fn label(&mut self, id: u64) -> String {
        format!(" {} {} {id} ", self.pick(&WORDS), self.pick(&WORDS))
    }

    pub fn tags(&mut self) -> Vec<String> {
        (0..self.range(0, 7)).map(|_| self.pick(&TAGS).to_string()).collect()
    }

    pub fn line_items(&mut self) -> Vec<LineItem> {
        (0..self.range(1, 8))
            .map(|_| LineItem::new(format!("SKU-{}", self.range(1, 12)), self.range(0, 9) as u32, Money::from_cents(self.range(50, 9_000))))
            .collect()
    }
}
`,
    'src/domains/mod.rs': `${GENERATED}
//! One worker per record kind.
${domains.map((domain) => `mod ${domain.module};`).join('\n')}

use crate::domain::spawn_worker;
use inventory_engine::report::BatchOutcome;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Starts every worker; each gets its own seed so their samples differ.
pub fn spawn_all(sender: &mpsc::Sender<BatchOutcome>, period: Duration) -> Vec<JoinHandle<()>> {
    vec![
${domains.map((domain, index) => `        spawn_worker(${domain.module}::${domain.type}Worker::default(), ${index + 1}, period, sender.clone()),`).join('\n')}
    ]
}
`,
  };
}
