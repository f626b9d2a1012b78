//! A bounded soak of the reference server: several clients send mixed,
//! signed traffic (V1 and V3) to many worlds at once for a fixed time, in
//! phases between which every world's clock moves 300 s. Afterwards the
//! oracle replays the accepted changes and every world's state must equal
//! its replay: nothing lost, nothing applied twice, and no answer ever
//! revealed another world's instance.
//!
//! Why phases: the server does not say in which order it served racing
//! requests, but within one phase the outcome does not depend on it. Every
//! token request of a world and phase is the same request (one E1, the rest
//! I3 replays, all 200); the token-less requests of a phase race for one
//! instance and exactly one may win (the rest hit T1). So the oracle can
//! replay each phase without knowing the server's interleaving.
//!
//! `MODSPEC_SOAK_SECONDS` (default 10, capped at 20) sets the duration;
//! the figures are printed (`cargo test --test soak -- --nocapture`) and
//! recorded in BENCHMARKS.md.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use modspec::client::{ControlClient, EcsClient, EcsRequest, SignatureStyle, WorldHandle};
use modspec::server::{Server, ServerConfig};
use modspec::spec::{ModifyRequest, RuleId, World, WorldState, decide, sample_world};
use modspec::wire::parse_body;
use tokio::sync::{Barrier, Mutex};

const WORLDS: usize = 24;
const CLIENTS: usize = 8;
/// Requests per client per phase.
const PER_PHASE: usize = 60;

/// What a request is, and therefore what it must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// The world's phase token on i-conf0002: 200 (E1 once, then I3).
    Token,
    /// A token-less change of the world's own instance: one 200 per phase,
    /// the rest 400 Throttling (T1).
    Race,
    /// InternetMaxBandwidthOut 101: 400 InvalidParameter (P3).
    Invalid,
    /// The next world's own instance: 404 InvalidInstanceId.NotFound.
    Foreign,
    /// Signed with a wrong secret: 400 SignatureDoesNotMatch.
    Forged,
    /// DryRun on the never-changed Stopped instance: 400 DryRunOperation.
    Dry,
}

struct Sent {
    world: usize,
    phase: u64,
    kind: Kind,
    out: u32,
    status: u16,
    code: Option<String>,
}

/// A tiny deterministic generator (no `rand` dependency needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn own(k: usize) -> String {
    format!("i-own{k:02}")
}

fn world_doc(k: usize) -> World {
    let mut w = sample_world();
    let mut mine = w.instances[1].clone();
    mine.instance_id = own(k);
    w.instances.push(mine);
    w
}

/// The phase token's bandwidth: differs per world and phase.
fn token_out(k: usize, phase: u64) -> u32 {
    (1 + (k as u64 * 7 + phase * 13) % 100) as u32
}

fn op(kind: Kind, k: usize, phase: u64, out: u32) -> Vec<(String, String)> {
    let p = |a: &str, b: String| (a.to_string(), b);
    match kind {
        Kind::Token => vec![
            p("InstanceId", "i-conf0002".into()),
            p("InternetMaxBandwidthOut", out.to_string()),
            p("ClientToken", format!("t-{k}-{phase}")),
        ],
        Kind::Race => vec![p("InstanceId", own(k)), p("InternetMaxBandwidthOut", out.to_string())],
        Kind::Invalid => vec![
            p("InstanceId", "i-conf0002".into()),
            p("InternetMaxBandwidthOut", "101".into()),
        ],
        Kind::Foreign => vec![
            p("InstanceId", own((k + 1) % WORLDS)),
            p("InternetMaxBandwidthOut", "7".into()),
        ],
        Kind::Forged => vec![
            p("InstanceId", "i-conf0002".into()),
            p("InternetMaxBandwidthOut", "9".into()),
        ],
        Kind::Dry => vec![
            p("InstanceId", "i-conf0001".into()),
            p("InternetMaxBandwidthOut", "50".into()),
            p("DryRun", "true".into()),
        ],
    }
}

/// The answer every kind must get (`Race` may also get 200; see above).
fn wanted(kind: Kind) -> (u16, Option<&'static str>) {
    match kind {
        Kind::Token => (200, None),
        Kind::Race => (400, Some("Throttling")),
        Kind::Invalid => (400, Some("InvalidParameter")),
        Kind::Foreign => (404, Some("InvalidInstanceId.NotFound")),
        Kind::Forged => (400, Some("SignatureDoesNotMatch")),
        Kind::Dry => (400, Some("DryRunOperation")),
    }
}

struct Shared {
    ecs: EcsClient,
    control: ControlClient,
    worlds: Vec<WorldHandle>,
    barrier: Barrier,
    stop: std::sync::atomic::AtomicBool,
    log: Mutex<Vec<Sent>>,
}

async fn client(id: usize, s: Arc<Shared>, deadline: Instant) -> u64 {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((id as u64 + 1) * 0x1234_5678));
    let mut phase = 0;
    loop {
        let mut mine = Vec::with_capacity(PER_PHASE);
        for _ in 0..PER_PHASE {
            let k = rng.next(WORLDS as u64) as usize;
            let kind = match rng.next(10) {
                0..=3 => Kind::Token,
                4..=5 => Kind::Race,
                6 => Kind::Invalid,
                7 => Kind::Foreign,
                8 => Kind::Forged,
                _ => Kind::Dry,
            };
            let out = match kind {
                Kind::Token => token_out(k, phase),
                _ => 1 + rng.next(100) as u32,
            };
            let style = if rng.next(2) == 0 {
                SignatureStyle::V1
            } else {
                SignatureStyle::V3
            };
            let mut req = EcsRequest::modify(style, op(kind, k, phase, out).into());
            req.damage.wrong_secret = kind == Kind::Forged;
            let w = &s.worlds[k];
            let ex = s
                .ecs
                .send(&w.access_key_id, &w.secret, &req)
                .await
                .expect("the server answers");
            let parsed = parse_body(ex.header("content-type"), &ex.body).expect("a well-formed answer");
            mine.push(Sent {
                world: k,
                phase,
                kind,
                out,
                status: ex.status,
                code: parsed.code,
            });
        }
        s.log.lock().await.extend(mine);
        // Everyone has finished the phase; one client moves every clock.
        if s.barrier.wait().await.is_leader() {
            for w in &s.worlds {
                s.control.advance(&w.world_id, 300).await.expect("advance");
            }
            s.stop
                .store(Instant::now() >= deadline, std::sync::atomic::Ordering::SeqCst);
        }
        s.barrier.wait().await;
        phase += 1;
        if s.stop.load(std::sync::atomic::Ordering::SeqCst) {
            return phase;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_mixed_traffic_matches_the_oracle_replay() {
    let seconds: u64 = std::env::var("MODSPEC_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
        .clamp(1, 20);
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), &ServerConfig::default())
        .await
        .unwrap();
    let base: reqwest::Url = format!("http://{}/", server.local_addr().unwrap()).parse().unwrap();
    tokio::spawn(server.run(std::future::pending()));
    // reqwest's rustls backend needs the crypto provider installed first.
    modspec::client::tls_provider();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let timeout = Duration::from_secs(10);
    let control = ControlClient::new(http.clone(), base.join("_conformance/v1").unwrap(), timeout);
    let mut worlds = Vec::new();
    for k in 0..WORLDS {
        worlds.push(control.create_world(&world_doc(k)).await.unwrap());
    }
    let shared = Arc::new(Shared {
        ecs: EcsClient::new(http, base, timeout),
        control,
        worlds,
        barrier: Barrier::new(CLIENTS),
        stop: false.into(),
        log: Mutex::new(Vec::new()),
    });
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(client(i, shared.clone(), deadline)))
        .collect();
    let mut phases = 0;
    for t in tasks {
        phases = t.await.expect("client task");
    }
    let elapsed = started.elapsed();
    let log = std::mem::take(&mut *shared.log.lock().await);

    // Every answer is the one its kind must get; races may also win.
    let mut wins: BTreeMap<(usize, u64), Vec<u32>> = BTreeMap::new();
    let mut tokens: BTreeMap<(usize, u64), u32> = BTreeMap::new();
    let mut races: BTreeMap<(usize, u64), usize> = BTreeMap::new();
    for s in &log {
        let got = (s.status, s.code.as_deref());
        if s.kind == Kind::Race {
            *races.entry((s.world, s.phase)).or_default() += 1;
            if got == (200, None) {
                wins.entry((s.world, s.phase)).or_default().push(s.out);
                continue;
            }
        }
        assert_eq!(
            got,
            wanted(s.kind),
            "{:?} to world {} in phase {}",
            s.kind,
            s.world,
            s.phase
        );
        if s.kind == Kind::Token {
            tokens.insert((s.world, s.phase), s.out);
        }
    }
    // Exactly one token-less change won each race: none lost, none twice.
    let duplicated = wins.values().filter(|v| v.len() > 1).count();
    let lost = races.keys().filter(|key| !wins.contains_key(*key)).count();
    assert_eq!((lost, duplicated), (0, 0), "races without exactly one winner");

    // The oracle replays the accepted changes, phase by phase.
    let mut mismatched = 0;
    for (k, w) in shared.worlds.iter().enumerate() {
        let mut oracle = WorldState::new(world_doc(k));
        for phase in 0..phases {
            let now = phase as i64 * 300;
            let mut accepted: Vec<Vec<(String, String)>> = Vec::new();
            if let Some(out) = tokens.get(&(k, phase)) {
                accepted.push(op(Kind::Token, k, phase, *out));
            }
            if let Some(v) = wins.get(&(k, phase)) {
                accepted.push(op(Kind::Race, k, phase, v[0]));
            }
            for pairs in accepted {
                let req = ModifyRequest::from_pairs(pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
                let d = decide(&oracle, now, &req);
                assert_eq!(d.rule, RuleId::E1, "the oracle refuses an accepted change: {pairs:?}");
                oracle.apply(d.change.as_ref().expect("E1 carries its change"));
                assert_eq!(
                    decide(&oracle, now, &req).rule,
                    if req.client_token.is_some() {
                        RuleId::I3
                    } else {
                        RuleId::T1
                    }
                );
            }
        }
        for id in oracle.instances.keys() {
            let want = serde_json::to_value(&oracle.instances[id]).unwrap();
            let got = shared.control.instance(&w.world_id, id).await.unwrap();
            if got.as_ref() != Some(&want) {
                mismatched += 1;
                eprintln!("world {k} {id}: server {got:?}, oracle replay {want}");
            }
        }
    }
    assert_eq!(mismatched, 0, "states differ from the oracle's replay");
    let count = |k: Kind| log.iter().filter(|s| s.kind == k).count();
    println!(
        "soak: requests={} worlds={WORLDS} clients={CLIENTS} phases={phases} duration={:.1}s rate={:.0}/s \
         changes_applied={} token_replays={} race_refusals={} foreign_refused={} lost=0 duplicated=0",
        log.len(),
        elapsed.as_secs_f64(),
        log.len() as f64 / elapsed.as_secs_f64(),
        tokens.len() + wins.len(),
        count(Kind::Token) - tokens.len(),
        count(Kind::Race) - wins.len(),
        count(Kind::Foreign),
    );
    assert!(phases >= 2 && log.len() >= 1000, "too little traffic to mean anything");
}
