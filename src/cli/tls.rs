//! `--cacert` and `--insecure` (curl's names), shared by every subcommand
//! that talks to a target.

use clap::Args;
use modspec::client::TlsOptions;
use std::path::PathBuf;

#[derive(Args, Clone, Debug)]
pub(crate) struct TlsArgs {
    /// Also trust the CA certificates in this PEM file, beside the
    /// platform's roots (repeatable).
    #[arg(long, value_name = "PEM")]
    cacert: Vec<PathBuf>,
    /// Do not verify the target's TLS certificate (prints a warning).
    #[arg(long, short = 'k')]
    insecure: bool,
}

impl TlsArgs {
    /// The options, warning on stderr once if verification is off.
    pub(crate) fn options(self) -> TlsOptions {
        if self.insecure {
            eprintln!(
                "warning: --insecure: TLS certificates are not verified; anyone on the path can pose as the target"
            );
        }
        TlsOptions {
            ca_files: self.cacert,
            insecure: self.insecure,
        }
    }
}
