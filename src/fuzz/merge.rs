//! `modspec fuzz merge DIR… --out DIR [--baseline DIR]`: one deduplicated
//! set of findings from many shards or nights.
//!
//! Findings are grouped by key (the rule expected and the check that
//! failed, see `record::finding_key`); of each group the smallest
//! reproducer is kept (fewest steps, then shortest scenario) and the
//! counts of cases are added up. A key absent from the baseline's findings
//! is new. The output folder holds the kept findings' files, `merged.json`
//! (every key, its count, whether new) and `new.txt` (the new keys, one a
//! line), so a nightly job can upload them and a team can commit the
//! folder as tomorrow's baseline.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::record::FindingRecord;

/// The suffix of a finding's record file.
pub const RECORD_SUFFIX: &str = ".finding.json";

/// Larger files are not finding records; refusing them bounds memory.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// Why a merge could not be done (exit 2 in the CLI).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a finding record: {reason}")]
    Record { path: PathBuf, reason: String },
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
}

/// One finding found in an input folder.
#[derive(Clone, Debug)]
pub(crate) struct Loaded {
    pub record: FindingRecord,
    pub dir: PathBuf,
    pub scenario_len: usize,
}

/// One key of the merged set.
#[derive(Clone, Debug, Serialize)]
pub struct MergedFinding {
    pub key: String,
    /// Cases that showed it, over every input.
    pub count: u64,
    /// Absent from the baseline (every finding is new without one).
    pub new: bool,
    /// Inputs (folders) that had it.
    pub seen_in: usize,
    /// The kept reproducer's file stem in the output folder.
    pub name: String,
    pub seed: u64,
    pub shard: String,
    pub case: u64,
    pub steps: usize,
    pub summary: String,
}

/// What `merge` did.
#[derive(Clone, Debug, Serialize)]
pub struct MergeReport {
    pub inputs: usize,
    /// Finding files read over all inputs.
    pub read: usize,
    pub baseline: Option<usize>,
    pub findings: Vec<MergedFinding>,
}

impl MergeReport {
    pub fn new_keys(&self) -> Vec<&str> {
        self.findings.iter().filter(|f| f.new).map(|f| f.key.as_str()).collect()
    }
}

/// Reads every `*.finding.json` directly inside `dir`.
pub(crate) fn load_dir(dir: &Path) -> Result<Vec<Loaded>, MergeError> {
    let read = |source| MergeError::Read {
        path: dir.to_path_buf(),
        source,
    };
    if !dir.is_dir() {
        return Err(MergeError::NotAFolder(dir.to_path_buf()));
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(RECORD_SUFFIX))
        })
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let record: FindingRecord = serde_json::from_slice(&read_small(&path)?).map_err(|e| MergeError::Record {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let scenario = dir.join(&record.scenario);
        if !is_plain_name(&record.scenario) || !is_plain_name(&record.exchange) {
            return Err(MergeError::Record {
                path,
                reason: "its file names must be plain names in the same folder".into(),
            });
        }
        let scenario_len = read_small(&scenario)?.len();
        out.push(Loaded {
            record,
            dir: dir.to_path_buf(),
            scenario_len,
        });
    }
    Ok(out)
}

fn is_plain_name(name: &str) -> bool {
    let p = Path::new(name);
    p.components().count() == 1 && p.file_name().is_some_and(|n| n == name)
}

/// A regular file (links not followed) of at most `MAX_FILE_BYTES`.
fn read_small(path: &Path) -> Result<Vec<u8>, MergeError> {
    let err = |source| MergeError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::symlink_metadata(path).map_err(err)?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return Err(MergeError::Record {
            path: path.to_path_buf(),
            reason: format!("not a regular file of at most {MAX_FILE_BYTES} bytes"),
        });
    }
    std::fs::read(path).map_err(err)
}

/// The keys of a baseline folder (the findings of a previous night or a
/// previous merge).
pub fn baseline_keys(dir: &Path) -> Result<BTreeSet<String>, MergeError> {
    Ok(load_dir(dir)?.into_iter().map(|l| l.record.key).collect())
}

/// Merges `inputs` into `out` (created if needed).
pub fn merge(inputs: &[PathBuf], out: &Path, baseline: Option<&Path>) -> Result<MergeReport, MergeError> {
    let base = baseline.map(baseline_keys).transpose()?;
    let mut read = 0;
    // key -> (kept, total count, inputs that had it)
    let mut groups: BTreeMap<String, (Loaded, u64, BTreeSet<usize>)> = BTreeMap::new();
    for (n, dir) in inputs.iter().enumerate() {
        for l in load_dir(dir)? {
            read += 1;
            match groups.get_mut(&l.record.key) {
                None => {
                    let count = l.record.count;
                    groups.insert(l.record.key.clone(), (l, count, BTreeSet::from([n])));
                }
                Some((kept, count, seen)) => {
                    *count = count.saturating_add(l.record.count);
                    seen.insert(n);
                    if l.record.size_rank(l.scenario_len) < kept.record.size_rank(kept.scenario_len) {
                        *kept = l;
                    }
                }
            }
        }
    }
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MergeError::Write { path, source }
    };
    std::fs::create_dir_all(out).map_err(write_err(out))?;
    let mut findings = Vec::new();
    for (key, (kept, count, seen)) in groups {
        let mut record = kept.record.clone();
        record.count = count;
        let stem = record
            .scenario
            .strip_suffix(".yaml")
            .unwrap_or(&record.scenario)
            .to_string();
        for name in [&record.scenario, &record.exchange] {
            let to = out.join(name);
            let from = kept.dir.join(name);
            // Merging a folder into itself leaves its files as they are.
            if from != to {
                std::fs::write(&to, read_small(&from)?).map_err(write_err(&to))?;
            }
        }
        let path = out.join(format!("{stem}{RECORD_SUFFIX}"));
        let json = serde_json::to_vec_pretty(&record).unwrap_or_default();
        std::fs::write(&path, json).map_err(write_err(&path))?;
        findings.push(MergedFinding {
            new: base.as_ref().is_none_or(|b| !b.contains(&key)),
            key,
            count,
            seen_in: seen.len(),
            name: stem,
            seed: record.seed,
            shard: record.shard,
            case: record.case,
            steps: record.steps,
            summary: record.summary,
        });
    }
    let report = MergeReport {
        inputs: inputs.len(),
        read,
        baseline: base.as_ref().map(BTreeSet::len),
        findings,
    };
    let path = out.join("merged.json");
    let json = serde_json::to_vec_pretty(&report).unwrap_or_default();
    std::fs::write(&path, json).map_err(write_err(&path))?;
    let path = out.join("new.txt");
    let mut text = report.new_keys().join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    std::fs::write(&path, text).map_err(write_err(&path))?;
    Ok(report)
}
