//! Range checks of the numeric flags, as clap value parsers: a value out of
//! range is a usage error (exit 2, naming the flag and the range), never a
//! panic or an allocation further down.

use std::time::Duration;

use clap::builder::RangedU64ValueParser;

/// `--jobs`, `--clients`: tasks at once.
pub(crate) const MAX_JOBS: u64 = 1024;
/// `--timeout`: seconds per request.
pub(crate) const MAX_TIMEOUT_SECS: f64 = 3600.0;
/// `--timeout`: below a millisecond a timeout rounds to nothing.
pub(crate) const MIN_TIMEOUT_SECS: f64 = 0.001;
/// `fuzz --time`: thirty days.
pub(crate) const MAX_FUZZ_TIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// 1..=[`MAX_JOBS`].
pub(crate) fn jobs() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(1..=MAX_JOBS)
}

/// A count in `min..=max`.
pub(crate) fn count(min: u64, max: u64) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(min..=max)
}

/// Seconds per request, [`MIN_TIMEOUT_SECS`]..=[`MAX_TIMEOUT_SECS`].
pub(crate) fn timeout_seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if v.is_finite() && (MIN_TIMEOUT_SECS..=MAX_TIMEOUT_SECS).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{s} is not in {MIN_TIMEOUT_SECS}..={MAX_TIMEOUT_SECS} seconds"))
    }
}

/// `90s`, `10m`, `1h`, at most [`MAX_FUZZ_TIME`].
pub(crate) fn fuzz_time(s: &str) -> Result<Duration, String> {
    let d = modspec::fuzz::parse_duration(s).map_err(|e| e.to_string())?;
    if d.is_zero() || d > MAX_FUZZ_TIME {
        return Err(format!("{s} is not between 1s and {}h", MAX_FUZZ_TIME.as_secs() / 3600));
    }
    Ok(d)
}

/// `run --deadline`: `90s`, `10m`, `1h`, like `fuzz --time`.
pub(crate) fn deadline(s: &str) -> Result<Duration, String> {
    fuzz_time(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_are_refused_with_the_range() {
        assert!(timeout_seconds("1e300").unwrap_err().contains("0.001..=3600"));
        assert!(timeout_seconds("NaN").is_err());
        assert!(timeout_seconds("-1").is_err());
        assert_eq!(timeout_seconds("2.5"), Ok(2.5));
        assert!(fuzz_time("18446744073709551615s").unwrap_err().contains("720h"));
        assert!(fuzz_time("0s").is_err());
        assert_eq!(fuzz_time("10m"), Ok(Duration::from_secs(600)));
        assert!(deadline("99999999h").unwrap_err().contains("720h"));
        assert_eq!(deadline("90s"), Ok(Duration::from_secs(90)));
    }
}
