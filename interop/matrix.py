#!/usr/bin/env python3
"""The interop matrix: real Alibaba Cloud clients against `modspec serve`.

Starts the reference server once, runs the client drivers against it
(py_clients.py and node/clients.js, in parallel; each prints one JSON line per
check) and the official-SDK deep check (sdk_interop.py, its own server), judges
every outcome against checks.json and prints ONE table: client x style x
format, with passed / failed / limit counts.

  pass   the client surfaced the expected HTTP status and error Code (for a
         success: status 200, a RequestId, the new state in the control protocol)
  limit  the client cannot take part: it cannot parse the body format (XML),
         or it cannot send the request at all; the reason is printed
  fail   anything else: a wrong status or code, an unexpected success, a
         transport failure, a JSON body the client could not parse

Exit status: 0 if nothing failed, 1 if anything failed (or a driver died or
left checks unanswered), 2 if the server did not start.

Run through interop/run.sh (it installs the pinned clients first).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from harness import Server, server_binary

HERE = Path(__file__).resolve().parent
SPEC = json.loads((HERE / "checks.json").read_text())
CHECKS = {c["id"]: c for c in SPEC["checks"]}
DRIVER_TIMEOUT_S = 120
NODE = os.environ.get("NODE", "node")

# What a client reports instead of the server's code, on purpose and checked
# to mean the same thing. aliyunsdkcore (client.py, _get_server_exception)
# renames SignatureDoesNotMatch to InvalidAccessKeySecret when the server's
# string-to-sign (quoted in its Message) equals the client's own: the strings
# agree, so only the secret can be wrong. That is the G9 answer, confirmed.
CLIENT_RENAMES = {("python aliyun-python-sdk-core", "SignatureDoesNotMatch"): "InvalidAccessKeySecret"}


def wire_mismatch(rec: dict) -> str | None:
    """The group's label must be what the client really sent (the drivers record it)."""
    w, style, fmt = rec["outcome"].get("wire"), rec["style"], rec["format"]
    if w is None:
        return None   # nothing sent: judged by the outcome (not-sent / transport)
    problems = []
    if style.startswith("V3") and not (w["v3"] and w["signature_in"] is None):
        problems.append("not an ACS3-HMAC-SHA256 request")
    if style.startswith("V1") and (w["v3"] or w["signature_in"] is None):
        problems.append("not a V1 request (no Signature parameter)")
    for method in ("GET", "POST"):
        if method in style.split() and w["method"] != method:
            problems.append(f"method {w['method']}")
    sent_format = (w["format"] or "").upper()
    if sent_format != fmt and not (fmt == "JSON" and sent_format == ""):
        problems.append(f"Format={w['format']!r}")
    return f"client sent {w}: {'; '.join(problems)}" if problems else None


def judge(rec: dict) -> tuple[str, str]:
    """One driver line -> (pass | fail | limit, why)."""
    check, out, fmt = CHECKS.get(rec["check"]), rec["outcome"], rec["format"]
    kind = out.get("kind")
    if check is None:
        return "fail", f"{out.get('detail', rec['check'])}"   # driver setup failure
    if kind == "not-sent":
        return "limit", f"client does not send it: {out.get('detail')}"
    mismatch = wire_mismatch(rec)
    if mismatch:
        return "fail", mismatch
    if kind == "parse-error":
        want = 200 if check.get("success") else check["status"]
        what = "success" if check.get("success") else "errors"
        if fmt != "XML":
            return "fail", f"client could not parse a JSON answer: {out.get('detail')}"
        if what in rec.get("parses_xml", []):   # declared by the driver, from the client's source
            return "fail", f"client parses XML {what}, but not this answer: {out.get('detail')}"
        if out.get("status") not in (None, want):
            return "fail", f"status {out.get('status')}, want {want} ({out.get('detail')})"
        return "limit", f"client cannot parse XML {'success' if what == 'success' else 'error'} bodies"
    if kind == "transport":
        return "fail", f"transport: {out.get('detail')}"
    if check.get("success"):
        if kind != "response":
            return "fail", f"got {out.get('status')} {out.get('code')}: {out.get('detail')}"
        # status None: the client returns a result without its status, and
        # only for a non-error answer (aliyunsdkcore do_action_with_exception)
        if out.get("status") not in (200, None) or not out.get("request_id"):
            return "fail", f"status {out.get('status')}, RequestId {out.get('request_id')!r}"
        state = out.get("state") or {}
        bad = {k: state.get(k) for k, v in check.get("state", {}).items() if state.get(k) != v}
        return ("fail", f"state after success: {bad}") if bad else ("pass", "")
    if kind == "response":
        return "fail", f"call succeeded (status {out.get('status')}), want {check['status']} {check['code']}"
    want_code = CLIENT_RENAMES.get((rec["client"], check["code"]), check["code"])
    if out.get("status") != check["status"] or out.get("code") != want_code:
        return "fail", (f"got {out.get('status')} {out.get('code')}, want {check['status']} {want_code}"
                        f" ({out.get('detail', '')[:160]})")
    return "pass", ""


def run_driver(argv: list[str], addr: str, cwd: Path) -> subprocess.Popen | str:
    env = dict(os.environ, INTEROP_ADDR=addr)
    try:
        return subprocess.Popen(argv, cwd=str(cwd), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    except OSError as e:   # e.g. no `node` on PATH: a failure of the run, named
        return f"cannot start {argv[0]}: {e}"


def collect(label: str, proc: subprocess.Popen | str) -> tuple[list[dict], list[str]]:
    if isinstance(proc, str):
        return [], [f"{label}: {proc}"]
    problems = []
    try:
        stdout, stderr = proc.communicate(timeout=DRIVER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        problems.append(f"{label}: killed after {DRIVER_TIMEOUT_S}s")
    if proc.returncode not in (0, None):
        problems.append(f"{label}: exit status {proc.returncode}\n{stderr[-1500:]}")
    records = []
    for line in stdout.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            problems.append(f"{label}: not a result line: {line[:200]!r}")
    if not records:   # a driver that checked nothing must not pass silently
        problems.append(f"{label}: no results")
    return records, problems


def deep_official() -> tuple[tuple, str, str]:
    """sdk_interop.py: the official SDK's wire, I3, D1, A1, A4 and raw V1 XML checks."""
    p = subprocess.run([sys.executable, str(HERE / "sdk_interop.py")], capture_output=True, text=True,
                       timeout=DRIVER_TIMEOUT_S + 30)
    last = (p.stdout.strip().splitlines() or ["no output"])[-1]
    row = ("python alibabacloud-ecs20140526 (sdk_interop.py)", "V3+V1", "JSON+XML")
    return row, last, p.stdout if p.returncode != 0 else ""


def main() -> int:
    started = time.monotonic()
    server = Server(server_binary())
    try:
        try:
            addr = server.start()
        except Exception as e:
            print(f"server start failed: {e}", flush=True)
            return 2
        procs = [("py_clients.py", run_driver([sys.executable, str(HERE / "py_clients.py")], addr, HERE)),
                 ("node/clients.js", run_driver([NODE, "clients.js"], addr, HERE / "node"))]
        deep_row, deep_last, deep_out = deep_official()
        records, problems = [], []
        for label, proc in procs:
            r, p = collect(label, proc)
            records += r
            problems += p
    finally:
        server.stop()

    # group -> counts; every group must answer every check exactly once
    groups: dict[tuple, dict] = {}
    failures, limits = [], {}
    for rec in records:
        key = (rec["client"], rec["style"], rec["format"])
        g = groups.setdefault(key, {"pass": 0, "fail": 0, "limit": 0, "seen": set()})
        verdict, why = judge(rec)
        g[verdict] += 1
        g["seen"].add(rec["check"])
        if verdict == "fail":
            failures.append(f"FAIL {' / '.join(key)} {rec['check']}: {why}")
        elif verdict == "limit":
            limits.setdefault(key, set()).add(why)
    for key, g in groups.items():
        missing = set(CHECKS) - g["seen"]
        if missing:
            g["fail"] += len(missing)
            failures.append(f"FAIL {' / '.join(key)}: no answer for {', '.join(sorted(missing))}")

    for line in failures + [f"FAIL driver {p}" for p in problems]:
        print(line, flush=True)
    if deep_out:
        print(deep_out)

    header = ("client", "style", "format", "pass", "fail", "limit", "result")
    rows = []
    for key in sorted(groups):
        g = groups[key]
        result = "FAILED" if g["fail"] else ("limit" if not g["pass"] else "passed")
        rows.append((*key, str(g["pass"]), str(g["fail"]), str(g["limit"]), result))
    deep_failed = deep_out != "" or " 0 failed" not in deep_last
    rows.append((*deep_row, deep_last.split(" passed")[0], "-" if not deep_failed else "!", "-",
                 "FAILED" if deep_failed else "passed"))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:{'<' if i < 3 or i == 6 else '>'}{w}}}" for i, w in enumerate(widths))
    print()
    print(fmt.format(*header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(fmt.format(*r))
    print()
    for key, whys in sorted(limits.items()):
        for why in sorted(whys):
            print(f"limit {' / '.join(key)}: {why}")
    n_fail = sum(g["fail"] for g in groups.values()) + len(problems) + int(deep_failed)
    n_pass = sum(g["pass"] for g in groups.values())
    n_limit = sum(g["limit"] for g in groups.values())
    print(f"\n{len(groups)} groups, {n_pass} passed, {n_fail} failed, {n_limit} client limits "
          f"(+ sdk_interop.py: {deep_last}) in {time.monotonic() - started:.1f}s")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
