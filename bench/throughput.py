#!/usr/bin/env python3
"""Throughput with wrk (2 threads, 16 connections, 10 s) on POST /noise-matrix K=10 and
POST /validate K=100, side by side in one run:
  - noise-service (release build, loopback),
  - a FastAPI + uvicorn (2 workers) app wrapping cleanlab (bench/fastapi_app.py),
  - noise-service's own GET /healthz, the HTTP stack's ceiling.
Prints requests/s, non-2xx counts and the ratios. Usage: python bench/throughput.py [--duration 10]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Server  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

NOISE_MATRIX = {"K": 10, "trace": 5.0, "py": [0.1] * 10, "seed": 1}


def validate_body():
    from cleanlab.benchmarking.noise_generation import generate_noise_matrix_from_trace
    m = generate_noise_matrix_from_trace(100, 60.0, py=[0.01] * 100, frac_zero_noise_rates=0.5, seed=1)
    return {"noise_matrix": m.tolist(), "py": [0.01] * 100}


def wrk(url, body, threads, connections, duration):
    if body is None:
        script_args = []
        script = None
    else:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n'
                     % json.dumps(json.dumps(body)))
        script.close()
        script_args = ["-s", script.name]
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % duration, "--latency",
                          *script_args, url], capture_output=True, text=True, check=True).stdout
    if script:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return {"rps": rps, "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1).strip() if errors else "none", "p99": p99.group(1) if p99 else "?"}


def wait_ready(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("not ready: " + url)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--json")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (make bench does)")

    validate = validate_body()
    results = {}
    server = Server()
    for name, path, body in (("healthz", "/healthz", None), ("noise-matrix K=10", "/noise-matrix", NOISE_MATRIX),
                             ("validate K=100", "/validate", validate)):
        results[("service", name)] = wrk(server.url + path, body, args.threads, args.connections, args.duration)
    server.stop()

    port = 18765
    uvicorn = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "fastapi_app:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", "--log-level", "warning"], cwd=HERE)
    try:
        wait_ready("http://127.0.0.1:%d" % port)
        for name, path, body in (("noise-matrix K=10", "/noise-matrix", NOISE_MATRIX),
                                 ("validate K=100", "/validate", validate)):
            results[("fastapi", name)] = wrk("http://127.0.0.1:%d%s" % (port, path), body, args.threads,
                                             args.connections, args.duration)
    finally:
        uvicorn.terminate()
        uvicorn.wait(30)

    ceiling = results[("service", "healthz")]["rps"]
    print("wrk -t%d -c%d -d%ds, loopback, 2 cores shared by client and server" % (args.threads, args.connections, args.duration))
    print("%-20s %14s %10s %14s %12s %14s %16s" % ("endpoint", "noise-service", "p99", "FastAPI+cleanlab", "vs FastAPI",
                                                     "vs /healthz", "non-2xx/errors"))
    rows = []
    for name in ("noise-matrix K=10", "validate K=100"):
        ours = results[("service", name)]
        theirs = results[("fastapi", name)]
        row = {"endpoint": name, "service_rps": ours["rps"], "fastapi_rps": theirs["rps"], "healthz_rps": ceiling,
               "vs_fastapi": ours["rps"] / theirs["rps"], "vs_healthz": ours["rps"] / ceiling,
               "non2xx": ours["non2xx"], "socket_errors": ours["socket_errors"]}
        rows.append(row)
        print("%-20s %12.0f/s %10s %14.0f/s %11.1fx %13.2fx %8d / %s" % (
            name, ours["rps"], ours["p99"], theirs["rps"], row["vs_fastapi"], row["vs_healthz"], ours["non2xx"],
            ours["socket_errors"]))
    print("%-20s %12.0f/s %10s" % ("healthz (ceiling)", ceiling, results[("service", "healthz")]["p99"]))
    print("targets: >= 15x the FastAPI app, >= 0.8x /healthz")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
