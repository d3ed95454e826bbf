//! How big a ratio difference is noise in this run, per workload family (the TCP
//! workloads, the task micro-benchmarks, the timers, ...), derived from the runs'
//! spreads: a reader comparing two runs, or a ratio with 1.00, needs to know it.
//!
//! A family's noise is the median, over its metrics and references, of half the range
//! of ember/ref over the runs (paired by round, see [`crate::stats`]), relative to the
//! ratio: a ratio typically lands within that many percent of its median from one run
//! to the next, so two runs' ratios differing by less say nothing. The median keeps
//! one wild metric (a p99 latency) from setting the bar for the rest; the widest ratio
//! is printed beside it, and the per-metric ranges are in the table.

use std::fmt::Write as _;

use crate::runtimes::Runtime;
use crate::stats::{median, relative_spread};
use crate::table::{Row, REFERENCES};
use crate::workloads::Workload;

/// The noise of one workload family.
#[derive(Debug)]
pub(crate) struct Noise {
    /// The family's name.
    pub(crate) family: &'static str,
    /// Its workloads present in this run, in table order.
    pub(crate) workloads: Vec<&'static str>,
    /// Median over (metric, reference) of the ratio's half-range relative to the ratio.
    pub(crate) ratio: Option<f64>,
    /// How many ratios that median is over.
    pub(crate) ratios: usize,
    /// Median over (metric, runtime) of `(max - min) / median` of the samples.
    pub(crate) samples: Option<f64>,
    /// The widest ratio: `workload.metric`, the reference, its half-range.
    pub(crate) widest: Option<(String, Runtime, f64)>,
    /// The share of all CPUs other processes used while the family ran (None if unknown).
    pub(crate) background: Option<f64>,
}

/// How busy the rest of the machine was while one workload ran.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Background {
    /// The workload.
    pub(crate) workload: &'static str,
    /// The share of all CPUs other processes used (0-1).
    pub(crate) share: f64,
    /// How long the workload ran, in seconds (the weight of `share`).
    pub(crate) secs: f64,
}

/// The noise of every family present in `rows`, in table order, with how busy the rest of
/// the machine was meanwhile (`background`, per workload).
pub(crate) fn by_family(rows: &[Row], background: &[Background]) -> Vec<Noise> {
    let mut out: Vec<Noise> = Vec::new();
    let mut ratio_noise: Vec<Vec<f64>> = Vec::new();
    let mut sample_spread: Vec<Vec<f64>> = Vec::new();
    for row in rows {
        let family = Workload::find(row.workload).map_or(row.workload, |w| w.family);
        let i = match out.iter().position(|n| n.family == family) {
            Some(i) => i,
            None => {
                out.push(Noise {
                    family,
                    workloads: Vec::new(),
                    ratio: None,
                    ratios: 0,
                    samples: None,
                    widest: None,
                    background: None,
                });
                ratio_noise.push(Vec::new());
                sample_spread.push(Vec::new());
                out.len() - 1
            }
        };
        let noise = &mut out[i];
        if !noise.workloads.contains(&row.workload) {
            noise.workloads.push(row.workload);
        }
        sample_spread[i].extend(
            Runtime::ALL
                .iter()
                .filter_map(|&rt| relative_spread(row.samples(rt))),
        );
        for rt in REFERENCES {
            let runs = row.samples(Runtime::Ember).len().min(row.samples(rt).len());
            let half = match (row.ratio(rt), row.ratio_range(rt)) {
                (Some(ratio), Some((range, _))) if runs >= 2 => range.half_width_of(ratio),
                _ => None,
            };
            let Some(half) = half else { continue };
            ratio_noise[i].push(half);
            if noise.widest.as_ref().map_or(true, |w| half > w.2) {
                noise.widest = Some((format!("{}.{}", row.workload, row.metric.key), rt, half));
            }
        }
    }
    for (i, noise) in out.iter_mut().enumerate() {
        noise.ratio = median(&ratio_noise[i]);
        noise.ratios = ratio_noise[i].len();
        noise.samples = median(&sample_spread[i]);
        let (used, secs) = background
            .iter()
            .filter(|b| noise.workloads.contains(&b.workload))
            .fold((0.0, 0.0), |(u, s), b| (u + b.share * b.secs, s + b.secs));
        noise.background = (secs > 0.0).then(|| used / secs);
    }
    out
}

/// The workloads of a family, short: `echo50 echo1 stream`, or `mt_*` when they all
/// share a prefix ending in `_` and there are more than three (the line stays narrow).
fn short_list(workloads: &[&str]) -> String {
    let prefix = workloads
        .first()
        .and_then(|w| w.find('_').map(|i| &w[..=i]))
        .filter(|p| workloads.iter().all(|w| w.starts_with(p)));
    match prefix {
        Some(prefix) if workloads.len() > 3 => format!("{prefix}*"),
        _ => workloads.join(" "),
    }
}

/// A fraction as a percentage with one decimal.
fn pct(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// One line per family, after the table.
pub(crate) fn render(noise: &[Noise]) -> String {
    let mut out = String::from(
        "\nNoise in this run: ember/ref ratios that differ by less than +-x are within noise\n\
         (x = median over the family's ratios of half their range over the runs, relative;\n\
         \"others used\": CPU time of every other process on the machine meanwhile, /proc/stat).\n",
    );
    let names: Vec<String> = noise.iter().map(|n| short_list(&n.workloads)).collect();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    let family_width = noise.iter().map(|n| n.family.len()).max().unwrap_or(0);
    for (n, names) in noise.iter().zip(&names) {
        let _ = write!(out, "  {:<family_width$}  {names:<width$}  ", n.family);
        match n.ratio {
            None => out.push_str("no spread: one run, or no ratios (use --runs 3 or more)"),
            Some(ratio) => {
                let _ = write!(
                    out,
                    "+-{:<6} (of {} ratios); runs' spread {} (median)",
                    pct(ratio),
                    n.ratios,
                    n.samples.map_or("-".to_string(), pct),
                );
                if let Some((metric, rt, half)) = &n.widest {
                    let _ = write!(out, "; widest {metric} vs {rt} +-{}", pct(*half));
                }
            }
        }
        if let Some(share) = n.background {
            let _ = write!(out, "; others used {:.0}% of the CPUs", share * 100.0);
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::index;
    use crate::workloads::WORKLOADS;

    #[test]
    fn long_families_are_named_by_their_prefix() {
        assert_eq!(short_list(&["echo50", "echo1"]), "echo50 echo1");
        assert_eq!(short_list(&["mt_a", "mt_b", "mt_c", "mt_d"]), "mt_*");
        assert_eq!(short_list(&["mt_a", "mt_b"]), "mt_a mt_b");
        assert_eq!(
            short_list(&["mt_a", "x_b", "mt_c", "mt_d"]),
            "mt_a x_b mt_c mt_d"
        );
        assert_eq!(short_list(&[]), "");
    }

    #[test]
    fn families_group_workloads_and_take_the_median_ratio_noise() {
        let echo50 = &WORKLOADS[0];
        let echo1 = &WORKLOADS[1];
        assert_eq!(echo50.family, echo1.family);
        let mut a = Row::new(echo50.name, echo50.metrics[0]);
        // ember/tokio-ct per run: 1.0, 1.1, 0.9 -> +-10% around 1.0.
        a.samples[index(Runtime::Ember)] = vec![100.0, 110.0, 90.0];
        a.samples[index(Runtime::TokioCt)] = vec![100.0, 100.0, 100.0];
        let mut b = Row::new(echo1.name, echo1.metrics[0]);
        // ember/tokio-ct per run: 1.0, 1.02, 0.98 -> +-2%; ember/smol: 1.0 -> 0%.
        b.samples[index(Runtime::Ember)] = vec![100.0, 102.0, 98.0];
        b.samples[index(Runtime::TokioCt)] = vec![100.0, 100.0, 100.0];
        b.samples[index(Runtime::Smol)] = vec![100.0, 102.0, 98.0];
        let spawn = WORKLOADS.iter().find(|w| w.name == "spawn").expect("spawn");
        let mut c = Row::new(spawn.name, spawn.metrics[0]);
        c.samples[index(Runtime::Ember)] = vec![1.0];
        c.samples[index(Runtime::TokioCt)] = vec![2.0];
        let background = [
            Background {
                workload: "echo50",
                share: 0.1,
                secs: 3.0,
            },
            Background {
                workload: "echo1",
                share: 0.5,
                secs: 1.0,
            },
        ];
        let noise = by_family(&[a, b, c], &background);
        assert_eq!(noise.len(), 2);
        assert_eq!(noise[0].workloads, vec!["echo50", "echo1"]);
        assert_eq!(noise[0].ratios, 3);
        let ratio = noise[0].ratio.expect("three ratios");
        assert!((ratio - 0.02).abs() < 1e-9, "{ratio}");
        let (metric, rt, half) = noise[0].widest.clone().expect("a widest ratio");
        assert_eq!(
            (metric.as_str(), rt),
            ("echo50.trips_per_s", Runtime::TokioCt)
        );
        assert!((half - 0.1).abs() < 1e-9);
        // Weighted by time: (0.1 * 3 + 0.5 * 1) / 4.
        let share = noise[0].background.expect("measured");
        assert!((share - 0.2).abs() < 1e-9, "{share}");
        assert_eq!(noise[1].background, None);
        // One run: nothing to say.
        assert_eq!(noise[1].ratio, None);
        let text = render(&noise);
        assert!(text.contains("+-2.0%"), "{text}");
        assert!(text.contains("one run"), "{text}");
        assert!(text.contains("others used 20% of the CPUs"), "{text}");
    }
}
