"""The reference server for the interop scripts: start `modspec serve` on a free
loopback port, read its address, stop it (and anything it started) on exit.
Shared by matrix.py and sdk_interop.py; stdlib only."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 15       # waiting for the server's first stdout line


def server_binary() -> Path:
    """$MODSPEC_BIN (default target/release/modspec; relative to the repo root)."""
    binary = Path(os.environ.get("MODSPEC_BIN", "target/release/modspec"))
    return binary if binary.is_absolute() else REPO_ROOT / binary


class Server:
    def __init__(self, binary: Path) -> None:
        self.binary = binary
        self.proc: subprocess.Popen | None = None
        self.stderr_file = tempfile.TemporaryFile()
        self.addr: str | None = None

    def start(self) -> str:
        if not self.binary.exists():
            raise RuntimeError(f"server binary {self.binary} does not exist "
                               f"(build it with `cargo build --release` or set MODSPEC_BIN)")
        self.proc = subprocess.Popen(
            [str(self.binary), "serve", "--listen", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr_file,
            cwd=str(REPO_ROOT), start_new_session=True,
        )
        first: list[str] = []
        got = threading.Event()

        def reader() -> None:
            assert self.proc and self.proc.stdout
            line = self.proc.stdout.readline()
            first.append(line.decode("utf-8", "replace"))
            got.set()
            # keep draining so the server never blocks on a full pipe
            for _ in iter(self.proc.stdout.readline, b""):
                pass

        threading.Thread(target=reader, daemon=True).start()
        if not got.wait(STARTUP_TIMEOUT_S):
            raise RuntimeError(f"no stdout line from the server within {STARTUP_TIMEOUT_S}s"
                               + self.stderr_tail())
        line = first[0].strip()
        m = re.search(r"(\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9A-Fa-f:.]+\]):(\d{1,5})", line)
        if not m:
            raise RuntimeError(f"first stdout line {line!r} has no host:port "
                               f"(exit status {self.proc.poll()})" + self.stderr_tail())
        self.addr = f"{m.group(1)}:{m.group(2)}"
        return self.addr

    def stderr_tail(self) -> str:
        try:
            self.stderr_file.seek(0)
            tail = self.stderr_file.read()[-2000:].decode("utf-8", "replace").strip()
        except Exception:
            return ""
        return f"\nserver stderr (tail):\n{tail}" if tail else ""

    def stop(self) -> None:
        p = self.proc
        if p is None or p.poll() is not None:
            return
        # the server runs in its own session/process group (start_new_session),
        # so this reaches it and anything it started (e.g. a wrapper script)
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(5)
