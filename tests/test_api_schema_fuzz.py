"""A bounded schemathesis run over every route of the OpenAPI schema, with an API key.

It finds no 5xx, and every response (status, content type, body) fits the schema.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from marcus_site.wsgi import application

# The server-sent-events stream never ends, so a request/response fuzzer cannot call it; its
# own tests (tests/cato_api/test_stream.py) cover its answers.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application).exclude(
    path="/api/cato/events/stream"
)
# Valid and invalid inputs alike: bad input must get a documented 4xx, never a 5xx.
schema.config.generation.update(modes=list(schemathesis.GenerationMode), database="none")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def keep_test_connection():
    """As Django's test client does: requests must not close the test's database connection
    (it holds the test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_test_connection")
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_api_conforms_to_its_schema(case, api_key):
    case.call_and_validate(headers={"Authorization": f"Bearer {api_key}"}, checks=CHECKS)
