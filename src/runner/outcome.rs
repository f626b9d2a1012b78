//! What a trial came to. Each outcome means one thing: Pass, Fail (the
//! target is wrong), Error (the harness or transport broke: no verdict),
//! Skipped (not run, with the reason).

use std::time::Duration;

use serde::Serialize;

use crate::client::Unanswered;
use crate::spec::RuleId;
use crate::verdict::Check;

/// One way the target's answer differed from the expectation: a finding
/// of the verdict engine, placed in its step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The step's label (`step 2`, or its name).
    pub step: String,
    /// The check that failed (the verdict engine's table).
    pub check: Check,
    /// Which part, where the check is about one (`i-1.instance_type`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// What the step sent (method, path, parameters, signed headers;
    /// signatures redacted), on the first mismatch of a step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<String>,
    pub expected: String,
    pub got: String,
    /// The rule the step expected, when the mismatch is about one step's
    /// expectation (reports name it with its summary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleId>,
}

impl Mismatch {
    /// `step 1: host-id: expected …, got …` (`state of i-1.field` for a
    /// part).
    pub fn line(&self) -> String {
        let what = match &self.at {
            Some(at) => format!("{} of {at}", self.check),
            None => self.check.to_string(),
        };
        format!("{}: {what}: expected {}, got {}", self.step, self.expected, self.got)
    }
}

/// Why a trial (or a fuzz case) came to no verdict, by kind: the suite's
/// circuit breaker and the load controller's retries decide on the kind,
/// which is classified from the transport's typed error, never from the
/// words. Each variant's text is the message reports print, rendered once
/// (with its cause chain) where the error arose.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HarnessError {
    /// No answer (timed out, refused, reset) and nothing else sent to the
    /// target was answered meanwhile: the target is down. Trips the
    /// suite's circuit breaker.
    #[error("{cause}")]
    TargetDown { cause: String, how: Unanswered },
    /// Connections refused, reset or timed out while other requests were
    /// answered, still after `attempts` tries: the target cannot keep up.
    #[error(
        "{cause} (the target refused or dropped connections under load, {attempts} attempts; a server with a \
         small listen backlog or few threads cannot keep up: retry with fewer at once, e.g. --jobs 1)"
    )]
    Overloaded { cause: String, attempts: u32 },
    /// Not sent: an earlier trial found the target down (its cause).
    #[error("not run: the target stopped answering ({0})")]
    NotSent(String),
    /// Anything else: a world the target would not create, an answer cut
    /// off or too large, a case file that does not load, a harness crash.
    #[error("{0}")]
    Other(String),
}

impl HarnessError {
    /// A transport failure: the target down (until the suite finds it
    /// overloaded) if the request got no answer at all, else another error.
    pub fn of(unanswered: Option<Unanswered>, cause: String) -> Self {
        match unanswered {
            Some(how) => HarnessError::TargetDown { cause, how },
            None => HarnessError::Other(cause),
        }
    }

    /// The text to scrub of secrets (the cause, without fixed words).
    pub(crate) fn text_mut(&mut self) -> &mut String {
        match self {
            HarnessError::NotSent(t) | HarnessError::Other(t) => t,
            HarnessError::TargetDown { cause, .. } | HarnessError::Overloaded { cause, .. } => cause,
        }
    }
}

/// Reports carry an error as its text, `{"cause": "…"}`, as they always did.
impl Serialize for HarnessError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("HarnessError", 1)?;
        st.serialize_field("cause", &self.to_string())?;
        st.end()
    }
}

/// The verdict on one trial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail { mismatches: Vec<Mismatch> },
    Error(HarnessError),
    Skipped { reason: String },
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail { .. } => "fail",
            Outcome::Error(_) => "error",
            Outcome::Skipped { .. } => "skipped",
        }
    }
}

/// The most of one answer's (redacted) body a trial keeps: real answers
/// are under 1 KiB, and a target answering 1 MiB to every request must not
/// make the runner hold, or snapshot, a gigabyte.
pub const KEPT_BODY_BYTES: usize = 16 * 1024;
/// The most of all its answers' bodies one trial keeps (a step repeated
/// many times shares it).
pub const KEPT_TRIAL_BYTES: usize = 64 * 1024;

/// One exchange, kept for snapshots (secrets never enter it: only the
/// answer is recorded, with volatile values redacted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub step: String,
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    /// The redacted body, or its first bytes (see [`KEPT_BODY_BYTES`]).
    pub body: String,
    /// Bytes of the redacted body not kept, counted.
    pub omitted: usize,
}

impl Recorded {
    /// Keeps at most `room` bytes of `body` (cut at a character boundary)
    /// and counts the rest.
    pub fn keep(&mut self, mut body: String, room: usize) {
        let mut cut = room.min(body.len());
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        self.omitted = body.len() - cut;
        body.truncate(cut);
        body.shrink_to_fit();
        self.body = body;
    }
}

/// A trial's result.
#[derive(Clone, Debug, Serialize)]
pub struct TrialResult {
    pub id: String,
    pub file: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Aliases used and other things worth a look that are not failures.
    pub warnings: Vec<String>,
    #[serde(serialize_with = "as_millis")]
    pub duration: Duration,
    #[serde(skip)]
    pub recorded: Vec<Recorded>,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl TrialResult {
    /// The text of a failure or error, every mismatch on its own line.
    pub fn details(&self) -> String {
        match &self.outcome {
            Outcome::Pass => String::new(),
            Outcome::Fail { mismatches } => mismatches
                .iter()
                .map(|m| match &m.sent {
                    Some(sent) => format!("{}\n  sent: {sent}", m.line()),
                    None => m.line(),
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Outcome::Error(e) => e.to_string(),
            Outcome::Skipped { reason } => reason.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_reports_as_its_text_under_cause_whatever_its_kind() {
        let down = HarnessError::of(Some(Unanswered::TimedOut), "step 1: timed out".into());
        assert!(matches!(down, HarnessError::TargetDown { .. }));
        assert!(matches!(HarnessError::of(None, "x".into()), HarnessError::Other(_)));
        let overloaded = HarnessError::Overloaded {
            cause: "step 1: reset".into(),
            attempts: 5,
        };
        for (e, text) in [
            (down, "step 1: timed out".to_string()),
            (
                HarnessError::NotSent("t: x".into()),
                "not run: the target stopped answering (t: x)".into(),
            ),
            (overloaded.clone(), overloaded.to_string()),
        ] {
            let json = serde_json::to_value(Outcome::Error(e)).unwrap();
            assert_eq!(json, serde_json::json!({"outcome": "error", "cause": text}));
        }
        let text = overloaded.to_string();
        assert!(text.starts_with("step 1: reset (") && text.contains("5 attempts") && text.contains("--jobs"));
    }
}
