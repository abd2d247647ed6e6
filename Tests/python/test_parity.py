"""Parity over HTTP with cleanlab 2.9.0: at least 300 cases across the five endpoints, with seeds
and parameters drawn independently of the library's fixtures. Doubles must come back with the
same bits (json.loads of the shortest round-trip form is exact), labels and counts equal, and
cleanlab's ValueErrors must be 422 problems carrying cleanlab's message."""

import numpy as np
import pytest
from cleanlab.benchmarking import noise_generation as ng

def run_cleanlab(fn):
    try:
        return "ok", fn()
    except ValueError as error:
        return "error", str(error)


def check(server, path, body, expected):
    status, answer = server.post(path, body)
    outcome, value = expected
    if outcome == "error":
        assert status == 422, (path, body, answer)
        assert answer["detail"] == value, (path, body)
        return answer
    assert status == 200, (path, body, answer)
    return answer


rng = np.random.default_rng(20261203)


def noise_matrix_cases():
    out = []
    for i in range(130):
        K = int(rng.choice([2, 3, 4, 5, 6, 8, 10, 12, 16, 25]))
        py = rng.dirichlet(np.ones(K) * float(rng.choice([0.7, 3.0, 30.0]))).tolist()
        body = {"K": K, "trace": float(rng.uniform(1.05, K * 0.9)) if i % 9 else int(rng.integers(1, K)),
                "py": py, "seed": int(rng.integers(0, 2**32)),
                "frac_zero_noise_rates": float(rng.choice([0.0, 0.2, 0.5, 0.8])),
                "valid_noise_matrix": bool(i % 5 != 0), "max_iter": int(rng.choice([1, 3, 100, 1000]))}
        if i % 7 == 3:
            body["max_noise_rate"] = float(rng.uniform(0.2, 0.9))
        if i % 11 == 4:
            body["min_trace_prob"] = float(rng.uniform(0, 0.2))
        if i % 13 == 6:
            body["max_trace_prob"] = float(rng.uniform(0.5, 1.0))
        out.append(body)
    return out


NOISE_MATRIX_CASES = noise_matrix_cases()


@pytest.mark.parametrize("body", NOISE_MATRIX_CASES)
def test_noise_matrix(server, body):
    expected = run_cleanlab(lambda: ng.generate_noise_matrix_from_trace(**body))
    answer = check(server, "/noise-matrix", body, expected)
    if expected[0] == "ok":
        value = expected[1]
        assert answer["noise_matrix"] == (None if value is None else value.tolist())


def noisy_label_cases():
    out = []
    for i in range(60):
        K = int(rng.choice([2, 3, 5, 10, 20]))
        N = int(rng.choice([50, 100, 1000, 20000]))
        py = rng.dirichlet(np.ones(K) * 5).tolist()
        r = np.random.RandomState(int(rng.integers(0, 2**32)))
        labels = r.choice(K, N, p=py)
        labels[:K] = np.arange(K)  # every class present, as cleanlab requires
        matrix = ng.generate_noise_matrix_from_trace(
            K, float(rng.uniform(1.2, K * 0.95)) if K > 2 else 1.5, py=py, valid_noise_matrix=False,
            seed=int(rng.integers(0, 1000)), frac_zero_noise_rates=float(rng.choice([0, 0.5])))
        out.append({"true_labels": labels.tolist(), "noise_matrix": matrix.tolist(), "seed": int(rng.integers(0, 2**32))})
    return out


def wide_noisy_label_cases():
    # More than 256 classes: the library keeps two bytes per example instead of one. A separate
    # generator, so that the other cases stay as they were.
    wide = np.random.default_rng(20261204)
    out = []
    for K, N in [(257, 5000), (300, 20000), (1000, 30000), (1000, 100000)]:
        labels = wide.integers(0, K, N)
        labels[:K] = np.arange(K)
        matrix = ng.generate_noise_matrix_from_trace(
            K, K * float(wide.uniform(0.3, 0.9)), py=[1 / K] * K, valid_noise_matrix=False,
            seed=int(wide.integers(0, 1000)))
        out.append({"true_labels": labels.tolist(), "noise_matrix": matrix.tolist(),
                    "seed": int(wide.integers(0, 2**32))})
    return out


NOISY_LABEL_CASES = noisy_label_cases() + wide_noisy_label_cases()


@pytest.mark.parametrize("body", NOISY_LABEL_CASES)
def test_noisy_labels(server, body):
    def cleanlab():
        np.random.seed(body["seed"])
        return ng.generate_noisy_labels(np.array(body["true_labels"]), np.array(body["noise_matrix"]))

    expected = run_cleanlab(cleanlab)
    answer = check(server, "/noisy-labels", body, expected)
    assert answer["noisy_labels"] == expected[1].tolist()
    assert answer["num_flipped"] == int((expected[1] != np.array(body["true_labels"])).sum())


def validate_cases():
    out = []
    for i in range(50):
        K = int(rng.choice([1, 2, 3, 4, 7, 10, 30, 100]))
        py = rng.dirichlet(np.ones(K)).tolist()
        if i % 3 == 0:
            m = ng.generate_noise_matrix_from_trace(K, K * 0.5 + 0.6, py=py, valid_noise_matrix=False,
                                                    seed=int(rng.integers(0, 100))) if K > 1 else np.eye(1)
        else:
            m = rng.random((K, K)) ** 2 + np.eye(K) * rng.random() * K
            m = m / m.sum(axis=0)
        m = np.clip(m, 0, 1)
        out.append({"noise_matrix": m.tolist(), "py": py})
    return out


VALIDATE_CASES = validate_cases()


@pytest.mark.parametrize("body", VALIDATE_CASES)
def test_validate(server, body):
    expected = run_cleanlab(lambda: bool(ng.noise_matrix_is_valid(np.array(body["noise_matrix"]), body["py"])))
    answer = check(server, "/validate", body, expected)
    assert answer["valid"] is expected[1]


def probability_cases():
    out = []
    for i in range(50):
        n = int(rng.integers(0, 60))
        m = float(rng.uniform(0.1, 3)) if i % 6 else int(rng.integers(1, 3))
        body = {"n": n, "m": m, "seed": int(rng.integers(0, 2**32))}
        if n and i % 2:
            body["max_prob"] = m / n * float(rng.choice([0.9, 1.0, 1.05, 1.5]))
        if n and i % 3 == 1:
            body["min_prob"] = m / n * float(rng.choice([0.5, 0.95, 1.1]))
        out.append(body)
    # Large n: the adjustment loops run hundreds of times over the tournament-tree path.
    for i in range(8):
        n = int(rng.integers(1024, 6000))
        m = float(rng.uniform(0.5, 2))
        body = {"n": n, "m": m, "seed": int(rng.integers(0, 2**32))}
        body["max_prob"] = m / n * float(rng.choice([1.0, 1.05, 1.5]))
        if i % 2:
            body["min_prob"] = m / n * float(rng.choice([0.5, 0.95]))
        out.append(body)
    return out


PROBABILITY_CASES = probability_cases()


@pytest.mark.parametrize("body", PROBABILITY_CASES)
def test_probabilities(server, body):
    def cleanlab():
        np.random.seed(body["seed"])
        kwargs = {k: v for k, v in body.items() if k in ("max_prob", "min_prob")}
        return ng.generate_n_rand_probabilities_that_sum_to_m(body["n"], body["m"], **kwargs)

    expected = run_cleanlab(cleanlab)
    answer = check(server, "/probabilities", body, expected)
    if expected[0] == "ok":
        assert answer["probabilities"] == expected[1].tolist()


def ball_cases():
    out = []
    for i in range(40):
        N = int(rng.integers(0, 1000))
        K = int(rng.integers(1, 50))
        body = {"N": N, "K": K, "seed": int(rng.integers(0, 2**32))}
        if i % 2:
            body["max_balls_per_bin"] = int(rng.integers(1, max(2, N // K + 3)))
        if i % 3 == 0:
            body["min_balls_per_bin"] = int(rng.integers(0, max(1, N // K + 1)))
        out.append(body)
    # Large K: the correction loop runs over the tournament-tree path.
    for i in range(8):
        K = int(rng.integers(1024, 5000))
        N = int(rng.integers(K // 2, 40 * K))
        body = {"N": N, "K": K, "seed": int(rng.integers(0, 2**32))}
        if i % 2:
            body["max_balls_per_bin"] = int(rng.integers(1, N // K + 3))
        if i % 3 == 0:
            body["min_balls_per_bin"] = int(rng.integers(0, N // K + 1))
        out.append(body)
    return out


BALL_CASES = ball_cases()


@pytest.mark.parametrize("body", BALL_CASES)
def test_balls(server, body):
    def cleanlab():
        np.random.seed(body["seed"])
        return ng.randomly_distribute_N_balls_into_K_bins(
            N=body["N"], K=body["K"], max_balls_per_bin=body.get("max_balls_per_bin"),
            min_balls_per_bin=body.get("min_balls_per_bin"))

    expected = run_cleanlab(cleanlab)
    answer = check(server, "/balls-into-bins", body, expected)
    if expected[0] == "ok":
        assert answer["counts"] == expected[1].tolist()


def test_case_count():
    total = sum(map(len, [NOISE_MATRIX_CASES, NOISY_LABEL_CASES, VALIDATE_CASES, PROBABILITY_CASES, BALL_CASES]))
    print("HTTP parity cases against cleanlab 2.9.0:", total)
    assert total >= 300
