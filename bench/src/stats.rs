//! Summaries of one figure's samples over the runs: the median, the range (min-max),
//! the spread relative to the median, and the range of the ratio of two runtimes'
//! figures. Pure arithmetic; the table decides what to print.
//!
//! Ratio ranges are *paired* when both sides have one sample per run: the harness runs
//! every runtime once per round, one after the other, so sample `i` of ember and sample
//! `i` of a reference ran seconds apart under the same machine load, and `ember[i] /
//! ref[i]` is a ratio the machine really produced. The range of those per-round ratios
//! is what a reader sees when the whole benchmark is run again. The unpaired bound,
//! `min / max` to `max / min`, combines samples that never ran together; it is used only
//! when the sample counts differ (so rounds cannot be matched), and is wider.

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

/// The smallest and the largest of a set of figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Range {
    /// The smallest.
    pub(crate) min: f64,
    /// The largest.
    pub(crate) max: f64,
}

impl Range {
    /// The range of `values`; None if empty.
    pub(crate) fn of(values: &[f64]) -> Option<Range> {
        let mut it = values.iter().copied();
        let first = it.next()?;
        Some(it.fold(
            Range {
                min: first,
                max: first,
            },
            |r, v| Range {
                min: r.min.min(v),
                max: r.max.max(v),
            },
        ))
    }

    /// This range stretched to include `v`.
    fn including(self, v: f64) -> Range {
        Range {
            min: self.min.min(v),
            max: self.max.max(v),
        }
    }

    /// Half the width of the range relative to `centre` (±x as a fraction), or None when
    /// `centre` is zero.
    pub(crate) fn half_width_of(self, centre: f64) -> Option<f64> {
        (centre != 0.0).then(|| (self.max - self.min) / (2.0 * centre.abs()))
    }

    /// Whether a monotone test `met` gives different answers at the two ends: some run's
    /// figure passes and another's fails.
    pub(crate) fn flips(self, met: impl Fn(f64) -> bool) -> bool {
        met(self.min) != met(self.max)
    }
}

/// `(max - min) / median` of `values`: how far apart the runs are, as a fraction of the
/// figure. None for fewer than two samples or a zero median.
pub(crate) fn relative_spread(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = median(values)?;
    let r = Range::of(values)?;
    (m != 0.0).then(|| (r.max - r.min) / m.abs())
}

/// How a ratio's range was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pairing {
    /// From per-run pairs `num[i] / den[i]` (same number of samples on both sides).
    Paired,
    /// `min(num) / max(den)` to `max(num) / min(den)` (sample counts differ).
    Unpaired,
}

/// The range of the ratio `num / den` over the runs, stretched to include the ratio of
/// the medians (which the table prints, and which the paired range may miss by a hair
/// for an even number of runs). None when a side has no samples or a zero denominator.
pub(crate) fn ratio_range(num: &[f64], den: &[f64]) -> Option<(Range, Pairing)> {
    let centre = median(num)? / nonzero(median(den)?)?;
    let (range, pairing) = if num.len() == den.len() {
        let per_run: Vec<f64> = num
            .iter()
            .zip(den)
            .filter_map(|(&n, &d)| nonzero(d).map(|d| n / d))
            .collect();
        (Range::of(&per_run)?, Pairing::Paired)
    } else {
        let n = Range::of(num)?;
        let d = Range::of(den)?;
        let range = Range {
            min: n.min / nonzero(d.max)?,
            max: n.max / nonzero(d.min)?,
        };
        (range, Pairing::Unpaired)
    };
    Some((range.including(centre), pairing))
}

/// `v` unless it is zero (a denominator).
fn nonzero(v: f64) -> Option<f64> {
    (v != 0.0).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn range_and_relative_spread() {
        let r = Range::of(&[3.0, 1.0, 2.0]).expect("non-empty");
        assert_eq!((r.min, r.max), (1.0, 3.0));
        assert_eq!(r.half_width_of(2.0), Some(0.5));
        assert_eq!(Range::of(&[]), None);
        assert_eq!(relative_spread(&[90.0, 100.0, 110.0]), Some(0.2));
        assert_eq!(relative_spread(&[100.0]), None);
        assert_eq!(relative_spread(&[0.0, 0.0]), None);
    }

    #[test]
    fn paired_ratio_range_cancels_a_drift_both_sides_saw() {
        // The machine got 2x slower in round 2; ember stayed 10% faster in every round.
        let ember = [90.0, 180.0, 90.0];
        let tokio = [100.0, 200.0, 100.0];
        let (r, pairing) = ratio_range(&ember, &tokio).expect("figures");
        assert_eq!(pairing, Pairing::Paired);
        assert!((r.min - 0.9).abs() < 1e-12 && (r.max - 0.9).abs() < 1e-12);
        // Unpaired (different counts), the same drift looks like 0.45x-1.8x.
        let (r, pairing) = ratio_range(&ember, &tokio[..2]).expect("figures");
        assert_eq!(pairing, Pairing::Unpaired);
        assert!((r.min - 0.45).abs() < 1e-12 && (r.max - 1.8).abs() < 1e-12);
    }

    #[test]
    fn ratio_range_includes_the_ratio_of_medians_and_skips_zero_denominators() {
        let (r, _) = ratio_range(&[1.0, 4.0], &[2.0, 2.0]).expect("figures");
        assert_eq!((r.min, r.max), (0.5, 2.0));
        let (r, _) = ratio_range(&[1.0, 1.0, 1.0], &[0.0, 1.0, 1.0]).expect("figures");
        assert_eq!((r.min, r.max), (1.0, 1.0));
        assert_eq!(ratio_range(&[1.0], &[0.0]), None);
        assert_eq!(ratio_range(&[], &[1.0]), None);
    }

    #[test]
    fn flips_when_the_bound_falls_inside() {
        let r = Range { min: 0.9, max: 1.1 };
        assert!(r.flips(|v| v <= 1.0));
        assert!(!r.flips(|v| v <= 1.2));
        assert!(!r.flips(|v| v >= 0.8));
    }
}
