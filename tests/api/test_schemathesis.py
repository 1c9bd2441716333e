"""Schemathesis against the OpenAPI document: generated requests (valid and invalid) to
every operation, in process through the WSGI transport, with a valid admin token. No
answer may be a server error, and each must be one the document describes."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import bearer, token_for
from tests.web.lists import Province, classified_province
from webapp.database import db
from webapp.pipeline.locks import RUN_LOCK, exclusive

#: Examples per operation: enough to reach every field's kinds of bad value, few enough
#: that both databases take seconds.
EXAMPLES = 20


@pytest.fixture(scope="module")
def province(app: Flask) -> Iterator[Province]:
    yield from classified_province(app)


@pytest.fixture(scope="module")
def admin_headers(province: Province) -> dict[str, str]:
    return bearer(token_for("admin"))


#: What every answer is checked for.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
def test_no_request_makes_a_server_error(app: Flask, admin_headers: dict[str, str],
                                         mode: GenerationMode) -> None:
    """Data that fits the document (``positive``) and data that does not (``negative``),
    operation by operation. (Schemathesis' own pytest runner is not used: it reaches into
    pytest internals that pytest 9 no longer has.)"""
    api_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app,
                                                headers=admin_headers)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    # A run held meanwhile: a valid "start a run" answers 409 (documented) instead of
    # starting runs in the background under the other requests.
    with exclusive(db.engine, RUN_LOCK) as held:
        assert held
        for operation in operations:
            _exercise(operation, mode, admin_headers)


def _exercise(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def exercise(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    exercise()
