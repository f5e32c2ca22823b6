//! Latency samples and percentiles (nearest rank over the sorted samples; every sample is kept,
//! which is a few hundred kilobytes at the benchmark's bounded sizes).

use std::collections::BTreeMap;
use std::time::Duration;

/// Latencies per action name, in the order the actions were first seen.
#[derive(Debug, Default)]
pub struct Latencies {
    order: Vec<&'static str>,
    samples: BTreeMap<&'static str, Vec<Duration>>,
}

impl Latencies {
    pub fn record(&mut self, action: &'static str, took: Duration) {
        if !self.samples.contains_key(action) {
            self.order.push(action);
        }
        self.samples.entry(action).or_default().push(took);
    }

    pub fn merge(&mut self, other: Latencies) {
        for action in other.order {
            if let Some(samples) = other.samples.get(action) {
                for took in samples {
                    self.record(action, *took);
                }
            }
        }
    }

    pub fn total(&self) -> usize {
        self.samples.values().map(Vec::len).sum()
    }

    /// One summary per action, in first-seen order.
    pub fn summaries(&self) -> Vec<(&'static str, Summary)> {
        self.order
            .iter()
            .filter_map(|action| {
                self.samples
                    .get(action)
                    .map(|samples| (*action, Summary::of(samples)))
            })
            .collect()
    }

    /// Every action together.
    pub fn overall(&self) -> Summary {
        let all: Vec<Duration> = self.samples.values().flatten().copied().collect();
        Summary::of(&all)
    }
}

/// Count and percentiles of a set of samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub mean: Duration,
}

impl Summary {
    pub fn of(samples: &[Duration]) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let total: Duration = sorted.iter().sum();
        Summary {
            count: sorted.len(),
            p50: percentile(&sorted, 50.0),
            p99: percentile(&sorted, 99.0),
            max: sorted.last().copied().unwrap_or_default(),
            mean: total / u32::try_from(sorted.len()).unwrap_or(u32::MAX),
        }
    }
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// CPU time (user + system) used so far by this process, from `/proc/self/stat` (Linux; `None`
/// elsewhere). On a shared machine it tells how much of a phase's wall time was this process.
pub fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may contain spaces; fields after its closing parenthesis.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here (0-based, after
    // pid and comm). USER_HZ is 100 on every Linux platform Rust supports.
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

/// Milliseconds with two decimals.
pub fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

/// A per-action table: action, count, p50, p99, max (ms).
pub fn print_table(latencies: &Latencies) {
    println!(
        "  {:<10} {:>7} {:>9} {:>9} {:>9}",
        "action", "count", "p50 ms", "p99 ms", "max ms"
    );
    for (action, summary) in latencies.summaries() {
        println!(
            "  {:<10} {:>7} {:>9} {:>9} {:>9}",
            action,
            summary.count,
            ms(summary.p50),
            ms(summary.p99),
            ms(summary.max)
        );
    }
    let all = latencies.overall();
    println!(
        "  {:<10} {:>7} {:>9} {:>9} {:>9}",
        "all",
        all.count,
        ms(all.p50),
        ms(all.p99),
        ms(all.max)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let summary = Summary::of(&samples);
        assert_eq!(summary.count, 100);
        assert_eq!(summary.p50, Duration::from_millis(50));
        assert_eq!(summary.p99, Duration::from_millis(99));
        assert_eq!(summary.max, Duration::from_millis(100));
        assert_eq!(
            percentile(&[Duration::from_millis(7)], 99.0),
            Duration::from_millis(7)
        );
        assert_eq!(Summary::of(&[]).count, 0);
    }

    #[test]
    fn actions_keep_their_first_seen_order() {
        let mut a = Latencies::default();
        a.record("submit", Duration::from_millis(1));
        a.record("accept", Duration::from_millis(2));
        let mut b = Latencies::default();
        b.record("accept", Duration::from_millis(3));
        b.record("deliver", Duration::from_millis(4));
        a.merge(b);
        let names: Vec<_> = a
            .summaries()
            .into_iter()
            .map(|(n, s)| (n, s.count))
            .collect();
        assert_eq!(names, vec![("submit", 1), ("accept", 2), ("deliver", 1)]);
        assert_eq!(a.total(), 4);
    }
}
