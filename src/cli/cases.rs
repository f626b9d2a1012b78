//! `modspec cases export DIR`: the built-in library written out, to copy
//! and extend (`modspec run --cases DIR` runs it).

use clap::Subcommand;
use modspec::scenario::{DEFAULT_WORLD_FILE, export_builtin};
use modspec::util::terminal_safe as safe;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub(crate) enum CasesCommand {
    /// Write the built-in case library (its `world.yaml`, every case file,
    /// README.md and schema.json) into DIR, for you to copy and extend;
    /// `modspec run --cases DIR` runs it. Refuses to overwrite files.
    Export {
        /// The folder to write (created if needed).
        dir: PathBuf,
        /// Overwrite files that exist already.
        #[arg(long)]
        force: bool,
    },
}

pub(crate) fn cases(command: CasesCommand) -> anyhow::Result<ExitCode> {
    match command {
        CasesCommand::Export { dir, force } => {
            let written = export_builtin(&dir, force)?;
            let shown = safe(&dir.display().to_string()).into_owned();
            let case_files = written
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with(DEFAULT_WORLD_FILE))
                .count();
            println!(
                "wrote {} files to {shown}: {DEFAULT_WORLD_FILE} (the default world), {case_files} case files, README.md (the format), schema.json",
                written.len()
            );
            println!("run them with: modspec run --cases {shown}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
