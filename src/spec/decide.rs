//! The oracle: what a conforming implementation answers to one operation
//! request in one world at one moment (behaviour.md section 3, P to E).
//!
//! Architecture invariant: this module does no I/O and never mutates the
//! world. It returns a [`Decision`]; the caller applies its `change`.
//! The gateway rules (G) need the transport and live in the server; this
//! function starts where they end.

use super::mutants::Mutant;
use super::request::{Fingerprint, ModifyRequest, parse_bool, parse_int, present};
use super::rules::RuleId::{self, *};
use super::state::{Change, InstanceState, TokenRecord, WorldState};
use super::world::{ChargeType, InstanceTypeSpec, NetworkType, Status};

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
    pub fn is_success(&self) -> bool {
        self.code.is_none()
    }
}

/// Seconds after a successful change during which T1 refuses another.
pub const MODIFY_WINDOW_SECONDS: i64 = 300;

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
        Err(Refusal { rule, change }) => Decision {
            change: change.map(|c| *c),
            ..Decision::from_rule(rule)
        },
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

    /// P1–P8, in order (P5 before P3 under its mutant).
    fn parameters(&self) -> Result<Kind<'a>, Refusal> {
        let r = self.req;
        let id_missing = if self.is(Mutant::P1EmptyInstanceIdAccepted) {
            r.instance_id.is_none()
        } else {
            self.get(&r.instance_id).is_none()
        };
        if id_missing {
            return Err(P1.into());
        }
        if let Some(token) = self.get(&r.client_token) {
            let limit = if self.is(Mutant::P2Token65Accepted) { 65 } else { 64 };
            let printable = token.chars().all(|c| (' '..='~').contains(&c));
            let charset_ok = printable || self.is(Mutant::P2NonAsciiAccepted);
            if token.chars().count() > limit || !charset_ok {
                return Err(P2.into());
            }
        }
        let ty = self.get(&r.instance_type);
        let out_raw = if self.is(Mutant::P3EmptyOutInvalid) {
            r.bandwidth_out.as_deref()
        } else {
            self.get(&r.bandwidth_out)
        };
        let in_raw = self.get(&r.bandwidth_in);
        let mismatch = ty.is_some() && (out_raw.is_some() || in_raw.is_some());
        if self.is(Mutant::P5BeforeP3) && mismatch {
            return Err(P5.into());
        }
        let out = match out_raw {
            None => None,
            Some(s) => {
                let max = if self.is(Mutant::P3UpperAccepts101) { 101 } else { 100 };
                let min = if self.is(Mutant::P3LowerRejects0) { 1 } else { 0 };
                match self.int(s) {
                    Some(v) if (min..=max).contains(&v) => Some(v),
                    _ => return Err(P3.into()),
                }
            }
        };
        let inb = match in_raw {
            None => None,
            Some(s) => {
                let min = if self.is(Mutant::P4LowerAccepts0) { 0 } else { 1 };
                let max = if self.is(Mutant::P4UpperRejects200) { 199 } else { 200 };
                match parse_int(s) {
                    Some(v) if (min..=max).contains(&v) => Some(v),
                    _ => return Err(P4.into()),
                }
            }
        };
        if mismatch && !self.is(Mutant::P5TypeWins) {
            return Err(P5.into());
        }
        let kind = match ty {
            Some(t) => Kind::Type(t),
            None if out.is_none() && inb.is_none() && !self.is(Mutant::P6NothingSucceeds) => {
                return Err(P6.into());
            }
            None => Kind::Bandwidth { out, inb },
        };
        for b in [&r.dry_run, &r.async_, &r.allow_migrate] {
            if let Some(v) = self.get(b) {
                let ok = if self.is(Mutant::P7BooleanCaseSensitive) {
                    v == "true" || v == "false"
                } else {
                    parse_bool(v).is_some()
                };
                if !ok {
                    return Err(P7.into());
                }
            }
        }
        if let Some(c) = self.get(&r.system_disk_category) {
            if !matches!(c, "cloud_efficiency" | "cloud_ssd") && !self.is(Mutant::P8CategoryUnchecked) {
                return Err(P8.into());
            }
        }
        Ok(kind)
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

    /// The rules after R1 that apply to this kind of change, in order.
    fn instance_order(&self, kind: &Kind) -> Vec<RuleId> {
        let mut order = vec![A1, A2, A3, A4, T1];
        match kind {
            Kind::Type(_) => order.extend([S1, C1, C2, C3, C4, C5, C6, C7, C8]),
            Kind::Bandwidth { .. } => order.extend([S2, B1, B2, B3, B4]),
        }
        let swaps = [
            (Mutant::T1BeforeA4, T1, A4),
            (Mutant::S1BeforeT1, S1, T1),
            (Mutant::C7BeforeC4, C7, C4),
        ];
        for (m, a, b) in swaps {
            if self.is(m) {
                if let (Some(i), Some(j)) = (order.iter().position(|r| *r == a), order.iter().position(|r| *r == b)) {
                    order.swap(i, j);
                }
            }
        }
        order
    }

    fn target(&self, kind: &Kind) -> Option<&'a InstanceTypeSpec> {
        match kind {
            Kind::Type(t) => self.world.world.instance_type(t),
            Kind::Bandwidth { .. } => None,
        }
    }

    /// Whether `rule` fires for this instance.
    fn fires(&self, rule: RuleId, st: &InstanceState, kind: &Kind) -> bool {
        let w = &self.world.world;
        let acc = &w.account;
        let inst = &st.instance;
        let target = self.target(kind);
        let target_name = match kind {
            Kind::Type(t) => *t,
            Kind::Bandwidth { .. } => "",
        };
        let (out, inb) = match kind {
            Kind::Bandwidth { out, inb } => (*out, *inb),
            Kind::Type(_) => (None, None),
        };
        match rule {
            A1 => acc.overdue_payment && !self.is(Mutant::A1Unchecked),
            A2 => inst.unpaid_order && !self.is(Mutant::A2Unchecked),
            A3 => inst.locked_for_security,
            A4 => inst.instance_charge_type != ChargeType::PostPaid && !self.is(Mutant::A4PrepaidAllowed),
            T1 => self.throttled(st),
            S1 => {
                inst.status != Status::Stopped && !(self.is(Mutant::S1RunningAllowed) && inst.status == Status::Running)
            }
            S2 => {
                let ok = matches!(inst.status, Status::Running | Status::Stopped)
                    || (self.is(Mutant::S2StartingAllowed) && inst.status == Status::Starting);
                !ok
            }
            C1 => target.is_none() && !self.is(Mutant::C1UnknownTypeApplied),
            C2 => target.is_some_and(|t| {
                t.requires_authorization
                    && !acc.authorized_instance_types.iter().any(|a| a == &t.name)
                    && !self.is(Mutant::C2AuthorizationIgnored)
            }),
            C3 => inst.local_disks && !self.is(Mutant::C3LocalDisksIgnored),
            C4 => {
                if self.is(Mutant::C4Unchecked) {
                    return false;
                }
                if target_name == inst.instance_type {
                    return !self.is(Mutant::C4SameTypeAllowed);
                }
                let allowed = w.catalog.allowed_changes.get(&inst.instance_type);
                !allowed.is_some_and(|a| a.iter().any(|t| t == target_name))
            }
            C5 => {
                let image_arch = w.image(&inst.image_id).map(|i| i.architecture.as_str());
                target.is_some_and(|t| Some(t.architecture.as_str()) != image_arch) && !self.is(Mutant::C5ArchUnchecked)
            }
            C6 => {
                let excluded = w
                    .image(&inst.image_id)
                    .is_some_and(|i| i.unsupported_instance_types.iter().any(|t| t == target_name));
                excluded && !self.is(Mutant::C6ImageExclusionIgnored)
            }
            C7 => target.is_some_and(|t| !t.in_stock) && !self.is(Mutant::C7OutOfStockIgnored),
            C8 => {
                let current = w.instance_type(&inst.instance_type).map_or(i64::MAX, |t| t.price_rank);
                let upgrade = target.is_some_and(|t| {
                    if self.is(Mutant::C8DowngradeNeedsBalance) {
                        t.price_rank >= current
                    } else {
                        t.price_rank > current
                    }
                });
                upgrade && !acc.balance_sufficient && !self.is(Mutant::C8BalanceIgnored)
            }
            B1 => inb.is_some() && inst.network_type == NetworkType::Vpc && !self.is(Mutant::B1VpcInAllowed),
            B2 => {
                !matches!(inst.internet_charge_type.as_str(), "PayByTraffic" | "PayByBandwidth")
                    && !self.is(Mutant::B2ChargeTypeUnchecked)
            }
            B3 => match w.catalog.bandwidth_price_plans.get(&inst.internet_charge_type) {
                None => !self.is(Mutant::B3MissingPlanAllowed),
                Some(plan) => {
                    let above = out.is_some_and(|o| o > i64::from(plan.max_out))
                        || inb.is_some_and(|i| i > i64::from(plan.max_in));
                    above && !self.is(Mutant::B3PlanMaxIgnored)
                }
            },
            B4 => {
                let more = |req: Option<i64>, cur: u32| {
                    req.is_some_and(|v| {
                        if self.is(Mutant::B4EqualNeedsBalance) {
                            v >= i64::from(cur)
                        } else {
                            v > i64::from(cur)
                        }
                    })
                };
                let increase = more(out, inst.internet_max_bandwidth_out) || more(inb, inst.internet_max_bandwidth_in);
                increase && !acc.balance_sufficient && !self.is(Mutant::B4BalanceIgnored)
            }
            _ => false,
        }
    }

    /// T1: modified less than 300 s ago (exactly 300 s is allowed).
    fn throttled(&self, st: &InstanceState) -> bool {
        let seeded_at = st
            .instance
            .last_modified_seconds_ago
            .map(|a| 0i64.saturating_sub_unsigned(a));
        if self.is(Mutant::T1SeededIgnored) && seeded_at.is_some() && st.last_modified_at == seeded_at {
            return false;
        }
        let window = if self.is(Mutant::T1Window299s) {
            MODIFY_WINDOW_SECONDS - 1
        } else if self.is(Mutant::T1Window301s) {
            MODIFY_WINDOW_SECONDS + 1
        } else {
            MODIFY_WINDOW_SECONDS
        };
        st.last_modified_at
            .is_some_and(|at| self.now.saturating_sub(at) < window)
    }

    /// The state a buggy server writes on a refusal (mutants only).
    fn partial_write(&self, rule: RuleId, id: &str) -> Option<Box<Change>> {
        let late = matches!(rule, C1 | C2 | C3 | C4 | C5 | C6 | C7 | C8 | B1 | B2 | B3 | B4);
        let recorded = self
            .is(Mutant::I3RejectedRecordsToken)
            .then(|| self.token_record())
            .flatten();
        if self.is(Mutant::E1NoRollbackOnError) && late {
            return Some(Box::new(self.touch(id)));
        }
        recorded.map(|token| {
            Box::new(Change {
                token: Some(token),
                ..self.empty_change(id)
            })
        })
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

    /// A change that only restarts the 5-minute window.
    fn touch(&self, id: &str) -> Change {
        Change {
            modified_at: Some(self.now),
            ..self.empty_change(id)
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
