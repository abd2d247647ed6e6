"""Integration tests against the real binary: every endpoint, every row of the error table,
404/405/413, a slow request next to /healthz, SIGTERM with a request in flight, and parallel
versus serial byte-identity."""

import json
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import TIME_FACTOR, wait_until

MATRIX3 = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]


def test_every_endpoint(server):
    status, body = server.post("/noise-matrix", {"K": 3, "trace": 2.1, "py": [0.3, 0.3, 0.4], "seed": 1})
    assert status == 200 and len(body["noise_matrix"]) == 3 and body["seed"] == 1 and body["iterations"] == 1
    status, body = server.post("/noisy-labels", {"true_labels": [0, 1, 2] * 100, "noise_matrix": MATRIX3, "seed": 2})
    assert status == 200 and len(body["noisy_labels"]) == 300 and body["num_flipped"] == 60
    status, body = server.post("/validate", {"noise_matrix": MATRIX3, "py": [0.3, 0.3, 0.4]})
    assert status == 200 and body == {"valid": True}
    status, body = server.post("/probabilities", {"n": 4, "m": 1.5, "seed": 2})
    assert status == 200 and len(body["probabilities"]) == 4
    status, body = server.post("/balls-into-bins", {"N": 10, "K": 4, "seed": 2})
    assert status == 200 and sum(body["counts"]) == 10
    status, headers, data = server.request("GET", "/healthz")
    assert status == 200 and json.loads(data) == {"status": "ok"}
    status, headers, data = server.request("GET", "/openapi.yaml")
    assert status == 200 and data.startswith(b"openapi: 3.1.0") and headers["content-type"] == "application/yaml"
    status, headers, data = server.request("GET", "/metrics")
    text = data.decode()
    assert status == 200 and "noise_service_requests_total{" in text
    assert 'route="/noise-matrix",method="POST",status="200"' in text
    assert "noise_service_request_duration_seconds_bucket" in text
    assert "noise_service_requests_in_flight" in text
    assert "noise_service_request_bytes_total" in text and "noise_service_response_bytes_total" in text


def test_form_encoded_content_type_is_parsed_as_json(server):
    # curl -d sends application/x-www-form-urlencoded
    status, headers, data = server.request(
        "POST", "/probabilities", '{"n": 3, "m": 1}',
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and len(json.loads(data)["probabilities"]) == 3


ERRORS = [
    # (path, raw body, status, problem slug, field)
    ("/probabilities", b"", 400, "malformed-json", None),
    ("/probabilities", b'{"n": 3, "m": 1', 400, "malformed-json", None),
    ("/probabilities", b'{"n": 3, "m": 1} {}', 400, "malformed-json", None),
    ("/probabilities", b'{"n": 3, "m": 1, "\xff": 1}', 400, "malformed-json", None),
    ("/probabilities", b"[" * 100000, 400, "not-an-object", None),
    ("/probabilities", b"[1, 2, 3]", 400, "not-an-object", None),
    ("/probabilities", b'{"n": "3", "m": 1}', 400, "wrong-type", "n"),
    ("/probabilities", b'{"n": 3, "m": 1, "typo": 1}', 400, "unknown-field", "typo"),
    ("/probabilities", b'{"n": 3, "m": 1, "m": 2}', 400, "duplicate-field", "m"),
    ("/probabilities", b'{"n": 3.5, "m": 1}', 400, "not-an-integer", "n"),
    ("/probabilities", b'{"n": 3, "m": NaN}', 400, "invalid-number", "m"),
    ("/probabilities", b'{"n": 3, "m": Infinity}', 400, "invalid-number", "m"),
    ("/noise-matrix", b'{"K": 3, "trace": 2, "py": NaN}', 400, "invalid-number", "py"),
    ("/probabilities", b'NaN', 400, "invalid-number", None),
    ("/probabilities", b'{"n": 3, "m": 1e400}', 400, "invalid-number", "m"),
    ("/probabilities", b'\xef\xbb\xbf{"n": 3, "m": 1}', 400, "malformed-json", None),
    ("/probabilities", b'{"n": 5, "m": 1, "max_prob": 0.1}', 422, "cleanlab-value-error", "max_prob"),
    ("/noise-matrix", b'{"K": 3, "trace": 0.5}', 422, "cleanlab-value-error", "trace"),
    ("/noise-matrix", b'{"K": 1001, "trace": 2, "valid_noise_matrix": false}', 422, "invalid-value", "K"),
    ("/noisy-labels", b'{"true_labels": [0, 5], "noise_matrix": [[1, 0], [0, 1]]}', 422, "invalid-value", "true_labels"),
    ("/noisy-labels", b'{"true_labels": [0, 1], "noise_matrix": [[1, 0, 0], [0, 1, 0]]}', 422, "invalid-value", "noise_matrix"),
    ("/noisy-labels", b'{"true_labels": [0, 1], "noise_matrix": [[1.2, 0], [-0.2, 1]]}', 422, "invalid-value", "noise_matrix"),
    ("/noisy-labels", b'{"true_labels": [0, 1], "noise_matrix": [[0.5, 0], [0.2, 1]]}', 422, "invalid-value", "noise_matrix"),
    ("/validate", b'{"noise_matrix": [[1, 0], [0, 1]], "py": [1, 0, 0]}', 422, "invalid-value", "py"),
    ("/validate", b'{"noise_matrix": [[1, 0], [0, 1]], "py": [1.5, -0.5]}', 422, "invalid-value", "py"),
]


@pytest.mark.parametrize("path,body,status,slug,field", ERRORS)
def test_error_table(server, path, body, status, slug, field):
    got, headers, data = server.request("POST", path, body)
    assert got == status, data
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(data)
    assert problem["type"] == "https://noise-service.dev/problems/" + slug
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert problem.get("field") == field
    assert len(data) < 1200, "problems quote only a short excerpt of the input"


def test_validate_answers_200_when_columns_do_not_sum_to_one(server):
    status, body = server.post("/validate", {"noise_matrix": [[0.5, 0.1], [0.1, 0.5]], "py": [0.5, 0.5]})
    assert status == 200 and body["valid"] is False and body["reason"] == "joint_does_not_sum_to_one"
    assert body["columns_not_summing_to_one"] == [0, 1]


def test_404_and_405(server):
    status, headers, data = server.request("GET", "/nope")
    assert status == 404 and headers["content-type"] == "application/problem+json"
    status, headers, data = server.request("PUT", "/noise-matrix", "{}")
    assert status == 405 and headers["allow"] == "POST"
    assert json.loads(data)["status"] == 405


def test_413_from_content_length_without_reading_the_body(start_server):
    s = start_server("--max-body-bytes", "1MiB")
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(b"POST /noisy-labels HTTP/1.1\r\nHost: x\r\nContent-Length: 10737418240\r\n\r\n")
    start = time.time()
    reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413"), reply
    assert time.time() - start < 1 * TIME_FACTOR
    assert "body-too-large" in reply
    sock.close()


def test_413_for_a_chunked_body(start_server):
    s = start_server("--max-body-bytes", "100000")
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(b"POST /noisy-labels HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"4000\r\n" + b" " * 0x4000 + b"\r\n"
    for _ in range(8):
        sock.sendall(chunk)
    sock.sendall(b"0\r\n\r\n")
    reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 413"), reply
    sock.close()


def test_slow_request_does_not_stall_healthz(start_server):
    s = start_server("--threads", "2", "--request-timeout", "3")
    py = [0.0] * 600
    py[0] = 1.0
    slow_status = []

    def slow():
        status, _ = s.post("/noise-matrix", {"K": 600, "trace": 300, "py": py, "max_iter": 10**9})
        slow_status.append(status)

    threads = [threading.Thread(target=slow) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    worst = 0.0
    for _ in range(20):
        start = time.time()
        status, _, _ = s.request("GET", "/healthz")
        worst = max(worst, time.time() - start)
        assert status == 200
        time.sleep(0.02)
    assert not slow_status, "the slow requests were still running while /healthz answered"
    assert worst < 0.1 * TIME_FACTOR, worst
    for t in threads:
        t.join()
    assert slow_status == [503, 503], "the deadline stopped them with a 503"


def test_long_requests_holding_every_slot_do_not_stall_short_ones(start_server):
    s = start_server("--threads", "1", "--request-timeout", "2")
    K = 400
    py = [0.0] * K
    py[0] = 1.0
    bomb = {"K": K, "trace": K / 2, "py": py, "max_iter": 10**9}
    results = []

    def long_request():
        results.append(s.post("/noise-matrix", bomb))

    threads = [threading.Thread(target=long_request) for _ in range(3)]
    for t in threads:
        t.start()
        time.sleep(0.1)
    time.sleep(0.2)
    worst = 0.0
    for seed in range(20):
        started = time.time()
        status, body = s.post(
            "/noise-matrix", {"K": 10, "trace": 5, "py": [0.1] * 10, "seed": seed})
        worst = max(worst, time.time() - started)
        assert status == 200 and body["noise_matrix"] is not None
        time.sleep(0.02)
    if TIME_FACTOR == 1:
        # a sanitizer build computes even K=10 for longer than the 5 ms a request may run without
        # a slot, so only a release build can show this
        assert worst < 0.1, worst
    for t in threads:
        t.join(30)
    # the long requests take the only slot in turn, each until its deadline
    assert [status for status, _ in results] == [503, 503, 503]
    assert all("(--request-timeout)" in body["detail"] for _, body in results)


def test_a_client_trickling_its_request_is_cut_off_at_the_receive_timeout(start_server):
    s = start_server("--receive-timeout", "1", "--idle-timeout", "30")
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    started = time.time()
    closed_after = None
    # one header byte every 0.2 s: never silent long enough for the idle timeout
    for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            closed_after = time.time() - started
            break
        time.sleep(0.2)
    if closed_after is None:
        closed_after = time.time() - started if sock.recv(100) == b"" else None
    assert closed_after is not None and 1 <= closed_after < 3 * TIME_FACTOR, closed_after
    sock.close()
    status, _, metrics = s.request("GET", "/metrics")
    assert status == 200 and b"noise_service_receive_timeouts_total 1" in metrics


def test_the_receive_timeout_does_not_count_computing_time(start_server):
    s = start_server("--receive-timeout", "0.5")
    K = 600
    py = [0.0] * K
    py[0] = 1.0
    # about 1.5 s of attempts that all fail, whatever the build's speed
    started = time.time()
    s.post("/noise-matrix", {"K": K, "trace": K / 2, "py": py, "max_iter": 4})
    attempts = max(4, int(1.5 / ((time.time() - started) / 4)))
    conn = s.connection()
    started = time.time()
    status, _, data = s.request(
        "POST", "/noise-matrix", {"K": K, "trace": K / 2, "py": py, "max_iter": attempts}, connection=conn)
    assert status == 200 and json.loads(data)["iterations"] == attempts
    assert time.time() - started > 0.5, "the request should outlast the receive timeout"
    # the clock restarts after the answer: a prompt next request on the connection is served
    status, _, _ = s.request("GET", "/healthz", connection=conn)
    assert status == 200
    conn.close()


def test_sigterm_with_a_request_in_flight(start_server):
    s = start_server("--shutdown-grace", "20")
    K = 800
    py = [0.0] * K
    py[0] = 1.0
    result = {}
    # about a second of work: attempts that all fail the validity check, as many as take a
    # second on this build (a sanitizer build is tens of times slower than a release build)
    started = time.perf_counter()
    s.post("/noise-matrix", {"K": K, "trace": K / 2, "py": py, "max_iter": 2})
    attempts = max(3, min(100, int(2.0 / (time.perf_counter() - started))))

    def inflight():
        result["response"] = s.post("/noise-matrix", {"K": K, "trace": K / 2, "py": py, "max_iter": attempts})

    t = threading.Thread(target=inflight)
    t.start()
    time.sleep(0.3)
    s.process.send_signal(signal.SIGTERM)
    assert wait_until(lambda: any(r.get("message") == "shutting down" for r in s.records()))
    shutting = next(r for r in s.records() if r.get("message") == "shutting down")
    assert shutting["in_flight"] == 1, "the request was in flight when SIGTERM arrived"
    # new connections are refused while the request in flight finishes
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", s.port), timeout=2)
    assert t.is_alive(), "still computing"
    t.join(30)
    status, body = result["response"]
    assert status == 200 and body["noise_matrix"] is None and body["iterations"] == attempts
    assert s.process.wait(30) == 0
    assert any(r.get("message") == "stopped" and r.get("drained") is True for r in s.records())


def test_sigint_exits_zero(start_server):
    s = start_server()
    assert s.stop(signal.SIGINT) == 0


def requests_for_identity():
    out = []
    for i in range(64):
        kind = i % 4
        if kind == 0:
            K = 3 + i % 7
            out.append(("/noise-matrix", {"K": K, "trace": 2.0 + (i % 5) * 0.3, "py": [1.0 / K] * K, "seed": i}))
        elif kind == 1:
            out.append(("/probabilities", {"n": 10 + i, "m": 1.5, "max_prob": 0.5, "seed": i}))
        elif kind == 2:
            out.append(("/balls-into-bins", {"N": 100 + i, "K": 5 + i % 3, "seed": i}))
        else:
            labels = [(j * 7 + i) % 4 for j in range(3000)]
            m = [[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.7, 0.1], [0.1, 0.1, 0.1, 0.7]]
            out.append(("/noisy-labels", {"true_labels": labels, "noise_matrix": m, "seed": i}))
    return out


def test_parallel_answers_equal_serial_answers(server):
    requests = requests_for_identity()
    conn = server.connection()
    serial = [server.request("POST", p, b, connection=conn)[2] for p, b in requests]
    conn.close()

    def worker(index):
        c = server.connection()
        out = {}
        for i in range(index, len(requests), 8):
            out[i] = server.request("POST", requests[i][0], requests[i][1], connection=c)[2]
        c.close()
        return out

    parallel = {}
    with ThreadPoolExecutor(8) as pool:
        for part in pool.map(worker, range(8)):
            parallel.update(part)
    assert len(parallel) == 64
    for i in range(64):
        assert parallel[i] == serial[i], requests[i][0]


def test_one_json_log_line_per_request(start_server):
    s = start_server()
    s.post("/probabilities", {"n": 3, "m": 1})
    s.request("GET", "/nope")
    assert wait_until(lambda: len([r for r in s.records() if "status" in r]) >= 2)
    lines = [r for r in s.records() if "status" in r]
    assert {r["path"] for r in lines} == {"/probabilities", "/nope"}
    for record in lines:
        assert set(record) >= {"time", "method", "path", "status", "bytes_in", "bytes_out", "duration_ms"}
    start = s.records()[0]
    assert start["message"] == "listening" and start["address"] == "127.0.0.1:%d" % s.port


def test_help_and_version():
    import subprocess
    from conftest import BINARY
    out = subprocess.run([BINARY, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--max-body-bytes" in out.stdout and "NOISE_SERVICE_" in out.stdout
    out = subprocess.run([BINARY, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("noise-service ")
    out = subprocess.run([BINARY, "--port", "nope"], capture_output=True, text=True)
    assert out.returncode == 2 and "--port" in out.stderr


def test_environment_configuration(start_server):
    s = start_server(env={"NOISE_SERVICE_MAX_CLASSES": "5"})
    status, body = s.post("/noise-matrix", {"K": 6, "trace": 2, "valid_noise_matrix": False})
    assert status == 422 and "--max-classes 5" in body["detail"]


def test_array_encoding_header(server):
    body = {"n": 3, "m": 1, "seed": 4}
    status, _, plain = server.request("POST", "/probabilities", body, headers={"X-Array-Encoding": "JSON"})
    assert status == 200 and isinstance(json.loads(plain)["probabilities"], list)
    status, _, encoded = server.request("POST", "/probabilities", body, headers={"X-Array-Encoding": "base64"})
    assert status == 200 and json.loads(encoded)["probabilities"]["dtype"] == "<f8"
    status, headers, data = server.request("POST", "/probabilities", body, headers={"X-Array-Encoding": "gzip"})
    problem = json.loads(data)
    assert status == 400 and headers["content-type"] == "application/problem+json"
    assert problem["field"] == "X-Array-Encoding" and "base64 or json" in problem["detail"]
