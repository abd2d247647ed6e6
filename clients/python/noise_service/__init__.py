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

import http.client
import io
import json
import os
import threading
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


def _npy_bytes(array):
    out = io.BytesIO()
    np.save(out, np.ascontiguousarray(array), allow_pickle=False)
    return out.getvalue()


class Client:
    """A connection to one noise-service.

    ``base_url`` defaults to ``NOISE_SERVICE_URL`` or ``http://127.0.0.1:8080``; ``timeout`` is
    the socket timeout in seconds. ``npy_threshold``: label arrays with at least this many
    elements are sent and received as ``.npy`` instead of JSON (binary is faster once Python's
    own JSON encoding and decoding dominate; the default was measured with bench/).
    """

    npy_threshold = 20_000

    def __init__(self, base_url=None, timeout=60.0, npy_threshold=None):
        url = urllib.parse.urlsplit(base_url or os.environ.get("NOISE_SERVICE_URL", "http://127.0.0.1:8080"))
        if url.scheme != "http":
            raise ValueError("noise-service speaks plain HTTP; put TLS in a reverse proxy")
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 80
        self.prefix = url.path.rstrip("/")
        self.timeout = timeout
        if npy_threshold is not None:
            self.npy_threshold = npy_threshold
        self._local = threading.local()

    # -- transport ---------------------------------------------------------------------------

    def _connection(self):
        conn = getattr(self._local, "connection", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.connection = conn
        return conn

    def close(self):
        conn = getattr(self._local, "connection", None)
        if conn is not None:
            conn.close()
            self._local.connection = None

    def _request(self, method, path, body=None, headers=None):
        """(status, headers, bytes), retrying once on a keep-alive connection the server closed."""
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request(method, self.prefix + path, body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, response, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.BadStatusLine):
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
            problem = {"detail": data[:200].decode("utf-8", "replace")}
        if status == 422:
            raise ValueError(problem.get("detail", "rejected"))
        raise ServiceError(status, problem)

    def _post_json(self, path, payload):
        body = json.dumps(payload, allow_nan=False).encode()
        status, _, data = self._request("POST", path, body, {"Content-Type": "application/json"})
        if status != 200:
            self._raise(status, data)
        return json.loads(data)

    # -- the five functions --------------------------------------------------------------------

    def generate_noise_matrix_from_trace(self, K, trace, *, max_trace_prob=1.0, min_trace_prob=1e-5,
                                         max_noise_rate=1 - 1e-5, min_noise_rate=0.0,
                                         valid_noise_matrix=True, py=None, frac_zero_noise_rates=0.0,
                                         seed=0, max_iter=10000):
        """cleanlab's ``generate_noise_matrix_from_trace``: a K×K ``np.ndarray``, or None."""
        answer = self._post_json("/noise-matrix", _noise_matrix_body(locals()))
        matrix = answer["noise_matrix"]
        return None if matrix is None else np.array(matrix, dtype=np.float64)

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
            "true_labels": labels.tolist(), "noise_matrix": matrix.tolist(), "seed": _plain(seed)})
        return np.array(answer["noisy_labels"], dtype=labels.dtype)

    def _noisy_labels_npy(self, labels, matrix, seed):
        boundary = "noise-service-%s" % os.urandom(12).hex()
        parts = []
        for name, content, content_type in (
                ("true_labels", _npy_bytes(labels), NPY_TYPE),
                ("noise_matrix", _npy_bytes(matrix), NPY_TYPE),
                ("seed", str(int(seed)).encode(), "text/plain")):
            parts.append(b"--" + boundary.encode() + b"\r\n")
            parts.append(('Content-Disposition: form-data; name="%s"; filename="%s"\r\n'
                          "Content-Type: %s\r\n\r\n" % (name, name, content_type)).encode())
            parts.append(content)
            parts.append(b"\r\n")
        parts.append(b"--" + boundary.encode() + b"--\r\n")
        body = b"".join(parts)
        status, response, data = self._request("POST", "/noisy-labels", body, {
            "Content-Type": "multipart/form-data; boundary=" + boundary, "Accept": NPY_TYPE})
        if status != 200:
            self._raise(status, data)
        result = np.load(io.BytesIO(data), allow_pickle=False)
        return result.astype(labels.dtype, copy=False)

    def noise_matrix_is_valid(self, noise_matrix, py, *, verbose=False):
        """cleanlab's ``noise_matrix_is_valid`` (``verbose`` is accepted and ignored)."""
        answer = self._post_json("/validate", {
            "noise_matrix": np.asarray(noise_matrix, dtype=np.float64).tolist(), "py": _plain(list(py))})
        return bool(answer["valid"])

    def validity(self, noise_matrix, py):
        """The server's full answer for /validate: ``valid`` and, when false, the reason."""
        return self._post_json("/validate", {
            "noise_matrix": np.asarray(noise_matrix, dtype=np.float64).tolist(), "py": _plain(list(py))})

    def generate_n_rand_probabilities_that_sum_to_m(self, n, m, *, max_prob=1.0, min_prob=0.0, seed=0):
        """``np.random.seed(seed); generate_n_rand_probabilities_that_sum_to_m(n, m, ...)``."""
        answer = self._post_json("/probabilities", {
            "n": _plain(n), "m": _plain(m), "max_prob": _plain(max_prob), "min_prob": _plain(min_prob),
            "seed": _plain(seed)})
        return np.array(answer["probabilities"], dtype=np.float64)

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
        payload = {"requests": [{"path": path, "body": _plain_body(body)} for path, body in requests]}
        answer = self._post_json("/batch", payload)
        return [(item["status"], item["body"]) for item in answer["responses"]]

    def generate_noise_matrices_from_trace(self, arguments, errors="raise"):
        """Many ``generate_noise_matrix_from_trace(**kwargs)`` calls in one round trip.

        ``arguments`` is a list of keyword dictionaries. Returns a list of matrices (or None);
        with ``errors="return"`` a rejected item gives its ``ValueError``/``ServiceError``
        instead of raising."""
        bodies = [("/noise-matrix", _noise_matrix_body(kwargs)) for kwargs in arguments]
        out = []
        for status, body in self.batch(bodies):
            if status == 200:
                matrix = body["noise_matrix"]
                out.append(None if matrix is None else np.array(matrix, dtype=np.float64))
                continue
            error = ValueError(body.get("detail")) if status == 422 else ServiceError(status, body)
            if errors == "raise":
                raise error
            out.append(error)
        return out


def _noise_matrix_body(arguments):
    body = {}
    for key in ("K", "trace", "max_trace_prob", "min_trace_prob", "max_noise_rate", "min_noise_rate",
                "valid_noise_matrix", "py", "frac_zero_noise_rates", "seed", "max_iter"):
        if key in arguments:
            value = arguments[key]
            body[key] = None if value is None else _plain(list(value) if key == "py" else value)
    return body


def _plain_body(body):
    return {key: _plain(value) for key, value in body.items()}


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
