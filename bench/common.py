"""Shared helpers for the benchmarks: start the release server, time calls, format results."""

import hashlib
import json
import os
import statistics
import subprocess
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("NOISE_SERVICE_BINARY", os.path.join(ROOT, ".build", "release", "noise-service"))


class Server:
    """The release binary on a free loopback port, with the container's malloc settings."""

    def __init__(self, *args):
        if not os.path.exists(BINARY):
            raise SystemExit("build it first: swift build -c release --static-swift-stdlib --product noise-service")
        env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.hugetlb=1")
        self.process = subprocess.Popen(
            [BINARY, "--host", "127.0.0.1", "--port", "0", "--log-requests", "false", *args],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
        self.port = None
        self.records = []
        ready = threading.Event()

        def read():
            for line in self.process.stderr:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                self.records.append(record)
                if record.get("message") == "listening":
                    self.port = record["port"]
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        ready.wait(30)
        if self.port is None:
            raise SystemExit("the server did not start")
        self.url = "http://127.0.0.1:%d" % self.port

    def rss_peak_mb(self):
        with open("/proc/%d/status" % self.process.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def rss_mb(self):
        with open("/proc/%d/status" % self.process.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def reset_peak(self):
        # writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0)
        try:
            with open("/proc/%d/clear_refs" % self.process.pid, "w") as f:
                f.write("5")
        except OSError:
            pass

    def stop(self):
        self.process.terminate()
        self.process.wait(30)


def timed(fn, calls, setup=None, keep=None):
    """Per-call seconds of fn(i) for i in range(calls); setup(i) runs untimed before each.

    Returns the times and the results, or keep(result) of each (untimed) when keep is given:
    large results are digested rather than held, so that later calls reuse the memory of
    earlier ones instead of touching fresh pages (on a VM, first touches of guest memory cost
    more than the work itself)."""
    times = []
    results = []
    for i in range(calls):
        if setup:
            setup(i)
        start = time.perf_counter()
        result = fn(i)
        times.append(time.perf_counter() - start)
        results.append(keep(result) if keep else result)
        del result
    return times, results


def digest(array):
    """The dtype and a SHA-256 of the bytes of a contiguous array."""
    return array.dtype.str, array.shape, hashlib.sha256(memoryview(np.ascontiguousarray(array))).hexdigest()


def fmt(seconds):
    if seconds >= 1e-1:
        return "%.3f s" % seconds
    if seconds >= 1e-4:
        return "%.2f ms" % (seconds * 1e3)
    return "%.1f µs" % (seconds * 1e6)


def row(label, theirs, ours, identical, target=None):
    t = statistics.median(theirs)
    o = statistics.median(ours)
    ratio = t / o
    verdict = ""
    if target is not None:
        verdict = "meets %gx" % target if ratio >= target else "MISSES %gx" % target
    print("%-58s %11s %11s %8.1fx  %-4s %s" % (label, fmt(t), fmt(o), ratio, "yes" if identical else "NO", verdict))
    return {"workload": label, "cleanlab_s": t, "service_s": o, "ratio": ratio, "identical": identical,
            "target": target}
