//! Round-trip latency distributions of the ping-pong workloads, for `--tail`: a
//! histogram with four buckets per octave from 8 µs to 16 ms, which the load
//! generator fills from every timed trip of one run and prints as `hist_<i> <count>`
//! lines, and the parent adds up over a runtime's runs. From the pooled histogram come
//! the tail percentiles over all runs (p99, p99.9, p99.99, to a quarter-octave) and a
//! compact table of how many trips per million took longer than 50 µs, 100 µs, ...
//!
//! A median of per-run p99s hides how often slow trips happen and how slow they are;
//! this shows both, per runtime, side by side.

use std::fmt::Write as _;

use crate::runtimes::Runtime;

/// Buckets per octave.
const PER_OCTAVE: usize = 4;
/// The lower edge of bucket 1, in nanoseconds; bucket 0 is everything below.
const FIRST_EDGE_NS: f64 = 8_000.0;
/// Octaves covered from [`FIRST_EDGE_NS`] (8 µs to 16.4 ms); the last bucket is open.
const OCTAVES: usize = 11;
/// Number of buckets.
pub(crate) const BUCKETS: usize = OCTAVES * PER_OCTAVE + 2;

/// Thresholds of the "slower than" columns, as octaves above [`FIRST_EDGE_NS`]: 64 µs
/// to 4.1 ms, each a bucket edge, so the counts are exact.
const SLOWER_THAN_OCTAVES: [usize; 7] = [3, 4, 5, 6, 7, 8, 9];

/// The lower edge of bucket `i` in nanoseconds (0 for bucket 0).
fn lower_edge_ns(i: usize) -> f64 {
    if i == 0 {
        return 0.0;
    }
    FIRST_EDGE_NS * 2_f64.powf((i - 1) as f64 / PER_OCTAVE as f64)
}

/// The bucket of a latency.
fn bucket(ns: u64) -> usize {
    let ns = ns as f64;
    if ns < FIRST_EDGE_NS {
        return 0;
    }
    let i = 1 + ((ns / FIRST_EDGE_NS).log2() * PER_OCTAVE as f64).floor() as usize;
    i.min(BUCKETS - 1)
}

/// Trip counts per bucket.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Histogram {
    counts: [u64; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            counts: [0; BUCKETS],
        }
    }
}

impl Histogram {
    /// The histogram of `latencies` (nanoseconds).
    pub(crate) fn of(latencies: &[u64]) -> Histogram {
        let mut h = Histogram::default();
        for &ns in latencies {
            h.counts[bucket(ns)] += 1;
        }
        h
    }

    /// The `key value` lines the load generator prints.
    pub(crate) fn to_lines(&self) -> String {
        let mut out = String::new();
        for (i, count) in self.counts.iter().enumerate() {
            let _ = writeln!(out, "hist_{i} {count}");
        }
        out
    }

    /// Add the `hist_<i>` figures of one run (other keys are ignored).
    pub(crate) fn add_figures(&mut self, figures: &[(String, f64)]) {
        for (key, value) in figures {
            let i = key
                .strip_prefix("hist_")
                .and_then(|i| i.parse::<usize>().ok());
            if let Some(i) = i.filter(|&i| i < BUCKETS) {
                self.counts[i] += *value as u64;
            }
        }
    }

    /// Every trip counted.
    pub(crate) fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Trips in bucket `from` or above: at least [`lower_edge_ns`]`(from)`.
    fn count_from(&self, from: usize) -> u64 {
        self.counts[from.min(BUCKETS)..].iter().sum()
    }

    /// The lower edge of the bucket holding quantile `q` (so the true value is at most
    /// a quarter-octave, 19%, above it), in microseconds; None if empty.
    pub(crate) fn quantile_us(&self, q: f64) -> Option<f64> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(lower_edge_ns(i) / 1e3);
            }
        }
        None
    }
}

/// The `--tail` report of one workload: per runtime, the pooled tail percentiles and
/// trips per million slower than each threshold.
pub(crate) fn render(workload: &str, runs: usize, histograms: &[(Runtime, Histogram)]) -> String {
    let mut out = format!(
        "\n{workload}: round-trip latency over all {runs} run(s), pooled (bucket lower edges, \
         quarter-octave; trips per million at least as slow as each threshold)\n"
    );
    let mut header = format!(
        "  {:<9} {:>9} {:>8} {:>8} {:>8}",
        "runtime", "trips", "p99", "p99.9", "p99.99"
    );
    for octave in SLOWER_THAN_OCTAVES {
        let edge_us = lower_edge_ns(1 + octave * PER_OCTAVE) / 1e3;
        let _ = write!(header, " {:>8}", format!(">={}", fmt_us(edge_us)));
    }
    out.push_str(&header);
    out.push('\n');
    for (rt, h) in histograms {
        let total = h.total();
        let q = |q| h.quantile_us(q).map_or("-".to_string(), fmt_us);
        let _ = write!(
            out,
            "  {:<9} {:>9} {:>8} {:>8} {:>8}",
            rt.name(),
            total,
            q(0.99),
            q(0.999),
            q(0.9999)
        );
        for octave in SLOWER_THAN_OCTAVES {
            let slower = h.count_from(1 + octave * PER_OCTAVE);
            let per_million = if total == 0 {
                0.0
            } else {
                slower as f64 * 1e6 / total as f64
            };
            let _ = write!(out, " {per_million:>8.0}");
        }
        out.push('\n');
    }
    out
}

/// Microseconds, with a unit: `45us`, `1.2ms`.
fn fmt_us(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.1}ms", us / 1000.0)
    } else {
        format!("{us:.0}us")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_quarter_octaves_from_8_us() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(7_999), 0);
        assert_eq!(bucket(8_000), 1);
        assert_eq!(bucket(16_000), 1 + PER_OCTAVE);
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        for i in 1..BUCKETS {
            assert_eq!(bucket(lower_edge_ns(i).ceil() as u64), i, "edge of {i}");
        }
    }

    #[test]
    fn pooled_quantiles_and_thresholds() {
        // 990 fast trips (20 us), 9 at 300 us, 1 at 3 ms.
        let mut lat = vec![20_000; 990];
        lat.extend([300_000; 9]);
        lat.push(3_000_000);
        let one = Histogram::of(&lat);
        let mut pooled = Histogram::default();
        let figures: Vec<(String, f64)> = one
            .to_lines()
            .lines()
            .map(|l| {
                let (k, v) = l.split_once(' ').expect("key value");
                (k.to_string(), v.parse().expect("a count"))
            })
            .collect();
        pooled.add_figures(&figures);
        pooled.add_figures(&figures);
        assert_eq!(pooled.total(), 2000);
        let p99 = pooled.quantile_us(0.99).expect("trips");
        assert!((16.0..=20.0).contains(&p99), "{p99}");
        let p999 = pooled.quantile_us(0.999).expect("trips");
        assert!((250.0..=300.0).contains(&p999), "{p999}");
        // 64 us and up: the 300 us and 3 ms trips; 1 ms and up: the 3 ms ones.
        assert_eq!(pooled.count_from(1 + 3 * PER_OCTAVE), 20);
        assert_eq!(pooled.count_from(1 + 7 * PER_OCTAVE), 2);
        let text = render("echo1", 2, &[(Runtime::Ember, pooled)]);
        // 20 of 2000 trips slower than 64 us: 10000 per million; 2 slower than 1 ms: 1000.
        assert!(text.contains(">=64us"), "{text}");
        assert!(text.contains("10000"), "{text}");
        assert!(text.contains(" 1000 "), "{text}");
    }
}
