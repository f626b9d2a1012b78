//! The one place the harness's HTTP client is built (run, fuzz, bench and
//! the control-protocol client alike): rustls with the platform's roots
//! plus `--cacert` files, or no verification with `--insecure` (curl's
//! names); no proxy; no redirects; and the plain-words cause of a
//! transport failure, with TLS problems named.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Once};
use std::time::Duration;

use rustls::crypto::CryptoProvider;

/// Pooled connections are dropped after this long unused: below the
/// keep-alive timeouts servers commonly use (Node's 5 s, nginx's 75 s,
/// the reference's 60 s), so the harness does not send on a connection
/// the server is just closing.
const POOL_IDLE: Duration = Duration::from_secs(4);

/// How the harness trusts TLS servers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM files of extra trusted CAs (`--cacert`, repeatable), trusted
    /// beside the platform's roots.
    pub ca_files: Vec<PathBuf>,
    /// Accept any certificate (`--insecure`).
    pub insecure: bool,
}

/// Everything that shapes the harness's HTTP client.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub tls: TlsOptions,
    pub connect_timeout: Duration,
    /// Host names resolved to these addresses instead of through DNS.
    pub resolve: Vec<(String, SocketAddr)>,
    /// Idle connections kept per host (the benchmark keeps one per client).
    pub max_idle_per_host: Option<usize>,
}

impl HttpOptions {
    pub fn new(tls: TlsOptions, connect_timeout: Duration) -> Self {
        HttpOptions {
            tls,
            connect_timeout,
            resolve: Vec::new(),
            max_idle_per_host: None,
        }
    }
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("cannot read the CA file {path} (--cacert): {cause}")]
    CaRead { path: String, cause: String },
    #[error("CA file {path} (--cacert): {what}")]
    CaInvalid { path: String, what: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// The crypto provider of every TLS connection, client and server: ring
/// (BENCHMARKS.md, "TLS build cost", says why not aws-lc-rs). Installed
/// once as the process default, which reqwest's rustls backend reads.
pub fn tls_provider() -> Arc<CryptoProvider> {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Fails only if a default is installed already; that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// The harness's HTTP client. It never follows redirects: a 3xx answer is
/// the target's answer, and following it would judge another server (and
/// drop the signature's `Authorization` on the way).
pub fn http_client(o: &HttpOptions) -> Result<reqwest::Client, HttpClientError> {
    tls_provider();
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(POOL_IDLE)
        .connect_timeout(o.connect_timeout);
    if let Some(n) = o.max_idle_per_host {
        b = b.pool_max_idle_per_host(n);
    }
    for (name, addr) in &o.resolve {
        b = b.resolve(name, *addr);
    }
    let mut cas = Vec::new();
    for path in &o.tls.ca_files {
        cas.extend(read_ca(path)?);
    }
    if !cas.is_empty() {
        b = b.tls_certs_merge(cas);
    }
    if o.tls.insecure {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    b.build()
        .map_err(|e| HttpClientError::Build(crate::util::error_chain(&e)))
}

fn read_ca(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, HttpClientError> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|e| HttpClientError::CaRead {
        path: shown.clone(),
        cause: e.to_string(),
    })?;
    let invalid = |what: String| HttpClientError::CaInvalid {
        path: shown.clone(),
        what,
    };
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| invalid(crate::util::error_chain(&e)))?;
    if certs.is_empty() {
        return Err(invalid(
            "no PEM certificate (`-----BEGIN CERTIFICATE-----`) in it".into(),
        ));
    }
    Ok(certs)
}

/// A transport failure in words: the error chain, led by the TLS problem
/// when there is one (unknown issuer, name mismatch, expired certificate,
/// no TLS on the port), or with a hint when an `http://` URL met what
/// looks like a TLS server.
pub fn transport_cause(e: &reqwest::Error) -> String {
    let chain = crate::util::error_chain(e);
    if let Some(problem) = tls_problem(e) {
        return format!("{problem} ({chain})");
    }
    let plain = e.url().is_some_and(|u| u.scheme() == "http");
    let odd_answer = find::<hyper::Error>(e).is_some_and(|h| h.is_parse() || h.is_incomplete_message());
    if plain && odd_answer {
        return format!("{chain} (if the target speaks HTTPS on this port, use an https:// URL)");
    }
    chain
}

/// How a request got no answer at all. Under load that is a target that
/// cannot keep up; with nothing else answered meanwhile, a target that is
/// down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unanswered {
    /// Nothing within the timeout (a connection or an answer).
    TimedOut,
    /// Refused, reset or closed before an answer began: at once.
    Dropped,
}

/// Whether, and how, a request got no answer at all; decided from the
/// error's types, never its words.
pub fn unanswered(e: &reqwest::Error) -> Option<Unanswered> {
    use std::io::ErrorKind as K;
    if e.is_timeout() {
        return Some(Unanswered::TimedOut);
    }
    let dropped = find::<std::io::Error>(e).is_some_and(|io| {
        matches!(
            io.kind(),
            K::ConnectionRefused | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe
        )
    });
    // A pooled connection the server closed before the request went out
    // (`is_canceled`: "connection was not ready") was never answered
    // either: the request can be sent again as it is.
    let closed = find::<hyper::Error>(e).is_some_and(|h| h.is_incomplete_message() || h.is_canceled());
    (e.is_connect() || dropped || closed).then_some(Unanswered::Dropped)
}

/// The TLS problem behind a failure, in words, if TLS failed.
pub fn tls_problem(e: &reqwest::Error) -> Option<String> {
    find::<rustls::Error>(e).map(tls_words)
}

/// The first error of type `T` in the chain, looking inside `io::Error`s
/// (whose `source` skips the error they wrap).
fn find<'a, T: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<T>() {
            return Some(t);
        }
        if let Some(inner) = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if let Some(t) = find::<T>(inner) {
                return Some(t);
            }
        }
        cur = err.source();
    }
    None
}

fn tls_words(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "TLS: the certificate's issuer is unknown: no CA of the platform's roots \
                                 or of a --cacert file signed it (--insecure skips the check)"
                .into(),
            C::NotValidForName => "TLS: the certificate is not valid for this host name".into(),
            C::NotValidForNameContext { expected, presented } => format!(
                "TLS: the certificate is not valid for the name `{}`: it names {}",
                expected.to_str(),
                if presented.is_empty() {
                    "nothing".to_string()
                } else {
                    presented.iter().map(|p| bare_name(p)).collect::<Vec<_>>().join(", ")
                }
            ),
            C::Expired => "TLS: the certificate has expired".into(),
            C::ExpiredContext { not_after, .. } => {
                format!(
                    "TLS: the certificate has expired (on {})",
                    unix_date(not_after.as_secs())
                )
            }
            C::NotValidYet | C::NotValidYetContext { .. } => "TLS: the certificate is not valid yet".into(),
            other => format!("TLS: the certificate was refused ({other:?})"),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "TLS: the target does not speak TLS on this port (it answered something else, \
             perhaps plain HTTP: use an http:// URL)"
                .into()
        }
        rustls::Error::AlertReceived(alert) => format!("TLS: the target refused the handshake ({alert:?} alert)"),
        other => format!("TLS handshake failed: {other}"),
    }
}

/// `other.example` from rustls's `DnsName("other.example")`.
fn bare_name(presented: &str) -> &str {
    presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .map_or(presented, |v| v.trim_matches('"'))
}

fn unix_date(secs: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0).map_or_else(
        || format!("{secs} s after 1970"),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}
