//! A simulated job queue: jobs arrive at random, take a few ticks, sometimes
//! fail and are retried, and are dropped after too many attempts.
use std::collections::VecDeque;

const MAX_ATTEMPTS: u32 = 3;
const WORKERS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Low,
    Normal,
    High,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub priority: Priority,
    pub enqueued_at: u64,
    pub remaining: u32,
    pub attempts: u32,
}

#[derive(Debug)]
pub enum Outcome {
    Done { id: u64, latency: u64 },
    Retried { attempt: u32 },
    Dropped { id: u64 },
}

/// xorshift64*: deterministic, so two runs of the app print the same figures.
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

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

pub struct JobQueue {
    rng: Rng,
    next_id: u64,
    waiting: [VecDeque<Job>; 3],
    running: Vec<Job>,
}

impl JobQueue {
    pub fn new(seed: u64) -> Self {
        JobQueue { rng: Rng::new(seed), next_id: 1, waiting: Default::default(), running: Vec::with_capacity(WORKERS) }
    }

    pub fn len(&self) -> usize {
        self.waiting.iter().map(VecDeque::len).sum::<usize>() + self.running.len()
    }

    /// One tick: new arrivals, then every running job does a unit of work,
    /// then free workers take the most urgent waiting jobs.
    pub fn step(&mut self, tick: u64) -> Vec<Outcome> {
        self.arrive(tick);
        let mut outcomes = Vec::new();
        let mut still_running = Vec::with_capacity(WORKERS);
        for mut job in self.running.drain(..) {
            job.remaining = job.remaining.saturating_sub(1);
            if job.remaining > 0 {
                still_running.push(job);
            } else if self.rng.below(10) == 0 {
                job.attempts += 1;
                if job.attempts >= MAX_ATTEMPTS {
                    outcomes.push(Outcome::Dropped { id: job.id });
                } else {
                    outcomes.push(Outcome::Retried { attempt: job.attempts });
                    job.remaining = 1 + self.rng.below(3) as u32;
                    self.waiting[slot(job.priority)].push_back(job);
                }
            } else {
                outcomes.push(Outcome::Done { id: job.id, latency: tick - job.enqueued_at });
            }
        }
        self.running = still_running;
        while self.running.len() < WORKERS {
            match self.take_most_urgent() {
                Some(job) => self.running.push(job),
                None => break,
            }
        }
        outcomes
    }

    fn arrive(&mut self, tick: u64) {
        let arrivals = self.rng.below(3);
        for _ in 0..arrivals {
            let priority = match self.rng.below(10) {
                0 => Priority::High,
                1..=6 => Priority::Normal,
                _ => Priority::Low,
            };
            let job = Job { id: self.next_id, priority, enqueued_at: tick, remaining: 1 + self.rng.below(4) as u32, attempts: 0 };
            self.next_id += 1;
            self.waiting[slot(priority)].push_back(job);
        }
    }

    fn take_most_urgent(&mut self) -> Option<Job> {
        self.waiting.iter_mut().find_map(VecDeque::pop_front)
    }
}

fn slot(priority: Priority) -> usize {
    match priority {
        Priority::High => 0,
        Priority::Normal => 1,
        Priority::Low => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_finish_and_the_queue_stays_bounded() {
        let mut queue = JobQueue::new(7);
        let mut done = 0;
        for tick in 0..1000 {
            done += queue.step(tick).iter().filter(|outcome| matches!(outcome, Outcome::Done { .. })).count();
        }
        assert!(done > 100);
        assert!(queue.len() < 1000);
    }
}
