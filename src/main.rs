//! The `modspec` command line: a thin shell over the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

use cli::*;

/// Conformance kit for implementations of the Alibaba Cloud ECS API action
/// ModifyInstanceSpec.
#[derive(Parser)]
#[command(name = "modspec", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scenarios against a target (default: the embedded reference
    /// server). Exit code 0: all passed; 1: some scenario failed (the target
    /// is nonconformant); 2: the run could not be done properly (target
    /// unreachable, no control protocol, broken case files).
    Run(Box<RunArgs>),
    /// Run the whole suite against every built-in mutant of the reference
    /// server and show which scenarios catch each one.
    Mutants(MutantsArgs),
    /// Print the rule × (fires, passes) coverage matrix of the case library.
    Coverage(CasesArg),
    /// Print the JSON Schema of the scenario format.
    Schema,
    /// Print the rules table: id, status, code, one-line summary and the
    /// section of docs/spec/behaviour.md; `modspec rules T1` shows one rule
    /// with its message and accepted aliases.
    Rules(RulesArgs),
    /// The built-in case library: `modspec cases export DIR` writes it out
    /// to copy and extend.
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
    /// Serve the reference implementation (ECS API on `/`, control protocol
    /// under `/_conformance/v1`). Prints the bound address as its first line.
    Serve(ServeArgs),
    /// Benchmark a server: concurrent clients send signed V3 requests, each
    /// to a fresh world; prints requests/s and p50/p99 latency.
    Bench(BenchArgs),
    /// Fuzz a target (default: the embedded server): generated edge-case
    /// worlds and requests, each answer compared with the oracle; every
    /// kind of disagreement is shrunk and written as a scenario. Exit code
    /// 0: no disagreement; 1: findings; 2: the run could not be done.
    Fuzz(Box<FuzzArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        quiet_broken_pipe();
    }
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Run(args) => run(*args),
        Command::Mutants(args) => mutants(args),
        Command::Coverage(args) => coverage(args),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&modspec::scenario::json_schema()).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(args) => rules(args),
        Command::Cases { command } => cases(command),
        Command::Bench(args) => bench(args),
        Command::Fuzz(args) => fuzz(*args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Each link of the chain once: some texts already quote their
            // source (a transport cause with its TLS words).
            let chain = modspec::util::error_chain(e.as_ref());
            eprintln!("error: {}", modspec::util::terminal_safe(&chain));
            ExitCode::from(2)
        }
    }
}

/// `modspec rules | head` must end quietly, as other command-line tools do,
/// not panic in `println!` on the closed pipe: restore SIGPIPE's default
/// (the Rust runtime ignores it). Sockets are unaffected (std sends with
/// MSG_NOSIGNAL); `serve` keeps the runtime's setting, since it must outlive
/// any reader of its output.
fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: called at start-up before any thread is spawned; SIG_DFL is a
    // valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
