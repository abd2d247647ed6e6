"""Python client for noise-service, mirroring ``cleanlab.benchmarking.noise_generation``.

Every function takes cleanlab's arguments and returns what cleanlab 2.9.0 returns after
``np.random.seed(seed)``, bit for bit::

    from noise_service import generate_noise_matrix_from_trace, generate_noisy_labels
    nm = generate_noise_matrix_from_trace(10, 5.0, py=[0.1] * 10, seed=1)
    noisy = generate_noisy_labels(y, nm, seed=2)

The functions that cleanlab runs on numpy's global generator (``generate_noisy_labels``,
``generate_n_rand_probabilities_that_sum_to_m``, ``randomly_distribute_N_balls_into_K_bins``)
take an extra keyword ``seed=0``: the answer equals ``np.random.seed(seed)`` followed by
cleanlab's call.

Errors: a 422 answer (a value cleanlab or the service rejects) raises ``ValueError`` with the
server's detail, as cleanlab raises ``ValueError``; any other failure raises ``ServiceError``,
which carries the problem document. Large label arrays travel as ``.npy`` (binary) above
``Client.npy_threshold`` labels; smaller ones as JSON. ``Client`` is thread-safe: each thread
keeps its own keep-alive connection.
"""

import base64
import http.client
import io
import json
import os
import socket
import threading
import time
import urllib.parse

import numpy as np

__all__ = [
    "Client",
    "ServiceError",
    "generate_noise_matrix_from_trace",
    "generate_noisy_labels",
    "noise_matrix_is_valid",
    "generate_n_rand_probabilities_that_sum_to_m",
    "randomly_distribute_N_balls_into_K_bins",
    "batch",
    "default_client",
]

__version__ = "1.0.0"

NPY_TYPE = "application/x-npy"


class ServiceError(Exception):
    """A failure other than a rejected value: malformed request, deadline, transport."""

    def __init__(self, status, problem, message=None):
        self.status = status
        self.problem = problem or {}
        detail = self.problem.get("detail") or message or "HTTP %s" % status
        super().__init__("noise-service answered %s: %s" % (status, detail))


def _plain(value):
    """JSON-ready Python values: numpy scalars and arrays become ints, floats and lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _npy_parts(array):
    """An array as .npy: the header bytes, and the data as a zero-copy byte view."""
    array = np.ascontiguousarray(array)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    return [header.getvalue(), memoryview(array).cast("B")]


class Client:
    """A connection to one noise-service.

    ``base_url`` defaults to ``NOISE_SERVICE_URL`` or ``http://127.0.0.1:8080``; ``timeout`` is
    the socket timeout in seconds. ``npy_threshold``: label arrays with at least this many
    elements are sent and received as ``.npy`` instead of JSON (binary is faster once Python's
    own JSON encoding and decoding dominate; the default was measured with bench/).

    ``spin``: how long, in seconds, to poll for the start of an answer before sleeping on the
    socket. Waking a sleeping thread costs 30 to 500 microseconds on a virtual machine, more than
    the server needs for a small noise matrix; polling for half a millisecond keeps the calling
    thread awake for answers that come quickly, and costs at most that much CPU per call on slow
    ones. 0 sleeps at once.
    """

    npy_threshold = 20_000
    spin = 0.0005

    def __init__(self, base_url=None, timeout=60.0, npy_threshold=None, spin=None):
        url = urllib.parse.urlsplit(base_url or os.environ.get("NOISE_SERVICE_URL", "http://127.0.0.1:8080"))
        if url.scheme != "http":
            raise ValueError("noise-service speaks plain HTTP; put TLS in a reverse proxy")
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 80
        self.prefix = url.path.rstrip("/")
        self.timeout = timeout
        if npy_threshold is not None:
            self.npy_threshold = npy_threshold
        if spin is not None:
            if not spin >= 0:
                raise ValueError("spin must be a non-negative number of seconds")
            self.spin = float(spin)
        self._local = threading.local()

    # -- transport ---------------------------------------------------------------------------

    def _connection(self):
        conn = getattr(self._local, "connection", None)
        if conn is None:
            conn = _Connection(self.host, self.port, self.timeout, self.spin)
            self._local.connection = conn
        return conn

    def close(self):
        conn = getattr(self._local, "connection", None)
        if conn is not None:
            conn.close()
            self._local.connection = None

    def _request(self, method, path, body=b"", headers=None):
        """(status, headers, bytes), retrying once on a keep-alive connection the server closed."""
        for attempt in (0, 1):
            conn = self._connection()
            try:
                status, response_headers, data = conn.roundtrip(method, self.prefix + path, body, headers or {})
                if response_headers.get("connection", "").lower() == "close":
                    self.close()
                return status, response_headers, data
            except (ConnectionError, _StaleConnection):
                self.close()
                if attempt == 1:
                    raise
            except OSError:
                self.close()
                raise

    @staticmethod
    def _raise(status, data):
        try:
            problem = json.loads(data)
        except ValueError:
            problem = {"detail": bytes(data[:200]).decode("utf-8", "replace")}
        if status == 422:
            raise ValueError(problem.get("detail", "rejected"))
        raise ServiceError(status, problem)

    def _post_json(self, path, payload, headers=None):
        body = json.dumps(payload, allow_nan=False, default=_json_default).encode()
        all_headers = {"Content-Type": "application/json"}
        if headers:
            all_headers.update(headers)
        status, _, data = self._request("POST", path, body, all_headers)
        if status != 200:
            self._raise(status, data)
        return json.loads(data)

    # -- the five functions --------------------------------------------------------------------

    def generate_noise_matrix_from_trace(self, K, trace, *, max_trace_prob=1.0, min_trace_prob=1e-5,
                                         max_noise_rate=1 - 1e-5, min_noise_rate=0.0,
                                         valid_noise_matrix=True, py=None, frac_zero_noise_rates=0.0,
                                         seed=0, max_iter=10000):
        """cleanlab's ``generate_noise_matrix_from_trace``: a K×K ``np.ndarray``, or None."""
        answer = self._post_json("/noise-matrix", _noise_matrix_body(locals()), BINARY_ANSWERS)
        return _array(answer["noise_matrix"])

    def generate_noisy_labels(self, true_labels, noise_matrix, *, seed=0):
        """``np.random.seed(seed); generate_noisy_labels(true_labels, noise_matrix)``.

        Returns an array of the input's dtype (lists give int64, as ``np.asarray`` does)."""
        labels = np.asarray(true_labels)
        if labels.ndim != 1:
            raise ValueError("true_labels must be one-dimensional")
        if labels.dtype.kind not in "iu":
            if labels.size and not np.all(np.mod(labels, 1) == 0):
                raise ValueError("true_labels must be integers")
            labels = labels.astype(np.int64)
        matrix = np.asarray(noise_matrix, dtype=np.float64)
        if labels.size >= self.npy_threshold:
            return self._noisy_labels_npy(labels, matrix, seed)
        answer = self._post_json("/noisy-labels", {
            "true_labels": labels.tolist(), "noise_matrix": _encoded(matrix), "seed": _plain(seed)})
        return np.array(answer["noisy_labels"], dtype=labels.dtype)

    def _noisy_labels_npy(self, labels, matrix, seed):
        wire = _narrowest(labels, len(matrix))
        if wire is not None:
            # The server answers in the dtype it gets. Labels and the noisy labels (< K) fit in
            # the narrower type, so nothing wraps; the answer is widened back.
            result = self._noisy_labels_npy(labels.astype(wire), matrix, seed)
            return result.astype(labels.dtype)
        boundary = "noise-service-%s" % os.urandom(12).hex()
        parts = []
        for name, content, content_type in (
                ("true_labels", _npy_parts(labels), NPY_TYPE),
                ("noise_matrix", _npy_parts(matrix), NPY_TYPE),
                ("seed", [str(int(seed)).encode()], "text/plain")):
            parts.append(b"--" + boundary.encode() + b"\r\n")
            parts.append(('Content-Disposition: form-data; name="%s"; filename="%s"\r\n'
                          "Content-Type: %s\r\n\r\n" % (name, name, content_type)).encode())
            parts.extend(content)
            parts.append(b"\r\n")
        parts.append(b"--" + boundary.encode() + b"--\r\n")
        status, _, data = self._request("POST", "/noisy-labels", parts, {
            "Content-Type": "multipart/form-data; boundary=" + boundary, "Accept": NPY_TYPE})
        if status != 200:
            self._raise(status, data)
        result = _load_npy(data)
        return result.astype(labels.dtype, copy=False)

    def noise_matrix_is_valid(self, noise_matrix, py, *, verbose=False):
        """cleanlab's ``noise_matrix_is_valid`` (``verbose`` is accepted and ignored)."""
        return bool(self.validity(noise_matrix, py)["valid"])

    def validity(self, noise_matrix, py):
        """The server's full answer for /validate: ``valid`` and, when false, the reason."""
        matrix = np.ascontiguousarray(np.asarray(noise_matrix, dtype="<f8"))
        # written by hand: json.dumps would scan the long base64 string for characters to escape
        body = (b'{"noise_matrix":{"dtype":"<f8","shape":' + json.dumps(list(matrix.shape)).encode()
                + b',"base64":"' + base64.b64encode(matrix.data) + b'"},"py":'
                + json.dumps(list(py), default=_json_default).encode() + b"}")
        status, _, data = self._request("POST", "/validate", body, {"Content-Type": "application/json"})
        if status != 200:
            self._raise(status, data)
        return json.loads(data)

    def generate_n_rand_probabilities_that_sum_to_m(self, n, m, *, max_prob=1.0, min_prob=0.0, seed=0):
        """``np.random.seed(seed); generate_n_rand_probabilities_that_sum_to_m(n, m, ...)``."""
        answer = self._post_json("/probabilities", {
            "n": _plain(n), "m": _plain(m), "max_prob": _plain(max_prob), "min_prob": _plain(min_prob),
            "seed": _plain(seed)}, BINARY_ANSWERS)
        return _array(answer["probabilities"])

    def randomly_distribute_N_balls_into_K_bins(self, N, K, *, max_balls_per_bin=None,
                                                min_balls_per_bin=None, seed=0):
        """``np.random.seed(seed); randomly_distribute_N_balls_into_K_bins(N, K, ...)``."""
        answer = self._post_json("/balls-into-bins", {
            "N": _plain(N), "K": _plain(K), "max_balls_per_bin": _plain(max_balls_per_bin),
            "min_balls_per_bin": _plain(min_balls_per_bin), "seed": _plain(seed)})
        return np.array(answer["counts"], dtype=np.int64)

    # -- many requests in one round trip -------------------------------------------------------

    def batch(self, requests):
        """Sends ``[(path, body), ...]`` as one ``POST /batch``; returns ``[(status, body), ...]``
        in order, each exactly what the single endpoint would answer (errors included)."""
        payload = {"requests": [{"path": path, "body": body} for path, body in requests]}
        answer = self._post_json("/batch", payload)
        return [(item["status"], item["body"]) for item in answer["responses"]]

    def _batch_binary(self, requests):
        payload = {"requests": [{"path": path, "body": body} for path, body in requests]}
        answer = self._post_json("/batch", payload, BINARY_ANSWERS)
        return [(item["status"], item["body"]) for item in answer["responses"]]

    def generate_noise_matrices_from_trace(self, arguments, errors="raise"):
        """Many ``generate_noise_matrix_from_trace(**kwargs)`` calls in one round trip.

        ``arguments`` is a list of keyword dictionaries. Returns a list of matrices (or None);
        with ``errors="return"`` a rejected item gives its ``ValueError``/``ServiceError``
        instead of raising."""
        bodies = [("/noise-matrix", kwargs) for kwargs in arguments]
        out = []
        for status, body in self._batch_binary(bodies):
            if status == 200:
                out.append(_array(body["noise_matrix"]))
                continue
            error = ValueError(body.get("detail")) if status == 422 else ServiceError(status, body)
            if errors == "raise":
                raise error
            out.append(error)
        return out


# Answers carry float arrays as {"dtype", "shape", "base64"}: far faster for Python to read
# than thousands of float literals.
BINARY_ANSWERS = {"X-Array-Encoding": "base64"}


def _json_default(value):
    """json.dumps fallback for numpy values (plain Python values never get here)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, _Raw):
        return value
    raise TypeError("cannot send %r as JSON" % type(value).__name__)


class _Raw(str):
    """A string json.dumps writes without escaping work: base64 text needs none."""


def _encoded(array):
    """The binary JSON form of a float array (C order, little-endian float64)."""
    array = np.ascontiguousarray(array, dtype="<f8")
    return {"dtype": "<f8", "shape": list(array.shape), "base64": base64.b64encode(array.data).decode("ascii")}


def _array(value):
    """An array from either JSON form, or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        data = base64.b64decode(value["base64"])
        return np.frombuffer(data, dtype=value["dtype"]).reshape(value["shape"]).copy()
    return np.array(value, dtype=np.float64)


def _narrowest(labels, K):
    """The smallest unsigned dtype narrower than ``labels``' that holds every label and every
    class 0..K-1, or None. Sending 1-byte labels instead of 8-byte ones moves an eighth of the
    bytes each way, which for millions of labels saves more than the two passes cost."""
    if labels.size == 0 or labels.dtype.itemsize == 1:
        return None
    low, high = labels.min(), labels.max()
    if low < 0:
        return None  # the server rejects it, with the label as sent
    top = max(int(high), K - 1)
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            wire = np.dtype(dtype)
            return wire if wire.itemsize < labels.dtype.itemsize else None
    return None


def _load_npy(data):
    """np.load of an .npy held in memory, without copying the data."""
    view = memoryview(data)
    if bytes(view[:6]) != b"\x93NUMPY":
        raise ServiceError(200, {"detail": "the answer is not an .npy file"})
    major = view[6]
    if major == 1:
        header_length = int.from_bytes(view[8:10], "little")
        start = 10
    else:
        header_length = int.from_bytes(view[8:12], "little")
        start = 12
    header = bytes(view[start:start + header_length]).decode("latin1")
    import ast
    info = ast.literal_eval(header)
    array = np.frombuffer(view, dtype=np.dtype(info["descr"]), offset=start + header_length)
    return array.reshape(info["shape"], order="F" if info["fortran_order"] else "C")


class _StaleConnection(Exception):
    """The server closed a kept-alive connection before answering."""


class _Connection:
    """One keep-alive HTTP/1.1 connection. http.client opens it; requests are written in one
    piece and answers read with a minimal parser (http.client's header parsing costs more per
    call than computing a small noise matrix). The service always sends Content-Length."""

    def __init__(self, host, port, timeout, spin=0.0):
        self.http = http.client.HTTPConnection(host, port, timeout=timeout)
        self.http.connect()
        self.sock = self.http.sock
        self.timeout = self.sock.gettimeout()
        self.spin = spin
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.host_header = "%s:%d" % (host, port)
        self.buffer = bytearray()
        self.used = False

    def close(self):
        self.http.close()

    def roundtrip(self, method, path, body, headers):
        chunks = body if isinstance(body, list) else [body]
        length = sum(memoryview(c).nbytes for c in chunks)
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (method, path, self.host_header, length)
        head += "".join("%s: %s\r\n" % item for item in headers.items()) + "\r\n"
        first = head.encode("latin1")
        small = [c for c in chunks if memoryview(c).nbytes < 65536]
        try:
            if len(small) == len(chunks):
                self.sock.sendall(first + b"".join(chunks))
            else:
                self.sock.sendall(first)
                for c in chunks:
                    self.sock.sendall(c)
            status, response_headers, data = self._read()
        except (ConnectionError, _StaleConnection):
            if self.used:
                raise _StaleConnection()
            raise
        self.used = True
        return status, response_headers, data

    def _fill(self):
        chunk = self._poll() if self.spin > 0 else None
        if chunk is None:
            chunk = self.sock.recv(262144)
        if not chunk:
            raise _StaleConnection()
        self.buffer += chunk

    def _poll(self):
        """What a non-blocking recv gets within ``spin`` seconds, or None if nothing came."""
        sock = self.sock
        deadline = time.perf_counter() + self.spin
        sock.setblocking(False)
        try:
            while True:
                try:
                    return sock.recv(262144)
                except BlockingIOError:
                    if time.perf_counter() >= deadline:
                        return None
        finally:
            sock.settimeout(self.timeout)

    def _read(self):
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._fill()
        lines = bytes(self.buffer[:end]).decode("latin1").split("\r\n")
        del self.buffer[:end + 4]
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise ServiceError(status, {"detail": "the answer has no Content-Length"})
        length = int(headers["content-length"])
        if len(self.buffer) >= length:
            data = bytes(self.buffer[:length])
            del self.buffer[:length]
            return status, headers, data
        data = bytearray(length)
        view = memoryview(data)
        have = len(self.buffer)
        view[:have] = self.buffer
        self.buffer = bytearray()
        while have < length:
            n = self.sock.recv_into(view[have:], length - have)
            if n == 0:
                raise _StaleConnection()
            have += n
        return status, headers, data


NOISE_MATRIX_FIELDS = ("K", "trace", "max_trace_prob", "min_trace_prob", "max_noise_rate", "min_noise_rate",
                      "valid_noise_matrix", "py", "frac_zero_noise_rates", "seed", "max_iter")


def _noise_matrix_body(arguments):
    return {key: arguments[key] for key in NOISE_MATRIX_FIELDS if key in arguments}


_default = None
_default_lock = threading.Lock()


def default_client():
    """The client the module-level functions use (``NOISE_SERVICE_URL``)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default


def generate_noise_matrix_from_trace(K, trace, **kwargs):
    return default_client().generate_noise_matrix_from_trace(K, trace, **kwargs)


def generate_noisy_labels(true_labels, noise_matrix, *, seed=0):
    return default_client().generate_noisy_labels(true_labels, noise_matrix, seed=seed)


def noise_matrix_is_valid(noise_matrix, py, *, verbose=False):
    return default_client().noise_matrix_is_valid(noise_matrix, py, verbose=verbose)


def generate_n_rand_probabilities_that_sum_to_m(n, m, **kwargs):
    return default_client().generate_n_rand_probabilities_that_sum_to_m(n, m, **kwargs)


def randomly_distribute_N_balls_into_K_bins(N, K, **kwargs):
    return default_client().randomly_distribute_N_balls_into_K_bins(N, K, **kwargs)


def batch(requests):
    return default_client().batch(requests)


for _name in ("generate_noise_matrix_from_trace", "generate_noisy_labels", "noise_matrix_is_valid",
              "generate_n_rand_probabilities_that_sum_to_m", "randomly_distribute_N_balls_into_K_bins",
              "batch"):
    globals()[_name].__doc__ = getattr(Client, _name).__doc__
