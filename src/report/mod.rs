//! Reports of a run: the console summary, JUnit XML and JSON, and the
//! exit code. The three read the same [`Summary`].

mod console;
mod junit;
mod summary;

pub use console::{print_results, render_summary};
pub use junit::render_junit;
pub use summary::{CapabilityCosts, ExitStatus, Summary, render_json};
