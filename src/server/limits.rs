//! The connection layer's bounds (each a `modspec serve` flag; the table
//! is in BENCHMARKS.md, "Limits"), and the file-descriptor limit the
//! connection limit must stay below.

use std::time::Duration;

/// Descriptors kept free beside the connections: the listeners, stdio,
/// the runtime's own, and connections being evicted while their
/// replacement is admitted.
pub const FD_RESERVE: u64 = 64;

/// The default connection limit where the descriptor limit allows it.
const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Time and size bounds of connections and request bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnLimits {
    /// Connections open at once, on all listeners together.
    pub max_connections: usize,
    /// From accept (or a keep-alive request's first byte) to its complete
    /// head, TLS handshake included.
    pub head_timeout: Duration,
    /// A whole request body; also the longest wait for any body byte.
    pub body_timeout: Duration,
    /// A keep-alive connection with no request started.
    pub idle_timeout: Duration,
    /// The largest request head (request line and headers); larger is 431.
    pub max_head_bytes: usize,
    /// Request bodies buffered at once, over every connection and both
    /// listeners; a body that would go over is refused with 503.
    pub body_budget_bytes: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: default_max_connections(),
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_head_bytes: 64 * 1024,
            body_budget_bytes: 64 * 1024 * 1024,
        }
    }
}

/// 512, or fewer when the descriptor limit leaves less room.
pub fn default_max_connections() -> usize {
    match max_connections_allowed() {
        Some(n) => DEFAULT_MAX_CONNECTIONS.min(n),
        None => DEFAULT_MAX_CONNECTIONS,
    }
}

/// The most connections the descriptor limit leaves room for
/// (`RLIMIT_NOFILE` minus [`FD_RESERVE`]), if there is a limit.
pub fn max_connections_allowed() -> Option<usize> {
    fd_limit().map(|n| n.saturating_sub(FD_RESERVE).max(1) as usize)
}

/// This process's soft limit of open file descriptors.
#[cfg(unix)]
pub fn fd_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a valid pointer.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    // `rlim_t` is u64 on Linux but not on every Unix.
    #[allow(clippy::unnecessary_cast)]
    (ok && lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur as u64)
}

#[cfg(not(unix))]
pub fn fd_limit() -> Option<u64> {
    None
}
