//! Latency summaries for `bench-call`.

use std::fmt;

/// Percentiles and mean of a set of call latencies, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub calls: usize,
    /// Median.
    pub p50_us: f64,
    /// 99th percentile (nearest rank).
    pub p99_us: f64,
    /// Arithmetic mean.
    pub mean_us: f64,
}

impl Summary {
    /// Summarizes `samples_us` (sorted in place); all zero when empty.
    pub fn of(samples_us: &mut [f64]) -> Summary {
        samples_us.sort_by(f64::total_cmp);
        let n = samples_us.len();
        let mean_us = if n == 0 {
            0.0
        } else {
            samples_us.iter().sum::<f64>() / n as f64
        };
        Summary {
            calls: n,
            p50_us: nearest_rank(samples_us, 50),
            p99_us: nearest_rank(samples_us, 99),
            mean_us,
        }
    }
}

/// The nearest-rank percentile of sorted `samples`.
fn nearest_rank(sorted: &[f64], percent: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "calls={} p50_us={:.2} p99_us={:.2} mean_us={:.2}",
            self.calls, self.p50_us, self.p99_us, self.mean_us
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hundred_samples() {
        let mut samples: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = Summary::of(&mut samples);
        assert_eq!(
            s.to_string(),
            "calls=100 p50_us=50.00 p99_us=99.00 mean_us=50.50"
        );
    }

    #[test]
    fn one_sample() {
        let s = Summary::of(&mut [12.25]);
        assert_eq!(
            s.to_string(),
            "calls=1 p50_us=12.25 p99_us=12.25 mean_us=12.25"
        );
    }

    #[test]
    fn no_samples() {
        assert_eq!(
            Summary::of(&mut []).to_string(),
            "calls=0 p50_us=0.00 p99_us=0.00 mean_us=0.00"
        );
    }
}
