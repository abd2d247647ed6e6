"""What a Python user would write instead of noise-service: a FastAPI app wrapping cleanlab.

Run by bench/throughput.py as `uvicorn fastapi_app:app --workers 2`. numpy's global generator
is per process, and each worker handles one request at a time in a sync endpoint's thread pool,
so answers are seeded per request as the service's are (cleanlab seeds inside
generate_noise_matrix_from_trace itself)."""

from typing import List, Optional

from cleanlab.benchmarking.noise_generation import generate_noise_matrix_from_trace, noise_matrix_is_valid
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class NoiseMatrixRequest(BaseModel):
    K: int
    trace: float
    max_trace_prob: float = 1.0
    min_trace_prob: float = 1e-5
    max_noise_rate: float = 1 - 1e-5
    min_noise_rate: float = 0.0
    valid_noise_matrix: bool = True
    py: Optional[List[float]] = None
    frac_zero_noise_rates: float = 0.0
    seed: int = 0
    max_iter: int = 10000


class ValidateRequest(BaseModel):
    noise_matrix: List[List[float]]
    py: List[float]


@app.post("/noise-matrix")
def noise_matrix(request: NoiseMatrixRequest):
    m = generate_noise_matrix_from_trace(**request.model_dump())
    return {"noise_matrix": None if m is None else m.tolist(), "seed": request.seed}


@app.post("/validate")
def validate(request: ValidateRequest):
    import numpy as np
    return {"valid": bool(noise_matrix_is_valid(np.array(request.noise_matrix), request.py))}


@app.get("/healthz")
def health():
    return {"status": "ok"}
