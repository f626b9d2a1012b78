#!/usr/bin/env bash
# Official-SDK interop check: alibabacloud-ecs20140526 (pinned) against `modspec serve`.
# Usage (from anywhere; normally the repo root):  bash interop/run.sh
# Env: MODSPEC_BIN  server binary (default target/release/modspec, relative to the repo root)
#      PYTHON       interpreter used to create the venv (default python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="$here/.venv"

cd "$root"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
exec "$venv/bin/python" "$here/sdk_interop.py" "$@"
