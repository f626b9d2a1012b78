//! The oracle: what a conforming implementation answers to one operation
//! request in one world at one moment (behaviour.md section 3, P to E).
//!
//! Architecture invariant: this module does no I/O and never mutates the
//! world. It returns a [`Decision`]; the caller applies its `change`.
//! The gateway rules (G) need the transport and live in the server; this
//! function starts where they end.

mod checks;
mod met;
mod params;
mod planted;

use std::ops::RangeInclusive;

use super::mutants::Mutant;
use super::request::{Fingerprint, ModifyRequest, parse_bool, parse_int, present};
use super::rules::RuleId::{self, *};
use super::state::{Change, TokenRecord, WorldState};

pub use met::rules_met;

/// The answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The rule that fired (I3 or E1 for a success).
    pub rule: RuleId,
    pub status: u16,
    /// The error code; `None` on success.
    pub code: Option<&'static str>,
    pub message: &'static str,
    /// What to apply to the world; `None` leaves it untouched.
    pub change: Option<Change>,
}

impl Decision {
    fn from_rule(rule: RuleId) -> Self {
        let spec = rule.spec();
        Decision {
            rule,
            status: spec.status,
            code: spec.code,
            message: spec.message,
            change: None,
        }
    }

    /// True for 2xx answers.
    pub(crate) fn is_success(&self) -> bool {
        self.code.is_none()
    }
}

/// Seconds after a successful change during which T1 refuses another.
pub const MODIFY_WINDOW_SECONDS: i64 = 300;
/// P3: `InternetMaxBandwidthOut`, Mbit/s.
pub const BANDWIDTH_OUT_RANGE: RangeInclusive<i64> = 0..=100;
/// P4: `InternetMaxBandwidthIn`, Mbit/s.
pub const BANDWIDTH_IN_RANGE: RangeInclusive<i64> = 1..=200;
/// P2: at most this many characters in a `ClientToken`...
pub const TOKEN_MAX_CHARS: usize = 64;
/// P8: the `SystemDisk.Category` values accepted.
pub const SYSTEM_DISK_CATEGORIES: &[&str] = &["cloud_efficiency", "cloud_ssd"];

/// P2: ...each printable ASCII (0x20..=0x7E).
pub fn token_char(c: char) -> bool {
    (' '..='~').contains(&c)
}

/// Decides a request as the specification says.
pub fn decide(world: &WorldState, now: i64, req: &ModifyRequest) -> Decision {
    decide_with(world, now, req, None)
}

/// Decides a request, optionally with one planted bug (see `mutants`).
pub fn decide_with(world: &WorldState, now: i64, req: &ModifyRequest, mutant: Option<Mutant>) -> Decision {
    let cx = Ctx {
        world,
        now,
        req,
        mutant,
    };
    let mut d = match cx.run() {
        Ok(Verdict::Apply(change)) => Decision {
            change: Some(change),
            ..Decision::from_rule(E1)
        },
        Ok(Verdict::Replay) => Decision::from_rule(I3),
        Err(Refusal { rule, change }) => {
            // Only a planted bug attaches a change to a refusal.
            let mut d = Decision::from_rule(rule);
            d.change = change.map(|c| *c);
            d
        }
    };
    if cx.is(Mutant::P4WrongCode) && d.rule == P4 {
        d.code = P3.spec().code;
    }
    if cx.is(Mutant::A3Status400) && d.rule == A3 {
        d.status = 400;
    }
    d
}

enum Verdict {
    Apply(Change),
    Replay,
}

struct Refusal {
    rule: RuleId,
    /// Only mutants ever set this: a refusal that writes state is a bug.
    /// Boxed to keep the error side of every check small.
    change: Option<Box<Change>>,
}

impl From<RuleId> for Refusal {
    fn from(rule: RuleId) -> Self {
        Refusal { rule, change: None }
    }
}

/// What the request asks for, once the P rules have passed.
enum Kind<'a> {
    Type(&'a str),
    Bandwidth { out: Option<i64>, inb: Option<i64> },
}

struct Ctx<'a> {
    world: &'a WorldState,
    now: i64,
    req: &'a ModifyRequest,
    mutant: Option<Mutant>,
}

impl<'a> Ctx<'a> {
    fn is(&self, m: Mutant) -> bool {
        self.mutant == Some(m)
    }

    /// A parameter's value if present; empty counts as absent.
    fn get(&self, v: &'a Option<String>) -> Option<&'a str> {
        present(v)
    }

    fn int(&self, s: &str) -> Option<i64> {
        if self.is(Mutant::P3PlusSignAccepted) {
            return parse_int(s.strip_prefix('+').unwrap_or(s));
        }
        parse_int(s)
    }

    fn run(&self) -> Result<Verdict, Refusal> {
        let kind = self.parameters()?;
        if let Some(v) = self.idempotency()? {
            return Ok(v);
        }
        let id = self.instance_id();
        let Some(inst) = self.world.instance(id) else {
            return Err(R1.into());
        };
        let dry_run = self.get(&self.req.dry_run).and_then(parse_bool) == Some(true);
        for rule in self.instance_order(&kind) {
            if self.fires(rule, inst, &kind) {
                return Err(Refusal {
                    rule,
                    change: self.partial_write(rule, id),
                });
            }
        }
        if dry_run && !self.is(Mutant::D1DryRunApplies) {
            let change = self.is(Mutant::T1DryRunStartsWindow).then(|| Box::new(self.touch(id)));
            return Err(Refusal { rule: D1, change });
        }
        if self
            .world
            .world
            .faults
            .internal_error_on_instances
            .iter()
            .any(|i| i == id)
            && !self.is(Mutant::F1FaultIgnored)
        {
            return Err(F1.into());
        }
        Ok(Verdict::Apply(self.change(id, &kind)))
    }

    fn instance_id(&self) -> &'a str {
        self.req.instance_id.as_deref().unwrap_or_default()
    }

    fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(self.req, self.is(Mutant::I1NumbersAsText))
    }

    /// I1–I3: `Some` when the token decides the answer.
    fn idempotency(&self) -> Result<Option<Verdict>, Refusal> {
        let Some(token) = self.get(&self.req.client_token) else {
            return Ok(None);
        };
        let Some(rec) = self.world.tokens.get(token) else {
            return Ok(None);
        };
        if rec.fingerprint != self.fingerprint() {
            if self.is(Mutant::I1MismatchApplies) {
                return Ok(None);
            }
            return Err(I1.into());
        }
        if self.now < rec.completes_at && !self.is(Mutant::I2ProcessingReplayed) {
            return Err(I2.into());
        }
        if self.is(Mutant::I3ReplayAppliesAgain) {
            return Ok(None);
        }
        Ok(Some(Verdict::Replay))
    }

    fn empty_change(&self, id: &str) -> Change {
        Change {
            instance_id: id.to_string(),
            instance_type: None,
            bandwidth_out: None,
            bandwidth_in: None,
            modified_at: None,
            token: None,
        }
    }

    fn token_record(&self) -> Option<(String, TokenRecord)> {
        let token = self.get(&self.req.client_token)?;
        let secs = i64::try_from(self.world.world.operation_seconds).unwrap_or(i64::MAX);
        let record = TokenRecord {
            fingerprint: self.fingerprint(),
            completes_at: self.now.saturating_add(secs),
        };
        Some((token.to_string(), record))
    }

    /// E1: the change a successful request applies.
    fn change(&self, id: &str, kind: &Kind) -> Change {
        let mut c = self.empty_change(id);
        match kind {
            Kind::Type(t) => c.instance_type = Some((*t).to_string()),
            Kind::Bandwidth { out, inb } => {
                // P3/P4 bounded both values to 0..=200, so they fit a u32.
                c.bandwidth_out = out.and_then(|v| u32::try_from(v).ok());
                if !self.is(Mutant::E1InNotApplied) {
                    c.bandwidth_in = inb.and_then(|v| u32::try_from(v).ok());
                }
            }
        }
        if !self.is(Mutant::E1WindowNotStarted) {
            c.modified_at = Some(self.now);
        }
        c.token = self.token_record();
        c
    }
}
