"""The OpenAPI document: valid OpenAPI 3.1, served at /openapi.yaml, its examples are what the
server really answers, and real responses (successes and every kind of problem) conform to it."""

import json
import os

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

from conftest import ROOT

SPEC_PATH = os.path.join(ROOT, "Sources", "NoiseService", "Resources", "openapi.yaml")


@pytest.fixture(scope="module")
def spec():
    with open(SPEC_PATH) as f:
        return yaml.safe_load(f)


def test_spec_is_valid_openapi_3_1(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_served_spec_is_the_file(server):
    status, headers, data = server.request("GET", "/openapi.yaml")
    with open(SPEC_PATH, "rb") as f:
        assert data == f.read()


def response_schema(spec, path, method, status, content_type):
    operation = spec["paths"][path][method]
    response = operation["responses"][str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
    return response["content"][content_type]["schema"]


def conforms(spec, path, method, status, headers, data):
    content_type = headers["content-type"].split(";")[0]
    schema = response_schema(spec, path, method, status, content_type)
    if content_type not in ("application/json", "application/problem+json"):
        return
    # references inside the schema are "#/components/...": resolve them against the document
    validator = jsonschema.Draft202012Validator(
        {"$ref": "#/$defs/target", "$defs": {"target": schema}, "components": spec["components"]},
        format_checker=jsonschema.FormatChecker())
    validator.validate(json.loads(data))


EXAMPLES = []


def collect_examples():
    with open(SPEC_PATH) as f:
        document = yaml.safe_load(f)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, example in body.get("examples", {}).items():
                EXAMPLES.append((path, name))
    return EXAMPLES


@pytest.mark.parametrize("path,name", collect_examples())
def test_examples_are_real_answers(server, spec, path, name):
    operation = spec["paths"][path]["post"]
    request = operation["requestBody"]["content"]["application/json"]["examples"][name]["value"]
    status, headers, data = server.request("POST", path, request)
    assert status == 200
    expected = operation["responses"]["200"]["content"]["application/json"]["examples"][name]["value"]
    assert json.loads(data) == expected
    conforms(spec, path, "post", status, headers, data)


REQUESTS = [
    ("/noise-matrix", {"K": 4, "trace": 2.2, "py": [0.25] * 4, "seed": 9}),
    ("/noise-matrix", {"K": 3, "trace": 2, "py": [0.1, 0.1, 0.1], "max_iter": 2}),
    ("/noise-matrix", {"K": 3, "trace": 0.5}),
    ("/noise-matrix", {"K": 3, "trace": "x"}),
    ("/noisy-labels", {"true_labels": [0, 1, 1, 0], "noise_matrix": [[0.5, 0.5], [0.5, 0.5]], "seed": 1}),
    ("/noisy-labels", {"true_labels": [0, 7], "noise_matrix": [[1, 0], [0, 1]]}),
    ("/validate", {"noise_matrix": [[0.6, 0.6], [0.4, 0.4]], "py": [0.5, 0.5]}),
    ("/validate", {"noise_matrix": [[0.5, 0.1], [0.1, 0.5]], "py": [0.5, 0.5]}),
    ("/probabilities", {"n": 3, "m": 1, "seed": 3}),
    ("/probabilities", {"n": 3, "m": 1, "extra": 1}),
    ("/balls-into-bins", {"N": 20, "K": 3, "max_balls_per_bin": 8, "min_balls_per_bin": None}),
    ("/balls-into-bins", {"N": -1, "K": 3}),
]


@pytest.mark.parametrize("path,body", REQUESTS)
def test_responses_conform_to_the_spec(server, spec, path, body):
    status, headers, data = server.request("POST", path, body)
    assert str(status) in spec["paths"][path]["post"]["responses"]
    conforms(spec, path, "post", status, headers, data)


def test_get_endpoints_conform(server, spec):
    status, headers, data = server.request("GET", "/healthz")
    conforms(spec, "/healthz", "get", status, headers, data)
