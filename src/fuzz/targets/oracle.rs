//! `oracle`: the decision procedure alone, in-process, over generated
//! worlds and request sequences.
//!
//! Its input is a compact encoding of the generator's choices (indices into
//! the same edge-case lists) rather than a full [`Case`]: the oracle is
//! cheap, so building strings and cloning worlds would dominate the time
//! libFuzzer gets per input. The world is cloned only when a variant or an
//! applied change needs its own copy.

use std::borrow::Cow;
use std::sync::OnceLock;

use arbitrary::Arbitrary;

use super::super::case::{Case, CaseStep, default_world};
use super::super::dict::*;
use crate::spec::{ModifyRequest, RuleId, WorldState, decide, present};

/// One world setting, as small numbers (see `world_field`).
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct WorldPick(pub u8, pub u8);

/// One step: nothing, a clock move or a request, as indices into `dict`.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum OracleStep {
    Skip,
    Advance(u8),
    Request {
        id: u8,
        kind: u8,
        ty: u8,
        out: u8,
        inb: u8,
        token: u8,
        flags: u8,
    },
}

/// What the `oracle` target gets: fixed-size, so the work per input does
/// not grow with libFuzzer's input length.
#[derive(Arbitrary, Clone, Debug)]
pub struct OracleInput {
    pub world: WorldPick,
    pub steps: [OracleStep; 2],
}

fn at<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

impl OracleStep {
    fn request(self) -> Option<ModifyRequest> {
        let OracleStep::Request {
            id,
            kind,
            ty,
            out,
            inb,
            token,
            flags,
        } = self
        else {
            return None;
        };
        let s = |v: &str| Some(v.to_string());
        let mut r = ModifyRequest {
            instance_id: if id < 240 {
                s(at(INSTANCE_IDS, id))
            } else {
                s(at(ODD_INSTANCE_IDS, id))
            },
            ..ModifyRequest::default()
        };
        let (t, o, i) = match kind % 8 {
            0 | 1 => (true, false, false),
            2 | 3 => (false, true, false),
            4 => (false, false, true),
            5 => (false, true, true),
            6 => (true, true, false),
            _ => (false, false, false),
        };
        fn number(v: u8, valid: &[&'static str]) -> &'static str {
            match v % 4 {
                0 | 1 => at(valid, v / 4),
                2 => at(BANDWIDTHS, v / 4),
                _ => at(ODD_NUMBERS, v / 4),
            }
        }
        r.instance_type = t.then(|| if ty < 224 { at(TYPES, ty) } else { at(ODD_TYPES, ty) }.to_string());
        r.bandwidth_out = o.then(|| number(out, VALID_OUT).to_string());
        r.bandwidth_in = i.then(|| number(inb, VALID_IN).to_string());
        r.client_token = match token % 4 {
            0 => None,
            1 | 2 => s(at(SHARED_TOKENS, token / 4)),
            _ => s(at(ODD_TOKENS, token / 4)),
        };
        if flags & 0b11 == 1 {
            r.dry_run = s(at(BOOLEANS, flags / 4));
        }
        if flags & 0b1100 == 0b0100 {
            r.system_disk_category = s(at(CATEGORIES, flags / 16));
        }
        Some(r)
    }
}

/// The world of each world pick, built once: a clone per input would cost
/// more than the decisions being checked.
fn world(pick: WorldPick) -> Option<&'static WorldState> {
    static WORLDS: OnceLock<Option<Vec<WorldState>>> = OnceLock::new();
    let worlds = WORLDS.get_or_init(|| {
        let defaults = default_world().ok()?;
        let all = (0..=255u8).flat_map(|k| (0..=255u8).map(move |v| (k, v)));
        // Picks that map to the same setting share one world.
        let mut out = Vec::with_capacity(WORLD_KINDS * 256);
        for (k, v) in all.filter(|(k, _)| usize::from(*k) < WORLD_KINDS) {
            let mut w = defaults.clone();
            if let Some(f) = world_field((k, v)) {
                super::super::variant::WorldVariant(vec![f]).apply(&mut w);
            }
            out.push(WorldState::new(w));
        }
        Some(out)
    });
    let index = (usize::from(pick.0) % WORLD_KINDS) * 256 + usize::from(pick.1);
    worlds.as_ref()?.get(index)
}

/// The properties of `spec::decide` on a compact input (see [`check`]).
pub fn oracle(input: &OracleInput) {
    let Some(base) = world(input.world) else { return };
    let mut state = Cow::Borrowed(base);
    let mut now = 0i64;
    for step in &input.steps {
        match step.request() {
            None => {
                if let OracleStep::Advance(i) = step {
                    now += ADVANCES[usize::from(*i) % ADVANCES.len()] as i64;
                }
            }
            Some(req) => check(&mut state, now, &req),
        }
    }
}

/// Kinds of world pick; the last ones leave the default world alone.
const WORLD_KINDS: usize = 20;

fn world_field((kind, v): (u8, u8)) -> Option<super::super::variant::WorldField> {
    use super::super::variant::{InstanceField as I, WorldField as W};
    use crate::spec::{ChargeType, NetworkType, PricePlan, Status};
    let id = at(INSTANCE_IDS, v).to_string();
    let statuses = [
        Status::Pending,
        Status::Running,
        Status::Starting,
        Status::Stopping,
        Status::Stopped,
    ];
    Some(match kind {
        0 => W::Overdue(true),
        1 => W::Balance(false),
        2 => W::Authorized(vec!["ecs.gn7i.large".into()]),
        3 => W::TypeInStock(at(TYPES, v).to_string(), v & 1 == 0),
        4 => W::TypeNeedsAuthorization(at(TYPES, v).to_string(), v & 1 == 0),
        5 => W::Plan(
            at(CHARGE_TYPES, v).to_string(),
            (v & 1 == 0).then_some(PricePlan {
                max_out: 50,
                max_in: 100,
            }),
        ),
        6 => W::OperationSeconds(OPERATION_SECONDS[usize::from(v) % OPERATION_SECONDS.len()]),
        7 => W::Instance(id, I::Status(statuses[usize::from(v / 3) % statuses.len()])),
        8 => W::Instance(id, I::ChargeType(ChargeType::PrePaid)),
        9 => W::Instance(id, I::InternetChargeType(at(CHARGE_TYPES, v / 3).to_string())),
        10 => W::Instance(id, I::Network(NetworkType::Vpc)),
        11 => W::Instance(id, I::Image("ubuntu_22_04_arm64".into())),
        12 => W::Instance(id, I::LocalDisks(true)),
        13 => W::Instance(id, I::UnpaidOrder(true)),
        14 => W::Instance(
            id,
            I::LastModifiedAgo(Some(SEEDED_AGO[usize::from(v / 3) % SEEDED_AGO.len()])),
        ),
        15 => W::Faults(vec![id]),
        _ => return None,
    })
}

/// The same properties over a full [`Case`] (its gateway parts ignored),
/// for tests that hold cases rather than compact inputs.
pub fn oracle_case(case: &Case) {
    let Ok(defaults) = default_world() else { return };
    let mut state = Cow::Owned(WorldState::new(case.world.world(defaults)));
    let mut now = 0i64;
    for step in &case.steps {
        match step {
            CaseStep::Advance(s) => now = now.saturating_add(i64::try_from(*s).unwrap_or(i64::MAX)),
            CaseStep::Request(r) => {
                let req = ModifyRequest::from_pairs(r.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                check(&mut state, now, &req);
            }
        }
    }
}

/// Properties of one decision, applying its change:
///
/// - `decide` is total and deterministic (equal inputs, equal decisions);
/// - status, code and message are the rules table's for the rule, and it
///   never answers a gateway rule;
/// - only E1 carries a change (a rejected request changes nothing), and
///   the change is the one requested, stamped with the current time;
/// - right after an E1 the same request is a replay with its token (I2
///   while processing, then I3, changing nothing) and T1 without one.
fn check(state: &mut Cow<WorldState>, now: i64, req: &ModifyRequest) {
    let d = decide(state, now, req);
    assert_eq!(d, decide(state, now, req), "decide is not deterministic");
    let spec = d.rule.spec();
    assert_eq!(
        (d.status, d.code, d.message),
        (spec.status, spec.code, spec.message),
        "{:?}",
        d.rule
    );
    assert!(
        !d.rule.as_str().starts_with('G'),
        "the oracle answered a gateway rule: {:?}",
        d.rule
    );
    assert_eq!(
        d.change.is_some(),
        d.rule == RuleId::E1,
        "{:?} with change {:?}",
        d.rule,
        d.change
    );
    let Some(change) = d.change else { return };
    assert_eq!(Some(change.instance_id.as_str()), present(&req.instance_id));
    assert_eq!(change.modified_at, Some(now));
    assert_eq!(
        change.instance_type.as_deref(),
        present(&req.instance_type),
        "E1 changed another type"
    );
    state.to_mut().apply(&change);
    let again = |at: i64| decide(state, at, req);
    match present(&req.client_token) {
        Some(_) => {
            let done = now.saturating_add(i64::try_from(state.world.operation_seconds).unwrap_or(i64::MAX));
            if done > now {
                assert_eq!(again(now).rule, RuleId::I2);
            }
            let replay = again(done);
            assert_eq!((replay.rule, &replay.change), (RuleId::I3, &None), "replay");
        }
        None => assert_eq!(again(now).rule, RuleId::T1, "a second change at once"),
    }
}
