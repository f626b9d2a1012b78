//! `modspec bench`: drives a server over loopback with concurrent clients
//! sending signed V3 requests, each client to a fresh world of its own, and
//! reports throughput and latency.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::Url;

use crate::client::{ControlClient, EcsClient, EcsRequest, HttpOptions, SignatureStyle, TlsOptions, http_client};
use crate::server::{CONTROL_PREFIX, Server, ServerConfig};
use crate::spec::sample_world;
use crate::wire::ParamList;

/// Why a benchmark could not run (the figures of one that ran say how
/// it went).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("the case library has errors: {0}")]
    Cases(crate::scenario::LoadError),
    #[error("could not start the embedded server")]
    Serve(#[source] std::io::Error),
    #[error("the target's control URL is not a URL")]
    Url(#[from] url::ParseError),
    #[error("could not build the HTTP client")]
    Http(#[from] crate::client::HttpClientError),
    #[error("connecting to the target")]
    Target(#[from] crate::runner::TargetError),
    #[error("creating a world for a load client")]
    Control(#[from] crate::client::ControlError),
    #[error("a load client stopped")]
    Client(#[from] tokio::task::JoinError),
}

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub clients: usize,
    pub requests: usize,
    /// `None`: start the embedded server on loopback.
    pub target: Option<Url>,
    /// Also run the case library this many times against the same server
    /// and compare the runner's request rate with the load generator's.
    pub suite_rounds: usize,
    pub cases: crate::scenario::Cases,
    /// Which TLS servers to trust (`--cacert`, `--insecure`).
    pub tls: TlsOptions,
}

/// The runner's figures from the same run.
#[derive(Clone, Debug)]
pub struct SuiteRate {
    pub rounds: usize,
    pub trials: usize,
    /// ECS API requests the runner sent (control calls not counted).
    pub api_requests: usize,
    pub elapsed: Duration,
    pub failures: usize,
}

impl SuiteRate {
    pub fn per_second(&self) -> f64 {
        self.api_requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// The figures of one run.
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub requests: usize,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    /// Answers other than the expected `DryRunOperation` (should be zero).
    pub unexpected: usize,
}

impl BenchReport {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs the case library `rounds` times against `base` with the normal runner.
pub(crate) async fn suite_rate(
    base: &Url,
    cases: &crate::scenario::Cases,
    rounds: usize,
    tls: &TlsOptions,
) -> Result<SuiteRate, BenchError> {
    let mut lib = cases.load();
    if !lib.errors.is_empty() {
        // The first error, as the runner would list it first.
        return Err(BenchError::Cases(lib.errors.swap_remove(0)));
    }
    let c = crate::runner::Connect {
        tls: tls.clone(),
        ..crate::runner::Connect::new(base.clone(), Duration::from_secs(10))
    };
    let (ctx, _) = crate::runner::connect(&c).await?;
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = Instant::now();
    let (mut api_requests, mut failures) = (0, 0);
    for _ in 0..rounds {
        for r in crate::runner::run_all(&ctx, &lib.trials, crate::runner::Jobs::Fixed(jobs)).await {
            api_requests += r.recorded.len();
            failures += usize::from(!matches!(r.outcome, crate::runner::Outcome::Pass));
        }
    }
    Ok(SuiteRate {
        rounds,
        trials: lib.trials.len(),
        api_requests,
        elapsed: started.elapsed(),
        failures,
    })
}

/// Runs the benchmark. Every request is a full pass through the gateway
/// (signature, nonce) and the oracle; `DryRun=true` keeps T1 from
/// short-circuiting later requests.
pub async fn run(opts: &BenchOptions) -> Result<(BenchReport, Option<SuiteRate>), BenchError> {
    let (base, _server) = match &opts.target {
        Some(url) => (url.clone(), None),
        None => {
            let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
            let server = Server::bind(loopback, &ServerConfig::default())
                .await
                .map_err(BenchError::Serve)?;
            let addr = server.local_addr().map_err(BenchError::Serve)?;
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            tokio::spawn(server.run(async {
                let _ = rx.await;
            }));
            (Url::parse(&format!("http://{addr}/"))?, Some(tx))
        }
    };
    let timeout = Duration::from_secs(10);
    let http = http_client(&HttpOptions {
        max_idle_per_host: Some(opts.clients),
        ..HttpOptions::new(opts.tls.clone(), timeout)
    })?;
    let control = ControlClient::new(
        http.clone(),
        base.join(CONTROL_PREFIX.trim_start_matches('/'))?,
        timeout,
    );
    let ecs = EcsClient::new(http, base.clone(), timeout);
    let world = sample_world();
    let per_client = opts.requests.div_ceil(opts.clients.max(1));
    let mut handles = Vec::new();
    let mut worlds = Vec::new();
    for _ in 0..opts.clients.max(1) {
        worlds.push(control.create_world(&world).await?);
    }
    let started = Instant::now();
    for w in worlds {
        let ecs = ecs.clone();
        handles.push(tokio::spawn(async move {
            let params: ParamList = [
                ("InstanceId", "i-conf0001"),
                ("InternetMaxBandwidthOut", "6"),
                ("DryRun", "true"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let req = EcsRequest::modify(SignatureStyle::V3, params);
            let mut lat = Vec::with_capacity(per_client);
            let mut unexpected = 0usize;
            for _ in 0..per_client {
                let t = Instant::now();
                let ok = match ecs.send(&w.access_key_id, &w.secret, &req).await {
                    Ok(ex) => ex.status == 400 && ex.body.windows(15).any(|b| b == b"DryRunOperation"),
                    Err(_) => false,
                };
                lat.push(t.elapsed());
                unexpected += usize::from(!ok);
            }
            (lat, unexpected)
        }));
    }
    let mut all = Vec::new();
    let mut unexpected = 0;
    for h in handles {
        let (lat, bad) = h.await?;
        all.extend(lat);
        unexpected += bad;
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let report = BenchReport {
        requests: all.len(),
        elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        unexpected,
    };
    let suite = match opts.suite_rounds {
        0 => None,
        n => Some(suite_rate(&base, &opts.cases, n, &opts.tls).await?),
    };
    Ok((report, suite))
}
