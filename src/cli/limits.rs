//! `modspec serve`'s bounds: one flag per limit of `Limits` and
//! `ConnLimits`, each range-checked, with the library's defaults.

use anyhow::bail;
use clap::Args;
use clap::builder::RangedU64ValueParser;
use modspec::server::{ConnLimits, Limits, default_max_connections, fd_limit, max_connections_allowed};
use std::time::Duration;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

fn range(min: u64, max: u64) -> RangedU64ValueParser<u64> {
    RangedU64ValueParser::new().range(min..=max)
}

fn d() -> Limits {
    Limits::default()
}

fn c() -> ConnLimits {
    ConnLimits::default()
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Limits (BENCHMARKS.md, \"Limits\")")]
pub(crate) struct LimitArgs {
    /// Connections open at once, both listeners together; at the limit the
    /// quietest idle connection is closed for a new one. At most the
    /// file-descriptor limit (`ulimit -n`) minus 64; default 512 or that.
    #[arg(long, value_name = "N", default_value_t = default_max_connections() as u64, value_parser = range(1, 1 << 20))]
    max_connections: u64,
    /// Seconds from accept (or a keep-alive request's first byte) to a
    /// complete request head, TLS handshake included.
    #[arg(long, value_name = "SECS", default_value_t = c().head_timeout.as_secs(), value_parser = range(1, 3600))]
    head_timeout: u64,
    /// Seconds for a whole request body.
    #[arg(long, value_name = "SECS", default_value_t = c().body_timeout.as_secs(), value_parser = range(1, 3600))]
    body_timeout: u64,
    /// Seconds a keep-alive connection may wait for its next request.
    #[arg(long, value_name = "SECS", default_value_t = c().idle_timeout.as_secs(), value_parser = range(1, 3600))]
    idle_timeout: u64,
    /// Largest request head (request line and headers), in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = c().max_head_bytes as u64, value_parser = range(8 * KIB, 16 * MIB))]
    max_head_bytes: u64,
    /// Request bodies buffered at once, all connections together, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = c().body_budget_bytes as u64, value_parser = range(4 * MIB, 64 * GIB))]
    body_budget_bytes: u64,
    /// Largest ECS API request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = d().max_body_bytes as u64, value_parser = range(KIB, 4 * MIB))]
    max_body_bytes: u64,
    /// Parameters of one ECS API request, query and form body together.
    #[arg(long, value_name = "N", default_value_t = d().max_params as u64, value_parser = range(16, 100_000))]
    max_params: u64,
    /// Names in a V3 `SignedHeaders` list; a longer list is refused
    /// unverified (G9).
    #[arg(long, value_name = "N", default_value_t = d().max_signed_headers as u64, value_parser = range(6, 10_000))]
    max_signed_headers: u64,
    /// Bytes of a V3 canonical request, measured before hashing; a larger
    /// one is refused unverified (G9).
    #[arg(long, value_name = "BYTES", default_value_t = d().max_canonical_request_bytes as u64, value_parser = range(16 * KIB, 64 * MIB))]
    max_canonical_request_bytes: u64,
    /// Worlds alive at once.
    #[arg(long, value_name = "N", default_value_t = d().max_worlds as u64, value_parser = range(1, 10_000_000))]
    max_worlds: u64,
    /// World documents alive at once, in bytes of compact JSON.
    #[arg(long, value_name = "BYTES", default_value_t = d().max_world_bytes_total as u64, value_parser = range(64 * KIB, 64 * GIB))]
    world_budget_bytes: u64,
    /// Instances of one world.
    #[arg(long, value_name = "N", default_value_t = d().max_instances_per_world as u64, value_parser = range(1, 1_000_000))]
    max_instances: u64,
    /// Catalog instance types of one world.
    #[arg(long, value_name = "N", default_value_t = d().max_instance_types_per_world as u64, value_parser = range(1, 1_000_000))]
    max_instance_types: u64,
    /// Images of one world.
    #[arg(long, value_name = "N", default_value_t = d().max_images_per_world as u64, value_parser = range(1, 1_000_000))]
    max_images: u64,
    /// Entries of all `allowed_changes` lists of one world together.
    #[arg(long, value_name = "N", default_value_t = d().max_allowed_changes_per_world as u64, value_parser = range(1, 10_000_000))]
    max_allowed_changes: u64,
    /// Nonces remembered for 15 minutes (G10) per world.
    #[arg(long, value_name = "N", default_value_t = d().max_nonces_per_world as u64, value_parser = range(1, 100_000_000))]
    max_nonces_per_world: u64,
    /// Nonces remembered for 15 minutes in all worlds together.
    #[arg(long, value_name = "N", default_value_t = d().max_nonces_total as u64, value_parser = range(1, 100_000_000))]
    max_nonces: u64,
}

impl LimitArgs {
    /// The bounds, or why a value cannot be used.
    pub(crate) fn limits(&self) -> anyhow::Result<(Limits, ConnLimits)> {
        if let Some(allowed) = max_connections_allowed() {
            if self.max_connections > allowed as u64 {
                bail!(
                    "--max-connections {} needs more file descriptors than this process may open ({} with `ulimit -n`, {} kept free): at most {allowed}",
                    self.max_connections,
                    fd_limit().unwrap_or_default(),
                    modspec::server::FD_RESERVE,
                );
            }
        }
        let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let limits = Limits {
            max_worlds: n(self.max_worlds),
            max_instances_per_world: n(self.max_instances),
            max_instance_types_per_world: n(self.max_instance_types),
            max_images_per_world: n(self.max_images),
            max_allowed_changes_per_world: n(self.max_allowed_changes),
            max_world_bytes_total: n(self.world_budget_bytes),
            max_nonces_per_world: n(self.max_nonces_per_world),
            max_nonces_total: n(self.max_nonces),
            max_body_bytes: n(self.max_body_bytes),
            max_params: n(self.max_params),
            max_signed_headers: n(self.max_signed_headers),
            max_canonical_request_bytes: n(self.max_canonical_request_bytes),
        };
        let conn = ConnLimits {
            max_connections: n(self.max_connections),
            head_timeout: Duration::from_secs(self.head_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_head_bytes: n(self.max_head_bytes),
            body_budget_bytes: n(self.body_budget_bytes),
        };
        Ok((limits, conn))
    }
}
