#!/usr/bin/env python3
"""Server-side cost of 1e7 labels (K=10): request time as the server logs it, and the server's
peak resident memory, for the JSON body and for the .npy (multipart) body, the latter both as
8-byte labels and as the 1-byte labels the client sends by default for K <= 256. Each form runs
in a fresh server process so that its peak is its own. Usage: python bench/server_side.py
"""

import json
import os
import sys
import time

import numpy as np
from cleanlab.benchmarking import noise_generation as ng

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Server  # noqa: E402

import noise_service  # noqa: E402


def main():
    K = 10
    py = [0.1] * K
    np.random.seed(12345)
    y = np.random.choice(K, 10**7, p=py)
    m = ng.generate_noise_matrix_from_trace(K, 5.0, py=py, valid_noise_matrix=False, seed=7)
    np.random.seed(1)
    expected = ng.generate_noisy_labels(y, m)
    print("1e7 labels, K=10: server time (request start to answer queued, upload included), end to end, peak RSS")
    rows = []
    narrowest = noise_service._narrowest
    for form in ("json", "npy int64", "npy uint8"):
        server = Server("--log-requests", "true")
        client = noise_service.Client(server.url, npy_threshold=(10**9 if form == "json" else 1))
        # the client narrows labels unless told otherwise; "npy int64" sends them as they are
        noise_service._narrowest = narrowest if form == "npy uint8" else (lambda labels, K: None)
        idle = server.rss_mb()
        times = []
        for i in range(3):
            start = time.perf_counter()
            got = client.generate_noisy_labels(y, m, seed=1)
            times.append(time.perf_counter() - start)
            assert (got == expected).all()
        peak = server.rss_peak_mb()
        time.sleep(0.2)
        server_ms = [r["duration_ms"] for r in server.records if r.get("path") == "/noisy-labels"]
        server.stop()
        row = {"form": form, "client_seconds_best": min(times), "server_ms_best": min(server_ms),
               "server_peak_rss_mb": peak, "idle_rss_mb": idle}
        rows.append(row)
        print("%-9s server %6.0f ms, end-to-end %6.0f ms (best of 3)   server peak RSS %5.0f MB (idle %3.0f MB)" % (
            form, min(server_ms), min(times) * 1e3, peak, idle))
    noise_service._narrowest = narrowest
    print("target: peak RSS under 300 MB")
    return rows


if __name__ == "__main__":
    main()
