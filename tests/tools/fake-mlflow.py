#!/usr/bin/env python3
"""fake-mlflow.py - a small MLflow REST server for asin-registry's tests.

The subset of MLflow's REST API asin-registry uses (shapes from
../shared/reference/registry.md), on 127.0.0.1 only, standard library only.
It is stricter than MLflow: unknown fields, non-string versions and ids,
non-integer timestamps, missing required fields and a non-JSON content type
are 400 INVALID_PARAMETER_VALUE, so a client typo fails a test instead of
vanishing.  Every request is appended to --log as one JSON line
{method, path, query, content_type, authorization (scheme only), body}.

Failures are injected by --control FILE, a JSON object re-read on every
request:
  {"fail": [{"path": "model-versions/create", "method": "POST",
             "status": 503, "times": 1, "retry_after": "1",
             "body": "..."}],       # answer status instead, `times` times
   "drop_after_create": 1,          # create the version, then drop the
                                    # connection without an answer
   "page_size": 2,                  # search pages of 2 (next_page_token)
   "pending_first": 1,              # new versions PENDING_REGISTRATION
                                    # until the first get
   "no_aliases": 1}                 # HTML 404 on registered-models/alias
--auth basic:USER:PASS or bearer:TOKEN makes every call need it (plain-text
401 without, 403 with a wrong one).
"""
import argparse
import base64
import json
import os
import re
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NOW = 1764000000000
API = "/api/2.0/mlflow/"

# endpoint -> (method, allowed fields, required fields)
SPEC = {
    "registered-models/create": ("POST", {"name", "tags", "description"}, {"name"}),
    "registered-models/get": ("GET", {"name"}, {"name"}),
    "registered-models/set-tag": ("POST", {"name", "key", "value"}, {"name", "key", "value"}),
    "model-versions/create": ("POST", {"name", "source", "run_id", "tags", "run_link",
                                       "description"}, {"name", "source"}),
    "model-versions/get": ("GET", {"name", "version"}, {"name", "version"}),
    "model-versions/search": ("GET", {"filter", "max_results", "order_by", "page_token"}, set()),
    "model-versions/set-tag": ("POST", {"name", "version", "key", "value"},
                               {"name", "version", "key", "value"}),
    "model-versions/transition-stage": ("POST", {"name", "version", "stage",
                                                 "archive_existing_versions"},
                                        {"name", "version", "stage", "archive_existing_versions"}),
    "registered-models/alias": (None, {"name", "alias", "version"}, {"name", "alias"}),
    "experiments/get-by-name": ("GET", {"experiment_name"}, {"experiment_name"}),
    "experiments/create": ("POST", {"name", "artifact_location", "tags"}, {"name"}),
    "runs/create": ("POST", {"experiment_id", "run_name", "start_time", "tags", "user_id"}, set()),
    "runs/search": ("POST", {"experiment_ids", "filter", "max_results", "run_view_type",
                             "order_by", "page_token"}, set()),
    "runs/log-batch": ("POST", {"run_id", "metrics", "params", "tags"}, {"run_id"}),
    "runs/update": ("POST", {"run_id", "run_uuid", "status", "end_time", "run_name"}, set()),
}
STRING_FIELDS = {"name", "version", "experiment_id", "run_id", "key", "value", "source",
                 "alias", "description", "stage", "filter", "experiment_name", "run_name"}
INT_FIELDS = {"start_time", "end_time", "timestamp", "max_results"}
NAME_RE = re.compile(r"^[\w.\-/ ]+$")


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad(msg):
    return ApiError(400, "INVALID_PARAMETER_VALUE", msg)


class State:
    def __init__(self):
        self.models = {}
        self.experiments = {}
        self.runs = {}
        self.fail_used = {}
        self.drops = 0


def mv_json(m, v, with_aliases=True):
    out = dict(v)
    out["tags"] = [{"key": k, "value": val} for k, val in sorted(v["tags"].items())]
    if not out["tags"]:
        del out["tags"]
    if with_aliases:
        out["aliases"] = sorted(a for a, n in m["aliases"].items() if n == v["version"])
    return out


def rm_json(name, m):
    return {"name": name, "creation_timestamp": NOW, "last_updated_timestamp": NOW,
            "tags": [{"key": k, "value": v} for k, v in sorted(m["tags"].items())],
            "aliases": [{"alias": a, "version": n} for a, n in sorted(m["aliases"].items())]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, obj=None, text=None, ctype="application/json", headers=()):
        body = (json.dumps(obj) if obj is not None else text or "").encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def control(self):
        c = self.server.opts.control
        if c and os.path.exists(c):
            with open(c) as f:
                return json.load(f)
        return {}

    def handle_any(self, method):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type")
        auth = self.headers.get("Authorization")
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        rec = {"method": method, "path": url.path, "query": {k: v[0] for k, v in query.items()},
               "content_type": ctype, "authorization": auth.split(" ")[0] if auth else None,
               "body": body}
        with open(self.server.opts.log, "a") as f:
            f.write(json.dumps(rec, sort_keys=True) + "\n")
        if url.path == "/health":
            return self.reply(200, text="OK", ctype="text/plain")
        want = self.server.opts.auth
        if want:
            kind, _, secret = want.partition(":")
            expect = ("Basic " + base64.b64encode(secret.encode()).decode()
                      if kind == "basic" else "Bearer " + secret)
            if not auth:
                return self.reply(401, text="You are not authenticated.", ctype="text/plain",
                                  headers=[("WWW-Authenticate", 'Basic realm="mlflow"')])
            if auth != expect:
                return self.reply(403, text="Permission denied", ctype="text/plain")
        ctl = self.control()
        if not url.path.startswith(API):
            return self.reply(404, text="<!doctype html><title>404 Not Found</title>",
                              ctype="text/html")
        ep = url.path[len(API):]
        for i, rule in enumerate(ctl.get("fail", [])):
            if rule.get("path") == ep and rule.get("method", method) == method:
                used = st.fail_used.get(i, 0)
                if used < rule.get("times", 1):
                    st.fail_used[i] = used + 1
                    hdrs = [("Retry-After", rule["retry_after"])] if "retry_after" in rule else []
                    code = rule.get("status", 503)
                    err = {"error_code": rule.get("error_code", "TEMPORARILY_UNAVAILABLE"),
                           "message": "injected failure"}
                    return self.reply(code, err, headers=hdrs)
        if ep == "registered-models/alias" and ctl.get("no_aliases"):
            return self.reply(404, text="<!doctype html><title>404 Not Found</title>",
                              ctype="text/html")
        if ep not in SPEC:
            return self.reply(404, text="<!doctype html><title>404 Not Found</title>",
                              ctype="text/html")
        try:
            spec_method, allowed, required = SPEC[ep]
            if spec_method and spec_method != method:
                raise ApiError(405, "BAD_REQUEST", "method not allowed")
            if method == "GET":
                args = {k: v[0] for k, v in query.items()}
                if raw:
                    raise bad("GET with a body")
            else:
                if ctype != "application/json":
                    raise bad("Content-Type must be application/json")
                if not isinstance(body, dict):
                    raise bad("body is not a JSON object")
                args = body
            for k in args:
                if k not in allowed:
                    raise bad("unknown field '%s'" % k)
            for k in required:
                if k not in args:
                    raise bad("Missing value for required parameter '%s'" % k)
            for k, v in args.items():
                if k in STRING_FIELDS and method != "GET" and not isinstance(v, str):
                    raise bad("Invalid value %r for parameter '%s' supplied" % (v, k))
                if k in INT_FIELDS and method != "GET" and (not isinstance(v, int)
                                                            or isinstance(v, bool)):
                    raise bad("Invalid value %r for parameter '%s' supplied" % (v, k))
            status, out = self.dispatch(ep, method, args, ctl)
        except ApiError as e:
            return self.reply(e.status, {"error_code": e.code, "message": e.message})
        if out is None:  # drop the connection without an answer
            self.close_connection = True
            return
        return self.reply(status, out)

    def dispatch(self, ep, method, a, ctl):
        st = self.server.state

        def model(name):
            if name not in st.models:
                raise ApiError(404, "RESOURCE_DOES_NOT_EXIST",
                               "Registered Model with name=%s not found" % name)
            return st.models[name]

        def version(m, name, v):
            for x in m["versions"]:
                if x["version"] == v:
                    return x
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST",
                           "Model Version (name=%s, version=%s) not found" % (name, v))

        def tags_of(lst, limit=5000):
            out = {}
            for t in lst or []:
                if set(t) != {"key", "value"} or not all(isinstance(t[k], str) for k in t):
                    raise bad("tag must be {key, value} strings")
                if len(t["value"]) > limit or len(t["key"]) > 250:
                    raise bad("tag %s too long" % t["key"])
                out[t["key"]] = t["value"]
            return out

        if ep == "registered-models/create":
            if a["name"] in st.models:
                raise ApiError(400, "RESOURCE_ALREADY_EXISTS",
                               "Registered Model (name=%s) already exists." % a["name"])
            st.models[a["name"]] = {"tags": tags_of(a.get("tags")), "aliases": {},
                                    "versions": []}
            return 200, {"registered_model": rm_json(a["name"], st.models[a["name"]])}
        if ep == "registered-models/get":
            return 200, {"registered_model": rm_json(a["name"], model(a["name"]))}
        if ep == "registered-models/set-tag":
            model(a["name"])["tags"].update(tags_of([{"key": a["key"], "value": a["value"]}]))
            return 200, {}
        if ep == "model-versions/create":
            m = model(a["name"])
            src = a["source"]
            if (src.startswith("/") or src.startswith("file:")) and not a.get("run_id"):
                raise bad("Invalid model version source: '%s'." % src)
            v = {"name": a["name"], "version": str(len(m["versions"]) + 1),
                 "creation_timestamp": NOW + len(m["versions"]) * 1000,
                 "last_updated_timestamp": NOW, "current_stage": "None",
                 "description": a.get("description", ""), "source": src,
                 "run_id": a.get("run_id", ""),
                 "status": "PENDING_REGISTRATION" if ctl.get("pending_first") else "READY",
                 "tags": tags_of(a.get("tags"))}
            m["versions"].append(v)
            if ctl.get("drop_after_create") and st.drops < ctl["drop_after_create"]:
                st.drops += 1
                return 200, None
            return 200, {"model_version": mv_json(m, v, False)}
        if ep == "model-versions/get":
            m = model(a["name"])
            v = version(m, a["name"], a["version"])
            out = mv_json(m, v)
            if v["status"] == "PENDING_REGISTRATION":
                v["status"] = "READY"
            return 200, {"model_version": out}
        if ep == "model-versions/search":
            f = a.get("filter", "")
            mt = re.fullmatch(r"name='([^']*)'", f)
            if not mt:
                raise bad("unsupported filter %r" % f)
            if "max_results" not in a:
                raise bad("send max_results")
            vs = st.models.get(mt.group(1), {"versions": []})["versions"]
            size = int(ctl.get("page_size", a["max_results"]))
            off = int(a.get("page_token") or 0)
            page = vs[off:off + size]
            out = {"model_versions": [dict(mv_json(None, v, False), aliases=[]) for v in page]}
            if off + size < len(vs):
                out["next_page_token"] = str(off + size)
            return 200, out
        if ep == "model-versions/set-tag":
            m = model(a["name"])
            version(m, a["name"], a["version"])["tags"].update(
                tags_of([{"key": a["key"], "value": a["value"]}]))
            return 200, {}
        if ep == "model-versions/transition-stage":
            m = model(a["name"])
            v = version(m, a["name"], a["version"])
            if a["stage"] not in ("None", "Staging", "Production", "Archived"):
                raise bad("bad stage")
            if not isinstance(a["archive_existing_versions"], bool):
                raise bad("archive_existing_versions must be a boolean")
            if a["archive_existing_versions"]:
                for x in m["versions"]:
                    if x["current_stage"] == a["stage"]:
                        x["current_stage"] = "Archived"
            v["current_stage"] = a["stage"]
            return 200, {"model_version": mv_json(m, v)}
        if ep == "registered-models/alias":
            alias = a["alias"]
            if not re.fullmatch(r"[\w\-]{1,255}", alias) or alias.lower() == "latest" \
                    or re.fullmatch(r"v\d+", alias):
                raise bad("Invalid alias name '%s'" % alias)
            m = model(a["name"])
            if method == "POST":
                if "version" not in a:
                    raise bad("Missing value for required parameter 'version'")
                version(m, a["name"], a["version"])
                m["aliases"][alias] = a["version"]
                return 200, {}
            if method == "DELETE":
                m["aliases"].pop(alias, None)
                return 200, {}
            if alias not in m["aliases"]:
                raise bad("Registered model alias %s not found." % alias)
            return 200, {"model_version": mv_json(m, version(m, a["name"], m["aliases"][alias]))}
        if ep == "experiments/get-by-name":
            for e in st.experiments.values():
                if e["name"] == a["experiment_name"]:
                    return 200, {"experiment": e}
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST",
                           "Could not find experiment with name '%s'" % a["experiment_name"])
        if ep == "experiments/create":
            if any(e["name"] == a["name"] for e in st.experiments.values()):
                raise ApiError(400, "RESOURCE_ALREADY_EXISTS", "Experiment exists")
            eid = str(len(st.experiments) + 1)
            st.experiments[eid] = {"experiment_id": eid, "name": a["name"],
                                   "artifact_location": "mlflow-artifacts:/" + eid,
                                   "lifecycle_stage": "active"}
            return 200, {"experiment_id": eid}
        if ep == "runs/create":
            eid = a.get("experiment_id")
            if eid not in st.experiments:
                raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", "no experiment %s" % eid)
            rid = "%032x" % (len(st.runs) + 1)
            info = {"run_id": rid, "run_uuid": rid, "experiment_id": eid,
                    "run_name": a.get("run_name", ""), "status": "RUNNING",
                    "start_time": a.get("start_time", NOW),
                    "artifact_uri": "mlflow-artifacts:/%s/%s/artifacts" % (eid, rid),
                    "lifecycle_stage": "active"}
            st.runs[rid] = {"info": info, "params": {}, "metrics": [],
                            "tags": tags_of(a.get("tags"))}
            return 200, {"run": {"info": info, "data": {"tags": a.get("tags", [])}}}
        if ep == "runs/search":
            ids = a.get("experiment_ids")
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise bad("experiment_ids must be strings")
            f = a.get("filter", "")
            mt = re.fullmatch(r"tags\.`([^`]+)` = '([^']*)'", f)
            if not mt:
                raise bad("unsupported filter %r" % f)
            runs = [r for r in st.runs.values() if r["info"]["experiment_id"] in ids
                    and r["tags"].get(mt.group(1)) == mt.group(2)]
            return 200, {"runs": [{"info": r["info"]} for r in runs]} if runs else {}
        if ep == "runs/log-batch":
            r = st.runs.get(a["run_id"])
            if r is None:
                raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", "no run")
            ms, ps, ts = a.get("metrics", []), a.get("params", []), a.get("tags", [])
            if len(ms) > 1000 or len(ps) > 100 or len(ts) > 100 or len(ms) + len(ps) + len(ts) > 1000:
                raise bad("batch too large")
            for mtr in ms:
                if set(mtr) != {"key", "value", "timestamp", "step"}:
                    raise bad("metric fields")
                if not NAME_RE.match(mtr["key"]):
                    raise bad("Invalid metric name: '%s'" % mtr["key"])
                if not isinstance(mtr["timestamp"], int) or not isinstance(mtr["step"], int):
                    raise bad("metric timestamp/step must be integers")
                if not isinstance(mtr["value"], (int, float)):
                    raise bad("metric value must be a number")
            seen = set()
            for p in ps:
                if set(p) != {"key", "value"} or not isinstance(p["value"], str):
                    raise bad("param fields")
                if p["key"] in seen:
                    raise bad("Duplicate parameter keys")
                seen.add(p["key"])
                if not NAME_RE.match(p["key"]):
                    raise bad("Invalid param name: '%s'" % p["key"])
                old = r["params"].get(p["key"])
                if old is not None and old != p["value"]:
                    raise bad("Changing param values is not allowed")
            for p in ps:
                r["params"][p["key"]] = p["value"]
            r["metrics"].extend(ms)
            r["tags"].update(tags_of(ts))
            return 200, {}
        if ep == "runs/update":
            r = st.runs.get(a.get("run_id"))
            if r is None:
                raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", "no run")
            if a.get("status") not in (None, "RUNNING", "SCHEDULED", "FINISHED", "FAILED",
                                       "KILLED"):
                raise bad("bad status")
            if "status" in a:
                r["info"]["status"] = a["status"]
            return 200, {"run_info": r["info"]}
        raise ApiError(404, "ENDPOINT_NOT_FOUND", ep)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PATCH(self):
        self.handle_any("PATCH")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--control")
    ap.add_argument("--auth")
    opts = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.opts = opts
    srv.state = State()
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, opts.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
