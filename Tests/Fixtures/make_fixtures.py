#!/usr/bin/env python3
"""Writes the parity fixtures for the NoiseGeneration Swift tests by running the real
cleanlab 2.9.0 and numpy.

Usage:  python Tests/Fixtures/make_fixtures.py [--out Tests/Fixtures] [--explore-iterations]

Every case records the inputs and what cleanlab/numpy returned (or raised) after
`np.random.seed(seed)`. Encoding, chosen so that no JSON parser can lose a bit:
  * a Python float is written as `float.hex()` (a string such as "0x1.8p+1");
  * a Python int is written as a JSON integer;
  so a "number" field tells int from float, which cleanlab's messages depend on.
  * large integer arrays are written as {"fnv64": hex, "count": n} where the hash is FNV-1a 64
    over the little-endian int64 bytes (the Swift tests compute the same).
Errors are {"error": {"kind": "cleanlab" | "numpy" | "other" | "timeout", "type", "message"}}:
"cleanlab" are the ValueErrors raised by noise_generation.py itself (the Swift library must
throw the same message), the others are crashes or hangs the library turns into typed errors.

The script is deterministic: its own choices come from numpy's Generator(PCG64) with fixed seeds.
"""

import argparse
import json
import math
import os
import signal
import struct
import sys

import numpy as np
import cleanlab
from cleanlab.benchmarking import noise_generation as ng

CLEANLAB_MESSAGES = (
    "trace = ",
    "py must be provided",
    "K must be >= 2",
    "max_prob must be greater",
    "min_prob must be less",
)


class Timeout(Exception):
    pass


def _alarm(*_):
    raise Timeout()


signal.signal(signal.SIGALRM, _alarm)


def enc(value):
    """Encodes floats as hex strings, keeps ints, recurses into lists and arrays."""
    if isinstance(value, np.ndarray):
        return enc(value.tolist())
    if isinstance(value, (list, tuple)):
        return [enc(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value).hex()
    if value is None:
        return None
    raise TypeError(type(value))


def fnv64(int_values):
    h = 0xCBF29CE484222325
    data = np.asarray(int_values, dtype="<i8").tobytes()
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def enc_ints(values, inline_limit=2000):
    values = np.asarray(values)
    if values.size <= inline_limit:
        return [int(v) for v in values.tolist()]
    return {"fnv64": fnv64(values), "count": int(values.size)}


def run(fn, timeout=10.0):
    """Calls fn; returns ("ok", value) or ("error", description)."""
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return "ok", fn()
    except Timeout:
        return "error", {"kind": "timeout", "type": "Timeout", "message": "no answer in %gs" % timeout}
    except Exception as e:  # noqa: BLE001 - we record every failure mode
        message = str(e)
        if isinstance(e, ValueError) and message.startswith(CLEANLAB_MESSAGES):
            kind = "cleanlab"
        elif type(e).__module__.startswith("numpy") or isinstance(e, ValueError):
            kind = "numpy"
        else:
            kind = "other"
        return "error", {"kind": kind, "type": type(e).__name__, "message": message}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


class Writer:
    def __init__(self, out):
        self.out = out
        self.total = 0

    def write(self, name, cases):
        path = os.path.join(self.out, name + ".json")
        doc = {
            "generator": "Tests/Fixtures/make_fixtures.py",
            "cleanlab": cleanlab.__version__,
            "numpy": np.__version__,
            "cases": cases,
        }
        with open(path, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
        self.total += len(cases)
        print("%-28s %5d cases  %8d bytes" % (name, len(cases), os.path.getsize(path)))


# ---------------------------------------------------------------------------------------------
# RandomState primitives


def random_state_cases(rng):
    cases = []
    for seed in [0, 1, 42, 2**31, 2**32 - 1]:
        np.random.seed(seed)
        _, key, pos, _, _ = np.random.get_state()
        cases.append({"kind": "seed_state", "seed": seed, "key": enc_ints(key), "pos": int(pos)})
    for seed in [-1, 2**32, 2**40]:
        status, value = run(lambda: np.random.seed(seed))
        cases.append({"kind": "seed_error", "seed": seed, "error": value})
    for i in range(12):
        seed = int(rng.integers(0, 2**32))
        count = int(rng.choice([1, 623, 624, 625, 1300, 2000]))
        np.random.seed(seed)
        raw = np.random.randint(0, 2**32, size=count, dtype=np.uint64)
        cases.append({"kind": "uint32", "seed": seed, "values": enc_ints(raw)})
    for i in range(6):
        seed = int(rng.integers(0, 2**32))
        np.random.seed(seed)
        # legacy tomaxint is next_uint64 >> 1 on 64-bit Linux: checks the high-half-first order
        values = [int(np.random.mtrand._rand.tomaxint()) for _ in range(700)]
        cases.append({"kind": "tomaxint", "seed": seed, "values": values})
    for i in range(20):
        seed = int(rng.integers(0, 2**32))
        count = int(rng.integers(1, 800))
        np.random.seed(seed)
        cases.append({"kind": "rand", "seed": seed, "values": enc(np.random.random_sample(count))})
    for n in list(range(0, 25)) + [50, 100, 313, 1000]:
        seed = int(rng.integers(0, 2**32))
        np.random.seed(seed)
        values = np.random.dirichlet(np.ones(n))
        after = np.random.rand()
        cases.append({"kind": "dirichlet", "seed": seed, "n": n, "values": enc(values), "after": enc(after)})
    sizes = [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 100, 255, 256, 257, 1000, 4096, 4097]
    sizes += [int(rng.integers(2, 3000)) for _ in range(30)] + [65537, 100000, 300000]
    for n in sizes:
        seed = int(rng.integers(0, 2**32))
        np.random.seed(seed)
        perm = np.random.permutation(n)
        after = np.random.rand()
        cases.append({"kind": "permutation", "seed": seed, "n": n, "values": enc_ints(perm), "after": enc(after)})
    for i in range(30):
        seed = int(rng.integers(0, 2**32))
        pop = int(rng.integers(0, 60))
        size = int(rng.integers(0, pop + 1)) if i % 6 else pop + int(rng.integers(1, 3))
        if i % 10 == 3:
            size = -1
        a = [int(x) for x in rng.integers(-50, 50, size=pop)]
        np.random.seed(seed)
        status, value = run(lambda: np.random.choice(a, size, replace=False))
        case = {"kind": "choice", "seed": seed, "a": a, "size": size}
        if status == "ok":
            case["values"] = enc_ints(value)
            case["after"] = enc(np.random.rand())
        else:
            case["error"] = value
        cases.append(case)
    for i in range(40):
        seed = int(rng.integers(0, 2**32))
        K = int(rng.integers(1, 60))
        size = int(rng.choice([0, 1, 10, 500, 5000]))
        p = rng.dirichlet(np.ones(K) * float(rng.choice([0.1, 1, 10])))
        if i % 5 == 1:
            p[rng.integers(0, K)] = 0.0
            p = p / p.sum()
        p = [float(x) for x in p]
        if i % 13 == 2:
            p = [x * 1.001 for x in p]  # does not sum to 1
        if i % 13 == 5 and K > 1:
            p[0] = -p[0]
        if i % 13 == 8:
            p = p + [0.0]  # wrong length
        np.random.seed(seed)
        status, value = run(lambda: np.random.choice(K, size, p=p))
        case = {"kind": "choice_p", "seed": seed, "K": K, "size": size, "p": enc(p)}
        if status == "ok":
            case["values"] = enc_ints(value)
            case["after"] = enc(np.random.rand())
        else:
            case["error"] = value
        cases.append(case)
    return cases


def repr_cases(rng):
    values = [0.0, -0.0, 1.0, 0.1, 1e-4, 1e-5, 9.999e-5, 1e15, 1e16, 1e17, 123456789012345678.0,
              5e-324, 1.7976931348623157e308, 2.2250738585072014e-308, 1 - 1e-5, 1 / 3, 2 / 3,
              0.30000000000000004, 1e22, 1e-7, 12345.678, float("inf"), float("-inf"), float("nan")]
    values += [float(x) for x in rng.random(1000)]
    values += [float(x) for x in rng.random(1000) * 10.0 ** rng.integers(-30, 30, size=1000)]
    values += [float(np.float64(x)) for x in rng.standard_normal(500) * 1e6]
    return [{"kind": "repr", "values": [v.hex() if math.isfinite(v) else repr(v) for v in values],
             "reprs": [repr(v) for v in values]}]


def kernel_cases(rng):
    cases = []
    sizes = list(range(1, 40)) + [47, 64, 91, 99, 100, 101, 127, 128, 129, 255, 256, 257, 500, 1000, 2047]
    for K in sizes:
        seed = int(rng.integers(0, 2**32))
        scale = float(rng.choice([1.0, 1e-3, 1e3]))
        with_zeros = bool(K % 3 == 0)
        # drawn from the legacy generator, so the Swift test rebuilds the inputs bit for bit
        r = np.random.RandomState(seed)
        A = r.random_sample((K, K)) * scale
        if with_zeros:
            A[r.random_sample((K, K)) < 0.5] = 0.0
        x = r.random_sample(K)
        cases.append({"kind": "dot_seeded", "K": K, "seed": seed, "scale": enc(scale), "zeros": with_zeros,
                      "result": enc(np.dot(A, x))})
    for n in list(range(0, 20)) + [64, 127, 128, 129, 136, 200, 255, 256, 257, 1000, 8192, 8193, 10000, 40000]:
        seed = int(rng.integers(0, 2**32))
        r = np.random.RandomState(seed)
        a = r.random_sample(n) * r.random_sample()
        total = a.sum()
        cases.append({"kind": "sum_seeded", "n": n, "seed": seed, "result": enc(total)})
    return cases


# ---------------------------------------------------------------------------------------------
# The five functions


def random_noise_matrix(rng, K, proper=True):
    """A column-stochastic KxK matrix with a strong diagonal (or not)."""
    M = rng.random((K, K)) ** 3
    M[np.arange(K), np.arange(K)] += rng.random(K) * K
    if proper:
        M = M / M.sum(axis=0)
    return M


def validity_cases(rng):
    cases = []

    def add(nm, py, label):
        nm = np.asarray(nm, dtype=float)
        status, value = run(lambda: ng.noise_matrix_is_valid(nm, py))
        case = {"kind": "validity", "label": label, "noise_matrix": enc(nm), "py": enc(py)}
        if status == "ok":
            case["valid"] = bool(value)
        else:
            case["error"] = value
        cases.append(case)

    for i in range(120):
        K = int(rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 13, 20, 50] if i % 30 else [100]))
        nm = random_noise_matrix(rng, K, proper=(i % 10 != 7))
        py = rng.dirichlet(np.ones(K))
        if i % 9 == 4:
            nm = (nm + rng.random((K, K)) * 0.5)
            nm = nm / nm.sum(axis=0)
        if i % 11 == 3:
            py = py * 1.1
        add(nm, [float(x) for x in py], "random")
    # near-ties: a row whose only non-zero is the diagonal, uniform priors, equal columns
    for K in [2, 3, 4, 7, 10]:
        nm = np.eye(K)
        add(nm, [1.0 / K] * K, "identity")
        nm = np.full((K, K), 1.0 / K)
        add(nm, [1.0 / K] * K, "uniform")
        nm = random_noise_matrix(rng, K)
        nm[0, :] = 0.0
        nm[0, 0] = 1.0
        nm[1:, 0] = 0.0
        add(nm, [float(x) for x in rng.dirichlet(np.ones(K))], "diagonal-row")
    for K in [3, 5, 10, 30]:
        for rep in range(3):
            nm = ng.generate_noise_matrix_from_trace(
                K, K * 0.6, py=[1.0 / K] * K, valid_noise_matrix=False, seed=int(rng.integers(0, 1000)),
                frac_zero_noise_rates=float(rng.choice([0, 0.5, 0.9])))
            add(nm, [1.0 / K] * K, "generated")
            add(nm, [float(x) for x in rng.dirichlet(np.ones(K) * 0.3)], "generated-skewed")
    return cases


def probability_cases(rng):
    cases = []

    def add(n, m, max_prob, min_prob, seed, label):
        kwargs = {}
        if max_prob is not None:
            kwargs["max_prob"] = max_prob
        if min_prob is not None:
            kwargs["min_prob"] = min_prob

        def call():
            np.random.seed(seed)
            result = ng.generate_n_rand_probabilities_that_sum_to_m(n, m, **kwargs)
            return result, np.random.rand()

        status, value = run(call)
        case = {"kind": "probabilities", "label": label, "n": n, "m": enc(m), "seed": seed}
        if max_prob is not None:
            case["max_prob"] = enc(max_prob)
        if min_prob is not None:
            case["min_prob"] = enc(min_prob)
        if status == "ok":
            case["result"] = enc(value[0])
            case["after"] = enc(value[1])
        else:
            case["error"] = value
        cases.append(case)

    for n in [0, 0, 0]:
        add(n, float(rng.uniform(0, 3)), None, None, int(rng.integers(0, 2**32)), "n=0")
    add(0, 1, 0.1, 0.9, 5, "n=0 ignores bounds")
    for i in range(90):
        n = int(rng.integers(1, 40))
        m = float(rng.uniform(0.05, 5)) if i % 7 else int(rng.integers(1, 4))
        add(n, m, None, None, int(rng.integers(0, 2**32)), "defaults")
    for i in range(120):
        n = int(rng.integers(1, 60))
        m = float(rng.uniform(0.05, 3))
        mean = m / n
        choice = i % 6
        mx = mn = None
        if choice in (0, 2, 4):
            mx = mean * (1 + float(rng.choice([0.0, 1e-7, 1e-4, 0.05, 0.5])))
        if choice in (1, 2, 5):
            mn = mean * (1 - float(rng.choice([0.0, 1e-7, 1e-4, 0.05, 0.5])))
        if choice == 3:
            mx = mean - float(rng.uniform(0, 1e-6))
            mn = mean + float(rng.uniform(0, 1e-6))
        add(n, m, mx, mn, int(rng.integers(0, 2**32)), "tight")
    # cleanlab's ValueErrors, with int and float arguments
    add(5, 1, 0.1, None, 0, "max error int m")
    add(5, 1.0, 0.1, None, 0, "max error float m")
    add(5, 1, 0, None, 0, "max error int max_prob")
    add(5, 1, None, 0.9, 0, "min error")
    add(5, 2.5, 0.25, 0.3, 3, "max error first")
    add(3, 1.0, 1, 0.5, 3, "min error reports max_prob")
    add(7, 1.0, 0.142857, None, 3, "max just below")
    add(7, 1.0, 0.1428561, None, 3, "max within tolerance")
    add(-1, 1, None, None, 0, "negative n min error")
    add(-3, -1, None, -5.0, 0, "negative n passes checks")
    add(2, 1, 0.5, 0.5, 11, "min == max")
    add(1, 0.7, None, None, 12, "n=1")
    add(1, 1, None, None, 12, "n=1 int m")
    return cases


def balls_cases(rng):
    cases = []

    def add(N, K, mx, mn, seed, label):
        def call():
            np.random.seed(seed)
            result = ng.randomly_distribute_N_balls_into_K_bins(
                N=N, K=K, max_balls_per_bin=mx, min_balls_per_bin=mn)
            return result, np.random.rand()

        status, value = run(call)
        case = {"kind": "balls", "label": label, "N": N, "K": K, "max_balls_per_bin": mx,
                "min_balls_per_bin": mn, "seed": seed}
        if status == "ok":
            case["result"] = enc_ints(value[0])
            case["after"] = enc(value[1])
        else:
            case["error"] = value
        cases.append(case)

    for K in [1, 3, 10, 100]:
        add(0, K, None, None, 1, "N=0")
        add(0, K, 2, 1, 1, "N=0 with bounds")
    for i in range(80):
        N = int(rng.integers(1, 500))
        K = int(rng.integers(1, 60))
        add(N, K, None, None, int(rng.integers(0, 2**32)), "defaults")
    for i in range(70):
        N = int(rng.integers(1, 300))
        K = int(rng.integers(1, 40))
        mean = N / K
        mx = int(math.ceil(mean)) + int(rng.integers(0, 3)) if i % 3 != 2 else int(rng.integers(1, max(2, int(mean) + 1)))
        mn = int(rng.integers(0, max(1, int(mean) + 1))) if i % 2 else None
        add(N, K, mx, mn, int(rng.integers(0, 2**32)), "bounds")
    add(100000, 7, None, None, 4, "large N")
    add(10**9, 13, None, 10**8, 5, "very large N")
    add(5, 2, 0, None, 1, "max 0 divides by zero")
    add(5, 0, None, None, 1, "K=0")
    return cases


def noise_matrix_cases(rng):
    cases = []

    def add(label, timeout=20.0, **kwargs):
        def call():
            result = ng.generate_noise_matrix_from_trace(**kwargs)
            return result

        status, value = run(call, timeout)
        case = {"kind": "noise_matrix", "label": label}
        for key, v in kwargs.items():
            case[key] = enc(v) if key != "valid_noise_matrix" else bool(v)
        if status == "ok":
            case["result"] = None if value is None else enc(value)
            # numpy's global generator after the call: checks that every draw was reproduced
            case["after"] = enc(np.random.rand()) if value is not None or kwargs.get("max_iter", 1) >= 1 else None
        else:
            case["error"] = value
        cases.append(case)

    Ks = [3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30, 50]
    for i in range(170):
        K = int(rng.choice(Ks))
        trace = float(rng.uniform(1.01, K * 0.95))
        py = [float(x) for x in rng.dirichlet(np.ones(K) * float(rng.choice([0.5, 2, 20])))]
        frac = float(rng.choice([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]))
        valid = bool(i % 4 != 3)
        kwargs = dict(K=K, trace=trace, py=py, valid_noise_matrix=valid, frac_zero_noise_rates=frac,
                      seed=int(rng.integers(0, 2**32)), max_iter=int(rng.choice([50, 300])))
        add("random", **kwargs)
    for i in range(60):
        K = int(rng.choice([3, 4, 5, 8, 10]))
        trace = float(rng.uniform(1.2, K - 0.5))
        mean = trace / K
        kwargs = dict(K=K, trace=trace, py=[1.0 / K] * K, seed=int(rng.integers(0, 2**32)), max_iter=100,
                      valid_noise_matrix=bool(i % 2))
        which = i % 5
        if which == 0:
            kwargs["max_trace_prob"] = min(1.0, mean * float(rng.uniform(1.0, 1.3)))
        elif which == 1:
            kwargs["min_trace_prob"] = mean * float(rng.uniform(0.7, 1.0))
        elif which == 2:
            kwargs["max_noise_rate"] = float(rng.uniform(0.05, 0.6))
        elif which == 3:
            kwargs["min_noise_rate"] = float(rng.uniform(0.0, 0.1))
        else:
            kwargs["max_trace_prob"] = min(1.0, mean * 1.05)
            kwargs["min_trace_prob"] = mean * 0.95
            kwargs["max_noise_rate"] = float(rng.uniform(0.3, 0.9))
            kwargs["min_noise_rate"] = float(rng.uniform(0.0, 0.02))
        add("tight bounds", **kwargs)
    # K = 2, both branches, several seeds each
    for i in range(40):
        trace = float(rng.uniform(1.0001, 1.9999)) if i % 5 else int(rng.integers(1, 3)) + 0.5
        frac = float(rng.choice([0.0, 0.49, 0.5, 0.75, 1.0]))
        add("K=2", K=2, trace=trace, frac_zero_noise_rates=frac, seed=int(rng.integers(0, 2**32)),
            valid_noise_matrix=bool(i % 3))
    add("K=2 trace over 2", K=2, trace=2.5, valid_noise_matrix=False, seed=3)
    add("K=2 trace below 1", K=2, trace=0.5, valid_noise_matrix=False, seed=3)
    # max_iter 0, 1, and small values that give None
    for max_iter in [0, 1, 2, 3, 5, -1]:
        for K in [3, 6]:
            add("max_iter", K=K, trace=float(K) * 0.4 + 0.2, py=[float(x) for x in rng.dirichlet(np.ones(K) * 0.3)],
                max_iter=max_iter, seed=int(rng.integers(0, 2**32)))
    for i in range(15):
        K = int(rng.choice([4, 6, 10]))
        # skewed priors and low traces: validity is hard, so few attempts give None
        py = [float(x) for x in rng.dirichlet(np.ones(K) * 0.2)]
        add("max_iter none", K=K, trace=float(rng.uniform(1.05, 1.5)), py=py, max_iter=int(rng.integers(1, 4)),
            seed=int(rng.integers(0, 2**32)))
    # valid_noise_matrix=False with every parameter
    for i in range(25):
        K = int(rng.choice([3, 5, 9]))
        add("invalid allowed", K=K, trace=float(rng.uniform(0.2, K * 0.9)), valid_noise_matrix=False,
            max_trace_prob=1.0, min_trace_prob=float(rng.choice([0.0, 1e-5, 0.01])),
            max_noise_rate=float(rng.choice([1 - 1e-5, 0.9, 0.5])), min_noise_rate=float(rng.choice([0.0, 1e-3])),
            frac_zero_noise_rates=float(rng.choice([0.0, 0.3, 0.9])), seed=int(rng.integers(0, 2**32)))
    # larger K, up to 100
    for K, trace, frac in [(64, 40.0, 0.5), (80, 50.0, 0.0), (100, 60.0, 0.5), (100, 70.0, 0.9), (100, 90.0, 0.2)]:
        add("large K", K=K, trace=trace, py=[1.0 / K] * K, frac_zero_noise_rates=frac, seed=int(rng.integers(0, 1000)),
            max_iter=20)
    # each ValueError, int and float typed
    add("trace error float", K=3, trace=0.5)
    add("trace error int", K=3, trace=1)
    add("trace error float 1.0", K=3, trace=1.0)
    add("py error", K=3, trace=2)
    add("py error float", K=5, trace=2.5)
    add("K error", K=1, trace=2, valid_noise_matrix=False)
    add("K error 0", K=0, trace=2)
    add("K error negative", K=-3, trace=2, valid_noise_matrix=False)
    add("trace error before K error", K=1, trace=1)
    add("max_trace_prob error", K=4, trace=3.0, max_trace_prob=0.5, py=[0.25] * 4)
    add("max_trace_prob error int", K=4, trace=3, max_trace_prob=0, valid_noise_matrix=False)
    add("min_trace_prob error", K=4, trace=2.0, min_trace_prob=0.9, py=[0.25] * 4)
    add("max_noise_rate error", K=5, trace=1.5, max_noise_rate=0.01, py=[0.2] * 5)
    add("max_noise_rate error int", K=5, trace=1.5, max_noise_rate=0, py=[0.2] * 5)
    add("min_noise_rate error", K=5, trace=1.5, min_noise_rate=0.5, py=[0.2] * 5)
    add("py wrong length", K=4, trace=2.0, py=[0.5, 0.5])
    add("py wrong length K=2", K=2, trace=1.5, py=[0.5, 0.25, 0.25])
    add("frac overflow", K=3, trace=2.0, py=[0.3, 0.3, 0.4], frac_zero_noise_rates=1e300)
    add("frac huge", K=3, trace=2.0, py=[0.3, 0.3, 0.4], frac_zero_noise_rates=1e17)
    add("frac negative", K=3, trace=2.0, py=[0.3, 0.3, 0.4], frac_zero_noise_rates=-5.0)
    add("py not summing to 1", K=3, trace=2.0, py=[0.3, 0.3, 0.3], max_iter=5)
    add("defaults", K=3, trace=2.0, py=[0.2, 0.3, 0.5])
    add("diagonal of ones", K=4, trace=4.0, py=[0.25] * 4, max_iter=5)
    add("diagonal near ones", K=5, trace=4.9, py=[0.2] * 5, frac_zero_noise_rates=0.5, max_iter=50)
    return cases


def noisy_label_cases(rng):
    cases = []

    def add(label, K, N, py, nm, seed_true, seed_noise, dtype="int64"):
        np.random.seed(seed_true)
        y = np.random.choice(K, N, p=py).astype(dtype)

        def call():
            np.random.seed(seed_noise)
            noisy = ng.generate_noisy_labels(y, nm)
            return noisy, np.random.rand()

        status, value = run(call, 60)
        case = {"kind": "noisy_labels", "label": label, "K": K, "N": N, "py": enc(py), "seed_true": seed_true,
                "true_labels": enc_ints(y), "noise_matrix": enc(nm), "seed": seed_noise, "dtype": dtype}
        if status == "ok":
            noisy, after = value
            flipped = np.flatnonzero(noisy != y)
            case["result"] = enc_ints(noisy)
            case["num_flipped"] = int(flipped.size)
            case["first_flips"] = [int(v) for v in flipped[:40]]
            case["after"] = enc(after)
        else:
            case["error"] = value
        cases.append(case)

    def present_py(K, concentration):
        return [float(x) for x in rng.dirichlet(np.ones(K) * concentration)]

    plan = [(2, 50), (3, 100), (4, 1000), (5, 10), (10, 10000), (10, 100000), (20, 50000), (50, 100000),
            (50, 2000), (30, 30000), (7, 777), (3, 3), (2, 1)]
    for K, N in plan:
        for rep in range(4):
            while True:
                py = present_py(K, float(rng.choice([1.0, 5.0, 50.0])))
                np.random.seed(1000 + rep)
                if N < K or len(np.unique(np.random.choice(K, N, p=py))) == K:
                    break
            trace = float(rng.uniform(1.1, K * 0.9)) if K > 2 else 1.5
            nm = ng.generate_noise_matrix_from_trace(K, trace, py=py, valid_noise_matrix=False,
                                                     frac_zero_noise_rates=float(rng.choice([0, 0.5])),
                                                     seed=int(rng.integers(0, 10000)))
            if N < K:
                # fewer examples than classes: only the one-class broadcast case works in cleanlab
                py = [1.0] + [0.0] * (K - 1)
            add("random", K, N, py, nm, 1000 + rep, int(rng.integers(0, 2**32)))
    # classes with too few examples for their flips: columns summing above 1
    for K, N in [(3, 1000), (5, 5000), (10, 100000), (4, 40)]:
        py = present_py(K, 2.0)
        nm = random_noise_matrix(rng, K)
        nm[:, 0] = nm[:, 0] * 3.0  # class 0 wants three times its size in flips
        nm[:, K - 1] = nm[:, K - 1] + 0.4
        add("too few examples", K, N, py, nm, 7, int(rng.integers(0, 2**32)))
    # tiny classes: flips truncate to zero
    for K, N in [(4, 1000), (10, 10000)]:
        py = [0.002] * (K - 1)
        py = py + [1.0 - sum(py)]
        np.random.seed(9)
        nm = ng.generate_noise_matrix_from_trace(K, K * 0.5, py=py, valid_noise_matrix=False, seed=2)
        add("tiny classes", K, N, py, nm, 9, int(rng.integers(0, 2**32)))
    # no noise: identity matrix draws nothing
    add("identity", 4, 1000, [0.25] * 4, np.eye(4), 3, 4)
    # one class present: cleanlab broadcasts py of length 1
    add("one class present", 3, 500, [0.0, 1.0, 0.0], np.full((3, 3), 1.0 / 3), 3, 5)
    # other integer dtypes
    for dtype in ["int8", "uint8", "int16", "uint16", "int32", "uint32", "uint64"]:
        K = 6
        py = present_py(K, 5.0)
        nm = ng.generate_noise_matrix_from_trace(K, 3.5, py=py, seed=11)
        add("dtype", K, 3000, py, nm, 21, int(rng.integers(0, 2**32)), dtype=dtype)
    return cases


def cleanlab_test_cases():
    """The behaviours cleanlab's own tests/test_noise_generation.py checks, with explicit seeds."""
    cases = []

    def record(name, fn, **extra):
        status, value = run(fn)
        case = {"kind": "cleanlab_test", "name": name}
        case.update(extra)
        if status == "ok":
            case["result"] = value
        else:
            case["error"] = value
        cases.append(case)

    py = [0.1, 0.1, 0.2, 0.6]
    for n, frac in [(10, 0), (100, 0), (1000, 0), (1000, 0.75)]:
        y = [z for i, p in enumerate(py) for z in [i] * int(p * n)]

        def pipeline():
            nm = ng.generate_noise_matrix_from_trace(K=4, trace=1.5, py=py, seed=0, valid_noise_matrix=True,
                                                     frac_zero_noise_rates=frac)
            np.random.seed(0)
            s = ng.generate_noisy_labels(y, nm)
            return {"noise_matrix": enc(nm), "noisy_labels": enc_ints(s),
                    "valid": bool(ng.noise_matrix_is_valid(nm, py))}

        record("main_pipeline", pipeline, n=n, frac_zero_noise_rates=frac, py=enc(py), true_labels=y)
    record("invalid_inputs_verify_1", lambda: bool(ng.noise_matrix_is_valid(np.array([[0.2, 0.5], [0.8, 0.5]]), [0.1, 0.8])))
    record("invalid_inputs_verify_2", lambda: bool(ng.noise_matrix_is_valid(np.array([[0.2, 0.5], [0.8, 0.4]]), [0.1, 0.9])))
    record("invalid_inputs_verify_3", lambda: bool(ng.noise_matrix_is_valid(np.array([[0.2, 0.5], [0.8, 0.4]]), [0.1, 0.8])))
    record("invalid_matrix", lambda: bool(ng.noise_matrix_is_valid(np.array([[0.1, 0.9], [0.9, 0.1]]), [0.1, 0.9])))
    record("trace_less_than_1_error", lambda: ng.generate_noise_matrix_from_trace(3, 0.5))
    record("trace_equals_1_error", lambda: ng.generate_noise_matrix_from_trace(3, 1))
    record("valid_no_py_error", lambda: ng.generate_noise_matrix_from_trace(K=3, trace=2, valid_noise_matrix=True))
    record("one_class_error", lambda: ng.generate_noise_matrix_from_trace(K=1, trace=2))
    record("one_class_error_trace_1", lambda: ng.generate_noise_matrix_from_trace(K=1, trace=1))
    record("two_class_nofraczero", lambda: enc(ng.generate_noise_matrix_from_trace(K=2, trace=1.1, valid_noise_matrix=True)))
    record("two_class_fraczero_high", lambda: enc(ng.generate_noise_matrix_from_trace(
        K=2, trace=1.8, valid_noise_matrix=False, frac_zero_noise_rates=0.75)))
    record("two_class_fraczero_high_valid", lambda: enc(ng.generate_noise_matrix_from_trace(
        K=2, trace=1.8, valid_noise_matrix=True, frac_zero_noise_rates=0.75)))
    record("gen_probs_sum_empty", lambda: enc(ng.generate_n_rand_probabilities_that_sum_to_m(n=0, m=1)))
    record("gen_probs_max_error", lambda: ng.generate_n_rand_probabilities_that_sum_to_m(n=5, m=1, max_prob=0.1))
    record("gen_probs_min_error", lambda: ng.generate_n_rand_probabilities_that_sum_to_m(n=5, m=1, min_prob=0.9))

    def probs_min_max():
        np.random.seed(0)
        return enc(ng.generate_n_rand_probabilities_that_sum_to_m(n=2, m=1, min_prob=0.5, max_prob=0.5))

    record("probs_min_max", probs_min_max)
    record("probs_min_max_n5", lambda: ng.generate_n_rand_probabilities_that_sum_to_m(n=5, m=1, min_prob=0.5, max_prob=0.5))

    def balls_zero():
        return enc_ints(ng.randomly_distribute_N_balls_into_K_bins(N=0, K=3))

    record("balls_zero", balls_zero)
    for mx in [None, 1, 2, 3]:
        for mn in [None, 1, 2, 3]:
            def balls():
                np.random.seed(0)
                return enc_ints(ng.randomly_distribute_N_balls_into_K_bins(N=10, K=10, max_balls_per_bin=mx,
                                                                           min_balls_per_bin=mn))

            record("balls_params", balls, max_balls_per_bin=mx, min_balls_per_bin=mn)
    record("max_iter", lambda: enc(ng.generate_noise_matrix_from_trace(
        K=3, trace=2, valid_noise_matrix=True, max_iter=1, py=[1 / 3.0] * 3, seed=1)))
    record("max_iter_0", lambda: ng.generate_noise_matrix_from_trace(
        K=3, trace=2, valid_noise_matrix=True, py=[0.1, 0.1, 0.8], max_iter=0))
    return cases


def explore_iterations():
    """How many adjustment iterations convergent calls need (documents the loop bound)."""
    import time
    counter = [0]
    original = np.random.rand

    def counting(*args):
        counter[0] += 1
        return original(*args)

    np.random.rand = counting
    rng = np.random.default_rng(8)
    worst, calls, start = 0, 0, time.time()
    while time.time() - start < 60:
        n = int(rng.integers(2, 60))
        m = float(rng.uniform(0.1, 3))
        mean = m / n
        mx = mean * (1 + float(rng.choice([0, 1e-7, 1e-4, 0.1]))) - float(rng.uniform(0, 1e-6))
        mn = mean * (1 - float(rng.choice([0, 1e-7, 1e-4, 0.1]))) + float(rng.uniform(0, 1e-6))
        np.random.seed(int(rng.integers(0, 2**32)))
        counter[0] = 0
        status, _ = run(lambda: ng.generate_n_rand_probabilities_that_sum_to_m(n, m, max_prob=mx, min_prob=mn), 1)
        if status == "ok":
            calls += 1
            worst = max(worst, counter[0])
    np.random.rand = original
    print("adjustment_iterations: %d convergent calls, at most %d iterations" % (calls, worst))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--explore-iterations", action="store_true")
    args = parser.parse_args()
    if cleanlab.__version__ != "2.9.0":
        sys.exit("cleanlab 2.9.0 is required, found %s" % cleanlab.__version__)
    if args.explore_iterations:
        explore_iterations()
        return
    writer = Writer(args.out)
    writer.write("random_state", random_state_cases(np.random.default_rng(1)))
    writer.write("python_repr", repr_cases(np.random.default_rng(2)))
    writer.write("numpy_kernels", kernel_cases(np.random.default_rng(3)))
    writer.write("noise_matrix_is_valid", validity_cases(np.random.default_rng(4)))
    writer.write("probabilities", probability_cases(np.random.default_rng(5)))
    writer.write("balls_into_bins", balls_cases(np.random.default_rng(6)))
    writer.write("noise_matrix_from_trace", noise_matrix_cases(np.random.default_rng(7)))
    writer.write("noisy_labels", noisy_label_cases(np.random.default_rng(8)))
    writer.write("cleanlab_tests", cleanlab_test_cases())
    print("total cases:", writer.total)


if __name__ == "__main__":
    main()
