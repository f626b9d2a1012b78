//! `modspec mutants` and `modspec coverage`: the suite checking itself.

use clap::Args;
use modspec::commands::RunOptions;
use modspec::report::{ExitStatus, render_summary};
use modspec::spec::RuleId;
use modspec::util::terminal_safe as safe;
use std::process::ExitCode;

use super::run::CasesArg;
use super::runtime;

#[derive(Args)]
pub(crate) struct MutantsArgs {
    #[command(flatten)]
    cases: CasesArg,
    /// Only mutants whose name contains this text (repeatable).
    #[arg(long)]
    only: Vec<String>,
}

pub(crate) fn mutants(args: MutantsArgs) -> anyhow::Result<ExitCode> {
    let base = RunOptions::embedded(args.cases.library());
    let rt = runtime()?;
    let baseline = rt.block_on(modspec::commands::run(&base));
    let clean = baseline.summary.exit_status() == ExitStatus::Passed;
    println!("baseline (no mutant): {}", render_summary(&baseline.summary));
    let verdicts = rt.block_on(modspec::commands::run_mutants(&base, &args.only));
    let mut survived = 0;
    for v in &verdicts {
        let name = v.mutant.name();
        if v.caught() {
            let shown: Vec<_> = v.caught_by.iter().take(3).map(String::as_str).collect();
            let more = v.caught_by.len().saturating_sub(3);
            let more = if more > 0 { format!(" +{more}") } else { String::new() };
            println!("caught    {name:<32} by {}{more}", safe(&shown.join(", ")));
        } else {
            survived += 1;
            println!("SURVIVED  {name:<32} {}", v.mutant.spec().what);
        }
        if !v.errors.is_empty() {
            println!(
                "          {} scenario(s) errored against it: {}",
                v.errors.len(),
                safe(&v.errors.join(", "))
            );
        }
    }
    println!("{} of {} mutants caught", verdicts.len() - survived, verdicts.len());
    Ok(if clean && survived == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub(crate) fn coverage(args: CasesArg) -> anyhow::Result<ExitCode> {
    let lib = args.library().load();
    for e in &lib.errors {
        eprintln!("error: {}", safe(&e.to_string()));
    }
    let c = modspec::commands::coverage(&lib.trials);
    println!(
        "{:<5} {:>6} {:>7}  scenarios (fires | passes)",
        "rule", "fires", "passes"
    );
    for r in RuleId::all() {
        let f = &c.fires[&r];
        let p = &c.passes[&r];
        let sample = |v: &Vec<String>| safe(&v.iter().take(2).cloned().collect::<Vec<_>>().join(", ")).into_owned();
        println!(
            "{:<5} {:>6} {:>7}  {} | {}",
            r.as_str(),
            f.len(),
            p.len(),
            sample(f),
            sample(p)
        );
    }
    let holes = c.holes();
    for (r, kind) in &holes {
        println!("EMPTY {r} {kind}");
    }
    println!("{} trials, {} empty cells", lib.trials.len(), holes.len());
    Ok(if holes.is_empty() && lib.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
