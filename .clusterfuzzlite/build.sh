#!/bin/bash -eu
# Builds the four cargo-fuzz targets of fuzz/ into $OUT, each with its seed
# corpus (<target>_seed_corpus.zip), the shared dictionary (<target>.dict)
# and, for the oracle, libFuzzer options (<target>.options).
#
# On ClusterFuzzLite: nightly Rust, address sanitizer (cargo-fuzz's default),
# $SRC, $OUT and $SANITIZER set by the image. To check it locally on stable
# (see README.md here): SRC=<parent of the checkout> OUT=<empty dir>
# SANITIZER=none bash .clusterfuzzlite/build.sh
cd "$SRC/modspec/fuzz"

TARGETS="oracle server wire differential"
FLAGS=(-O)
if [ "${SANITIZER:-address}" = "none" ]; then
  # Stable Rust: no sanitizer (cargo-fuzz otherwise passes -Zsanitizer).
  FLAGS+=(-s none)
fi
cargo fuzz build "${FLAGS[@]}"

BIN=target/x86_64-unknown-linux-gnu/release
for t in $TARGETS; do
  cp "$BIN/$t" "$OUT/$t"
  cp modspec.dict "$OUT/$t.dict"
  # Seeds and committed regressions start every corpus.
  rm -f "$OUT/${t}_seed_corpus.zip"
  ( cd seeds/"$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" . )
  if [ -d regressions/"$t" ] && [ -n "$(ls -A regressions/"$t")" ]; then
    ( cd regressions/"$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" . )
  fi
done

# The oracle's input is indices into edge-case lists: longer inputs add
# nothing (same setting as the nightly job).
printf '[libfuzzer]\nmax_len = 64\n' > "$OUT/oracle.options"
