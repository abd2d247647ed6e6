"""What can be tested of the container without a Docker engine: hadolint passes, and the release
binary (built as the Dockerfile builds it, with --static-swift-stdlib) needs no shared library
beyond what the runtime stage installs."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import BINARY, ROOT

DOCKERFILE = os.path.join(ROOT, "Dockerfile")
# Present in debian:bookworm-slim itself (glibc, and libstdc++/libgcc that apt depends on).
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6"}


def runtime_packages():
    text = open(DOCKERFILE).read()
    runtime = text.split("FROM debian:bookworm-slim", 1)[1]
    match = re.search(r"apt-get install[^\n]*?--no-install-recommends((?:\s+[a-z0-9.+-]+=\S+)+)", runtime)
    assert match, "the runtime stage installs its libraries with apt-get"
    return {item.split("=")[0] for item in match.group(1).split()}


def dependency_closure(packages):
    out = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
         "--no-breaks", "--no-replaces", "--no-enhances", *packages],
        capture_output=True, text=True, check=True).stdout
    closure = set(packages)
    for line in out.splitlines():
        line = line.strip()
        if line.startswith(("Depends:", "PreDepends:")):
            closure.add(line.split(":", 1)[1].strip().strip("<>").split(":")[0])
        elif line and not line.startswith(("|", "Depends", "PreDepends")) and " " not in line:
            closure.add(line.split(":")[0])
    return closure


def test_hadolint_passes():
    hadolint = os.path.join(os.path.dirname(sys.executable), "hadolint")
    if not os.path.exists(hadolint):
        hadolint = shutil.which("hadolint")
    result = subprocess.run([hadolint, DOCKERFILE], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_shape():
    text = open(DOCKERFILE).read()
    assert re.search(r"^FROM swift:6\.\d+-bookworm AS build", text, re.M)
    assert "--static-swift-stdlib" in text
    assert "FROM debian:bookworm-slim" in text
    assert re.search(r"^USER 10001", text, re.M), "runs as a non-root user"
    assert "EXPOSE 8080" in text and "STOPSIGNAL SIGTERM" in text
    assert re.search(r"^HEALTHCHECK .*\n\s*CMD .*--healthcheck", text, re.M)


def test_release_binary_needs_only_the_runtime_libraries():
    ldd = subprocess.run(["ldd", BINARY], capture_output=True, text=True, check=True).stdout
    allowed = BASE_IMAGE_PACKAGES | dependency_closure(runtime_packages())
    needed = {}
    for line in ldd.splitlines():
        match = re.search(r"=> (/\S+)", line)
        if not match:
            continue
        path = os.path.realpath(match.group(1))
        owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", match.group(1)], capture_output=True, text=True)
        assert owner.returncode == 0, "%s belongs to no Debian package (not linked statically?)" % path
        package = owner.stdout.split(":")[0].strip()
        needed[path] = package
    assert not any("swift" in p for p in needed), "the Swift runtime must be linked statically"
    missing = {path: package for path, package in needed.items() if package not in allowed}
    assert not missing, "not installed by the runtime stage: %s" % missing


def test_healthcheck_mode(server):
    ok = subprocess.run([BINARY, "--healthcheck", "--port", str(server.port)])
    assert ok.returncode == 0
    down = subprocess.run([BINARY, "--healthcheck", "--port", "1"])
    assert down.returncode == 1
