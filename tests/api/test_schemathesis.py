"""The whole OpenAPI schema tried from outside by schemathesis, as an operator and as a merchant.

Every operation gets a bounded number of generated requests (SCHEMATHESIS_EXAMPLES,
5 by default) against a world holding one record of every kind; then a stateful run
follows the links schemathesis infers between operations (a created record's id fed
to the operations that take one). Every answer must be no 5xx, in a media type the
operation declares, and of the shape its schema declares. Failures of all operations
are collected and reported together.
"""

import contextlib
import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyStrategyDefinition
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.factories.accounts import MerchantFactory, OperatorFactory, PersonFactory
from tests.factories.world import BUILDERS, load_all_builders

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
STATEFUL_EXAMPLES = int(os.environ.get("SCHEMATHESIS_STATEFUL_EXAMPLES", "15"))
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
SETTINGS = {
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "database": None,
    "derandomize": True,
}


@pytest.fixture
def token_of(transactional_db):
    """One record of every kind between two merchants, and a token for the role asked."""
    load_all_builders()
    owner = MerchantFactory(status="active")
    counterparty = MerchantFactory(status="active")
    for build in list(BUILDERS.values()):
        build(owner, counterparty)

    def token(role: str) -> str:
        user = (
            OperatorFactory()
            if role == "operator"
            else PersonFactory(merchant=owner, merchant_role="owner")
        )
        return Token.objects.create(user=user).key

    return token


def _schema():
    return schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


def _label(operation) -> str:
    return f"{operation.method.upper()} {operation.path}"


@pytest.mark.parametrize("role", ["operator", "merchant"])
def test_every_operation_answers_as_its_schema_declares(role, token_of):
    headers = {"Authorization": f"Token {token_of(role)}"}
    failures: dict[str, str] = {}
    operations = 0
    for result in _schema().get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, phases=[Phase.explicit, Phase.generate], **SETTINGS)
        def run(case):
            case.headers = {**(case.headers or {}), **headers}
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except Exception as exc:  # every operation's failures, reported together
            failures[_label(operation)] = str(exc)[:2000]
    assert operations > 100
    assert not failures, "\n\n".join(f"== {k}\n{v}" for k, v in failures.items())


@pytest.mark.parametrize("role", ["operator", "merchant"])
def test_stateful_runs_follow_links_between_operations(role, token_of):
    headers = {"Authorization": f"Token {token_of(role)}"}
    failures: dict[str, str] = {}
    steps: list[str] = []

    class Machine(_schema().as_state_machine()):
        def get_call_kwargs(self, case):
            case.headers = {**(case.headers or {}), **headers}
            return {}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # Collected, not raised: a replay by Hypothesis would meet a database the
            # first run has changed, and report that instead of the failure.
            steps.append(_label(case.operation))
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                failures.setdefault(_label(case.operation), str(exc)[:2000])

    # Which links can be followed depends on what earlier runs left in the database,
    # so Hypothesis may find a run it tries again drawing otherwise; that ends the
    # exploration, not the checks, which were collected above.
    with contextlib.suppress(FlakyStrategyDefinition):
        Machine.run(
            settings=settings(
                max_examples=STATEFUL_EXAMPLES,
                stateful_step_count=6,
                phases=[Phase.generate],
                **SETTINGS,
            )
        )
    assert len(steps) >= STATEFUL_EXAMPLES, steps
    assert not failures, "\n\n".join(f"== {k}\n{v}" for k, v in failures.items())
