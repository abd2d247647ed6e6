#!/usr/bin/env python3
"""End to end from Python: the noise_service client (HTTP to the release server on loopback)
against cleanlab 2.9.0 in-process, on the same inputs and seeds, in one run.

Every row checks that the answers are identical and prints the ratio of median times
(cleanlab / client) with the issue's target. Usage: python bench/end_to_end.py [--quick]
"""

import argparse
import json
import os
import sys

import numpy as np
from cleanlab.benchmarking import noise_generation as ng

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Server, digest, row, timed  # noqa: E402

import noise_service  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    q = args.quick
    server = Server()
    client = noise_service.Client(server.url)
    rows = []
    print("%-58s %11s %11s %9s  %-4s %s" % ("workload (median per call)", "cleanlab", "client", "ratio", "same", "target"))

    for label, K, trace, frac, calls, target in [
        ("noise matrix K=3, trace 2.1", 3, 2.1, 0.0, 300 if q else 2000, 1),
        ("noise matrix K=10, trace 5", 10, 5.0, 0.0, 200 if q else 1000, 1),
        ("noise matrix K=10, trace 5, frac_zero_noise_rates 0.5", 10, 5.0, 0.5, 200 if q else 1000, 1),
        ("noise matrix K=100, trace 60, zeros 0.5", 100, 60.0, 0.5, 20 if q else 100, 3),
    ]:
        py = [1.0 / K] * K
        ours, got = timed(lambda s: client.generate_noise_matrix_from_trace(
            K, trace, py=py, frac_zero_noise_rates=frac, seed=s), calls)
        theirs, expected = timed(lambda s: ng.generate_noise_matrix_from_trace(
            K, trace, py=py, frac_zero_noise_rates=frac, seed=s), calls)
        same = all((a is None and b is None) or (a == b).all() for a, b in zip(got, expected))
        rows.append(row(label, theirs, ours, same, target))

    K = 100
    py = [1.0 / K] * K
    m = ng.generate_noise_matrix_from_trace(K, 60.0, py=py, frac_zero_noise_rates=0.5, seed=1)
    calls = 300 if q else 2000
    ours, got = timed(lambda _: client.noise_matrix_is_valid(m, py), calls)
    theirs, expected = timed(lambda _: ng.noise_matrix_is_valid(m, py), calls)
    rows.append(row("validate K=100", theirs, ours, got == expected, 3))

    K = 10
    py = [1.0 / K] * K
    np.random.seed(12345)
    y_all = np.random.choice(K, 10**7, p=py)
    for trace in (2.0, 5.0):
        m = ng.generate_noise_matrix_from_trace(K, trace, py=py, valid_noise_matrix=False, seed=7)
        for N, calls in ((10**5, 5 if q else 20), (10**6, 3 if q else 10), (10**7, 2 if q else 7)):
            y = y_all[:N]
            client.generate_noisy_labels(y, m, seed=0)  # warm-up: the server's first big buffers
            ours, got = timed(lambda s: client.generate_noisy_labels(y, m, seed=s), calls, keep=digest)

            def cleanlab(s):
                return ng.generate_noisy_labels(y, m)

            theirs, expected = timed(cleanlab, calls, setup=lambda s: np.random.seed(s), keep=digest)
            same = got == expected
            target = 10 if N == 10**7 else (3 if N >= 10**6 else 1)
            rows.append(row("noisy labels K=10, N=%.0e, trace %g" % (N, trace), theirs, ours, same, target))
            del got, expected

    K = 10
    py = [1.0 / K] * K
    count = 1000
    sweeps = 2 if q else 5
    arguments = [dict(K=K, trace=5.0, py=py, seed=s) for s in range(count)]
    ours, got = timed(lambda _: client.generate_noise_matrices_from_trace(arguments), sweeps)
    theirs, expected = timed(lambda _: [ng.generate_noise_matrix_from_trace(**a) for a in arguments], sweeps)
    same = all((a == b).all() for a, b in zip(got[0], expected[0]))
    rows.append(row("sweep: 1,000 K=10 matrices via /batch vs 1,000 calls", theirs, ours, same, 20))

    server.stop()
    print("ratio = cleanlab median / client median; the client talks HTTP to the release server on loopback;"
          " labels above %d travel as .npy" % client.npy_threshold)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    if not all(r["identical"] for r in rows):
        sys.exit("answers differ")


if __name__ == "__main__":
    main()
