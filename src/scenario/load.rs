//! Parses one case file with located errors and expands it into trials
//! (one per `examples` row), with worlds built and `${vars}` filled. Rows
//! share the worlds they do not patch (one `Arc` each, never a copy).
//!
//! A broken file becomes a [`LoadError`] beside the trials of the others:
//! loading never stops at the first bad file (see `library.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{LoadError, locate};
use super::model::{Capability, Expect, ExpectFull, ParamValue, RequestSpec, ScenarioFile, Step};
use super::patch::build_world;
use crate::spec::{INSTANCE_FIELDS, RuleId, World, rule_hint};

/// The file of shared world defaults, at the root of the cases folder.
pub const DEFAULT_WORLD_FILE: &str = "world.yaml";

/// One runnable scenario (or one row of its examples).
#[derive(Clone, Debug)]
pub struct Trial {
    /// `path/without/extension` or `path::row` for an examples row.
    pub id: String,
    pub file: PathBuf,
    pub description: String,
    pub rules: Vec<RuleId>,
    pub tags: Vec<String>,
    /// Declared capabilities (empty: live).
    pub needs: BTreeSet<Capability>,
    /// The main world (`""`) and the named ones, shared by the rows of a
    /// file that do not patch them.
    pub worlds: BTreeMap<String, Arc<World>>,
    pub steps: Vec<TrialStep>,
    /// The world instance standing for `--instance-id` (live cases).
    pub instance: Option<String>,
}

/// A step with its variables filled in.
#[derive(Clone, Debug)]
pub enum TrialStep {
    Advance(u64),
    Request {
        label: String,
        request: Box<RequestSpec>,
        expect: Box<Expectation>,
        repeat: u32,
    },
}

/// A resolved expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The rule that must fire (the first of `one_of`).
    pub rule: RuleId,
    /// The other rules of `one_of`, any of which may fire instead; empty
    /// for an exact expectation.
    pub alternatives: Vec<RuleId>,
    pub full: ExpectFull,
}

impl Expectation {
    /// An exact expectation: this rule and no other.
    pub fn exact(rule: RuleId, full: ExpectFull) -> Self {
        Expectation {
            rule,
            alternatives: Vec::new(),
            full,
        }
    }

    /// Every rule that may fire: `rule`, then the alternatives.
    pub fn rules(&self) -> impl Iterator<Item = RuleId> + '_ {
        std::iter::once(self.rule).chain(self.alternatives.iter().copied())
    }
}

/// Everything found under a cases folder.
#[derive(Debug, Default)]
pub struct Library {
    pub trials: Vec<Trial>,
    pub errors: Vec<LoadError>,
}

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
    let err = |needle: &str, msg: String| {
        // Prefer the row's `name: x` over the first stray occurrence of `x`.
        let named = format!("name: {needle}");
        let at = if text.contains(&named) {
            locate(text, &named)
        } else {
            locate(text, needle)
        };
        LoadError::new(path, at, msg)
    };
    let rules = parse_rules(&file, path, text)?;
    for (i, step) in file.steps.iter().enumerate() {
        check_step_shape(step).map_err(|m| err("steps:", format!("steps[{i}]: {m}")))?;
    }
    if file.instance.is_some() && file.needs.as_ref().is_none_or(|n| !n.is_empty()) {
        return Err(err(
            "instance:",
            "`instance` is for live cases only (`needs: []`)".into(),
        ));
    }
    if file.steps.is_empty() {
        return Err(err("steps:", "a scenario needs at least one step".into()));
    }
    let columns: BTreeSet<&String> = file
        .examples
        .first()
        .map(|r| r.vars.keys().collect())
        .unwrap_or_default();
    let mut names = BTreeSet::new();
    for row in &file.examples {
        let these: BTreeSet<&String> = row.vars.keys().collect();
        if let Some(missing) = columns.difference(&these).next() {
            return Err(err(
                &row.name,
                format!("examples row `{}` has no column `{missing}`", row.name),
            ));
        }
        if let Some(extra) = these.difference(&columns).next() {
            return Err(err(
                &row.name,
                format!("examples row `{}` has a column `{extra}` the first row lacks", row.name),
            ));
        }
        if !names.insert(row.name.as_str()) {
            return Err(err(&row.name, format!("duplicate examples row `{}`", row.name)));
        }
    }
    let needs: BTreeSet<Capability> = file
        .needs
        .clone()
        .unwrap_or_else(|| vec![Capability::Core])
        .into_iter()
        .collect();
    let rows: Vec<Option<&super::model::ExampleRow>> = if file.examples.is_empty() {
        vec![None]
    } else {
        file.examples.iter().map(Some).collect()
    };
    let world_error = |e| {
        err(
            "world:",
            format!("world (the patch merged over world.yaml) is invalid at {e}"),
        )
    };
    // Built on first use, in the order a single row would need them, so
    // the first error found is the one a row-by-row build would meet.
    let mut shared_main: Option<Arc<World>> = None;
    let mut shared: Option<BTreeMap<String, Arc<World>>> = None;
    let mut trials = Vec::new();
    for row in rows {
        let vars: BTreeMap<String, String> = row
            .map(|r| r.vars.iter().map(|(k, v)| (k.clone(), v.to_text())).collect())
            .unwrap_or_default();
        let fill = |s: &str| substitute(s, &vars).map_err(|v| err(&format!("${{{v}}}"), unknown_var(&v, row)));
        let main = match (row.and_then(|r| r.world.as_ref()), &shared_main) {
            (Some(w), _) => Arc::new(build_world(defaults, &[&file.world, w]).map_err(world_error)?),
            (None, Some(m)) => m.clone(),
            (None, None) => {
                let m = Arc::new(build_world(defaults, &[&file.world]).map_err(world_error)?);
                shared_main.get_or_insert(m).clone()
            }
        };
        if shared.is_none() {
            let mut named = BTreeMap::new();
            for (name, patch) in &file.worlds {
                let w = build_world(defaults, &[patch]).map_err(|e| err(name, format!("worlds.{name}: {e}")))?;
                named.insert(name.clone(), Arc::new(w));
            }
            shared = Some(named);
        }
        let mut worlds = shared.clone().unwrap_or_default();
        worlds.insert(String::new(), main);
        let mut steps = Vec::new();
        for (i, step) in file.steps.iter().enumerate() {
            steps.push(resolve_step(i, step, &fill, &worlds).map_err(|e| match e {
                Resolve::Load(e) => e,
                Resolve::Msg(needle, m) => err(&needle, format!("steps[{i}]: {m}")),
            })?);
        }
        let id = match row {
            Some(r) => format!("{id}::{}", r.name),
            None => id.to_string(),
        };
        trials.push(Trial {
            id,
            file: path.to_path_buf(),
            description: fill(&file.description)?,
            rules: rules.clone(),
            tags: file.tags.clone(),
            needs: needs.clone(),
            worlds,
            steps,
            instance: file.instance.clone(),
        });
    }
    Ok(trials)
}

fn unknown_var(v: &str, row: Option<&super::model::ExampleRow>) -> String {
    match row {
        Some(r) => format!("`${{{v}}}` is not a column of the examples (row `{}`)", r.name),
        None => format!("`${{{v}}}` is used but the scenario has no examples table"),
    }
}

fn parse_rules(file: &ScenarioFile, path: &Path, text: &str) -> Result<Vec<RuleId>, LoadError> {
    file.rules
        .iter()
        .map(|r| {
            r.parse::<RuleId>()
                .map_err(|e| LoadError::new(path, locate(text, r), format!("rules: {e}{}", rule_hint(r))))
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

enum Resolve {
    Load(LoadError),
    Msg(String, String),
}

impl From<LoadError> for Resolve {
    fn from(e: LoadError) -> Self {
        Resolve::Load(e)
    }
}

fn resolve_step(
    i: usize,
    step: &Step,
    fill: &dyn Fn(&str) -> Result<String, LoadError>,
    worlds: &BTreeMap<String, Arc<World>>,
) -> Result<TrialStep, Resolve> {
    if let Some(s) = step.advance {
        return Ok(TrialStep::Advance(s));
    }
    let (Some(req), Some(expect)) = (&step.request, &step.expect) else {
        return Err(Resolve::Msg("steps:".into(), "incomplete step".into()));
    };
    let mut request = req.clone();
    request.params = req
        .params
        .iter()
        .map(|(k, v)| Ok((fill(k)?, ParamValue::Text(fill(&v.to_text())?))))
        .collect::<Result<_, LoadError>>()?;
    request.query = req
        .query
        .iter()
        .map(|(k, v)| Ok((fill(k)?, ParamValue::Text(fill(&v.to_text())?))))
        .collect::<Result<_, LoadError>>()?;
    request.pairs = req
        .pairs
        .iter()
        .map(|(k, v)| Ok((fill(k)?, fill(v)?)))
        .collect::<Result<_, LoadError>>()?;
    request.method = req.method.as_deref().map(fill).transpose()?;
    request.headers = req
        .headers
        .iter()
        .map(|(k, v)| Ok((fill(k)?, fill(v)?)))
        .collect::<Result<_, LoadError>>()?;
    request.format = req.format.as_deref().map(fill).transpose()?;
    request.signature = req.signature.as_deref().map(fill).transpose()?;
    if let Some(sig) = &request.signature {
        if request.signature_style().is_none() {
            return Err(Resolve::Msg(
                sig.clone(),
                format!("signature must be v1 or v3, not `{sig}`"),
            ));
        }
    }
    if let Some(name) = &request.as_world {
        if !worlds.contains_key(name) {
            return Err(Resolve::Msg(
                name.clone(),
                format!("`as: {name}` names no world in `worlds`"),
            ));
        }
    }
    if let Some(d) = &mut request.protocol {
        // Every text of the damage may use the examples' columns.
        for map in [&mut d.set, &mut d.after_signing] {
            *map = map
                .iter()
                .map(|(k, v)| Ok((fill(k)?, fill(v)?)))
                .collect::<Result<_, LoadError>>()?;
        }
        for v in d.omit.iter_mut().chain(d.unsigned_headers.iter_mut()) {
            *v = fill(v)?;
        }
        for v in [
            &mut d.nonce,
            &mut d.algorithm,
            &mut d.content_sha256,
            &mut d.body,
            &mut d.timestamp_fraction,
        ]
        .into_iter()
        .flatten()
        {
            *v = fill(v)?;
        }
    }
    let mut full = match expect {
        Expect::Rule(r) => ExpectFull {
            rule: Some(r.clone()),
            ..ExpectFull::default()
        },
        Expect::Full(f) => f.clone(),
    };
    let parse = |text: &str| -> Result<RuleId, Resolve> {
        let text = fill(text)?;
        text.parse::<RuleId>()
            .map_err(|e| Resolve::Msg(text.clone(), format!("expect: {e}{}", rule_hint(&text))))
    };
    let (rule, alternatives) = match (&full.rule, &full.one_of) {
        (Some(_), Some(_)) => {
            return Err(Resolve::Msg(
                "one_of".into(),
                "`expect` takes `rule` or `one_of`, not both".into(),
            ));
        }
        (None, None) => return Err(Resolve::Msg("expect".into(), "`expect` needs a `rule`".into())),
        (Some(r), None) => {
            let rule = parse(r)?;
            full.rule = Some(fill(r)?);
            (rule, Vec::new())
        }
        (None, Some(list)) => {
            let rules = list.iter().map(|r| parse(r)).collect::<Result<Vec<_>, _>>()?;
            if let Some(s) = rules.iter().find(|r| !r.spec().is_error()) {
                return Err(Resolve::Msg(
                    "one_of".into(),
                    format!("expect.one_of cannot list {s}: a success changes state, so it must be expected alone"),
                ));
            }
            let Some((first, rest)) = rules.split_first() else {
                return Err(Resolve::Msg("one_of".into(), "expect.one_of lists no rule".into()));
            };
            (*first, rest.to_vec())
        }
    };
    full.format = full.format.as_deref().map(fill).transpose()?;
    if let Some(f) = &full.format {
        if !f.eq_ignore_ascii_case("json") && !f.eq_ignore_ascii_case("xml") {
            return Err(Resolve::Msg(
                f.clone(),
                format!("expect.format must be json or xml, not `{f}`"),
            ));
        }
    }
    if let Some(state) = &mut full.state {
        for (field, v) in state.iter_mut() {
            if !INSTANCE_FIELDS.contains(&field.as_str()) {
                let hint = crate::util::closest(field, INSTANCE_FIELDS.iter().copied())
                    .map(|h| format!(" (did you mean `{h}`?)"))
                    .unwrap_or_default();
                return Err(Resolve::Msg(
                    field.clone(),
                    format!("expect.state: unknown instance field `{field}`{hint}"),
                ));
            }
            if let serde_json::Value::String(s) = v {
                *s = fill(s)?;
            }
        }
    }
    let label = match &step.name {
        Some(n) => fill(n)?,
        None => format!("step {}", i + 1),
    };
    Ok(TrialStep::Request {
        label,
        request: Box::new(request),
        expect: Box::new(Expectation {
            rule,
            alternatives,
            full,
        }),
        repeat: step.repeat.unwrap_or(1),
    })
}

/// Replaces `${name}` by its value; an unknown name is returned as Err.
pub fn substitute(s: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
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
