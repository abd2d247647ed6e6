"""The Python client: drop-in parity with cleanlab 2.9.0, error mapping, the .npy transport for
every integer dtype and byte order, malformed .npy, /batch with mixed errors, thread safety."""

import io
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from cleanlab.benchmarking import noise_generation as ng

import noise_service
from noise_service import Client, ServiceError


@pytest.fixture(scope="module")
def client(server):
    return Client("http://127.0.0.1:%d" % server.port)


def test_drop_in_replacement_module_functions(server):
    """A harness that swaps the import gets the same arrays (the module reads NOISE_SERVICE_URL)."""
    script = """
import numpy as np
from cleanlab.benchmarking.noise_generation import (generate_noise_matrix_from_trace as c_nm,
    generate_noisy_labels as c_nl, noise_matrix_is_valid as c_valid,
    generate_n_rand_probabilities_that_sum_to_m as c_p, randomly_distribute_N_balls_into_K_bins as c_b)
from noise_service import (generate_noise_matrix_from_trace, generate_noisy_labels, noise_matrix_is_valid,
    generate_n_rand_probabilities_that_sum_to_m, randomly_distribute_N_balls_into_K_bins)
py = [0.05, 0.15, 0.3, 0.5]
for seed in range(20):
    a = generate_noise_matrix_from_trace(4, 2.5, py=py, frac_zero_noise_rates=0.3, seed=seed)
    b = c_nm(4, 2.5, py=py, frac_zero_noise_rates=0.3, seed=seed)
    assert a.dtype == b.dtype and a.shape == b.shape and (a == b).all(), seed
    assert noise_matrix_is_valid(a, py) == c_valid(b, py)
np.random.seed(0)
y = np.random.choice(4, 50000, p=py)
for seed in (0, 1, 2**32 - 1):
    np.random.seed(seed)
    expected = c_nl(y, b)
    got = generate_noisy_labels(y, b, seed=seed)
    assert got.dtype == expected.dtype and (got == expected).all()
    small = generate_noisy_labels(list(y[:500]), b, seed=seed)
    np.random.seed(seed)
    assert (small == c_nl(list(y[:500]), b)).all() and small.dtype == np.int64
np.random.seed(5)
assert (generate_n_rand_probabilities_that_sum_to_m(7, 2.0, max_prob=0.4, seed=5) == c_p(7, 2.0, max_prob=0.4)).all()
np.random.seed(6)
assert (randomly_distribute_N_balls_into_K_bins(30, 7, max_balls_per_bin=6, seed=6) == c_b(30, 7, max_balls_per_bin=6)).all()
print("drop-in ok")
"""
    env = dict(os.environ, NOISE_SERVICE_URL="http://127.0.0.1:%d" % server.port)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "drop-in ok" in result.stdout


def test_422_raises_value_error_with_the_servers_detail(client):
    with pytest.raises(ValueError, match=r"^trace = 1\. trace > 1 is necessary"):
        client.generate_noise_matrix_from_trace(3, 1)
    with pytest.raises(ValueError, match="max_prob must be greater"):
        client.generate_n_rand_probabilities_that_sum_to_m(5, 1, max_prob=0.1)


def test_other_failures_raise_service_error_with_the_problem(client):
    with pytest.raises(ServiceError) as caught:
        client._post_json("/probabilities", {"n": 3, "m": 1, "bogus": 1})
    assert caught.value.status == 400
    assert caught.value.problem["type"].endswith("/unknown-field")
    dead = Client("http://127.0.0.1:1", timeout=2)
    with pytest.raises(OSError):
        dead.noise_matrix_is_valid(np.eye(2), [0.5, 0.5])


@pytest.mark.parametrize("spin", [0, 1e-7, 0.05])
def test_polling_for_answers_changes_nothing_but_latency(client, spin):
    """spin=0 sleeps on the socket at once; 1e-7 polls, gives up and sleeps; 0.05 polls long
    enough to get most answers while polling. Answers are the same, the socket timeout is back
    in place afterwards, and a slow answer still arrives."""
    c = Client("http://127.0.0.1:%d" % client.port, timeout=30, spin=spin)
    py = [0.2, 0.3, 0.5]
    for seed in range(5):
        assert (c.generate_noise_matrix_from_trace(3, 2.0, py=py, seed=seed)
                == ng.generate_noise_matrix_from_trace(3, 2.0, py=py, seed=seed)).all()
    big = c.generate_noise_matrix_from_trace(300, 150.0, py=[1 / 300] * 300, frac_zero_noise_rates=0.5, seed=3,
                                             max_iter=5)
    assert big is None or big.shape == (300, 300)
    assert c._connection().sock.gettimeout() == 30
    with pytest.raises(ValueError):
        Client("http://127.0.0.1:%d" % client.port, spin=-1)


@pytest.mark.parametrize("label_threads", ["1", "2"])
def test_large_noisy_labels_equal_cleanlab_with_one_or_two_threads(start_server, label_threads):
    """From 2**18 labels the server may split /noisy-labels over two threads (--label-threads);
    the answer is cleanlab's either way, over JSON and over .npy, seed after seed. Class 9 has
    more than 2**18 examples, so the library marks its flips in a pass of their own, the other
    classes' inside their permutations."""
    s = start_server("--label-threads", label_threads)
    np.random.seed(21)
    y = np.random.choice(10, 600_011, p=[0.02, 0.08, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.1, 0.5])
    assert (y == 9).sum() > 2**18
    nm = ng.generate_noise_matrix_from_trace(10, 4.0, py=[0.1] * 10, valid_noise_matrix=False, seed=3)
    json_client = Client("http://127.0.0.1:%d" % s.port, npy_threshold=10**9)
    npy_client = Client("http://127.0.0.1:%d" % s.port, npy_threshold=1)
    for seed in (0, 7, 2**32 - 1):
        np.random.seed(seed)
        expected = ng.generate_noisy_labels(y, nm)
        for client in (json_client, npy_client):
            got = client.generate_noisy_labels(y, nm, seed=seed)
            assert got.dtype == expected.dtype
            assert (got == expected).all(), (label_threads, seed)


DTYPES = ["<i1", "|u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<u4", ">u4", "<i8", ">i8", "<u8", ">u8"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_npy_transport_every_integer_dtype_and_byte_order(client, dtype):
    np.random.seed(11)
    y = np.random.choice(6, 30000).astype(dtype)
    nm = ng.generate_noise_matrix_from_trace(6, 3.0, py=[1 / 6] * 6, seed=4)
    small = Client("http://127.0.0.1:%d" % client.port, npy_threshold=1)
    got = small.generate_noisy_labels(y, nm, seed=9)
    np.random.seed(9)
    expected = ng.generate_noisy_labels(y, nm)
    assert got.dtype == expected.dtype == np.dtype(dtype)
    assert (got == expected).all()


@pytest.mark.parametrize("K, high", [(6, 5), (300, 5)])
def test_npy_labels_travel_narrowed_and_come_back_in_their_dtype(client, K, high):
    """Above the threshold the client sends int64 labels as the narrowest unsigned type that
    holds every label and every class < K (uint8, uint16), and widens the answer: the same as
    cleanlab, and as the JSON path when cleanlab cannot run (classes missing from the labels)."""
    np.random.seed(K)
    y = np.random.randint(0, high + 1, 30000).astype(np.int64)
    py = np.bincount(y, minlength=K) / len(y)
    nm = np.eye(K)
    nm[:, :high + 1] = 0.2 / K
    for k in range(high + 1):
        nm[k, k] = 0.0
        nm[k, k] = 1.0 - nm[:, k].sum()
    nm[K - 1, 0] += 0.1  # some flips to the last class, which needs the wider type
    nm[0, 0] -= 0.1
    assert np.allclose(nm.sum(axis=0), 1)
    got = Client("http://127.0.0.1:%d" % client.port, npy_threshold=1).generate_noisy_labels(y, nm, seed=5)
    assert py[0] > 0
    assert got.dtype == np.int64
    if K == 6:
        np.random.seed(5)
        assert (got == ng.generate_noisy_labels(y, nm)).all()
    as_json = Client("http://127.0.0.1:%d" % client.port, npy_threshold=10**9)
    assert (got == as_json.generate_noisy_labels(y, nm, seed=5)).all()
    assert (got == K - 1).sum() > 0
    with pytest.raises(ValueError, match="label -1 at index 3"):
        bad = y.copy()
        bad[3] = -1
        Client("http://127.0.0.1:%d" % client.port, npy_threshold=1).generate_noisy_labels(bad, nm)


def multipart(parts):
    boundary = "test-boundary-1234"
    body = b""
    for name, content in parts:
        body += b"--" + boundary.encode() + b"\r\n"
        body += ('Content-Disposition: form-data; name="%s"; filename="%s"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n" % (name, name)).encode()
        body += content + b"\r\n"
    body += b"--" + boundary.encode() + b"--\r\n"
    return body, {"Content-Type": "multipart/form-data; boundary=" + boundary}


def npy(array):
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


MATRIX = np.array([[0.9, 0.2], [0.1, 0.8]])

MALFORMED = [
    (b"not an npy file", "magic"),
    (b"\x93NUMPY\x04\x00\x10\x00" + b" " * 16, "version 4.0"),
    (b"\x93NUMPY\x01\x00\xff\x00{'descr': '<i8'}\n", "header claims"),
    (npy(np.arange(4)).replace(b"'<i8'", b"'<c8'"), "only integer"),
    (npy(np.arange(4)).replace(b"'<i8'", b"'<i3'"), "1, 2, 4 or 8 bytes"),
    (npy(np.arange(4))[:-8], "data bytes"),
    (npy(np.zeros((2, 2), dtype=np.int64)), "1-D"),
    (npy(np.arange(4.0)), "hold integers"),
    (npy(np.arange(4)).replace(b"'shape': (4,)", b"'shape': (4) "), "tuple"),
    (npy(np.arange(4)).replace(b"'fortran_order'", b"'fortran_ordex'"), "unexpected key"),
]


@pytest.mark.parametrize("content,message", MALFORMED)
def test_malformed_npy_is_a_400_that_says_what_is_wrong(server, content, message):
    body, headers = multipart([("true_labels", content), ("noise_matrix", npy(MATRIX)), ("seed", b"1")])
    status, _, data = server.request("POST", "/noisy-labels", body, headers=headers)
    problem = json.loads(data)
    assert status == 400, problem
    assert problem["type"].endswith("/malformed-npy") and message in problem["detail"], problem


def test_multipart_with_a_json_matrix_and_npy_answer(server):
    y = np.array([0, 0, 1, 1] * 250, dtype=np.int32)
    body, headers = multipart([("true_labels", npy(y)), ("noise_matrix", json.dumps(MATRIX.tolist()).encode()),
                               ("seed", b"42")])
    headers["Accept"] = "application/x-npy"
    status, response_headers, data = server.request("POST", "/noisy-labels", body, headers=headers)
    assert status == 200 and response_headers["content-type"] == "application/x-npy"
    got = np.load(io.BytesIO(data))
    np.random.seed(42)
    expected = ng.generate_noisy_labels(y, MATRIX)
    assert got.dtype == np.int32 and (got == expected).all()
    assert response_headers["x-seed"] == "42"
    assert int(response_headers["x-num-flipped"]) == int((expected != y).sum())


def test_multipart_errors(server):
    body, headers = multipart([("true_labels", npy(np.array([0, 3]))), ("noise_matrix", npy(MATRIX))])
    status, _, data = server.request("POST", "/noisy-labels", body, headers=headers)
    assert status == 422 and json.loads(data)["field"] == "true_labels"
    body, headers = multipart([("true_labels", npy(np.array([0, 1]))), ("noise_matrix", npy(MATRIX)), ("extra", b"1")])
    status, _, data = server.request("POST", "/noisy-labels", body, headers=headers)
    assert status == 400 and json.loads(data)["field"] == "extra"
    body, headers = multipart([("true_labels", npy(np.array([0, 1]))), ("noise_matrix", npy(MATRIX)), ("seed", b"x")])
    status, _, data = server.request("POST", "/noisy-labels", body, headers=headers)
    assert status == 400 and json.loads(data)["field"] == "seed"
    status, _, data = server.request("POST", "/noisy-labels", body[:-40], headers=headers)
    assert status == 400


def test_batch_with_mixed_errors(client, server):
    requests = [
        ("/noise-matrix", {"K": 3, "trace": 2.1, "py": [0.3, 0.3, 0.4], "seed": 1}),
        ("/noise-matrix", {"K": 3, "trace": 1}),
        ("/probabilities", {"n": 3, "m": 1, "typo": 2}),
        ("/nope", {}),
        ("/balls-into-bins", {"N": 10, "K": 4, "seed": 2}),
        ("/noisy-labels", {"true_labels": [0, 1, 1], "noise_matrix": [[0.5, 0.5], [0.5, 0.5]], "seed": 3}),
        ("/validate", {"noise_matrix": [[1, 0], [0, 1]], "py": [0.5, 0.5]}),
    ]
    answers = client.batch(requests)
    assert [status for status, _ in answers] == [200, 422, 400, 404, 200, 200, 200]
    for (path, body), (status, answer) in zip(requests, answers):
        if path == "/nope":
            continue
        single_status, single = server.post(path, body)
        assert (single_status, single) == (status, answer), path
    assert answers[0][1]["noise_matrix"] == ng.generate_noise_matrix_from_trace(3, 2.1, py=[0.3, 0.3, 0.4], seed=1).tolist()


@pytest.mark.parametrize("item, status", [
    ({"path": "/nope", "body": {}}, 404),
    ({"path": "/probabilities"}, 400),
    ({"body": {"n": 1, "m": 1}}, 400),
    ({"path": "/probabilities", "body": [1]}, 400),
    ({"path": "/probabilities", "body": {}, "extra": 1}, 400),
    ({"path": 3, "body": {}}, 400),
    ([1, 2], 400),
    ("text", 400),
])
def test_a_malformed_batch_item_fails_alone(server, item, status):
    good = {"path": "/probabilities", "body": {"n": 2, "m": 1, "seed": 1}}
    got, body = server.post("/batch", {"requests": [good, item, good]})
    assert got == 200, body
    answers = body["responses"]
    assert [a["status"] for a in answers] == [200, status, 200], answers
    assert answers[1]["body"]["status"] == status and answers[1]["body"]["detail"]
    assert answers[0] == answers[2]


def test_sweep_helper_gets_a_thousand_matrices_in_one_call(client):
    arguments = [dict(K=10, trace=5.0, py=[0.1] * 10, seed=s) for s in range(1000)]
    matrices = client.generate_noise_matrices_from_trace(arguments)
    assert len(matrices) == 1000
    for s in (0, 17, 999):
        assert (matrices[s] == ng.generate_noise_matrix_from_trace(10, 5.0, py=[0.1] * 10, seed=s)).all()
    mixed = client.generate_noise_matrices_from_trace([dict(K=3, trace=1), dict(K=2, trace=1.5)], errors="return")
    assert isinstance(mixed[0], ValueError) and isinstance(mixed[1], np.ndarray)


def test_batch_limits(server):
    status, body = server.post("/batch", {"requests": [{"path": "/probabilities", "body": {"n": 1, "m": 1}}] * 10001})
    assert status == 422 and body["field"] == "requests"
    heavy = [{"path": "/noise-matrix", "body": {"K": 1000, "trace": 500, "valid_noise_matrix": False}}] * 30
    status, body = server.post("/batch", {"requests": heavy})
    assert status == 422 and "units of work" in body["detail"]


def test_client_is_thread_safe(client):
    errors = []
    expected = {s: ng.generate_noise_matrix_from_trace(5, 3.0, py=[0.2] * 5, seed=s) for s in range(40)}

    def work(offset):
        try:
            for s in range(offset, 40, 8):
                got = client.generate_noise_matrix_from_trace(5, 3.0, py=[0.2] * 5, seed=s)
                assert (got == expected[s]).all()
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_module_version_and_exports():
    assert noise_service.__version__
    for name in ("generate_noise_matrix_from_trace", "generate_noisy_labels", "noise_matrix_is_valid",
                 "generate_n_rand_probabilities_that_sum_to_m", "randomly_distribute_N_balls_into_K_bins"):
        assert callable(getattr(noise_service, name)) and getattr(noise_service, name).__doc__
