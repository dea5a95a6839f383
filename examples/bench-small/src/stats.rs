//! Running latency statistics over a fixed window, as a status line shows them.
use std::collections::VecDeque;
use std::fmt;

const WINDOW: usize = 256;

#[derive(Default)]
pub struct Summary {
    pub completed: u64,
    pub retries: u64,
    pub dropped: u64,
    pub last_completed: u64,
    pub last_dropped: Option<u64>,
    pub most_attempts: u32,
    window: VecDeque<u64>,
}

impl Summary {
    pub fn record(&mut self, id: u64, latency: u64) {
        self.completed += 1;
        self.last_completed = id;
        if self.window.len() == WINDOW {
            self.window.pop_front();
        }
        self.window.push_back(latency);
    }

    pub fn retried(&mut self, attempt: u32) {
        self.retries += 1;
        self.most_attempts = self.most_attempts.max(attempt);
    }

    pub fn dropped(&mut self, id: u64) {
        self.dropped += 1;
        self.last_dropped = Some(id);
    }

    pub fn mean(&self) -> f64 {
        if self.window.is_empty() {
            return 0.0;
        }
        self.window.iter().sum::<u64>() as f64 / self.window.len() as f64
    }

    /// The `q` quantile (0..=1) of the window, by sorting a copy: the window is small.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.window.is_empty() {
            return 0;
        }
        let mut sorted: Vec<u64> = self.window.iter().copied().collect();
        sorted.sort_unstable();
        let index = ((sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
        sorted[index]
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "done={} (last #{}) retries={} (max attempt {}) dropped={} (last #{}) latency mean={:.1} p50={} p99={}",
            self.completed,
            self.last_completed,
            self.retries,
            self.most_attempts,
            self.dropped,
            self.last_dropped.map_or_else(|| "-".to_string(), |id| id.to_string()),
            self.mean(),
            self.quantile(0.5),
            self.quantile(0.99)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_known_window() {
        let mut summary = Summary::default();
        for latency in 1..=100 {
            summary.record(latency, latency);
        }
        assert_eq!(summary.quantile(0.0), 1);
        assert_eq!(summary.quantile(1.0), 100);
        assert_eq!(summary.quantile(0.5), 51);
        assert!((summary.mean() - 50.5).abs() < 1e-9);
    }
}
