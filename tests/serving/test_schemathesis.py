"""Property-based fuzzing of the API from its own OpenAPI document: valid and invalid requests, never a 5xx.

schemathesis builds Hypothesis strategies from ``/openapi.json`` (the record schema there is derived from the
pandera model-input schema); positive cases follow the schema, negative cases break it on purpose. Every response
must be a non-5xx that conforms to the documented response schema.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from support.budgets import examples

from slipway.serving import create_app

PREDICT_EXAMPLES = {GenerationMode.POSITIVE: examples(650), GenerationMode.NEGATIVE: examples(400)}
OTHER_EXAMPLES = 10


def _fuzz(operation, mode: GenerationMode, budget: int, seen: Counter) -> None:
    @settings(max_examples=budget, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call()
        seen[(case.method, case.path, mode.value)] += 1
        seen[response.status_code] += 1
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    run()


def test_generated_requests_never_cause_a_server_error(model_dir: Path) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(model_dir))
    seen: Counter = Counter()
    for mode, budget in PREDICT_EXAMPLES.items():
        _fuzz(schema["/predict"]["POST"], mode, budget, seen)
    for path in ("/health", "/ready", "/version", "/metrics"):
        _fuzz(schema[path]["GET"], GenerationMode.POSITIVE, OTHER_EXAMPLES, seen)

    predict = seen[("POST", "/predict", "positive")] + seen[("POST", "/predict", "negative")]
    assert predict >= 0.95 * sum(PREDICT_EXAMPLES.values()), seen  # 1,050 asked in `make test`
    assert seen[200] > 0 and seen[422] > 0, seen  # valid and invalid requests both reached the model's checks
    assert not [key for key in seen if isinstance(key, int) and key >= 500], seen
