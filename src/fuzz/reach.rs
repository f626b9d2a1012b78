//! The boundaries of behaviour.md section 3 a request reaches: the edge
//! values of every ranged parameter and window (the ends of each range and
//! one beyond, the quota, the 5-minute window, a token's processing time,
//! the price plans and the current bandwidth).
//!
//! A boundary counts only where its rule was judged: the request got to
//! that rule (no earlier rule answered). `InternetMaxBandwidthOut=101`
//! behind a bad signature tests nothing about P3. G7's 15-minute edge is
//! left out on purpose: the generator keeps away from it, since the wall
//! clock between signing and checking would decide it (`dict.rs`).

use crate::spec::{
    BANDWIDTH_IN_RANGE, BANDWIDTH_OUT_RANGE, Fingerprint, MODIFY_WINDOW_SECONDS, ModifyRequest, RuleId,
    TOKEN_MAX_CHARS, WorldState, parse_int, present,
};

macro_rules! boundaries {
    ($($variant:ident = $rule:ident $name:literal;)*) => {
        /// One edge of a range of section 3, named by its rule.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Boundary { $($variant),* }

        impl Boundary {
            /// Every boundary, in the order of section 3.
            pub const ALL: &'static [Boundary] = &[$(Boundary::$variant),*];

            /// The rule whose condition has this edge.
            pub fn rule(self) -> RuleId {
                match self { $(Boundary::$variant => RuleId::$rule),* }
            }

            /// What the edge is, after the rule id (`out = 101`).
            pub fn edge(self) -> &'static str {
                match self { $(Boundary::$variant => $name),* }
            }
        }
    };
}

boundaries! {
    NonceAfterRefused = G10 "a nonce first sent in a refused request";
    QuotaLast = G12 "count = quota - 1 (last allowed)";
    QuotaFull = G12 "count = quota (refused)";
    QuotaOldest59 = G12 "quota full, oldest counted 59 s ago";
    QuotaOldest60 = G12 "quota full, oldest counted 60 s ago (leaves)";
    QuotaThrottledNotCounted = G12 "allowed, a throttled request in the window";
    TokenLen64 = P2 "64 characters";
    TokenLen65 = P2 "65 characters";
    TokenSpace = P2 "a 0x20 character (lowest allowed)";
    TokenTilde = P2 "a 0x7E character (highest allowed)";
    TokenControl = P2 "a character below 0x20";
    TokenDel = P2 "a 0x7F character";
    OutBelow = P3 "out = -1";
    OutMin = P3 "out = 0";
    OutMax = P3 "out = 100";
    OutAbove = P3 "out = 101";
    InBelow = P4 "in = 0";
    InMin = P4 "in = 1";
    InMax = P4 "in = 200";
    InAbove = P4 "in = 201";
    ProcessingLast = I2 "now = completes_at - 1 (still processing)";
    ProcessingDone = I2 "now = completes_at (finished)";
    Window299 = T1 "299 s after a change";
    Window300 = T1 "300 s after a change";
    RankEqual = C8 "target price rank = current, balance short";
    OutPlanMax = B3 "out = the plan's max_out";
    OutPlanAbove = B3 "out = max_out + 1";
    InPlanMax = B3 "in = the plan's max_in";
    InPlanAbove = B3 "in = max_in + 1";
    OutCurrent = B4 "out = current, balance short";
    OutCurrentAbove = B4 "out = current + 1, balance short";
    InCurrent = B4 "in = current, balance short";
    InCurrentAbove = B4 "in = current + 1, balance short";
}

impl std::fmt::Display for Boundary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.rule(), self.edge())
    }
}

/// A set of boundaries (one bit each), small enough to copy with every
/// expected answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Boundaries(u64);

const _: () = assert!(Boundary::ALL.len() <= 64, "Boundaries is one u64");

impl Boundaries {
    pub fn insert(&mut self, b: Boundary) {
        self.0 |= 1 << b as u32;
    }

    pub fn contains(self, b: Boundary) -> bool {
        self.0 & (1 << b as u32) != 0
    }

    pub fn union(self, other: Boundaries) -> Boundaries {
        Boundaries(self.0 | other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Boundary> {
        Boundary::ALL.iter().copied().filter(move |b| self.contains(*b))
    }

    /// Keeps the boundaries whose rule was judged for a request that
    /// `winner` answered: the winner's own and those of later rules.
    pub(crate) fn judged_by(self, winner: RuleId) -> Boundaries {
        let mut kept = Boundaries::default();
        for b in self.iter().filter(|b| b.rule() <= winner) {
            kept.insert(b);
        }
        kept
    }
}

/// The edges `value` sits on, given the range's boundaries in order
/// (one below, the lowest, the highest, one above).
fn range_edges(out: &mut Boundaries, value: Option<i64>, range: &std::ops::RangeInclusive<i64>, edges: [Boundary; 4]) {
    let Some(v) = value else { return };
    let at = [*range.start() - 1, *range.start(), *range.end(), *range.end() + 1];
    for (edge, b) in at.into_iter().zip(edges) {
        if v == edge {
            out.insert(b);
        }
    }
}

/// The P, I, T, C and B boundaries a request meets in `state` at `now`,
/// before the oracle's change is applied; `winner` is the oracle's verdict.
pub(crate) fn oracle_boundaries(state: &WorldState, now: i64, req: &ModifyRequest, winner: RuleId) -> Boundaries {
    use Boundary::*;
    let mut out = Boundaries::default();
    if let Some(token) = present(&req.client_token) {
        token_edges(&mut out, token);
        processing_edges(&mut out, state, now, req, token);
    }
    let int = |v: &Option<String>| present(v).and_then(parse_int);
    let (bw_out, bw_in) = (int(&req.bandwidth_out), int(&req.bandwidth_in));
    range_edges(
        &mut out,
        bw_out,
        &BANDWIDTH_OUT_RANGE,
        [OutBelow, OutMin, OutMax, OutAbove],
    );
    range_edges(&mut out, bw_in, &BANDWIDTH_IN_RANGE, [InBelow, InMin, InMax, InAbove]);
    let Some(st) = present(&req.instance_id).and_then(|id| state.instance(id)) else {
        return out.judged_by(winner);
    };
    if let Some(at) = st.last_modified_at {
        match now.saturating_sub(at) {
            d if d == MODIFY_WINDOW_SECONDS - 1 => out.insert(Window299),
            d if d == MODIFY_WINDOW_SECONDS => out.insert(Window300),
            _ => {}
        }
    }
    let w = &state.world;
    let short = !w.account.balance_sufficient;
    let inst = &st.instance;
    if let Some(t) = present(&req.instance_type) {
        let rank = |name: &str| w.instance_type(name).map(|t| t.price_rank);
        if short && rank(t).is_some() && rank(t) == rank(&inst.instance_type) {
            out.insert(RankEqual);
        }
        return out.judged_by(winner);
    }
    if let Some(plan) = w.catalog.bandwidth_price_plans.get(&inst.internet_charge_type) {
        let edges = [
            (bw_out, plan.max_out, OutPlanMax, OutPlanAbove),
            (bw_in, plan.max_in, InPlanMax, InPlanAbove),
        ];
        next_to(&mut out, edges);
    }
    if short {
        let edges = [
            (bw_out, inst.internet_max_bandwidth_out, OutCurrent, OutCurrentAbove),
            (bw_in, inst.internet_max_bandwidth_in, InCurrent, InCurrentAbove),
        ];
        next_to(&mut out, edges);
    }
    out.judged_by(winner)
}

/// For each (value, limit, at, above): `at` when the value is the limit,
/// `above` when it is one more.
fn next_to(out: &mut Boundaries, edges: [(Option<i64>, u32, Boundary, Boundary); 2]) {
    for (value, limit, at, above) in edges {
        match value.and_then(|v| v.checked_sub(i64::from(limit))) {
            Some(0) => out.insert(at),
            Some(1) => out.insert(above),
            _ => {}
        }
    }
}

fn token_edges(out: &mut Boundaries, token: &str) {
    use Boundary::*;
    match token.chars().count() {
        n if n == TOKEN_MAX_CHARS => out.insert(TokenLen64),
        n if n == TOKEN_MAX_CHARS + 1 => out.insert(TokenLen65),
        _ => {}
    }
    for (hit, b) in [
        (token.contains(' '), TokenSpace),
        (token.contains('~'), TokenTilde),
        (token.chars().any(|c| c < ' '), TokenControl),
        (token.contains('\u{7f}'), TokenDel),
    ] {
        if hit {
            out.insert(b);
        }
    }
}

/// I2's edge: the same request again when its token finishes processing.
fn processing_edges(out: &mut Boundaries, state: &WorldState, now: i64, req: &ModifyRequest, token: &str) {
    let Some(rec) = state.tokens.get(token) else { return };
    if rec.fingerprint != Fingerprint::of(req, false) {
        return;
    }
    match rec.completes_at.saturating_sub(now) {
        1 => out.insert(Boundary::ProcessingLast),
        0 => out.insert(Boundary::ProcessingDone),
        _ => {}
    }
}
