//! The result table: samples per (metric, runtime), their medians and ranges, the
//! ratios of ember to each reference with the range of those ratios over the runs,
//! and the targets checked against the medians, marked where the runs'
//! spread would flip the verdict.
//!
//! Each metric takes two lines. The first has the medians, the ratios of the medians
//! and the first target. The second has the unit, each runtime's fastest and slowest
//! run as `-x/+y%` of its median (compact, and directly the noise a reader must allow
//! for), the range of ember/ref over the runs paired by round (see [`crate::stats`]),
//! and the second target, if any.

use std::fmt::Write as _;

use crate::runtimes::Runtime;
use crate::stats::{self, median, Pairing, Range};
use crate::workloads::{Metric, Target};

/// The references ember is divided by, in column order.
pub(crate) const REFERENCES: [Runtime; 4] = [
    Runtime::TokioCt,
    Runtime::TokioMt,
    Runtime::Smol,
    Runtime::Mio,
];

/// One metric of one workload with every runtime's samples.
#[derive(Debug)]
pub(crate) struct Row {
    /// The workload's name.
    pub(crate) workload: &'static str,
    /// What is measured.
    pub(crate) metric: Metric,
    /// Samples per runtime, indexed like [`Runtime::ALL`], one per run in run order
    /// (so sample `i` of every runtime comes from round `i`); empty = no entry.
    pub(crate) samples: [Vec<f64>; 5],
}

/// A target checked against this run's figures.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Verdict {
    /// The target.
    pub(crate) target: Target,
    /// Whether the median meets it (None: a side has no figure).
    pub(crate) met: Option<bool>,
    /// Whether some run's figure would give the other answer: the verdict is noise.
    pub(crate) flips: bool,
}

impl Row {
    /// An empty row.
    pub(crate) fn new(workload: &'static str, metric: Metric) -> Row {
        Row {
            workload,
            metric,
            samples: Default::default(),
        }
    }

    /// `rt`'s samples.
    pub(crate) fn samples(&self, rt: Runtime) -> &[f64] {
        &self.samples[index(rt)]
    }

    /// The median of `rt`'s samples, if it has any.
    pub(crate) fn median(&self, rt: Runtime) -> Option<f64> {
        median(self.samples(rt))
    }

    /// The range of `rt`'s samples, if it has any.
    pub(crate) fn range(&self, rt: Runtime) -> Option<Range> {
        Range::of(self.samples(rt))
    }

    /// ember's median divided by `rt`'s.
    pub(crate) fn ratio(&self, rt: Runtime) -> Option<f64> {
        let ember = self.median(Runtime::Ember)?;
        let reference = self.median(rt)?;
        (reference != 0.0).then(|| ember / reference)
    }

    /// The range of ember / `rt` over the runs (paired by round when it can be).
    pub(crate) fn ratio_range(&self, rt: Runtime) -> Option<(Range, Pairing)> {
        stats::ratio_range(self.samples(Runtime::Ember), self.samples(rt))
    }

    /// Whether `value` (a ratio, or ember's own figure) meets `t`.
    fn meets(&self, t: Target, value: f64) -> bool {
        if self.metric.higher_is_better {
            value >= t.bound
        } else {
            value <= t.bound
        }
    }

    /// Each target with whether the median meets it and whether the runs' spread
    /// straddles it.
    pub(crate) fn verdicts(&self) -> Vec<Verdict> {
        self.metric
            .targets
            .iter()
            .map(|&t| {
                let (value, range) = match t.vs {
                    Some(rt) => (self.ratio(rt), self.ratio_range(rt).map(|(r, _)| r)),
                    None => (self.median(Runtime::Ember), self.range(Runtime::Ember)),
                };
                Verdict {
                    target: t,
                    met: value.map(|v| self.meets(t, v)),
                    flips: range.is_some_and(|r| r.flips(|v| self.meets(t, v))),
                }
            })
            .collect()
    }

    /// The target cells, one per target: e.g. `<=0.95x tokio-ct ok~`.
    fn target_cells(&self) -> Vec<String> {
        let op = if self.metric.higher_is_better {
            ">="
        } else {
            "<="
        };
        self.verdicts()
            .iter()
            .map(|v| {
                let what = match v.target.vs {
                    Some(rt) => format!("{op}{:.2}x {rt}", v.target.bound),
                    None => format!("{op}{} {}", v.target.bound, self.metric.unit),
                };
                let mark = match v.met {
                    Some(true) => "ok",
                    Some(false) => "MISS",
                    None => "?",
                };
                let noise = if v.flips { "~" } else { "" };
                format!("{what} {mark}{noise}")
            })
            .collect()
    }
}

/// Position of `rt` in [`Runtime::ALL`].
pub(crate) fn index(rt: Runtime) -> usize {
    Runtime::ALL.iter().position(|&r| r == rt).unwrap_or(0)
}

/// A figure with about four significant digits and no exponent.
fn fmt_value(v: Option<f64>) -> String {
    match v {
        None => "-".to_string(),
        Some(v) if v.abs() >= 1000.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 100.0 => format!("{v:.1}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.3}"),
    }
}

/// A ratio, or "-" when a side has no figure.
fn fmt_ratio(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.2}x"))
}

/// A percentage with two significant digits at most: `0.4`, `3.1`, `12`, `140`.
fn fmt_pct(fraction: f64) -> String {
    let pct = fraction * 100.0;
    if pct < 9.95 {
        format!("{pct:.1}")
    } else {
        format!("{pct:.0}")
    }
}

/// The runs' spread of `samples` around their median: `-x/+y%`; `min-max` when the
/// median is zero; empty for fewer than two runs (nothing to show).
fn fmt_spread(samples: &[f64]) -> String {
    let (Some(m), Some(r)) = (median(samples), Range::of(samples)) else {
        return String::new();
    };
    if samples.len() < 2 {
        return String::new();
    }
    if m == 0.0 {
        return format!("{}-{}", fmt_value(Some(r.min)), fmt_value(Some(r.max)));
    }
    let below = (m - r.min) / m.abs();
    let above = (r.max - m) / m.abs();
    format!("-{}/+{}%", fmt_pct(below), fmt_pct(above))
}

/// The range of a ratio over the runs: `0.85-0.91`; empty for fewer than two runs.
fn fmt_ratio_range(row: &Row, rt: Runtime) -> String {
    let runs = row.samples(Runtime::Ember).len().min(row.samples(rt).len());
    match row.ratio_range(rt) {
        Some((r, pairing)) if runs >= 2 => {
            let star = if pairing == Pairing::Unpaired {
                "*"
            } else {
                ""
            };
            format!("{:.2}-{:.2}{star}", r.min, r.max)
        }
        _ => String::new(),
    }
}

/// The table as text: two lines per metric (see the module docs).
pub(crate) fn render(rows: &[Row]) -> String {
    let mut header: Vec<String> = vec!["metric".into()];
    header.extend(Runtime::ALL.iter().map(|rt| rt.name().to_string()));
    header.extend(REFERENCES.iter().map(|rt| format!("e/{}", short(*rt))));
    header.push("target (ember / ref)".into());
    let columns = header.len();
    let mut lines = vec![header];
    for row in rows {
        let mut first = vec![format!("{}.{}", row.workload, row.metric.key)];
        first.extend(Runtime::ALL.iter().map(|&rt| fmt_value(row.median(rt))));
        first.extend(REFERENCES.iter().map(|&rt| fmt_ratio(row.ratio(rt))));
        let mut second = vec![format!("  {}", row.metric.unit)];
        second.extend(Runtime::ALL.iter().map(|&rt| fmt_spread(row.samples(rt))));
        second.extend(REFERENCES.iter().map(|&rt| fmt_ratio_range(row, rt)));
        let mut targets = row.target_cells().into_iter();
        first.push(targets.next().unwrap_or_default());
        second.push(targets.next().unwrap_or_default());
        lines.push(first);
        lines.push(second);
        for more in targets {
            let mut line = vec![String::new(); columns - 1];
            line.push(more);
            lines.push(line);
        }
    }
    let widths: Vec<usize> = (0..columns)
        .map(|c| lines.iter().map(|l| l[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        for (c, cell) in line.iter().enumerate() {
            if c == 0 || c == columns - 1 {
                let _ = write!(out, "{cell:<w$}", w = widths[c]);
            } else {
                let _ = write!(out, "{cell:>w$}", w = widths[c]);
            }
            if c + 1 < columns {
                out.push_str("  ");
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        if i == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (columns - 1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    out
}

/// Short column name for the ratio headers.
fn short(rt: Runtime) -> &'static str {
    match rt {
        Runtime::Ember => "ember",
        Runtime::TokioCt => "tct",
        Runtime::TokioMt => "tmt",
        Runtime::Smol => "smol",
        Runtime::Mio => "mio",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::WORKLOADS;

    /// echo50.cpu_ns_per_trip: lower is better, targets vs raw-mio 1.00 and tokio-ct 0.95.
    fn echo50_cpu() -> Row {
        let metric = WORKLOADS[0]
            .metrics
            .iter()
            .find(|m| m.key == "cpu_ns_per_trip")
            .copied()
            .expect("echo50 has cpu_ns_per_trip");
        Row::new("echo50", metric)
    }

    #[test]
    fn ratio_and_verdicts_follow_the_direction_of_the_metric() {
        let mut row = echo50_cpu();
        row.samples[index(Runtime::Ember)] = vec![90.0];
        row.samples[index(Runtime::TokioCt)] = vec![100.0];
        row.samples[index(Runtime::Mio)] = vec![80.0];
        assert_eq!(row.ratio(Runtime::TokioCt), Some(0.9));
        assert_eq!(row.ratio(Runtime::Smol), None);
        let met: Vec<Option<bool>> = row.verdicts().iter().map(|v| v.met).collect();
        assert_eq!(met, vec![Some(false), Some(true)]);
        assert!(row.verdicts().iter().all(|v| !v.flips));
        let text = render(&[row]);
        assert!(text.contains("<=0.95x tokio-ct ok"), "{text}");
        assert!(!text.contains('~'), "{text}");
    }

    #[test]
    fn a_verdict_the_spread_straddles_is_marked() {
        let mut row = echo50_cpu();
        // Median ratio vs tokio-ct 0.90 (ok), but round 2 gave 0.97 (a miss).
        row.samples[index(Runtime::Ember)] = vec![90.0, 97.0, 90.0];
        row.samples[index(Runtime::TokioCt)] = vec![100.0, 100.0, 100.0];
        // vs raw-mio: 1.125, 1.2125, 1.125: a miss in every run.
        row.samples[index(Runtime::Mio)] = vec![80.0, 80.0, 80.0];
        let verdicts = row.verdicts();
        assert_eq!(verdicts[0].met, Some(false));
        assert!(!verdicts[0].flips);
        assert_eq!(verdicts[1].met, Some(true));
        assert!(verdicts[1].flips);
        let text = render(&[row]);
        assert!(text.contains("<=1.00x raw-mio MISS\n"), "{text}");
        assert!(text.contains("<=0.95x tokio-ct ok~"), "{text}");
        // The second line: ember's runs -0/+7.8% around 90, the paired ratio range.
        assert!(text.contains("-0.0/+7.8%"), "{text}");
        assert!(text.contains("0.90-0.97"), "{text}");
    }

    #[test]
    fn an_absolute_target_is_checked_on_embers_own_samples() {
        let metric = WORKLOADS
            .iter()
            .find(|w| w.name == "timers")
            .and_then(|w| w.metrics.iter().find(|m| m.key == "1k_late_p99_ms"))
            .copied()
            .expect("timers has 1k_late_p99_ms");
        let mut row = Row::new("timers", metric);
        row.samples[index(Runtime::Ember)] = vec![0.9, 1.2, 0.8];
        let v = row.verdicts();
        assert_eq!(v[0].met, Some(true));
        assert!(v[0].flips);
        assert!(render(&[row]).contains("<=1 ms ok~"));
    }

    #[test]
    fn spread_cells_are_empty_for_one_run_and_absolute_around_zero() {
        assert_eq!(fmt_spread(&[5.0]), "");
        assert_eq!(fmt_spread(&[0.0, 0.0, 2.0]), "0.000-2.000");
        assert_eq!(fmt_spread(&[95.0, 100.0, 150.0]), "-5.0/+50%");
    }
}
