//! The generator: `arbitrary` bytes → a [`Case`] full of edge cases.
//!
//! Every entry point shares it: `modspec fuzz` feeds it seeded bytes,
//! libFuzzer feeds it its own. Choices are weighted towards what breaks
//! implementations: a plausible request most of the time (so deep rules
//! are reached), an edge value from `dict` often, a free string rarely.

use arbitrary::{Arbitrary, Result, Unstructured};

use super::case::{Case, CaseRequest, CaseStep, InstanceField, WorldField, WorldVariant};
use super::dict::*;
use crate::client::SignatureStyle;
use crate::spec::{ChargeType, NetworkType, PricePlan, Status, names};
use crate::wire::Format;

/// What the target claims (its control-protocol capabilities): the
/// generator only makes requests whose expected answer needs no more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Signatures, timestamps and nonces are checked (protocol damage).
    pub auth: bool,
    /// XML answers (V1 without `Format=JSON`).
    pub xml: bool,
    /// World clock moves.
    pub clock: bool,
    /// DryRun, Async, AllowMigrateAcrossZone, SystemDisk.Category.
    pub extended: bool,
    /// Fault injection (F1).
    pub faults: bool,
}

impl Profile {
    /// Everything the reference server implements.
    pub const FULL: Profile = Profile {
        auth: true,
        xml: true,
        clock: true,
        extended: true,
        faults: true,
    };
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        generate(u, Profile::FULL)
    }
}

/// Generates one case within what `profile` allows.
pub fn generate(u: &mut Unstructured, profile: Profile) -> Result<Case> {
    let mut g = Gen { u, p: profile };
    let world = g.world()?;
    // With a quota, clock moves within its 60 s window matter more.
    let quota = world.0.iter().any(|f| matches!(f, WorldField::Quota(Some(_))));
    let advance_weight = if quota { 5 } else { 2 };
    let n = g.u.int_in_range(1..=6)?;
    let mut steps = Vec::with_capacity(n);
    let mut last: Option<CaseRequest> = None;
    for _ in 0..n {
        let step = match (g.u.int_in_range(0u8..=19)?, &last) {
            (w, _) if w <= advance_weight && g.p.clock => {
                let list = if quota && g.u.arbitrary()? {
                    QUOTA_ADVANCES
                } else {
                    ADVANCES
                };
                CaseStep::Advance(*g.u.choose(list)?)
            }
            // The same request again: a replay with a token, a second
            // change without one, a reused nonce under damage.
            (6..=8, Some(prev)) => CaseStep::Request(prev.clone()),
            (9, Some(prev)) => CaseStep::Request(g.vary(prev)?),
            _ => CaseStep::Request(g.request()?),
        };
        if let CaseStep::Request(r) = &step {
            last = Some(r.clone());
        }
        steps.push(step);
    }
    Ok(Case { world, steps })
}

pub(super) struct Gen<'u, 'a> {
    pub(super) u: &'u mut Unstructured<'a>,
    pub(super) p: Profile,
}

impl Gen<'_, '_> {
    pub(super) fn pick(&mut self, list: &[&str]) -> Result<String> {
        Ok(self.u.choose(list)?.to_string())
    }

    /// A free string of at most `max` characters. `${` never appears, as
    /// the scenario loader would read it as a variable.
    fn free(&mut self, max: usize) -> Result<String> {
        let s: String = String::arbitrary(self.u)?.chars().take(max).collect();
        Ok(s.replace("${", "$("))
    }

    fn world(&mut self) -> Result<WorldVariant> {
        let mut fields = Vec::new();
        if self.p.clock && self.u.ratio(1, 12)? {
            // A small quota, for sequences that meet G12 and its window.
            fields.push(WorldField::Quota(Some(self.u.int_in_range(1..=2)?)));
        }
        let n = if self.u.ratio(1, 3)? {
            0
        } else {
            self.u.int_in_range(1..=5)?
        };
        for _ in 0..n {
            fields.push(self.world_field()?);
        }
        Ok(WorldVariant(fields))
    }

    fn world_field(&mut self) -> Result<WorldField> {
        // Weights: account-wide refusals (A1, G12 at quota 0) end every
        // request of a case, so they are rare; what only some requests
        // meet (balance, plans, types, instance fields) is common.
        Ok(match self.u.int_in_range(0u8..=29)? {
            0 => WorldField::Overdue(true),
            1..=3 => WorldField::Balance(false),
            4 => WorldField::Authorized(vec!["ecs.gn7i.large".into()]),
            5 => WorldField::Quota(Some(self.u.int_in_range(0..=3)?)),
            6 | 7 => WorldField::TypeInStock(self.pick(TYPES)?, self.u.arbitrary()?),
            8 | 9 => WorldField::TypeNeedsAuthorization(self.pick(TYPES)?, self.u.arbitrary()?),
            10 | 11 => {
                let charge = self.pick(&CHARGE_TYPES[..3])?;
                let plan = match self.u.ratio(1, 3)? {
                    true => None,
                    false => Some(PricePlan {
                        max_out: *self.u.choose(&[0, 1, 50, 99, 100])?,
                        max_in: *self.u.choose(&[1, 100, 199, 200])?,
                    }),
                };
                WorldField::Plan(charge, plan)
            }
            12..=14 => WorldField::OperationSeconds(*self.u.choose(OPERATION_SECONDS)?),
            15 if self.p.faults => WorldField::Faults(vec![self.instance()?]),
            _ => WorldField::Instance(self.instance()?, self.instance_field()?),
        })
    }

    fn instance_field(&mut self) -> Result<InstanceField> {
        const STATUSES: &[Status] = &[
            Status::Pending,
            Status::Running,
            Status::Starting,
            Status::Stopping,
            Status::Stopped,
        ];
        Ok(match self.u.int_in_range(0u8..=13)? {
            0 | 11 | 12 => InstanceField::Status(*self.u.choose(STATUSES)?),
            1 => InstanceField::ChargeType(ChargeType::PrePaid),
            2 | 13 => InstanceField::InternetChargeType(self.pick(CHARGE_TYPES)?),
            3 => InstanceField::Out(*self.u.choose(&[0, 1, 5, 50, 99, 100])?),
            4 => InstanceField::In(*self.u.choose(&[1, 10, 100, 199, 200])?),
            5 => InstanceField::Network(*self.u.choose(&[NetworkType::Vpc, NetworkType::Classic])?),
            6 => InstanceField::Image("ubuntu_22_04_arm64".into()),
            7 => InstanceField::LocalDisks(true),
            8 => InstanceField::UnpaidOrder(true),
            9 => InstanceField::Locked(true),
            _ => InstanceField::LastModifiedAgo(Some(*self.u.choose(SEEDED_AGO)?)),
        })
    }

    /// An instance of the default world; i-stopped, the one every kind
    /// of change can reach, most often.
    pub(super) fn instance(&mut self) -> Result<String> {
        Ok(match self.u.int_in_range(0u8..=9)? {
            0..=4 => INSTANCE_IDS[0],
            5..=7 => INSTANCE_IDS[1],
            _ => INSTANCE_IDS[2],
        }
        .to_string())
    }

    /// A bandwidth value: valid for its parameter most of the time, else a
    /// boundary, a spelling parsers disagree on or any integer.
    pub(super) fn bandwidth(&mut self, valid: &[&str]) -> Result<String> {
        Ok(match self.u.int_in_range(0u8..=19)? {
            0..=10 => self.pick(valid)?,
            11..=16 => self.pick(BANDWIDTHS)?,
            17..=18 => self.pick(ODD_NUMBERS)?,
            _ => i64::arbitrary(self.u)?.to_string(),
        })
    }

    fn token(&mut self) -> Result<Option<String>> {
        Ok(match self.u.int_in_range(0u8..=19)? {
            0..=9 => None,
            10..=15 => Some(self.pick(SHARED_TOKENS)?),
            16 => {
                let len = *self.u.choose(TOKEN_LENGTHS)?;
                let c = *self.u.choose(&['a', 'Z', '~', ' ', 'é', '中'])?;
                Some(std::iter::repeat_n(c, len).collect())
            }
            17 | 18 => Some(self.pick(ODD_TOKENS)?),
            _ => Some(self.free(80)?),
        })
    }

    /// One fresh request.
    pub(super) fn request(&mut self) -> Result<CaseRequest> {
        let mut r = CaseRequest {
            style: if self.u.arbitrary()? {
                SignatureStyle::V1
            } else {
                SignatureStyle::V3
            },
            ..CaseRequest::default()
        };
        r.method = match self.u.int_in_range(0u8..=39)? {
            0..=33 => "POST".into(),
            34..=38 => "GET".into(),
            _ => self.pick(BAD_METHODS)?,
        };
        r.query = self.u.ratio(1, 3)?;
        r.format = match self.u.int_in_range(0u8..=19)? {
            0..=16 => None,
            _ => Some(self.pick(FORMATS)?),
        };
        let xml_answer = match r.format.as_deref().and_then(Format::parse) {
            Some(f) => f == Format::Xml,
            None => r.style == SignatureStyle::V1,
        };
        if xml_answer && !self.p.xml {
            r.format = Some("JSON".into());
        }
        let (ty, out, inb) = match self.u.int_in_range(0u8..=39)? {
            0..=14 => (true, false, false),
            15..=24 => (false, true, false),
            25..=30 => (false, false, true),
            31..=35 => (false, true, true),
            36..=37 => (true, self.u.arbitrary()?, true),
            _ => (false, false, false),
        };
        // Type changes need a Stopped instance: mostly i-stopped then.
        let id = match self.u.int_in_range(0u8..=19)? {
            0..=9 if ty => Some(INSTANCE_IDS[0].to_string()),
            0..=16 => Some(self.instance()?),
            17..=18 => Some(self.pick(ODD_INSTANCE_IDS)?),
            _ => None,
        };
        let p = &mut r.params;
        if let Some(id) = id {
            p.push((names::INSTANCE_ID.into(), id));
        }
        if ty {
            let t = match self.u.int_in_range(0u8..=19)? {
                0..=15 => self.pick(TYPES)?,
                16..=18 => self.pick(ODD_TYPES)?,
                _ => self.free(40)?,
            };
            p.push((names::INSTANCE_TYPE.into(), t));
        }
        if out {
            let v = self.bandwidth(VALID_OUT)?;
            r.params.push((names::BANDWIDTH_OUT.into(), v));
        }
        if inb {
            let v = self.bandwidth(VALID_IN)?;
            r.params.push((names::BANDWIDTH_IN.into(), v));
        }
        if let Some(t) = self.token()? {
            r.params.push((names::CLIENT_TOKEN.into(), t));
        }
        if self.p.extended {
            for name in [names::DRY_RUN, names::ASYNC, names::ALLOW_MIGRATE] {
                if self.u.ratio(1, 12)? {
                    let v = match self.u.ratio(2, 3)? {
                        true => self.pick(&BOOLEANS[..5])?,
                        false => self.pick(BOOLEANS)?,
                    };
                    r.params.push((name.into(), v));
                }
            }
            if self.u.ratio(1, 20)? {
                let v = self.pick(CATEGORIES)?;
                r.params.push((names::SYSTEM_DISK_CATEGORY.into(), v));
            }
        }
        self.noise(&mut r)?;
        if !(r.style == SignatureStyle::V1 && r.method == "POST") {
            r.query = false;
        }
        if self.p.auth && self.u.ratio(1, 6)? {
            r.damage = self.damage(&r)?;
        }
        Ok(r)
    }
}

/// Whether `case` needs no more than `profile` offers: how inputs made for
/// the full profile (libFuzzer's) are kept away from a target that does not
/// claim, say, XML answers or signature checks.
pub fn fits(case: &Case, profile: Profile) -> bool {
    let world_ok = profile.faults || !case.world.0.iter().any(|f| matches!(f, WorldField::Faults(_)));
    let steps_ok = case.steps.iter().all(|s| match s {
        CaseStep::Advance(_) => profile.clock,
        CaseStep::Request(r) => {
            let extended = [
                names::DRY_RUN,
                names::ASYNC,
                names::ALLOW_MIGRATE,
                names::SYSTEM_DISK_CATEGORY,
            ];
            (profile.auth || r.damage == crate::wire::Damage::default())
                && (profile.xml || super::model::expected_format(r) == Format::Json)
                && (profile.extended || !r.params.iter().any(|(k, _)| extended.contains(&k.as_str())))
        }
    });
    world_ok && steps_ok
}
