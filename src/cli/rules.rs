//! `modspec rules [ID]`: the rules table (`spec::RULES`) as a user reads
//! it, each rule with the heading of docs/spec/behaviour.md section 3 that
//! defines it (tests/rules_table.rs keeps the three in step).

use clap::Args;
use modspec::spec::{RULES, RuleId, RuleSpec, rule_hint};
use std::process::ExitCode;

#[derive(Args)]
pub(crate) struct RulesArgs {
    /// One rule (`T1`): its summary, message, section and accepted aliases.
    id: Option<String>,
}

/// The heading of docs/spec/behaviour.md section 3 under which the rule
/// is defined: the table of its family.
fn section(rule: RuleId) -> &'static str {
    match rule.as_str().as_bytes().first() {
        Some(b'G') => "G: gateway",
        Some(b'P') => "P: parameters (stateless)",
        Some(b'I') => "I: idempotency (per account)",
        Some(b'R' | b'A' | b'T' | b'S') => "R, A, T, S: the instance and the account",
        Some(b'C') => "C: type change",
        Some(b'B') => "B: bandwidth change",
        _ => "D, F, E: outcome",
    }
}

fn code(spec: &RuleSpec) -> &'static str {
    spec.code.unwrap_or("(success)")
}

pub(crate) fn rules(args: RulesArgs) -> anyhow::Result<ExitCode> {
    match args.id {
        None => print_table(),
        Some(id) => {
            let wanted = id.trim().to_ascii_uppercase();
            let rule = wanted
                .parse::<RuleId>()
                .map_err(|e| anyhow::anyhow!("{e}{}", rule_hint(&wanted)))?;
            print_one(rule.spec());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table() {
    let width = RULES.iter().map(|r| code(r).len()).max().unwrap_or(0);
    let summary_width = RULES.iter().map(|r| r.summary.len()).max().unwrap_or(0);
    println!(
        "{:<4} {:<6} {:<width$}  {:<summary_width$}  behaviour.md section 3",
        "id", "status", "code", "summary"
    );
    for r in RULES {
        println!(
            "{:<4} {:<6} {:<width$}  {:<summary_width$}  {}",
            r.id.as_str(),
            r.status,
            code(r),
            r.summary,
            section(r.id)
        );
    }
    println!(
        "{} rules, in the order they are checked (docs/spec/behaviour.md section 3); `modspec rules ID` shows one with its aliases",
        RULES.len()
    );
}

fn print_one(r: &RuleSpec) {
    println!("{}  {} {}", r.id, r.status, code(r));
    println!("  summary:  {}", r.summary);
    if !r.message.is_empty() {
        println!("  message:  {}", r.message);
    }
    println!("  section:  docs/spec/behaviour.md section 3, \"{}\"", section(r.id));
    if r.aliases.is_empty() {
        println!("  aliases:  none (only {} {} is accepted)", r.status, code(r));
    } else {
        println!("  aliases:  accepted without --strict, with a warning:");
        for a in r.aliases {
            println!("            {} {} ({})", a.status, a.code, a.why);
        }
    }
}
