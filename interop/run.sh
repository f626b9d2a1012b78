#!/usr/bin/env bash
# The interop matrix: real Alibaba Cloud clients (Node and Python, pinned) against `modspec serve`.
# Usage (from anywhere; normally the repo root):  bash interop/run.sh
# Env: MODSPEC_BIN  server binary (default target/release/modspec, relative to the repo root)
#      PYTHON       interpreter used to create the venv (default python3)
#      NODE, NPM    Node.js (>= 18, for the global fetch) and npm (default: from PATH)
# Installs are no-ops once interop/.venv and interop/node/node_modules are complete.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="$here/.venv"

cd "$root"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"

# npm ci wipes and reinstalls node_modules, so it runs only when the lock file
# differs from the copy saved after the last successful npm ci.
if ! cmp -s "$here/node/package-lock.json" "$here/node/node_modules/.package-lock.json.ci" 2>/dev/null; then
    (cd "$here/node" && "${NPM:-npm}" ci --no-audit --no-fund --loglevel=error)
    cp "$here/node/package-lock.json" "$here/node/node_modules/.package-lock.json.ci"
fi
exec "$venv/bin/python" "$here/matrix.py" "$@"
