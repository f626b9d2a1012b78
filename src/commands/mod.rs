//! The library side of the subcommands: `run`, `mutants`, `coverage`.
//! `main.rs` only parses arguments and prints.

mod coverage;
mod mutants;
mod run;

pub use coverage::{Cell, Coverage, coverage};
pub use mutants::{MutantVerdict, run_mutants};
pub use run::{RunOptions, RunOutput, Selection, is_not_run, run};
