import type { Domain } from './domains.js';
import { GENERATED } from './record-modules.js';

/**
 * The fixed files of inventory-engine, keyed by path inside the crate.
 * `src/report.rs` holds `status_line`, the function the benchmark edits
 * (its `[rev 0]` marker): a non-generic function of a library crate, so an
 * edit recompiles this crate and the binary that depends on it.
 */
export function engineCrate(domains: readonly Domain[]): Record<string, string> {
  return {
    'Cargo.toml': `[package]
name = "inventory-engine"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
inventory-model = { path = "../model" }
serde = { workspace = true }
`,
    'src/lib.rs': `${GENERATED}
//! Rules, pipelines and summaries over the inventory records.
pub mod domains;
pub mod group;
pub mod lines;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod stats;
`,
    'src/domains/mod.rs': `${GENERATED}
//! One policy module per record kind.
${domains.map((domain) => `pub mod ${domain.module};`).join('\n')}
`,
    'src/rules.rs': `${GENERATED}
//! Rules judge one record; a rule set keeps the worst verdict.
use inventory_model::Record;
use std::marker::PhantomData;

#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Pass,
    Flag(String),
    Reject(String),
}

impl Verdict {
    pub fn severity(&self) -> u8 {
        match self {
            Verdict::Pass => 0,
            Verdict::Flag(_) => 1,
            Verdict::Reject(_) => 2,
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Verdict::Pass => "",
            Verdict::Flag(reason) | Verdict::Reject(reason) => reason,
        }
    }

    /// The more severe of two verdicts; the first wins a tie, so reasons stay stable.
    pub fn worst(self, other: Verdict) -> Verdict {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

pub trait Rule<T: Record>: Send + Sync {
    fn name(&self) -> &'static str;
    fn check(&self, item: &T) -> Verdict;
}

pub struct RuleSet<T: Record> {
    rules: Vec<Box<dyn Rule<T>>>,
}

impl<T: Record> Default for RuleSet<T> {
    fn default() -> Self {
        RuleSet { rules: Vec::new() }
    }
}

impl<T: Record> RuleSet<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, rule: impl Rule<T> + 'static) -> Self {
        self.rules.push(Box::new(rule));
        self
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn evaluate(&self, item: &T) -> Verdict {
        self.rules.iter().fold(Verdict::Pass, |verdict, rule| verdict.worst(rule.check(item)))
    }

    pub fn explain(&self, item: &T) -> Vec<(&'static str, Verdict)> {
        self.rules.iter().map(|rule| (rule.name(), rule.check(item))).collect()
    }
}

/// Any record heavier than \`max\` is flagged.
pub struct WeightCap {
    pub max: f64,
}

impl<T: Record> Rule<T> for WeightCap {
    fn name(&self) -> &'static str {
        "weight-cap"
    }

    fn check(&self, item: &T) -> Verdict {
        let weight = item.weight();
        if weight > self.max {
            Verdict::Flag(format!("weight {weight:.1} over {:.1}", self.max))
        } else {
            Verdict::Pass
        }
    }
}

/// Records in one of the \`blocked\` statuses are rejected.
pub struct StatusGate<S> {
    pub blocked: Vec<S>,
}

impl<T: Record> Rule<T> for StatusGate<T::Status> {
    fn name(&self) -> &'static str {
        "status-gate"
    }

    fn check(&self, item: &T) -> Verdict {
        let status = item.status();
        if self.blocked.contains(&status) {
            Verdict::Reject(format!("status {status:?} is closed to changes"))
        } else {
            Verdict::Pass
        }
    }
}

/// A rule from a closure, for one-off checks.
pub struct FnRule<T, F> {
    name: &'static str,
    check: F,
    _record: PhantomData<fn(&T)>,
}

pub fn rule_fn<T: Record, F: Fn(&T) -> Verdict + Send + Sync>(name: &'static str, check: F) -> FnRule<T, F> {
    FnRule { name, check, _record: PhantomData }
}

impl<T: Record, F: Fn(&T) -> Verdict + Send + Sync> Rule<T> for FnRule<T, F> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn check(&self, item: &T) -> Verdict {
        (self.check)(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_verdict_wins_and_ties_keep_the_first() {
        let flag = Verdict::Flag("a".into());
        assert_eq!(Verdict::Pass.worst(flag.clone()), flag);
        assert_eq!(flag.clone().worst(Verdict::Flag("b".into())), flag);
        assert_eq!(flag.worst(Verdict::Reject("c".into())).severity(), 2);
    }
}
`,
    'src/pipeline.rs': `${GENERATED}
//! A pipeline of named stages; a stage may drop the record by returning None.
type Stage<T> = Box<dyn Fn(T) -> Option<T> + Send + Sync>;

pub struct Pipeline<T> {
    stages: Vec<(&'static str, Stage<T>)>,
}

impl<T> Default for Pipeline<T> {
    fn default() -> Self {
        Pipeline { stages: Vec::new() }
    }
}

impl<T> Pipeline<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn stage(mut self, name: &'static str, stage: impl Fn(T) -> Option<T> + Send + Sync + 'static) -> Self {
        self.stages.push((name, Box::new(stage)));
        self
    }

    pub fn run(&self, item: T) -> Option<T> {
        self.stages.iter().try_fold(item, |item, (_, stage)| stage(item))
    }

    /// Runs every item, returning the survivors and how many each stage dropped.
    pub fn run_all(&self, items: Vec<T>) -> (Vec<T>, Vec<(&'static str, usize)>) {
        let mut dropped: Vec<(&'static str, usize)> = self.stages.iter().map(|(name, _)| (*name, 0)).collect();
        let mut survivors = Vec::with_capacity(items.len());
        'items: for item in items {
            let mut current = item;
            for (index, (_, stage)) in self.stages.iter().enumerate() {
                match stage(current) {
                    Some(next) => current = next,
                    None => {
                        dropped[index].1 += 1;
                        continue 'items;
                    }
                }
            }
            survivors.push(current);
        }
        (survivors, dropped)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.stages.iter().map(|(name, _)| *name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_that_drops_stops_the_item() {
        let pipeline = Pipeline::new().stage("double", |x: i32| Some(x * 2)).stage("odd only", |x| (x % 4 != 0).then_some(x));
        assert_eq!(pipeline.run(1), Some(2));
        assert_eq!(pipeline.run(2), None);
        let (kept, dropped) = pipeline.run_all(vec![1, 2, 3]);
        assert_eq!(kept, vec![2, 6]);
        assert_eq!(dropped, vec![("double", 0), ("odd only", 1)]);
    }
}
`,
    'src/stats.rs': `${GENERATED}
//! Summaries of a measure over any collection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub total: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    pub fn of<I, F>(items: I, measure: F) -> Summary
    where
        I: IntoIterator,
        F: Fn(&I::Item) -> f64,
    {
        items.into_iter().fold(Summary::default(), |mut summary, item| {
            let value = measure(&item);
            summary.min = if summary.count == 0 { value } else { summary.min.min(value) };
            summary.max = if summary.count == 0 { value } else { summary.max.max(value) };
            summary.count += 1;
            summary.total += value;
            summary
        })
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.total / self.count as f64)
    }

    pub fn merge(&self, other: &Summary) -> Summary {
        match (self.count, other.count) {
            (0, _) => other.clone(),
            (_, 0) => self.clone(),
            _ => Summary { count: self.count + other.count, total: self.total + other.total, min: self.min.min(other.min), max: self.max.max(other.max) },
        }
    }
}

/// Counts of values in fixed-width buckets from zero; the last bucket takes the rest.
#[derive(Clone, Debug)]
pub struct Histogram {
    width: f64,
    buckets: Vec<u64>,
}

impl Histogram {
    pub fn new(width: f64, buckets: usize) -> Self {
        Histogram { width, buckets: vec![0; buckets.max(1)] }
    }

    pub fn add(&mut self, value: f64) {
        let last = self.buckets.len() - 1;
        let index = if value <= 0.0 { 0 } else { ((value / self.width) as usize).min(last) };
        self.buckets[index] += 1;
    }

    pub fn total(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// The upper bound of the bucket holding the \`q\` quantile.
    pub fn quantile(&self, q: f64) -> f64 {
        let wanted = (self.total() as f64 * q.clamp(0.0, 1.0)).ceil() as u64;
        let mut seen = 0;
        for (index, count) in self.buckets.iter().enumerate() {
            seen += count;
            if seen >= wanted.max(1) {
                return (index + 1) as f64 * self.width;
            }
        }
        self.buckets.len() as f64 * self.width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_and_histogram_of_known_values() {
        let summary = Summary::of([1.0, 4.0, 7.0], |x| *x);
        assert_eq!((summary.count, summary.min, summary.max), (3, 1.0, 7.0));
        assert_eq!(summary.mean(), Some(4.0));
        let mut histogram = Histogram::new(2.0, 4);
        for value in [0.5, 1.5, 2.5, 100.0] {
            histogram.add(value);
        }
        assert_eq!(histogram.quantile(0.5), 2.0);
        assert_eq!(histogram.quantile(1.0), 8.0);
    }
}
`,
    'src/group.rs': `${GENERATED}
//! Grouping and ranking helpers, generic over the item and the key.
use std::collections::BTreeMap;

pub fn group_by<T, K: Ord, F: Fn(&T) -> K>(items: &[T], key: F) -> BTreeMap<K, Vec<&T>> {
    let mut groups: BTreeMap<K, Vec<&T>> = BTreeMap::new();
    for item in items {
        groups.entry(key(item)).or_default().push(item);
    }
    groups
}

pub fn count_by<T, K: Ord, F: Fn(&T) -> K>(items: &[T], key: F) -> BTreeMap<K, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(key(item)).or_insert(0) += 1;
    }
    counts
}

/// The \`n\` items with the largest measure, largest first; NaN sorts last.
pub fn top_n<T, F: Fn(&T) -> f64>(items: &[T], n: usize, measure: F) -> Vec<&T> {
    let mut ranked: Vec<(f64, &T)> = items.iter().map(|item| (measure(item), item)).collect();
    ranked.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Greater));
    ranked.into_iter().take(n).map(|(_, item)| item).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_counts_and_ranks() {
        let words = ["apple", "avocado", "banana"];
        assert_eq!(group_by(&words, |w| w.as_bytes()[0])[&b'a'].len(), 2);
        assert_eq!(count_by(&words, |w| w.len())[&6], 1);
        assert_eq!(top_n(&words, 1, |w| w.len() as f64), vec![&"avocado"]);
    }
}
`,
    'src/lines.rs': `${GENERATED}
//! Line-item normalization shared by every record that has lines.
use inventory_model::LineItem;
use std::collections::BTreeMap;

/// One line per SKU, quantities added up; the first unit price of a SKU wins.
pub fn merge_lines(lines: Vec<LineItem>) -> Vec<LineItem> {
    let mut merged: BTreeMap<String, LineItem> = BTreeMap::new();
    for line in lines {
        merged
            .entry(line.sku.clone())
            .and_modify(|existing| existing.quantity += line.quantity)
            .or_insert(line);
    }
    merged.into_values().collect()
}
`,
    'src/report.rs': `${GENERATED}
//! Running totals of the service and the status line it prints every tick.
use serde::Serialize;
use std::collections::BTreeMap;

/// What one batch of one record kind came to.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BatchOutcome {
    pub kind: &'static str,
    pub produced: u64,
    pub passed: u64,
    pub flagged: u64,
    pub rejected: u64,
    pub dropped: u64,
    pub weight: f64,
    pub wire_bytes: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    pub batches: u64,
    pub produced: u64,
    pub passed: u64,
    pub flagged: u64,
    pub rejected: u64,
    pub dropped: u64,
    pub weight: f64,
    pub wire_bytes: u64,
    pub per_kind: BTreeMap<&'static str, u64>,
}

impl Totals {
    pub fn absorb(&mut self, batch: &BatchOutcome) {
        self.batches += 1;
        self.produced += batch.produced;
        self.passed += batch.passed;
        self.flagged += batch.flagged;
        self.rejected += batch.rejected;
        self.dropped += batch.dropped;
        self.weight += batch.weight;
        self.wire_bytes += batch.wire_bytes;
        *self.per_kind.entry(batch.kind).or_insert(0) += batch.produced;
    }

    /// The record kind that produced the most, if any.
    pub fn busiest(&self) -> Option<(&'static str, u64)> {
        self.per_kind.iter().max_by_key(|(_, count)| **count).map(|(kind, count)| (*kind, *count))
    }

    pub fn pass_rate(&self) -> f64 {
        if self.produced == 0 {
            0.0
        } else {
            self.passed as f64 / self.produced as f64
        }
    }
}

/// The line printed every tick; the benchmark bumps the revision number in it.
pub fn status_line(tick: u64, totals: &Totals) -> String {
    let busiest = totals.busiest().map_or_else(|| "-".to_string(), |(kind, count)| format!("{kind}:{count}"));
    format!(
        "tick {tick} [rev 0] batches={} produced={} pass={:.0}% flagged={} rejected={} dropped={} kb={} busiest={busiest}",
        totals.batches,
        totals.produced,
        totals.pass_rate() * 100.0,
        totals.flagged,
        totals.rejected,
        totals.dropped,
        totals.wire_bytes / 1024,
    )
}
`,
  };
}
