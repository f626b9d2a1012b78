#!/usr/bin/env python3
"""The Python clients of the interop matrix (interop/matrix.py runs this file).

For every (client, style, format) group it creates a world through the control
protocol, sends the checks of checks.json through the client's own API and
prints one JSON line per check with what the client surfaced ("outcome").
matrix.py judges the outcomes; this file only observes.

Env: INTEROP_ADDR  host:port of the target (ECS API and /_conformance/v1)
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

# Loopback traffic never goes through a proxy (darabonba and the vendored
# requests of aliyunsdkcore both read the proxy variables).
for _var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
# aliyunsdkcore logs a warning for every body it cannot JSON-decode; the
# outcome already says so.
logging.disable(logging.WARNING)

from alibabacloud_ecs20140526 import models as ecs_models  # noqa: E402
from alibabacloud_ecs20140526.client import Client as EcsClient  # noqa: E402
from alibabacloud_tea_openapi.client import Client as OpenApiClient  # noqa: E402
from alibabacloud_tea_openapi.models import Config  # noqa: E402
from alibabacloud_tea_openapi.utils import Utils as OpenApiUtils  # noqa: E402
from alibabacloud_tea_openapi import utils_models as open_api_models  # noqa: E402
from darabonba.runtime import ExtendsParameters, RuntimeOptions  # noqa: E402
from darabonba.utils.xml import XML as DaraXML  # noqa: E402
import requests  # noqa: E402
from aliyunsdkcore.client import AcsClient  # noqa: E402
from aliyunsdkcore.vendored.requests import Session as VendoredSession  # noqa: E402
from aliyunsdkcore.acs_exception.exceptions import ClientException as CoreClientException  # noqa: E402
from aliyunsdkcore.acs_exception.exceptions import ServerException as CoreServerException  # noqa: E402
from aliyunsdkcore.utils import parameter_helper as core_params  # noqa: E402
from aliyunsdkecs.request.v20140526.ModifyInstanceSpecRequest import ModifyInstanceSpecRequest as CoreRequest  # noqa: E402

ADDR = os.environ.get("INTEROP_ADDR", "")
SPEC = json.loads((Path(__file__).resolve().parent / "checks.json").read_text())
CONTROL = f"http://{ADDR}/_conformance/v1"
TIMEOUT_S = 5
VERSION = "2014-05-26"
TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


# --------------------------------------------------------------------------
# what a client surfaced, in one shape for matrix.py

def response(status, request_id) -> dict:
    return {"kind": "response", "status": status, "request_id": request_id}


def error(status, code, detail) -> dict:
    return {"kind": "error", "status": status, "code": code, "detail": str(detail)[:300]}


def parse_error(detail, status=None) -> dict:
    return {"kind": "parse-error", "status": status, "detail": str(detail)[:300]}


def tea_outcome(e: Exception) -> dict:
    """An exception of tea-openapi (both the typed SDK and the generic calls)."""
    code = getattr(e, "code", None)
    if code is not None and getattr(e, "status_code", None) is not None:
        return error(e.status_code, code, e)
    # UnretryableException wraps the JSON decoder's error for a body it cannot read
    inner = getattr(e, "inner_exception", None)
    text = f"{type(e).__name__}: {e}" + (f" (inner {type(inner).__name__}: {inner})" if inner else "")
    if "json" in text.lower() or "Expecting value" in text:
        return parse_error(text)
    return {"kind": "transport", "detail": text[:300]}


def request_id_from_xml(text: str):
    root = ET.fromstring(text)
    return root.findtext("RequestId") if root.tag == "ModifyInstanceSpecResponse" else None


# --------------------------------------------------------------------------
# what the client put on the wire, so matrix.py can confirm that a group's
# style (V3 / V1, GET / POST) and Format are what the client really sent.
# tea-openapi (darabonba) sends through requests.Session, aliyunsdkcore
# through its vendored copy; the hook only records the prepared request.

class Wire:
    last = None


def _record_sends(session_cls) -> None:
    original = session_cls.send

    def send(self, prepared, **kwargs):
        Wire.last = prepared
        return original(self, prepared, **kwargs)

    session_cls.send = send


_record_sends(requests.Session)
_record_sends(VendoredSession)


def wire_summary():
    p = Wire.last
    if p is None:
        return None
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(p.url).query, keep_blank_values=True))
    body = p.body.decode() if isinstance(p.body, bytes) else (p.body or "")
    form = (dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
            if p.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded") else {})
    signature_in = "query" if "Signature" in query else ("body" if "Signature" in form else None)
    return {"method": p.method, "v3": p.headers.get("Authorization", "").startswith("ACS3-HMAC-SHA256 "),
            "signature_in": signature_in, "format": query.get("Format", form.get("Format"))}


# --------------------------------------------------------------------------
# skewed client clock (G7): each client reads the time through one function

@contextlib.contextmanager
def skewed_clock(seconds: int):
    if not seconds:
        yield
        return
    shifted = lambda: (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)).strftime(TS_FORMAT)  # noqa: E731
    saved_tea, saved_core = OpenApiUtils.__dict__["get_timestamp"], core_params.get_iso_8061_date
    OpenApiUtils.get_timestamp = staticmethod(shifted)   # tea-openapi: Timestamp and x-acs-date
    core_params.get_iso_8061_date = shifted              # aliyunsdkcore: the RPC Timestamp
    try:
        yield
    finally:
        OpenApiUtils.get_timestamp = saved_tea
        core_params.get_iso_8061_date = saved_core


# --------------------------------------------------------------------------
# the clients

def tea_config(creds: dict, style: str) -> Config:
    extra = {"signature_algorithm": "v2"} if style == "V1" else {}
    return Config(access_key_id=creds["ak"], access_key_secret=creds["sk"], endpoint=ADDR, protocol="http",
                  read_timeout=TIMEOUT_S * 1000, connect_timeout=TIMEOUT_S * 1000, **extra)


def tea_runtime(fmt: str) -> RuntimeOptions:
    rt = RuntimeOptions(read_timeout=TIMEOUT_S * 1000, connect_timeout=TIMEOUT_S * 1000, autoretry=False)
    if fmt == "XML":
        # merged into the signed query by do_request (V3) and do_rpcrequest (V1)
        rt.extends_parameters = ExtendsParameters(queries={"Format": "XML"})
    return rt


SNAKE = {"InstanceId": "instance_id", "InstanceType": "instance_type", "ClientToken": "client_token",
         "InternetMaxBandwidthOut": "internet_max_bandwidth_out", "InternetMaxBandwidthIn": "internet_max_bandwidth_in"}


def call_official(group, creds, params) -> dict:
    style, fmt = group
    client = EcsClient(tea_config(creds, style))
    req = ecs_models.ModifyInstanceSpecRequest(**{SNAKE[k]: v for k, v in params.items()})
    try:
        resp = client.modify_instance_spec_with_options(req, tea_runtime(fmt))
    except Exception as e:  # the SDK's exceptions, or a body it cannot decode
        return tea_outcome(e)
    return response(resp.status_code, resp.body.request_id if resp.body else None)


def call_generic(group, creds, params) -> dict:
    style, fmt = group
    client = OpenApiClient(tea_config(creds, style))
    query = {k: str(v) for k, v in params.items()}
    if fmt == "XML":
        query["Format"] = "XML"
    p = open_api_models.Params(action="ModifyInstanceSpec", version=VERSION, protocol="HTTP", pathname="/",
                               method="POST", auth_type="AK", style="RPC", req_body_type="formData",
                               body_type="string" if fmt == "XML" else "json")
    try:
        resp = client.call_api(p, open_api_models.OpenApiRequest(query=query), tea_runtime("JSON"))
    except Exception as e:
        return tea_outcome(e)
    body = resp.get("body")
    if isinstance(body, str):   # body_type "string": the raw XML, read with the SDK's own parser
        rid = (DaraXML.parse_xml(body, None).get("ModifyInstanceSpecResponse") or {}).get("RequestId")
    else:
        rid = (body or {}).get("RequestId")
    return response(resp.get("statusCode"), rid)


def call_core(group, creds, params) -> dict:
    style, fmt = group
    client = AcsClient(creds["ak"], creds["sk"], "cn-hangzhou", auto_retry=False, max_retry_time=0,
                       timeout=TIMEOUT_S, connect_timeout=TIMEOUT_S)
    req = CoreRequest()
    req.set_endpoint(ADDR)
    req.set_protocol_type("http")
    req.set_method(style.split()[1])          # "V1 POST" / "V1 GET"
    req.set_accept_format(fmt)
    for k, v in params.items():
        req.add_query_param(k, str(v))
    if fmt == "XML":
        # do_action_with_exception forces Format=JSON; get_response sends the
        # accept format asked for and returns (status, headers, raw body)
        # without parsing an error body: the status is all it surfaces.
        try:
            status, _headers, body = client.get_response(req)
        except CoreClientException as e:
            return {"kind": "transport", "detail": f"{e.get_error_code()}: {e.get_error_msg()}"[:300]}
        text = body.decode("utf-8", "replace")
        if status >= 400:
            return parse_error("aliyunsdkcore get_response returns XML error bodies unparsed", status)
        return response(status, request_id_from_xml(text))
    try:
        body = client.do_action_with_exception(req)
    except CoreServerException as e:
        if e.get_error_code() == "SDK.UnknownServerError":   # the error body did not JSON-decode: code lost
            return parse_error(f"aliyunsdkcore: {e.get_error_code()} (error body is not JSON)", e.get_http_status())
        return error(e.get_http_status(), e.get_error_code(), e.get_error_msg())
    except CoreClientException as e:
        return {"kind": "transport", "detail": f"{e.get_error_code()}: {e.get_error_msg()}"[:300]}
    # success: do_action_with_exception returns only the body (of an answer
    # below 400); the status is not surfaced, so it is reported as None
    return response(None, json.loads(body).get("RequestId"))


# (name, groups, call, which XML bodies the client parses per style: read from
# its source; a parse failure of any other XML body is a client limit)
CLIENTS = [
    ("python alibabacloud-ecs20140526", [("V3", "JSON"), ("V3", "XML"), ("V1", "JSON"), ("V1", "XML")], call_official,
     {"V3": ["errors"]}),
    ("python alibabacloud-tea-openapi call_api", [("V3", "JSON"), ("V3", "XML"), ("V1", "JSON"), ("V1", "XML")],
     call_generic, {"V3": ["errors", "success"], "V1": ["success"]}),
    ("python aliyun-python-sdk-core", [("V1 POST", "JSON"), ("V1 POST", "XML"), ("V1 GET", "JSON"), ("V1 GET", "XML")],
     call_core, {"V1 POST": ["success"], "V1 GET": ["success"]}),
]


# --------------------------------------------------------------------------
# the control protocol (stdlib)

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def control(method: str, path: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(CONTROL + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with OPENER.open(req, timeout=TIMEOUT_S) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    return status, (json.loads(raw) if raw else None)


def run_group(name: str, group, call, parses_xml: list[str], index: int) -> None:
    style, fmt = group

    def emit(check: str, outcome: dict) -> None:
        print(json.dumps({"client": name, "style": style, "format": fmt, "check": check, "outcome": outcome,
                          "parses_xml": parses_xml}), flush=True)

    st, w = control("POST", "/worlds", SPEC["world"])
    if st != 201:
        raise RuntimeError(f"POST /worlds -> {st} {w!r}")
    token = f"tok {index}*~/:"
    for check in SPEC["checks"]:
        params = {k: (token if v == "$TOKEN" else v) for k, v in check["params"].items()}
        creds = {"ak": w["access_key_id"], "sk": w["access_key_secret"]}
        if check.get("credentials") == "unknown-key":
            creds["ak"] = "LTAIunknownAccessKey"
        elif check.get("credentials") == "wrong-secret":
            creds["sk"] += "x"
        Wire.last = None
        try:
            with skewed_clock(check.get("clock_skew_seconds", 0)):
                outcome = call(group, creds, params)
        except Exception as e:  # a bug of this driver or an unexpected client failure: reported, not hidden
            outcome = {"kind": "transport", "detail": f"{type(e).__name__}: {e}"[:300]}
        outcome["wire"] = wire_summary()
        if check.get("state") and outcome["kind"] == "response":
            s, inst = control("GET", f"/worlds/{w['world_id']}/instances/{check['state']['instance_id']}")
            outcome["state"] = inst if s == 200 else {"error": s}
        emit(check["id"], outcome)
    control("DELETE", f"/worlds/{w['world_id']}")


def main() -> int:
    if not ADDR:
        print("INTEROP_ADDR is not set", file=sys.stderr)
        return 2
    index = 0
    for name, groups, call, parses_xml in CLIENTS:
        for group in groups:
            try:
                run_group(name, group, call, parses_xml.get(group[0], []), index)
            except Exception as e:
                print(json.dumps({"client": name, "style": group[0], "format": group[1], "check": "setup",
                                  "outcome": {"kind": "transport", "detail": f"{type(e).__name__}: {e}"[:500]}}),
                      flush=True)
            index += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
