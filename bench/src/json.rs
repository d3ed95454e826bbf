//! The whole result as JSON, written by hand (the format is small and fixed): facts
//! about the run, then per metric every sample of every runtime in run order, the
//! medians and ranges, the ratios with their ranges over the runs, the verdicts with
//! whether the spread flips them, and the noise of each workload family.

use std::fmt::Write as _;

use crate::noise::Noise;
use crate::runtimes::Runtime;
use crate::stats::{relative_spread, Pairing};
use crate::table::{Row, REFERENCES};
use crate::workloads::{Flavour, Workload};

/// Facts about the run recorded next to the figures.
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
fn num(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => "null".to_string(),
    }
}

/// A JSON string (the harness's own names: no character needs escaping but these).
fn string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `{"ember": f(ember), "tokio-ct": ...}` over every runtime.
fn per_runtime(f: impl Fn(Runtime) -> String) -> String {
    let fields: Vec<String> = Runtime::ALL
        .iter()
        .map(|&rt| format!("\"{rt}\": {}", f(rt)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// `{"ember/tokio-ct": f(tokio-ct), ...}` over every reference.
fn per_reference(f: impl Fn(Runtime) -> String) -> String {
    let fields: Vec<String> = REFERENCES
        .iter()
        .map(|&rt| format!("\"ember/{rt}\": {}", f(rt)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// What the runtime columns of `workload`'s rows mean: single-threaded runtimes on
/// one pinned CPU, or multi-thread runtimes with 2 workers, unpinned.
fn flavour_name(workload: &str) -> &'static str {
    match Workload::find(workload).map(|w| w.flavour) {
        Some(Flavour::Multi) => "multi-thread-unpinned",
        _ => "pinned",
    }
}

/// One metric's object.
fn row_json(row: &Row) -> String {
    let mut out = String::from("{");
    let _ = write!(
        out,
        "\"workload\": {}, \"flavour\": \"{}\", \"metric\": {}, \"unit\": {}, \"better\": \"{}\", ",
        string(row.workload),
        flavour_name(row.workload),
        string(row.metric.key),
        string(row.metric.unit),
        if row.metric.higher_is_better {
            "higher"
        } else {
            "lower"
        }
    );
    let samples = per_runtime(|rt| {
        let values: Vec<String> = row.samples(rt).iter().map(|&v| num(Some(v))).collect();
        format!("[{}]", values.join(", "))
    });
    let _ = write!(out, "\"samples\": {samples}, ");
    let _ = write!(
        out,
        "\"median\": {}, ",
        per_runtime(|rt| num(row.median(rt)))
    );
    let _ = write!(
        out,
        "\"min\": {}, \"max\": {}, ",
        per_runtime(|rt| num(row.range(rt).map(|r| r.min))),
        per_runtime(|rt| num(row.range(rt).map(|r| r.max))),
    );
    let _ = write!(
        out,
        "\"spread\": {}, ",
        per_runtime(|rt| num(relative_spread(row.samples(rt))))
    );
    let _ = write!(
        out,
        "\"ratios\": {}, ",
        per_reference(|rt| num(row.ratio(rt)))
    );
    let ranges = per_reference(|rt| match row.ratio_range(rt) {
        Some((r, pairing)) => format!(
            "{{\"min\": {}, \"max\": {}, \"paired\": {}}}",
            num(Some(r.min)),
            num(Some(r.max)),
            pairing == Pairing::Paired
        ),
        None => "null".to_string(),
    });
    let _ = write!(out, "\"ratio_ranges\": {ranges}, ");
    let targets: Vec<String> = row
        .verdicts()
        .iter()
        .map(|v| {
            let vs = v
                .target
                .vs
                .map_or("null".to_string(), |rt| format!("\"{rt}\""));
            let met = v.met.map_or("null".to_string(), |m| m.to_string());
            format!(
                "{{\"vs\": {vs}, \"bound\": {}, \"met\": {met}, \"flips_within_spread\": {}}}",
                v.target.bound, v.flips
            )
        })
        .collect();
    let _ = write!(out, "\"targets\": [{}]}}", targets.join(", "));
    out
}

/// One family's noise object.
fn noise_json(n: &Noise) -> String {
    let workloads: Vec<String> = n.workloads.iter().map(|w| string(w)).collect();
    let widest = match &n.widest {
        Some((metric, rt, half)) => format!(
            "{{\"metric\": {}, \"vs\": \"{rt}\", \"half_range\": {}}}",
            string(metric),
            num(Some(*half))
        ),
        None => "null".to_string(),
    };
    format!(
        "{{\"family\": {}, \"workloads\": [{}], \"ratio_half_range\": {}, \"ratios\": {}, \"sample_spread\": {}, \"widest\": {widest}, \"others_cpu_share\": {}}}",
        string(n.family),
        workloads.join(", "),
        num(n.ratio),
        n.ratios,
        num(n.samples),
        num(n.background),
    )
}

/// The whole result as a JSON document.
pub(crate) fn to_json(rows: &[Row], noise: &[Noise], info: &RunInfo) -> String {
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"quick\": {},", info.quick);
    let _ = writeln!(out, "  \"runs\": {},", info.runs);
    let _ = writeln!(out, "  \"tcp_secs\": {},", info.tcp_secs);
    let _ = writeln!(out, "  \"cpus\": {},", info.cpus);
    let _ = writeln!(out, "  \"wall_secs\": {:.1},", info.wall_secs);
    out.push_str("  \"metrics\": [\n");
    let rows: Vec<String> = rows
        .iter()
        .map(|r| format!("    {}", row_json(r)))
        .collect();
    out.push_str(&rows.join(",\n"));
    out.push_str("\n  ],\n  \"noise\": [\n");
    let noise: Vec<String> = noise
        .iter()
        .map(|n| format!("    {}", noise_json(n)))
        .collect();
    out.push_str(&noise.join(",\n"));
    out.push_str("\n  ]\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise;
    use crate::table::index;
    use crate::workloads::WORKLOADS;

    fn info() -> RunInfo {
        RunInfo {
            quick: true,
            runs: 1,
            tcp_secs: 0.2,
            cpus: 2,
            wall_secs: 1.0,
        }
    }

    fn spawn_workload() -> &'static crate::workloads::Workload {
        WORKLOADS
            .iter()
            .find(|w| w.name == "spawn")
            .expect("the spawn workload exists")
    }

    #[test]
    fn json_has_nulls_for_missing_figures() {
        let row = Row::new("spawn", spawn_workload().metrics[0]);
        let json = to_json(&[row], &[], &info());
        assert!(json.contains("\"ember\": null"));
        assert!(json.contains("\"flavour\": \"pinned\""));
        assert!(json.contains("\"ember\": []"));
        assert!(json.contains("\"ember/tokio-ct\": null"));
        assert!(json.trim_end().ends_with('}'));
    }

    #[test]
    fn json_carries_samples_ranges_and_noise() {
        let mut row = Row::new("spawn", spawn_workload().metrics[0]);
        row.samples[index(Runtime::Ember)] = vec![1.0, 3.0, 2.0];
        row.samples[index(Runtime::TokioCt)] = vec![4.0, 4.0, 4.0];
        let noise = noise::by_family(std::slice::from_ref(&row), &[]);
        let json = to_json(&[row], &noise, &info());
        assert!(json.contains("\"ember\": [1, 3, 2]"), "{json}");
        assert!(json.contains("\"min\": {\"ember\": 1,"), "{json}");
        assert!(json.contains("\"spread\": {\"ember\": 1,"), "{json}");
        assert!(
            json.contains("\"ember/tokio-ct\": {\"min\": 0.25, \"max\": 0.75, \"paired\": true}"),
            "{json}"
        );
        assert!(json.contains("\"flips_within_spread\": true"), "{json}");
        assert!(json.contains("\"family\": \"tasks\""), "{json}");
    }
}
