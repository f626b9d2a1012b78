#!/usr/bin/env bash
# cargo-mutants on what a change touches (issue 9, point 7): the mutants of
# the lines the last commit (or $MUTANTS_BASE..HEAD) changed in src/spec, src/gate,
# src/wire and src/server/gateway.rs, with the conformance suite as the only
# test (.cargo/mutants.toml). A mutant the suite misses fails the step:
# kill it with a case, or mark it equivalent in .cargo/mutants.toml with
# the reason.
#
# Bounded: at most $MUTANTS_MAX mutants (default 12) run; a larger change
# runs one shard of its mutants, chosen by the commit, so successive
# commits sample different ones, and the whole command is under `timeout`.
# BENCHMARKS.md "Mutation score" has the full run and its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${MUTANTS_BASE:-HEAD~1}
max=${MUTANTS_MAX:-12}
version=27.1.0

if ! git rev-parse --verify -q "$base" >/dev/null; then
  echo "no $base in this clone (shallow?): nothing to compare, step skipped"
  exit 0
fi
diff=$(mktemp)
git diff "$base" HEAD -- src/spec src/wire src/gate src/server/gateway.rs > "$diff"
if [ ! -s "$diff" ]; then
  echo "the change touches nothing in src/spec, src/wire, src/gate or src/server/gateway.rs: no mutants"
  exit 0
fi
if ! cargo mutants --version 2>/dev/null | grep -q "$version"; then
  # About 3 minutes on 2 cores, once per machine.
  cargo install --locked --quiet cargo-mutants --version "$version"
fi
count=$(cargo mutants --list --in-diff "$diff" | wc -l)
echo "$count mutants in the changed lines"
if [ "$count" -eq 0 ]; then
  exit 0
fi
shard=""
if [ "$count" -gt "$max" ]; then
  shards=$(( (count + max - 1) / max ))
  pick=$(( 0x$(git rev-parse --short=6 HEAD) % shards ))
  shard="--shard $pick/$shards"
  echo "more than $max: running shard $pick of $shards"
fi
# In place: CI's clone is throwaway, and its warm target/ is reused.
# shellcheck disable=SC2086
timeout 1200 cargo mutants --in-place --in-diff "$diff" $shard --no-shuffle -o /tmp/modspec-mutants
