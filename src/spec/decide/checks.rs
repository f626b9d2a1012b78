//! The rules after R1 (A, T, S, C, B): what each checks on the instance,
//! the account and the catalog, and the order they run in.

use super::{Ctx, Kind, MODIFY_WINDOW_SECONDS};
use crate::spec::mutants::Mutant;
use crate::spec::rules::RuleId::{self, *};
use crate::spec::state::InstanceState;
use crate::spec::world::{ChargeType, InstanceTypeSpec, NetworkType, Status};

impl<'a> Ctx<'a> {
    /// The rules after R1 that apply to this kind of change, in order.
    pub(super) fn instance_order(&self, kind: &Kind) -> Vec<RuleId> {
        let mut order = vec![A1, A2, A3, A4, T1];
        match kind {
            Kind::Type(_) => order.extend([S1, C1, C2, C3, C4, C5, C6, C7, C8]),
            Kind::Bandwidth { .. } => order.extend([S2, B1, B2, B3, B4]),
        }
        if let Some(m) = self.mutant {
            m.reorder(&mut order);
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
    pub(super) fn fires(&self, rule: RuleId, st: &InstanceState, kind: &Kind) -> bool {
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
                inst.status != Status::Stopped
                    && !(self.is(Mutant::S1RunningAllowed) && matches!(inst.status, Status::Running))
            }
            S2 => {
                let ok = matches!(inst.status, Status::Running | Status::Stopped)
                    || (self.is(Mutant::S2StartingAllowed) && matches!(inst.status, Status::Starting));
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
    pub(super) fn throttled(&self, st: &InstanceState) -> bool {
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
}
