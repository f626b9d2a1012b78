//! Parses one case file with located errors and expands it into trials
//! (one per `examples` row), with worlds built and `${vars}` filled. Rows
//! share the worlds they do not patch (one `Arc` each, never a copy).
//!
//! A broken file becomes a [`LoadError`] beside the trials of the others:
//! loading never stops at the first bad file (see `library.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::LoadError;
use super::model::{Capability, ExampleRow, ScenarioFile, Step};
use super::patch::build_world;
use super::resolve::resolve_step;
use super::spans::{Locator, Spans};
use super::trial::Trial;
use crate::spec::{RuleId, World, rule_hint};

/// The file of shared world defaults, at the root of the cases folder.
pub const DEFAULT_WORLD_FILE: &str = "world.yaml";

/// Parses one case file's text into its trials.
pub fn load_text(id: &str, path: &Path, text: &str, defaults: &World) -> Result<Vec<Trial>, LoadError> {
    super::walk::check_limits(path, text)?;
    if text.trim().is_empty() {
        return Err(LoadError::new(
            path,
            (1, 1),
            "the file is empty: a scenario needs `description` and `steps`",
        ));
    }
    let file: ScenarioFile = serde_yaml::from_str(text).map_err(|e| LoadError::from_yaml(path, &e))?;
    let at = Locator {
        path,
        spans: Spans::index(text),
    };
    let rules = parse_rules(&file, &at)?;
    check_shape(&file, &at)?;
    check_examples(&file, &at)?;
    let needs: BTreeSet<Capability> = file
        .needs
        .clone()
        .unwrap_or_else(|| vec![Capability::Core])
        .into_iter()
        .collect();
    let rows: Vec<Option<(usize, &ExampleRow)>> = if file.examples.is_empty() {
        vec![None]
    } else {
        file.examples.iter().enumerate().map(Some).collect()
    };
    let mut worlds = RowWorlds::new(&file, defaults);
    rows.into_iter()
        .map(|row| {
            let worlds = worlds.for_row(row, &at)?;
            let mut trial = trial_for_row(&file, row, worlds, &at)?;
            trial.id = match row {
                Some((_, r)) => format!("{id}::{}", r.name),
                None => id.to_string(),
            };
            trial.file = path.to_path_buf();
            trial.rules = rules.clone();
            trial.needs = needs.clone();
            Ok(trial)
        })
        .collect()
}

/// The checks on the file's shape that serde cannot express.
fn check_shape(file: &ScenarioFile, at: &Locator) -> Result<(), LoadError> {
    for (i, step) in file.steps.iter().enumerate() {
        check_step_shape(step).map_err(|m| at.in_step(i, "", m))?;
    }
    if file.instance.is_some() && file.needs.as_ref().is_none_or(|n| !n.is_empty()) {
        return Err(at.at_key("instance", "`instance` is for live cases only (`needs: []`)"));
    }
    if file.steps.is_empty() {
        return Err(at.at_key("steps", "a scenario needs at least one step"));
    }
    Ok(())
}

/// Every examples row has the first row's columns, and a name of its own.
fn check_examples(file: &ScenarioFile, at: &Locator) -> Result<(), LoadError> {
    let columns: BTreeSet<&String> = file
        .examples
        .first()
        .map(|r| r.vars.keys().collect())
        .unwrap_or_default();
    let mut names = BTreeSet::new();
    for (r, row) in file.examples.iter().enumerate() {
        let name = format!("examples.{r}.name");
        let these: BTreeSet<&String> = row.vars.keys().collect();
        if let Some(missing) = columns.difference(&these).next() {
            let m = format!("examples row `{}` has no column `{missing}`", row.name);
            return Err(at.at_key(&name, m));
        }
        if let Some(extra) = these.difference(&columns).next() {
            let m = format!("examples row `{}` has a column `{extra}` the first row lacks", row.name);
            return Err(at.at_key(&format!("examples.{r}.{extra}"), m));
        }
        if !names.insert(row.name.as_str()) {
            return Err(at.at_key(&name, format!("duplicate examples row `{}`", row.name)));
        }
    }
    Ok(())
}

/// The worlds of a file's rows. Rows share the worlds they do not patch;
/// each is built on first use, in the order a single row would need them,
/// so the first error found is the one a row-by-row build would meet.
struct RowWorlds<'a> {
    file: &'a ScenarioFile,
    defaults: &'a World,
    main: Option<Arc<World>>,
    named: Option<BTreeMap<String, Arc<World>>>,
}

impl<'a> RowWorlds<'a> {
    fn new(file: &'a ScenarioFile, defaults: &'a World) -> Self {
        RowWorlds {
            file,
            defaults,
            main: None,
            named: None,
        }
    }

    /// The main world (`""`) and the named ones, for one row.
    fn for_row(
        &mut self,
        row: Option<(usize, &ExampleRow)>,
        at: &Locator,
    ) -> Result<BTreeMap<String, Arc<World>>, LoadError> {
        let invalid = |node: String| {
            move |e| {
                at.at_key(
                    &node,
                    format!("world (the patch merged over world.yaml) is invalid at {e}"),
                )
            }
        };
        let main = match (row, &self.main) {
            (Some((r, ExampleRow { world: Some(w), .. })), _) => {
                let node = format!("examples.{r}.world");
                Arc::new(build_world(self.defaults, &[&self.file.world, w]).map_err(invalid(node))?)
            }
            (_, Some(m)) => m.clone(),
            (_, None) => {
                let m = Arc::new(build_world(self.defaults, &[&self.file.world]).map_err(invalid("world".into()))?);
                self.main.get_or_insert(m).clone()
            }
        };
        if self.named.is_none() {
            let mut named = BTreeMap::new();
            for (name, patch) in &self.file.worlds {
                let w = build_world(self.defaults, &[patch])
                    .map_err(|e| at.at_key(&format!("worlds.{name}"), format!("worlds.{name}: {e}")))?;
                named.insert(name.clone(), Arc::new(w));
            }
            self.named = Some(named);
        }
        let mut worlds = self.named.clone().unwrap_or_default();
        worlds.insert(String::new(), main);
        Ok(worlds)
    }
}

/// One row's trial, its `${vars}` filled; the caller sets what every row
/// shares (id, file, rules, needs).
fn trial_for_row(
    file: &ScenarioFile,
    row: Option<(usize, &ExampleRow)>,
    worlds: BTreeMap<String, Arc<World>>,
    at: &Locator,
) -> Result<Trial, LoadError> {
    let row = row.map(|(_, r)| r);
    let vars: BTreeMap<String, String> = row
        .map(|r| r.vars.iter().map(|(k, v)| (k.clone(), v.to_text())).collect())
        .unwrap_or_default();
    let fill = |s: &str| substitute(s, &vars).map_err(|v| at.unknown_var(&v, row));
    let steps = file
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| resolve_step(i, step, &fill, &worlds, at))
        .collect::<Result<_, _>>()?;
    Ok(Trial {
        id: String::new(),
        file: PathBuf::new(),
        description: fill(&file.description)?,
        rules: Vec::new(),
        tags: file.tags.clone(),
        needs: BTreeSet::new(),
        worlds,
        steps,
        instance: file.instance.clone(),
    })
}

fn parse_rules(file: &ScenarioFile, at: &Locator) -> Result<Vec<RuleId>, LoadError> {
    file.rules
        .iter()
        .enumerate()
        .map(|(k, r)| {
            r.parse::<RuleId>()
                .map_err(|e| at.at(&format!("rules.{k}"), format!("rules: {e}{}", rule_hint(r))))
        })
        .collect()
}

fn check_step_shape(step: &Step) -> Result<(), String> {
    match (&step.advance, &step.request, &step.expect) {
        (Some(_), None, None) => Ok(()),
        (None, Some(_), Some(_)) => Ok(()),
        (None, Some(_), None) => Err("a request step needs `expect`".into()),
        (None, None, Some(_)) => Err("`expect` without a `request`".into()),
        (None, None, None) => Err("a step needs `request` + `expect`, or `advance`".into()),
        (Some(_), _, _) => Err("`advance` cannot be combined with `request`/`expect` in one step".into()),
    }
}

/// Replaces `${name}` by its value; an unknown name is returned as Err.
pub(crate) fn substitute(s: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        match vars.get(name) {
            Some(v) => out.push_str(v),
            None => return Err(name.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::TrialStep;

    fn load(text: &str) -> Result<Vec<Trial>, LoadError> {
        let defaults = crate::scenario::builtin_default_world().unwrap();
        load_text("x", Path::new("x.yaml"), text, defaults)
    }

    #[test]
    fn one_of_lists_error_rules_only_and_instance_is_for_live_cases() {
        let step = |expect: &str| {
            format!(
                "description: d\nneeds: []\ninstance: i-running\nsteps:\n  - request: {{params: {{InstanceId: i-running, DryRun: \"true\", InternetMaxBandwidthOut: 1}}}}\n    expect: {expect}\n"
            )
        };
        let trials = load(&step("{one_of: [D1, S2, B3]}")).unwrap();
        let TrialStep::Request { expect, .. } = &trials[0].steps[0] else {
            panic!("a request step")
        };
        assert_eq!(expect.rules().collect::<Vec<_>>(), [RuleId::D1, RuleId::S2, RuleId::B3]);
        assert_eq!(trials[0].instance.as_deref(), Some("i-running"));
        for (bad, why) in [
            ("{one_of: [D1, E1]}", "cannot list E1"),
            ("{one_of: [D1, I3]}", "cannot list I3"),
            ("{one_of: []}", "lists no rule"),
            ("{rule: D1, one_of: [S2]}", "not both"),
            ("{one_of: [D1, Q9]}", "Q9"),
        ] {
            let e = load(&step(bad)).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let not_live = step("D1").replace("needs: []\n", "");
        let e = load(&not_live).unwrap_err().to_string();
        assert!(e.contains("live cases only"), "{e}");
    }

    #[test]
    fn errors_point_at_the_node_they_are_about_not_at_similar_text() {
        // Each text below also holds what the error is about earlier in
        // the file (in a comment or another field): a search of the raw
        // text would point there.
        for (text, at, why) in [
            (
                "# ${v} is explained below\ndescription: d\nsteps:\n  - request: {params: {InstanceId: \"${v}\"}}\n    expect: P1\n",
                (4, 36),
                "`${v}` is used",
            ),
            (
                "description: rules Q9\nrules: [P3, Q9]\nsteps:\n  - advance: 1\n",
                (2, 13),
                "Q9",
            ),
            (
                "description: d\nsteps:\n  - advance: 1\n  - request: {params: {}}\n    expect: {one_of: [D1, E1]}\n",
                (5, 27),
                "cannot list E1",
            ),
            (
                "description: small\nsteps:\n  - advance: 1\nexamples:\n  - {name: small, v: 1}\n  - {name: big, v: 2}\n  - {name: small, v: 3}\n",
                (7, 6),
                "duplicate examples row `small`",
            ),
            (
                "description: d\nsteps:\n  - request: {params: {}}\n    expect:\n      rule: E1\n      state: {Statu: running}\n",
                (6, 15),
                "did you mean `status`",
            ),
        ] {
            let e = load(text).unwrap_err();
            assert!(e.message.contains(why), "{text}: {e}");
            assert_eq!((e.line, e.column), at, "{text}: {e}");
        }
    }

    #[test]
    fn rows_share_the_worlds_they_do_not_patch() {
        let text = "description: d\nrules: [P3]\nworlds: {other: {}}\nsteps:\n  - request: {params: {InstanceId: i-running, InternetMaxBandwidthOut: \"${v}\"}}\n    expect: P3\nexamples:\n  - {name: a, v: \"101\"}\n  - {name: b, v: \"102\"}\n  - {name: c, v: \"103\", world: {account: {balance_sufficient: false}}}\n";
        let defaults = crate::scenario::builtin_default_world().unwrap();
        let trials = load_text("x", Path::new("x.yaml"), text, defaults).unwrap();
        let [a, b, c] = trials.as_slice() else {
            panic!("three rows")
        };
        assert!(
            Arc::ptr_eq(&a.worlds[""], &b.worlds[""]),
            "unpatched rows share one world"
        );
        assert!(
            !Arc::ptr_eq(&a.worlds[""], &c.worlds[""]),
            "a row's own patch gets its own world"
        );
        assert!(!c.worlds[""].account.balance_sufficient);
        assert!(
            Arc::ptr_eq(&a.worlds["other"], &c.worlds["other"]),
            "named worlds are shared by every row"
        );
    }
}
