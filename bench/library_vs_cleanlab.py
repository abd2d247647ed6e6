#!/usr/bin/env python3
"""NoiseGeneration (Swift, in-process) against cleanlab 2.9.0 (Python, in-process), side by side.

For every workload both sides make the same calls with the same seeds; the script checks that
the outputs are identical (a checksum over every entry of every call, doubles by their bits) and
prints per-call times and the ratio cleanlab / Swift, by median and by best call.

Usage:  python bench/library_vs_cleanlab.py [--quick] [--binary PATH]
The Swift side is `swift build -c release --product noise-generation-bench` (`make bench` builds
it). Swift takes labels as Int32 (the library is generic over the integer type); numpy's are
int64, as np.random.choice returns them. The label workloads are timed three times on the Swift
side against one cleanlab run: with the library's default of one thread, with threads=2
(cleanlab uses one core), and with threads=2 on labels held as UInt8, the type the service gets
from the Python client for K <= 256.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from cleanlab.benchmarking.noise_generation import (
    generate_noise_matrix_from_trace,
    generate_noisy_labels,
    noise_matrix_is_valid,
)

MASK = (1 << 64) - 1
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Checksum:
    """sum_c (c * 0x9E3779B97F4A7C15 + 1) * sum_i (i * 2654435761 + 1) * bits_i  (mod 2**64)"""

    def __init__(self):
        self.value = 0
        self.calls = 0

    def add(self, words):
        words = np.asarray(words, dtype=np.uint64)
        weights = np.arange(words.size, dtype=np.uint64) * np.uint64(2654435761) + np.uint64(1)
        with np.errstate(over="ignore"):
            total = int(np.sum(weights * words, dtype=np.uint64))
        self.value = (self.value + ((self.calls * 0x9E3779B97F4A7C15 + 1) & MASK) * total) & MASK
        self.calls += 1

    def hex(self):
        return "%x" % self.value


def run_cleanlab(workload, calls, K, N, trace, frac):
    py = [1.0 / K] * K
    checksum = Checksum()
    times = []
    attempts = 0
    if workload == "matrix":
        for seed in range(calls):
            start = time.perf_counter()
            m = generate_noise_matrix_from_trace(K, trace, py=py, frac_zero_noise_rates=frac, seed=seed)
            times.append(time.perf_counter() - start)
            checksum.add([] if m is None else np.ascontiguousarray(m).view(np.uint64).ravel())
    elif workload == "validate":
        m = generate_noise_matrix_from_trace(K, trace, py=py, frac_zero_noise_rates=frac, seed=1)
        for _ in range(calls):
            start = time.perf_counter()
            valid = noise_matrix_is_valid(m, py)
            times.append(time.perf_counter() - start)
            checksum.add([1 if valid else 0])
    elif workload == "labels":
        np.random.seed(12345)
        y = np.random.choice(K, N, p=py)
        m = generate_noise_matrix_from_trace(K, trace, py=py, valid_noise_matrix=False, seed=7)
        for seed in range(calls):
            np.random.seed(seed)
            start = time.perf_counter()
            noisy = generate_noisy_labels(y, m)
            times.append(time.perf_counter() - start)
            checksum.add(noisy.astype(np.uint64))
    return {"times": times, "checksum": checksum.hex(), "attempts": attempts}


def run_swift(binary, workload, calls, K, N, trace, frac, threads):
    # numpy asks for transparent huge pages for its large arrays; glibc's malloc does so when told
    env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.hugetlb=1")
    out = subprocess.run([binary, workload, str(calls), str(K), str(N), repr(trace), repr(frac), str(threads)],
                         check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


WORKLOADS = [
    # label, workload, calls (full, quick), K, N, trace, frac
    ("generate_noise_matrix_from_trace K=3, trace 2.1", "matrix", (5000, 500), 3, 0, 2.1, 0.0),
    ("generate_noise_matrix_from_trace K=10, trace 5", "matrix", (2000, 200), 10, 0, 5.0, 0.0),
    ("generate_noise_matrix_from_trace K=10, trace 5, zeros 0.5", "matrix", (2000, 200), 10, 0, 5.0, 0.5),
    ("generate_noise_matrix_from_trace K=100, trace 60, zeros 0.5", "matrix", (200, 20), 100, 0, 60.0, 0.5),
    ("noise_matrix_is_valid K=100", "validate", (5000, 500), 100, 0, 60.0, 0.5),
    ("generate_noisy_labels K=10, N=1e6, trace 2", "labels", (15, 3), 10, 10**6, 2.0, 0.0),
    ("generate_noisy_labels K=10, N=1e6, trace 5", "labels", (15, 3), 10, 10**6, 5.0, 0.0),
    ("generate_noisy_labels K=10, N=1e7, trace 2", "labels", (4, 1), 10, 10**7, 2.0, 0.0),
    ("generate_noisy_labels K=10, N=1e7, trace 5", "labels", (4, 1), 10, 10**7, 5.0, 0.0),
]
# how the Swift side is timed, per workload: (its workload name, threads, row label suffix);
# by default once, as the workload, on one thread
VARIANTS = {
    "labels": (
        ("labels", 1, ""),
        ("labels", 2, ", 2 threads"),
        ("labels-u8", 2, ", UInt8 labels, 2 threads"),
    ),
}


def fmt(seconds):
    if seconds >= 1e-1:
        return "%.3f s" % seconds
    if seconds >= 1e-4:
        return "%.2f ms" % (seconds * 1e3)
    return "%.2f µs" % (seconds * 1e6)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls per workload")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "noise-generation-bench"))
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit("build it first: swift build -c release --product noise-generation-bench")

    rows = []
    print("%-72s %11s %11s %9s %9s  %s" % ("workload", "cleanlab", "Swift", "ratio", "best", "identical"))
    for base_label, workload, calls, K, N, trace, frac in WORKLOADS:
        n = calls[1] if args.quick else calls[0]
        theirs = None
        for swift_workload, threads, suffix in VARIANTS.get(workload, ((workload, 1, ""),)):
            label = base_label + suffix
            ours = run_swift(args.binary, swift_workload, n, K, N, trace, frac, threads)
            theirs = theirs or run_cleanlab(workload, n, K, N, trace, frac)
            cl_median = statistics.median(theirs["times"])
            cl_best = min(theirs["times"])
            identical = ours["checksum"] == theirs["checksum"]
            row = {
                "workload": label, "calls": n, "threads": threads,
                "cleanlab_median_s": cl_median, "cleanlab_best_s": cl_best,
                "swift_median_s": ours["median"], "swift_best_s": ours["best"],
                "ratio_median": cl_median / ours["median"], "ratio_best": cl_best / ours["best"],
                "identical": identical,
            }
            rows.append(row)
            print("%-72s %11s %11s %8.1fx %8.1fx  %s" % (
                label, fmt(cl_median), fmt(ours["median"]), row["ratio_median"], row["ratio_best"],
                "yes" if identical else "NO (%s vs %s)" % (ours["checksum"], theirs["checksum"])))
            sys.stdout.flush()
    print("ratio = cleanlab median per call / Swift median per call; best = the same for the fastest call")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    if not all(r["identical"] for r in rows):
        sys.exit("outputs differ")


if __name__ == "__main__":
    main()
