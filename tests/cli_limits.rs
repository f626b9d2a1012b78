//! Extreme values of every numeric flag (issue 11 item 11): a usage error
//! naming the flag and its range, exit 2, never a panic (exit 101). clap
//! refuses them before anything runs, so each case costs milliseconds.

use std::process::Command;

const EXTREMES: &[&[&str]] = &[
    &["run", "--timeout", "1e300"],
    &["run", "--timeout", "0"],
    &["run", "--timeout", "NaN"],
    &["run", "--timeout=-1"],
    &["run", "--jobs", "18446744073709551615"],
    &["run", "--jobs", "0"],
    &["run", "--deadline", "18446744073709551615s"],
    &["run", "--deadline", "0s"],
    &["run", "--progress", "18446744073709551615"],
    &["serve", "--max-signed-headers", "18446744073709551615"],
    &["serve", "--max-signed-headers", "5"],
    &["serve", "--max-canonical-request-bytes", "18446744073709551615"],
    &["fuzz", "--time", "18446744073709551615s"],
    &["fuzz", "--time", "0s"],
    &["fuzz", "--time", "18446744073709551615h"],
    &["fuzz", "--runs", "0"],
    &["fuzz", "--runs", "18446744073709551616"],
    &["fuzz", "--jobs", "18446744073709551615"],
    &["fuzz", "--max-findings", "18446744073709551615"],
    &["fuzz", "--timeout", "1e300"],
    &["fuzz", "--seed=-1"],
    &["bench", "--clients", "0"],
    &["bench", "--clients", "18446744073709551615"],
    &["bench", "--requests", "18446744073709551615"],
    &["bench", "--suite-rounds", "18446744073709551615"],
];

#[test]
fn every_extreme_flag_value_is_a_usage_error_naming_the_flag() {
    for args in EXTREMES {
        let out = Command::new(env!("CARGO_BIN_EXE_modspec"))
            .args(*args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let shown = args.join(" ");
        assert_eq!(out.status.code(), Some(2), "{shown}: {err}");
        assert!(!err.contains("panicked"), "{shown}: {err}");
        let flag = args[1].split('=').next().unwrap_or_default();
        assert!(err.contains("invalid value") && err.contains(flag), "{shown}: {err}");
    }
}

#[test]
fn the_largest_accepted_values_run() {
    // At the top of their ranges the flags work (bounded by --runs here).
    let out = Command::new(env!("CARGO_BIN_EXE_modspec"))
        .args([
            "fuzz",
            "--runs",
            "20",
            "--time",
            "720h",
            "--jobs",
            "1024",
            "--timeout",
            "3600",
        ])
        .args([
            "--out",
            &std::env::temp_dir()
                .join("modspec-limits-findings")
                .display()
                .to_string(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("cases=20"), "{text}");
}
