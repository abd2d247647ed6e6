"""Fixtures for the integration tests: the real binary on an ephemeral loopback port."""

import http.client
import json
import os
import signal
import subprocess
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Latency bounds in the tests are multiplied by this: Tests/sanitize sets it for sanitizer builds,
# which run tens of times slower than the release build the bounds are written for.
TIME_FACTOR = float(os.environ.get("NOISE_SERVICE_TIME_FACTOR", "1"))
BINARY = os.environ.get("NOISE_SERVICE_BINARY", os.path.join(ROOT, ".build", "release", "noise-service"))


class Server:
    """A running noise-service process; stderr lines are collected in `log`."""

    def __init__(self, *args, env=None):
        if not os.path.exists(BINARY):
            pytest.fail("build the service first: swift build -c release --product noise-service")
        environment = dict(os.environ)
        environment.update(env or {})
        self.process = subprocess.Popen(
            [BINARY, "--host", "127.0.0.1", "--port", "0", *args],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=environment, text=True)
        self.log = []
        self._ready = threading.Event()
        self.port = None
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(30) or self.port is None:
            self.stop()
            pytest.fail("the server did not start: %s" % self.log)

    def _read(self):
        for line in self.process.stderr:
            self.log.append(line.rstrip("\n"))
            if self.port is None:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("message") == "listening":
                    self.port = record["port"]
                    self._ready.set()
        self._ready.set()

    def connection(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, connection=None):
        """Returns (status, headers dict with lower-case names, body bytes)."""
        own = connection is None
        conn = connection or self.connection()
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        result = (response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        if own:
            conn.close()
        return result

    def post(self, path, body, **kwargs):
        status, headers, data = self.request("POST", path, body, **kwargs)
        return status, json.loads(data) if data else None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def records(self):
        out = []
        for line in self.log:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out


@pytest.fixture(scope="session")
def server():
    s = Server()
    yield s
    assert s.stop() == 0


@pytest.fixture
def start_server():
    started = []

    def start(*args, **kwargs):
        s = Server(*args, **kwargs)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def wait_until(predicate, timeout=10.0, interval=0.01):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
