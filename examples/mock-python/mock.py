#!/usr/bin/env python3
"""A compact mock of the ECS action ModifyInstanceSpec, standard library only.

Written from docs/spec/ (behaviour.md for the API, control-protocol.md for the
test-control protocol) the way a mock author would: V1 and V3 signatures,
JSON and XML answers, the rules in their documented order, and the control
protocol with every capability. `--no-control` serves one fixed account
instead (credentials from flags or the environment), as a plain mock would.

    python3 mock.py --port 9000
    python3 mock.py --port 9000 --no-control --access-key-id AK   # secret: env
"""

import argparse
import base64
import collections
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from xml.sax.saxutils import escape

ACTION, VERSION = "ModifyInstanceSpec", "2014-05-26"
CONTROL = "/_conformance/v1"
CAPABILITIES = ["core", "clock", "auth", "xml", "dry-run", "extended-params",
                "precedence", "faults", "world-state"]
V1_REQUIRED = ["Signature", "Action", "Version", "AccessKeyId", "SignatureMethod",
               "SignatureVersion", "SignatureNonce", "Timestamp"]
V3_REQUIRED = ["x-acs-action", "x-acs-version", "x-acs-date",
               "x-acs-signature-nonce", "x-acs-content-sha256"]
WINDOW, NONCE_TTL, MAX_BODY = 300, 15 * 60, 1 << 20
BUGS = {"bandwidth-out-101": "InternetMaxBandwidthOut=101 is accepted (P3)"}

# behaviour.md section 3: rule -> (status, code, message)
RULES = {
    "G1": (400, "UnsupportedHTTPMethod", "This http method is not supported."),
    "G2": (400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."),
    "G3": (500, "InvalidAction", "Specified action is not valid."),
    "G4": (400, "InvalidVersion", "Specified parameter Version is not valid."),
    "G5": (404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."),
    "G6": (400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."),
    "G7": (400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."),
    "G8": (400, "InvalidSignatureMethod", "Specified signature method is not valid."),
    "G9": (400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."),
    "G10": (400, "SignatureNonceUsed", "Specified signature nonce was used already."),
    "G11": (400, "InvalidParameter.Format", "Specified parameter Format is not valid."),
    "G12": (400, "Throttling", "Request was denied due to request throttling."),
    "P1": (400, "MissingParameter", "The input parameter InstanceId that is mandatory for processing this request is not supplied."),
    "P2": (400, "InvalidClientToken.ValueNotSupported", "The ClientToken provided is invalid."),
    "P3": (400, "InvalidParameter", "The specified parameter InternetMaxBandwidthOut is not valid."),
    "P4": (400, "InvalidParameter.Bandwidth", "The specified parameter InternetMaxBandwidthIn is not valid."),
    "P5": (400, "InvalidParameter.Mismatch", "InstanceType cannot be changed together with the bandwidth."),
    "P6": (400, "MissingParameter", "One of InstanceType, InternetMaxBandwidthOut and InternetMaxBandwidthIn is required."),
    "P7": (400, "InvalidParameter", "DryRun, Async and AllowMigrateAcrossZone must be true or false."),
    "P8": (400, "InvalidParam.SystemDiskCategory", "The specified SystemDisk.Category is not valid."),
    "I1": (400, "IdempotenceParamNotMatch", "The ClientToken was used with other parameters."),
    "I2": (403, "LastTokenProcessing", "The last request with this ClientToken is still processing."),
    "R1": (404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist."),
    "A1": (400, "Account.Arrearage", "Your account has an outstanding payment."),
    "A2": (400, "InvalidInstance.UnpaidOrder", "The specified instance has an unpaid order."),
    "A3": (403, "InstanceLockedForSecurity", "The specified instance is locked for security reasons."),
    "A4": (403, "ChargeTypeViolation", "Only pay-as-you-go instances can be modified."),
    "T1": (400, "Throttling", "The instance was modified recently, please try again after 5 minutes."),
    "S1": (400, "InvalidInstanceStatus.NotStopped", "The instance must be Stopped to change its type."),
    "S2": (400, "InvalidStatus.ValueNotSupported", "The instance status does not allow this change."),
    "C1": (400, "InvalidInstanceType.ValueNotSupported", "The specified InstanceType does not exist."),
    "C2": (400, "InvalidInstanceType.ValueUnauthorized", "The specified InstanceType is not authorized."),
    "C3": (403, "CategoryViolation", "Instances with local disks cannot change type."),
    "C4": (400, "DependencyViolation.InstanceType", "The instance cannot change to the specified type."),
    "C5": (400, "InvalidParameter.Conflict", "The image does not support the architecture of the type."),
    "C6": (403, "ImageNotSupportInstanceType", "The image does not support the specified type."),
    "C7": (403, "OperationDenied", "The instance is out of usage."),
    "C8": (403, "InvalidAccountStatus.NotEnoughBalance", "Your account balance is insufficient."),
    "B1": (400, "OperationDenied", "The specified instance is in VPC."),
    "B2": (400, "InvalidInternetChargeType.ValueNotSupported", "The internet charge type is not supported."),
    "B3": (400, "Price.PricePlanResultNotFound", "No price plan allows the requested bandwidth."),
    "B4": (403, "InvalidAccountStatus.NotEnoughBalance", "Your account balance is insufficient."),
    "D1": (400, "DryRunOperation", "Request validation has been passed with DryRun flag set."),
    "F1": (500, "InternalError", "The request processing has failed due to some unknown error."),
}


class Refusal(Exception):
    def __init__(self, rule, fmt="json", detail="", retry_ms=None):
        super().__init__(rule)
        self.rule, self.fmt, self.detail, self.retry_ms = rule, fmt, detail, retry_ms


# ---- the World document (control-protocol.md): strict, with JSON paths ----

BOOL, INT, STR, STRS = "bool", "int", "str", "strs"
SCHEMA = {
    "$": {"account": "account", "catalog": "catalog", "images": ["image"],
          "instances": ["instance"], "operation_seconds": "uint", "faults": "faults"},
    "account": {"overdue_payment": BOOL, "balance_sufficient": BOOL,
                "authorized_instance_types": STRS, "max_requests_per_minute": "uint?"},
    "catalog": {"instance_types": ["itype"], "allowed_changes": "changes",
                "bandwidth_price_plans": "plans"},
    "itype": {"name": STR, "family": STR, "architecture": STR, "price_rank": INT,
              "in_stock": BOOL, "requires_authorization": BOOL},
    "plan": {"max_out": "uint", "max_in": "uint"},
    "image": {"image_id": STR, "architecture": STR, "unsupported_instance_types": STRS},
    "instance": {"instance_id": STR, "status": ("Pending", "Running", "Starting", "Stopping", "Stopped"),
                 "instance_type": STR, "instance_charge_type": ("PostPaid", "PrePaid"),
                 "internet_charge_type": STR, "internet_max_bandwidth_out": "uint",
                 "internet_max_bandwidth_in": "uint", "network_type": ("vpc", "classic"),
                 "image_id": STR, "local_disks": BOOL, "unpaid_order": BOOL,
                 "locked_for_security": BOOL, "last_modified_seconds_ago": "uint?"},
    "faults": {"internal_error_on_instances": STRS},
}


def check(value, kind, path):
    """Raises ValueError naming the JSON path when value is not of kind."""
    def bad(what):
        raise ValueError(f"{path}: {what}")
    if isinstance(kind, list):
        if not isinstance(value, list):
            bad("expected an array")
        for i, v in enumerate(value):
            check(v, kind[0], f"{path}[{i}]")
    elif isinstance(kind, tuple):
        if value not in kind:
            bad(f"expected one of {', '.join(kind)}")
    elif kind in SCHEMA:
        if not isinstance(value, dict):
            bad("expected an object")
        for k in value:
            if k not in SCHEMA[kind]:
                bad(f"unknown field `{k}`")
        for k, sub in SCHEMA[kind].items():
            if k not in value:
                bad(f"missing field `{k}`")
            check(value[k], sub, f"{path}.{k}")
    elif kind == BOOL and not isinstance(value, bool):
        bad("expected a boolean")
    elif kind == STR and not isinstance(value, str):
        bad("expected a string")
    elif kind == STRS:
        check(value, [STR], path)
    elif kind in (INT, "uint", "uint?"):
        if value is None and kind == "uint?":
            return
        if not isinstance(value, int) or isinstance(value, bool):
            bad("expected an integer")
        if kind != INT and not 0 <= value <= 0xFFFFFFFF:
            bad("out of range")
    elif kind in ("changes", "plans"):
        if not isinstance(value, dict):
            bad("expected an object")
        for k, v in value.items():
            check(v, STRS if kind == "changes" else "plan", f"{path}.{k}")


def validate_world(doc):
    check(doc, "$", "$")
    types = set()
    for i, t in enumerate(doc["catalog"]["instance_types"]):
        if t["name"] in types:
            raise ValueError(f"$.catalog.instance_types[{i}].name: duplicate `{t['name']}`")
        types.add(t["name"])
    for src, targets in doc["catalog"]["allowed_changes"].items():
        for name in [src] + targets:
            if name not in types:
                raise ValueError(f"$.catalog.allowed_changes.{src}: unknown instance type `{name}`")
    images, ids = set(), set()
    for i, img in enumerate(doc["images"]):
        if img["image_id"] in images:
            raise ValueError(f"$.images[{i}].image_id: duplicate `{img['image_id']}`")
        images.add(img["image_id"])
    for i, inst in enumerate(doc["instances"]):
        if inst["instance_id"] in ids:
            raise ValueError(f"$.instances[{i}].instance_id: duplicate `{inst['instance_id']}`")
        ids.add(inst["instance_id"])
        if inst["instance_type"] not in types:
            raise ValueError(f"$.instances[{i}].instance_type: unknown `{inst['instance_type']}`")
        if inst["image_id"] not in images:
            raise ValueError(f"$.instances[{i}].image_id: unknown `{inst['image_id']}`")


class World:
    """One account: its document, live instance states, clock, tokens, nonces."""

    def __init__(self, doc, key_id, secret):
        self.doc, self.key_id, self.secret = doc, key_id, secret
        self.world_id = "w-" + uuid.uuid4().hex
        self.lock = threading.Lock()
        self.now = 0
        self.tokens = {}                      # token -> (fingerprint, completes_at)
        self.nonces = {}                      # nonce -> wall-clock time recorded
        self.quota = collections.deque()      # world times of counted requests
        self.instances = collections.OrderedDict()
        for inst in doc["instances"]:
            state = dict(inst)
            ago = inst["last_modified_seconds_ago"]
            state["last_modified_at"] = None if ago is None else -ago
            self.instances[inst["instance_id"]] = state

    def itype(self, name):
        return next((t for t in self.doc["catalog"]["instance_types"] if t["name"] == name), None)

    def image(self, image_id):
        return next((i for i in self.doc["images"] if i["image_id"] == image_id), None)


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_id, self.by_key = {}, {}

    def create(self, doc, key_id=None, secret=None):
        w = World(doc, key_id or "AK" + secrets.token_hex(10), secret or secrets.token_urlsafe(24))
        with self.lock:
            self.by_id[w.world_id] = w
            self.by_key[w.key_id] = w
        return w

    def delete(self, world_id):
        with self.lock:
            w = self.by_id.pop(world_id, None)
            if w:
                self.by_key.pop(w.key_id, None)
            return w is not None


# ---- the wire: parameters, encoding, signatures ----

def parse_pairs(text):
    return urllib.parse.parse_qsl(text, keep_blank_values=True, errors="replace")


def first(pairs, name):
    return next((v for k, v in pairs if k == name), None)


def pe(s):
    """RFC 3986 percent-encoding: unreserved A-Za-z0-9-_.~ only, upper-case hex."""
    return urllib.parse.quote(s, safe="-_.~")


def sorted_encoded(pairs):
    # behaviour.md 2.1 and section 6: sort by the decoded UTF-8 bytes, name
    # then value, and only then percent-encode.
    ordered = sorted(pairs, key=lambda kv: (kv[0].encode(), kv[1].encode()))
    return "&".join(f"{pe(k)}={pe(v)}" for k, v in ordered)


TIMESTAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?Z", re.ASCII)


def parse_timestamp(s):
    m = TIMESTAMP.fullmatch(s or "")
    if not m:
        return None
    try:
        t = datetime.datetime(*map(int, m.groups()[:6]), tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    return t.timestamp()


def parse_authorization(value):
    """V3 `Authorization`, or None when it is malformed (then G2)."""
    value = value.strip()
    algorithm, _, rest = value.partition(" ") if " " in value else (value, "", "")
    fields = {}
    for part in (p.strip() for p in rest.split(",")):
        if not part:
            continue
        name, eq, v = part.partition("=")
        name = name.strip()
        if not eq or name not in ("Credential", "SignedHeaders", "Signature") or name in fields:
            return None
        fields[name] = v.strip()
    if not all(fields.get(n) for n in ("Credential", "SignedHeaders", "Signature")):
        return None
    signed = [h.strip() for h in fields["SignedHeaders"].split(";")]
    if any(not h for h in signed):
        return None
    return {"algorithm": algorithm, "key": fields["Credential"], "signed": signed,
            "signature": fields["Signature"]}


# ---- the decision procedure (behaviour.md section 3, after the gateway) ----

INT_RE = re.compile(r"-?[0-9]+", re.ASCII)
I64 = (-(1 << 63), (1 << 63) - 1)


def as_int(s):
    """Plain decimal ASCII that fits an i64 (behaviour.md 1.1), else None."""
    if not INT_RE.fullmatch(s):
        return None
    sign, digits = ("-", s[1:]) if s.startswith("-") else ("", s)
    digits = digits.lstrip("0") or "0"
    if len(digits) > 19:  # also keeps int() away from huge strings
        return None
    v = int(sign + digits)
    return v if I64[0] <= v <= I64[1] else None


def as_bool(s):
    return {"true": True, "false": False}.get(s.lower()) if s.isascii() else None


OP_PARAMS = ["InstanceId", "InstanceType", "InternetMaxBandwidthOut", "InternetMaxBandwidthIn",
             "ClientToken", "DryRun", "Async", "AllowMigrateAcrossZone", "SystemDisk.Category"]


def decide(w, op, bugs):
    """Returns (rule, change or None). `op`: first occurrence, empty = absent."""
    g = lambda n: op.get(n) or None  # noqa: E731
    if not g("InstanceId"):
        return "P1", None
    token = g("ClientToken")
    if token and (len(token) > 64 or any(not " " <= c <= "~" for c in token)):
        return "P2", None
    ty, out_s, in_s = g("InstanceType"), g("InternetMaxBandwidthOut"), g("InternetMaxBandwidthIn")
    out = inb = None
    if out_s is not None:
        out = as_int(out_s)
        top = 101 if "bandwidth-out-101" in bugs else 100
        if out is None or not 0 <= out <= top:
            return "P3", None
    if in_s is not None:
        inb = as_int(in_s)
        if inb is None or not 1 <= inb <= 200:
            return "P4", None
    if ty and (out_s is not None or in_s is not None):
        return "P5", None
    if not ty and out_s is None and in_s is None:
        return "P6", None
    for name in ("DryRun", "Async", "AllowMigrateAcrossZone"):
        if g(name) is not None and as_bool(g(name)) is None:
            return "P7", None
    if g("SystemDisk.Category") not in (None, "cloud_efficiency", "cloud_ssd"):
        return "P8", None
    fp = (g("InstanceId"), ty, out, inb, *(g(n) and as_bool(g(n)) for n in OP_PARAMS[5:8]),
          g("SystemDisk.Category"))
    if token and token in w.tokens:
        recorded, completes_at = w.tokens[token]
        if recorded != fp:
            return "I1", None
        return ("I2", None) if w.now < completes_at else ("I3", None)
    inst = w.instances.get(g("InstanceId"))
    if inst is None:
        return "R1", None
    rule = blocking_rule(w, inst, ty, out, inb)
    if rule:
        return rule, None
    if g("DryRun") and as_bool(g("DryRun")):
        return "D1", None
    if inst["instance_id"] in w.doc["faults"]["internal_error_on_instances"]:
        return "F1", None
    return "E1", {"instance": inst, "type": ty, "out": out, "in": inb, "token": token, "fp": fp}


def blocking_rule(w, inst, ty, out, inb):
    acc, cat = w.doc["account"], w.doc["catalog"]
    recent = inst["last_modified_at"] is not None and w.now - inst["last_modified_at"] < WINDOW
    checks = [("A1", acc["overdue_payment"]), ("A2", inst["unpaid_order"]),
              ("A3", inst["locked_for_security"]),
              ("A4", inst["instance_charge_type"] != "PostPaid"), ("T1", recent)]
    if ty:
        target, image = w.itype(ty), w.image(inst["image_id"])
        current = w.itype(inst["instance_type"])
        checks += [
            ("S1", inst["status"] != "Stopped"),
            ("C1", target is None),
            ("C2", bool(target) and target["requires_authorization"]
             and ty not in acc["authorized_instance_types"]),
            ("C3", inst["local_disks"]),
            ("C4", ty == inst["instance_type"]
             or ty not in cat["allowed_changes"].get(inst["instance_type"], [])),
            ("C5", bool(target) and target["architecture"] != (image or {}).get("architecture")),
            ("C6", bool(image) and ty in image["unsupported_instance_types"]),
            ("C7", bool(target) and not target["in_stock"]),
            ("C8", bool(target) and target["price_rank"] > (current["price_rank"] if current else 1 << 63)
             and not acc["balance_sufficient"]),
        ]
    else:
        plan = cat["bandwidth_price_plans"].get(inst["internet_charge_type"])
        more = ((out is not None and out > inst["internet_max_bandwidth_out"])
                or (inb is not None and inb > inst["internet_max_bandwidth_in"]))
        checks += [
            ("S2", inst["status"] not in ("Running", "Stopped")),
            ("B1", inb is not None and inst["network_type"] == "vpc"),
            ("B2", inst["internet_charge_type"] not in ("PayByTraffic", "PayByBandwidth")),
            ("B3", plan is None or (out is not None and out > plan["max_out"])
             or (inb is not None and inb > plan["max_in"])),
            ("B4", more and not acc["balance_sufficient"]),
        ]
    return next((rule for rule, fires in checks if fires), None)


def apply(w, change):
    inst = change["instance"]
    if change["type"]:
        inst["instance_type"] = change["type"]
    if change["out"] is not None:
        inst["internet_max_bandwidth_out"] = change["out"]
    if change["in"] is not None:
        inst["internet_max_bandwidth_in"] = change["in"]
    inst["last_modified_at"] = w.now
    if change["token"]:
        w.tokens[change["token"]] = (change["fp"], w.now + w.doc["operation_seconds"])


# ---- the gateway (behaviour.md 2.1 and G1-G12, in order) ----

class Request:
    def __init__(self, method, query, headers, body):
        self.method, self.query, self.body = method, query, body
        # Header values as UTF-8 text (http.server hands them over as Latin-1).
        self.headers = [(k.lower(), v.encode("latin-1", "replace").decode("utf-8", "replace"))
                        for k, v in headers]
        ctype = self.header("content-type") or ""
        form = method == "POST" and ctype.lstrip().lower().startswith("application/x-www-form-urlencoded")
        self.pairs = parse_pairs(query) + (parse_pairs(body.decode("utf-8", "replace")) if form else [])

    def header(self, name):
        return next((v for k, v in self.headers if k == name), None)

    def all_headers(self, name):
        return [v for k, v in self.headers if k == name]


def admit(store, req):
    """G1-G9: the world the request belongs to, its format and its style."""
    fmt_param = first(req.pairs, "Format") or None
    valid = fmt_param.lower() if fmt_param and fmt_param.lower() in ("json", "xml") else None
    looks_v3 = any(k == "authorization" or k.startswith("x-acs-") for k, _ in req.headers)
    unclear = valid or ("json" if looks_v3 else "xml")
    if req.method not in ("GET", "POST"):
        raise Refusal("G1", unclear)
    authorization = req.header("authorization") or None
    v3 = authorization is not None
    fmt = valid or ("json" if v3 else "xml")
    auth = parse_authorization(authorization) if v3 else None
    if v3:
        signed = set(h.lower() for h in auth["signed"]) if auth else set()
        complete = auth is not None and all(req.header(h) and h in signed for h in V3_REQUIRED) \
            and req.header("host") is not None and "host" in signed
        action, version, key = req.header("x-acs-action"), req.header("x-acs-version"), auth and auth["key"]
    else:
        complete = all(first(req.pairs, p) for p in V1_REQUIRED)
        action, version, key = (first(req.pairs, n) for n in ("Action", "Version", "AccessKeyId"))
    if not complete:
        raise Refusal("G2", unclear)
    if action != ACTION:
        raise Refusal("G3", fmt)
    if version != VERSION:
        raise Refusal("G4", fmt)
    world = store.by_key.get(key)
    if world is None:
        raise Refusal("G5", fmt)
    stamp = parse_timestamp(req.header("x-acs-date") if v3 else first(req.pairs, "Timestamp"))
    if stamp is None:
        raise Refusal("G6", fmt)
    if abs(time.time() - stamp) > NONCE_TTL:
        raise Refusal("G7", fmt)
    if v3:
        check_v3(req, auth, world.secret, fmt)
    else:
        check_v1(req, world.secret, fmt)
    nonce = req.header("x-acs-signature-nonce") if v3 else first(req.pairs, "SignatureNonce")
    return world, fmt, bool(fmt_param) and valid is None, nonce


def check_v1(req, secret, fmt):
    if first(req.pairs, "SignatureMethod") != "HMAC-SHA1":
        raise Refusal("G8", fmt)
    signed = [(k, v) for k, v in req.pairs if k != "Signature"]
    sts = f"{req.method}&%2F&{pe(sorted_encoded(signed))}"
    mac = hmac.new((secret + "&").encode(), sts.encode(), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(mac), (first(req.pairs, "Signature") or "").encode()):
        raise Refusal("G9", fmt, " server string to sign is:" + sts)


def check_v3(req, auth, secret, fmt):
    if auth["algorithm"] != "ACS3-HMAC-SHA256":
        raise Refusal("G8", fmt)
    body_hash = hashlib.sha256(req.body).hexdigest()
    # A claimed body hash that differs from the body received is a mismatch.
    if any(v.strip().lower() != body_hash for v in req.all_headers("x-acs-content-sha256")):
        raise Refusal("G9", fmt)
    names = [h.lower() for h in auth["signed"]]
    values = lambda n: ",".join(v.strip(" \t") for v in req.all_headers(n))  # noqa: E731
    lines = "".join(f"{n}:{values(n)}\n" for n in names)
    canonical = "\n".join([req.method, "/", sorted_encoded(parse_pairs(req.query)), lines,
                           ";".join(names), body_hash])
    sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    want = hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, auth["signature"].lower()):
        raise Refusal("G9", fmt)


def handle_api(store, req, bugs):
    """Returns (rule, format, detail, retry_ms)."""
    world, fmt, bad_format, nonce = admit(store, req)
    with world.lock:
        wall = time.monotonic()
        seen = world.nonces.get(nonce)
        if seen is not None and wall - seen < NONCE_TTL:
            raise Refusal("G10", fmt)
        world.nonces[nonce] = wall
        if len(world.nonces) > 100_000:  # forget the expired ones now and then
            world.nonces = {n: t for n, t in world.nonces.items() if wall - t < NONCE_TTL}
        if bad_format:
            raise Refusal("G11", fmt)
        quota = world.doc["account"]["max_requests_per_minute"]
        if quota is not None:
            while world.quota and world.now - world.quota[0] >= 60:
                world.quota.popleft()
            if len(world.quota) >= quota:
                oldest = world.quota[0] if world.quota else world.now
                raise Refusal("G12", fmt, retry_ms=(oldest + 60 - world.now) * 1000)
            world.quota.append(world.now)
        op = {}
        for k, v in req.pairs:
            op.setdefault(k, v)
        rule, change = decide(world, op, bugs)
        if change:
            apply(world, change)
        retry = None
        if rule == "T1":
            retry = (world.instances[op["InstanceId"]]["last_modified_at"] + WINDOW - world.now) * 1000
    return rule, fmt, "", retry


def render(rule, fmt, host, detail=""):
    request_id = str(uuid.uuid4()).upper()
    if rule in ("E1", "I3"):
        if fmt == "json":
            return 200, json.dumps({"RequestId": request_id})
        return 200, ('<?xml version="1.0" encoding="UTF-8"?><ModifyInstanceSpecResponse>'
                     f"<RequestId>{request_id}</RequestId></ModifyInstanceSpecResponse>")
    status, code, message = RULES[rule]
    message += detail
    if fmt == "json":
        return status, json.dumps({"RequestId": request_id, "HostId": host, "Code": code, "Message": message})
    text = lambda s: escape(re.sub(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "", s))  # noqa: E731
    return status, ('<?xml version="1.0" encoding="UTF-8"?><Error>'
                    f"<RequestId>{request_id}</RequestId><HostId>{text(host)}</HostId>"
                    f"<Code>{code}</Code><Message>{text(message)}</Message></Error>")


# ---- the control protocol (control-protocol.md) ----

def handle_control(store, method, path, body):
    """Returns (status, JSON document or None)."""
    parts = [urllib.parse.unquote(p) for p in path[len(CONTROL):].strip("/").split("/")]
    if method == "GET" and parts == ["capabilities"]:
        return 200, {"protocol": "modspec-control/1", "capabilities": CAPABILITIES}
    if parts == ["worlds"] and method == "POST":
        try:
            doc = json.loads(body)
            validate_world(doc)
        except (ValueError, RecursionError) as e:
            return 400, {"error": str(e) if str(e).startswith("$") else f"$: invalid JSON: {e}"}
        w = store.create(doc)
        return 201, {"world_id": w.world_id, "access_key_id": w.key_id, "access_key_secret": w.secret}
    if len(parts) < 2 or parts[0] != "worlds":
        return 404, {"error": f"no such control resource: {method} {path}"}
    w = store.by_id.get(parts[1])
    if w is None:
        return 404, {"error": f"unknown world `{parts[1]}`"}
    rest = parts[2:]
    if method == "DELETE" and not rest:
        store.delete(w.world_id)
        return 204, None
    with w.lock:
        if method == "GET" and not rest:
            return 200, {"now": w.now, "instances": list(w.instances.values())}
        if method == "GET" and len(rest) == 2 and rest[0] == "instances":
            inst = w.instances.get(rest[1])
            return (200, inst) if inst else (404, {"error": f"unknown instance `{rest[1]}`"})
        if method == "POST" and rest == ["clock"]:
            try:
                n = json.loads(body).get("advance_seconds")
            except (ValueError, AttributeError):
                n = None
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                return 400, {"error": "$.advance_seconds: expected a non-negative integer"}
            w.now += n
            return 200, {"now": w.now}
    return 404, {"error": f"no such control resource: {method} {path}"}


# ---- HTTP ----

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # a stalled client frees its thread

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's
        # algorithm and the client's delayed ACK cost ~40 ms per answer.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def __getattr__(self, name):
        # Every method reaches `dispatch`: G1 is the mock's to answer.
        if name.startswith("do_"):
            return self.dispatch
        raise AttributeError(name)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def dispatch(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return self.reply(413, b"request body too large or unreadable\n", "text/plain; charset=utf-8")
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        srv = self.server
        if path == CONTROL or path.startswith(CONTROL + "/"):
            if srv.store_fixed:
                return self.reply_json(404, {"error": "this mock runs without the control protocol"})
            status, doc = handle_control(srv.store, self.command, path, body)
            return self.reply_json(status, doc)
        req = Request(self.command, query, self.headers.items(), body)
        host = req.header("host") or ""
        try:
            rule, fmt, detail, retry = handle_api(srv.store, req, srv.bugs)
        except Refusal as r:
            rule, fmt, detail, retry = r.rule, r.fmt, r.detail, r.retry_ms
        status, text = render(rule, fmt, host, detail)
        ctype = "application/json;charset=utf-8" if fmt == "json" else "text/xml;charset=utf-8"
        extra = [("x-acs-retry-after", str(retry))] if retry is not None else []
        self.reply(status, text.encode(), ctype, extra)

    def reply_json(self, status, doc):
        body = b"" if doc is None else json.dumps(doc).encode()
        self.reply(status, body, "application/json")

    def reply(self, status, body, ctype, extra=()):
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and status != 204:
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


FIXED_WORLD = {
    "account": {"overdue_payment": False, "balance_sufficient": True,
                "authorized_instance_types": [], "max_requests_per_minute": None},
    "catalog": {
        "instance_types": [
            {"name": n, "family": n.rsplit(".", 1)[0], "architecture": "x86_64", "price_rank": r,
             "in_stock": True, "requires_authorization": False}
            for n, r in (("ecs.g6.large", 20), ("ecs.g6.xlarge", 40), ("ecs.c6.large", 15))],
        "allowed_changes": {"ecs.g6.large": ["ecs.g6.xlarge", "ecs.c6.large"]},
        "bandwidth_price_plans": {"PayByTraffic": {"max_out": 100, "max_in": 200},
                                  "PayByBandwidth": {"max_out": 50, "max_in": 100}}},
    "images": [{"image_id": "ubuntu_22_04_x64", "architecture": "x86_64", "unsupported_instance_types": []}],
    "instances": [
        {"instance_id": iid, "status": status, "instance_type": "ecs.g6.large",
         "instance_charge_type": "PostPaid", "internet_charge_type": "PayByTraffic",
         "internet_max_bandwidth_out": 5, "internet_max_bandwidth_in": 10, "network_type": "vpc",
         "image_id": "ubuntu_22_04_x64", "local_disks": False, "unpaid_order": False,
         "locked_for_security": False, "last_modified_seconds_ago": None}
        for iid, status in (("i-mock-running", "Running"), ("i-mock-stopped", "Stopped"))],
    "operation_seconds": 0,
    "faults": {"internal_error_on_instances": []},
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--backlog", type=int, default=128,
                    help="listen backlog (http.server's default is 5)")
    ap.add_argument("--stock", action="store_true",
                    help="serve like a stock http.server: one thread, HTTP/1.0, backlog 5 (load tests)")
    ap.add_argument("--no-control", action="store_true",
                    help="no control protocol: serve one fixed account instead")
    ap.add_argument("--access-key-id", default=os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID"),
                    help="--no-control: the account's AccessKeyId (env ALIBABA_CLOUD_ACCESS_KEY_ID)")
    ap.add_argument("--world", help="--no-control: a World document (JSON) instead of the built-in one")
    ap.add_argument("--bug", action="append", default=[], choices=sorted(BUGS),
                    help="plant a bug, for testing the tester")
    ap.add_argument("--verbose", action="store_true", help="log every request")
    args = ap.parse_args(argv)
    if args.stock:
        # What a quick mock on http.server gets by default: one request at
        # a time, a connection per request, 5 connections waiting at most.
        Handler.protocol_version = "HTTP/1.0"
        server = HTTPServer((args.host, args.port), Handler)
    else:
        Server.request_queue_size = args.backlog
        server = Server((args.host, args.port), Handler)
    server.store, server.bugs, server.verbose = Store(), set(args.bug), args.verbose
    server.store_fixed = args.no_control
    if args.no_control:
        # The secret only from the environment: command lines are visible to all.
        secret = os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        if not args.access_key_id or not secret:
            ap.error("--no-control needs --access-key-id (or ALIBABA_CLOUD_ACCESS_KEY_ID) "
                     "and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        doc = FIXED_WORLD
        if args.world:
            with open(args.world) as f:
                doc = json.load(f)
        validate_world(doc)
        server.store.create(doc, args.access_key_id, secret)
    for bug in args.bug:
        print(f"planted bug {bug}: {BUGS[bug]}", file=sys.stderr)
    print(f"listening on http://{args.host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
