//! The result table: samples per (metric, runtime), their medians, the ratios of
//! ember to each reference, the targets checked against those ratios, and the
//! same data as JSON (written by hand: the format is small and fixed).

use std::fmt::Write as _;

use crate::runtimes::Runtime;
use crate::workloads::{Flavour, Metric, Target, Workload};

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
    /// Samples per runtime, indexed like [`Runtime::ALL`]; empty = no entry.
    pub(crate) samples: [Vec<f64>; 5],
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

    /// The median of `rt`'s samples, if it has any.
    pub(crate) fn median(&self, rt: Runtime) -> Option<f64> {
        median(&self.samples[index(rt)])
    }

    /// ember's median divided by `rt`'s.
    pub(crate) fn ratio(&self, rt: Runtime) -> Option<f64> {
        let ember = self.median(Runtime::Ember)?;
        let reference = self.median(rt)?;
        (reference != 0.0).then(|| ember / reference)
    }

    /// Each target with whether it is met (None: a side has no figure).
    pub(crate) fn verdicts(&self) -> Vec<(Target, Option<bool>)> {
        self.metric
            .targets
            .iter()
            .map(|&t| {
                let value = match t.vs {
                    Some(rt) => self.ratio(rt),
                    None => self.median(Runtime::Ember),
                };
                let met = value.map(|v| {
                    if self.metric.higher_is_better {
                        v >= t.bound
                    } else {
                        v <= t.bound
                    }
                });
                (t, met)
            })
            .collect()
    }

    /// The target column: e.g. `<=0.95 tokio-ct ok, <=1.00 raw-mio MISS`.
    fn target_text(&self) -> String {
        let op = if self.metric.higher_is_better {
            ">="
        } else {
            "<="
        };
        self.verdicts()
            .iter()
            .map(|(t, met)| {
                let what = match t.vs {
                    Some(rt) => format!("{op}{:.2}x {rt}", t.bound),
                    None => format!("{op}{} {}", t.bound, self.metric.unit),
                };
                let mark = match met {
                    Some(true) => "ok",
                    Some(false) => "MISS",
                    None => "?",
                };
                format!("{what} {mark}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Position of `rt` in [`Runtime::ALL`].
fn index(rt: Runtime) -> usize {
    Runtime::ALL.iter().position(|&r| r == rt).unwrap_or(0)
}

/// The median of `values` (mean of the middle two for an even count); None if empty.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
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

/// The table as text: one line per metric.
pub(crate) fn render(rows: &[Row]) -> String {
    let mut header: Vec<String> = vec!["metric".into(), "unit".into()];
    header.extend(Runtime::ALL.iter().map(|rt| rt.name().to_string()));
    header.extend(REFERENCES.iter().map(|rt| format!("e/{}", short(*rt))));
    header.push("target (ember / ref)".into());
    let mut lines = vec![header];
    for row in rows {
        let mut cells = vec![
            format!("{}.{}", row.workload, row.metric.key),
            row.metric.unit.to_string(),
        ];
        cells.extend(Runtime::ALL.iter().map(|&rt| fmt_value(row.median(rt))));
        cells.extend(REFERENCES.iter().map(|&rt| fmt_ratio(row.ratio(rt))));
        cells.push(row.target_text());
        lines.push(cells);
    }
    let columns = lines[0].len();
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

/// Facts about the run recorded next to the figures in the JSON.
#[derive(Debug)]
pub(crate) struct RunInfo {
    /// `--quick` or not.
    pub(crate) quick: bool,
    /// Runs per figure (the median is taken over them).
    pub(crate) runs: usize,
    /// Length of each TCP run in seconds.
    pub(crate) tcp_secs: f64,
    /// CPUs on the machine.
    pub(crate) cpus: usize,
    /// Wall time of the whole benchmark in seconds.
    pub(crate) wall_secs: f64,
}

/// A JSON number, or null for a missing / non-finite figure.
fn json_num(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => "null".to_string(),
    }
}

/// What the runtime columns of `workload`'s rows mean, for the JSON: single-threaded
/// runtimes on one pinned CPU, or multi-thread runtimes with 2 workers, unpinned.
fn flavour_name(workload: &str) -> &'static str {
    match Workload::find(workload).map(|w| w.flavour) {
        Some(Flavour::Multi) => "multi-thread-unpinned",
        _ => "pinned",
    }
}

/// The whole result as a JSON document.
pub(crate) fn to_json(rows: &[Row], info: &RunInfo) -> String {
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"quick\": {},", info.quick);
    let _ = writeln!(out, "  \"runs\": {},", info.runs);
    let _ = writeln!(out, "  \"tcp_secs\": {},", info.tcp_secs);
    let _ = writeln!(out, "  \"cpus\": {},", info.cpus);
    let _ = writeln!(out, "  \"wall_secs\": {:.1},", info.wall_secs);
    out.push_str("  \"metrics\": [\n");
    for (i, row) in rows.iter().enumerate() {
        out.push_str("    {");
        let _ = write!(
            out,
            "\"workload\": \"{}\", \"flavour\": \"{}\", \"metric\": \"{}\", \"unit\": \"{}\", \"better\": \"{}\", ",
            row.workload,
            flavour_name(row.workload),
            row.metric.key,
            row.metric.unit,
            if row.metric.higher_is_better {
                "higher"
            } else {
                "lower"
            }
        );
        let medians: Vec<String> = Runtime::ALL
            .iter()
            .map(|&rt| format!("\"{rt}\": {}", json_num(row.median(rt))))
            .collect();
        let _ = write!(out, "\"median\": {{{}}}, ", medians.join(", "));
        let samples: Vec<String> = Runtime::ALL
            .iter()
            .map(|&rt| {
                let values: Vec<String> = row.samples[index(rt)]
                    .iter()
                    .map(|&v| json_num(Some(v)))
                    .collect();
                format!("\"{rt}\": [{}]", values.join(", "))
            })
            .collect();
        let _ = write!(out, "\"samples\": {{{}}}, ", samples.join(", "));
        let ratios: Vec<String> = REFERENCES
            .iter()
            .map(|&rt| format!("\"ember/{rt}\": {}", json_num(row.ratio(rt))))
            .collect();
        let _ = write!(out, "\"ratios\": {{{}}}, ", ratios.join(", "));
        let targets: Vec<String> = row
            .verdicts()
            .iter()
            .map(|(t, met)| {
                let vs = t.vs.map_or("null".to_string(), |rt| format!("\"{rt}\""));
                let met = met.map_or("null".to_string(), |m| m.to_string());
                format!("{{\"vs\": {vs}, \"bound\": {}, \"met\": {met}}}", t.bound)
            })
            .collect();
        let _ = write!(out, "\"targets\": [{}]}}", targets.join(", "));
        out.push_str(if i + 1 < rows.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ]\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::WORKLOADS;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn ratio_and_verdicts_follow_the_direction_of_the_metric() {
        // echo50.cpu_ns_per_trip: lower is better, targets vs raw-mio 1.00 and tokio-ct 0.95.
        let metric = WORKLOADS[0].metrics[3];
        let mut row = Row::new("echo50", metric);
        row.samples[index(Runtime::Ember)] = vec![90.0];
        row.samples[index(Runtime::TokioCt)] = vec![100.0];
        row.samples[index(Runtime::Mio)] = vec![80.0];
        assert_eq!(row.ratio(Runtime::TokioCt), Some(0.9));
        assert_eq!(row.ratio(Runtime::Smol), None);
        let met: Vec<Option<bool>> = row.verdicts().iter().map(|&(_, m)| m).collect();
        assert_eq!(met, vec![Some(false), Some(true)]);
        assert!(render(&[row]).contains("<=0.95x tokio-ct ok"));
    }

    #[test]
    fn json_has_nulls_for_missing_figures() {
        let row = Row::new("spawn", WORKLOADS[3].metrics[0]);
        let info = RunInfo {
            quick: true,
            runs: 1,
            tcp_secs: 0.2,
            cpus: 2,
            wall_secs: 1.0,
        };
        let json = to_json(&[row], &info);
        assert!(json.contains("\"ember\": null"));
        assert!(json.contains("\"flavour\": \"pinned\""));
        assert!(json.contains("\"ember\": []"));
        assert!(json.trim_end().ends_with('}'));
    }
}
