"""Issue 7: Schemathesis fuzzes every operation of the server's own /openapi.json.

What runs, against the real server (`server` fixture: `tally serve` in a subprocess, HTTP Basic
with a fresh account's key as the username):

* `test_fuzz[METHOD /path]`, one item per operation: Schemathesis' coverage phase (boundary
  and type-violating values, missing bodies, unexpected methods) plus `FUZZ_EXAMPLES`
  Hypothesis examples in both positive and negative generation modes, JSON and form bodies.
  Each item gets its own account, seeded with one object of every kind; part of the cases
  swap in those real ids and plausible field values so requests reach the business rules
  (tests/fuzz_support.py explains why the loose request schemas need this).
* `test_fuzz_stateful`: Schemathesis' state machine over the links it infers from the schema
  (the schema declares none; inference finds ~270 without any change to src/), e.g.
  POST /payments -> GET/PATCH/DELETE /payments/{payment_id}.
* `test_fuzz_schema_is_the_served_schema`: the document fuzzed is what /openapi.json serves.

Every response must satisfy the contract (spec C5/C6): no 5xx; a 2xx status must be
documented for the operation and its body must match the declared schema (content type and
declared headers too); any other status must be 400/401/403/404/405/409/413/429 with the C6
error object `{type, message[, param]}`, documented or not (405/409/413 come from routing and
middleware and are documented nowhere), and never 422. List endpoints also return both `Link`
and `X-Total-Count` (C7.1). The test-mode hooks under /_test are not in the schema.

The schema's GET operations get the query parameters the server reads but does not document
(page, per_page, sort, filter[...], metadata[...], updated_after, expand, include), so those
are fuzzed too.

Budget. The defaults keep the whole module well under 3 minutes on 2 cores (measured: ~1.5 min
on SQLite, ~2 min on PostgreSQL, ~7.5k requests). A longer local run, e.g. with a fresh random
seed each time (300 examples: ~6 min per database):

    FUZZ_EXAMPLES=300 FUZZ_STATEFUL_EXAMPLES=200 FUZZ_STATEFUL_STEPS=15 FUZZ_SEED=$RANDOM \\
        .venv/bin/pytest -p no:randomly tests/test_fuzz.py

  FUZZ_EXAMPLES           Hypothesis examples per operation (default 25)
  FUZZ_STATEFUL_EXAMPLES  state machine scenarios (default 25)
  FUZZ_STATEFUL_STEPS     max steps per scenario (default 8)
  FUZZ_SEED               seed (default fixed, so CI is reproducible)
  FUZZ_COVERAGE=0         skip the coverage phase (faster, shallower)
  FUZZ_LOG=path           append every request (curl) and response to a JSON-lines file

A failure prints a curl command to replay it. Every failure found this way becomes a plain
regression test in tests/test_fuzz_regressions.py.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from tally.http.auth import MISSING_KEY
from tests.fuzz_support import (
    Seeded,
    body_properties,
    env_int,
    error_problems,
    is_list_operation,
    overlay,
    plausible_body,
    plausible_query,
    seed,
    served_schema,
    with_query_parameters,
)
from tests.support import new_account

EXAMPLES = env_int("FUZZ_EXAMPLES", 25)
STATEFUL_EXAMPLES = env_int("FUZZ_STATEFUL_EXAMPLES", 25)
STATEFUL_STEPS = env_int("FUZZ_STATEFUL_STEPS", 8)
SEED = env_int("FUZZ_SEED", 20240607)
COVERAGE = env_int("FUZZ_COVERAGE", 1) != 0
LOG = os.environ.get("FUZZ_LOG", "")

RAW = served_schema()
FUZZED = with_query_parameters(RAW)
BODY_FIELDS = body_properties(RAW)
schema = schemathesis.openapi.from_dict(
    copy.deepcopy(FUZZED),  # Schemathesis writes the inferred links into the dict it is given
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": EXAMPLES},
            "phases": {
                "examples": {"enabled": False},  # the schema carries no examples
                "coverage": {"enabled": COVERAGE},
                "stateful": {"max-steps": STATEFUL_STEPS},
            },
        }
    ),
)
HYPOTHESIS = {"deadline": None, "suppress_health_check": list(HealthCheck)}


class Target:
    """Where the cases go; set by the `fuzz_target` fixture before any case is drawn."""

    base_url = ""
    seeded: Seeded | None = None


# -- the contract -------------------------------------------------------------------------


def responses_of(case: Any) -> dict[str, Any]:
    return case.operation.definition.raw.get("responses", {})


def status_contract(ctx: Any, response: Any, case: Any) -> None:
    """2xx: documented. Anything else: an Invoiced error (C5, C6)."""
    status = response.status_code
    if 200 <= status < 300:
        documented = sorted(responses_of(case))
        assert str(status) in documented, f"{status} is undocumented (documented: {documented})"
        return
    problems = error_problems(status, response.content)
    assert not problems, f"{status} {response.content[:300]!r}: " + "; ".join(problems)


def list_headers(ctx: Any, response: Any, case: Any) -> None:
    """C7.1: a list response always carries Link and X-Total-Count."""
    if response.status_code == 200 and is_list_operation(case.operation.definition.raw):
        missing = [h for h in ("link", "x-total-count") if h not in response.headers]
        assert not missing, f"list response without {missing}"


def record(ctx: Any, response: Any, case: Any) -> None:
    """FUZZ_LOG=path appends one JSON line per request (for studying a long run)."""
    if LOG:
        meta = case.meta
        line = {
            "op": case.operation.label,
            "phase": meta.phase.name.value if meta else None,
            "mode": meta.generation.mode.value if meta else None,
            "curl": case.as_curl_command(),
            "status": response.status_code,
            "response": response.content[:500].decode("utf-8", "replace"),
        }
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")


CHECKS = [
    record,
    not_a_server_error,
    status_contract,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
    list_headers,
]


# -- real ids and plausible values for part of the cases ------------------------------------


@schema.hook
def flatmap_case(context: Any, case: Any) -> st.SearchStrategy[Any]:
    seeded = Target.seeded
    if seeded is None:
        return st.just(case)
    path = {
        name: st.one_of(st.just(value), st.sampled_from(seeded.ids[name]))
        for name, value in sorted((case.path_parameters or {}).items())
        if name in seeded.ids
    }
    fields = BODY_FIELDS.get((case.method.upper(), case.operation.path), frozenset())
    body = (
        overlay(case.body, fields, plausible_body(seeded))
        if isinstance(case.body, dict)
        else st.just(case.body)
    )
    query_values = plausible_query(seeded)
    query = (
        overlay(case.query, {p.name for p in case.operation.query}, query_values)
        if isinstance(case.query, dict)
        else st.just(case.query)
    )

    def apply(drawn: tuple[dict[str, Any], Any, Any]) -> Any:
        params, new_body, new_query = drawn
        if params:
            case.path_parameters = {**case.path_parameters, **params}
        if new_body is not case.body:
            case.body = new_body
        if new_query is not case.query:
            case.query = new_query
        return case

    return st.tuples(st.fixed_dictionaries(path), body, query).map(apply)


@pytest.fixture
def fuzz_target(server, db_url):
    """A fresh, seeded account on the real server, for one operation's (or scenario's) run."""
    Target.base_url = server.base_url
    Target.seeded = seed(server.base_url, new_account(db_url).key)
    yield Target.seeded
    Target.seeded = None


def call_kwargs(seeded: Seeded) -> dict[str, Any]:
    return {"base_url": Target.base_url, "auth": (seeded.key, ""), "timeout": 30}


# -- the tests ----------------------------------------------------------------------------


@schema.parametrize()
@settings(**HYPOTHESIS)
def test_fuzz(case, fuzz_target):
    case.call_and_validate(checks=CHECKS, **call_kwargs(fuzz_target))


def test_fuzz_schema_is_the_served_schema(server):
    assert httpx.get(f"{server.base_url}/openapi.json").json() == RAW


def test_fuzz_covers_every_operation():
    published = {f"{m.upper()} {p}" for p, item in RAW["paths"].items() for m in item}
    fuzzed = {result.ok().label for result in schema.get_all_operations()}
    assert fuzzed == published
    assert len(published) >= 60
    assert not [label for label in published if " /_test" in label]  # C23.2 hooks stay hidden


def test_fuzz_every_operation_requires_a_key(server):
    """C2.1: every published operation answers 401 with the C6 error, with no key or a bad one."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        for path, item in RAW["paths"].items():
            url = re.sub(r"{[^}]+}", "1", path)
            for method in item:
                anonymous = client.request(method.upper(), url)
                assert anonymous.status_code == 401, (method, url)
                assert anonymous.json() == {"type": "invalid_request", "message": MISSING_KEY}
                wrong = client.request(method.upper(), url, auth=("sk_wrong", ""))
                assert wrong.status_code == 401, (method, url)
                assert wrong.json() == {
                    "type": "invalid_request",
                    "message": "We could not authenticate you with the API Key: sk_**ong",
                }


class FuzzMachine(schema.as_state_machine()):  # type: ignore[misc]
    """Links inferred by Schemathesis; failures are collected, not raised.

    Hypothesis replays scenarios to shrink them, but the server's state has moved on by then,
    so a replay draws differently and Hypothesis reports `Flaky` instead of the failure.
    Collecting every failure with its curl command and asserting at the end keeps them.
    """

    failures: list[str] = []

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        assert Target.seeded is not None
        return call_kwargs(Target.seeded)

    def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
        try:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)
        except Exception as exc:
            FuzzMachine.failures.append(str(exc))


def test_fuzz_stateful(fuzz_target):
    FuzzMachine.failures = []
    # Flaky: the server's state, not the generator, changed between replays (see above).
    with contextlib.suppress(Flaky):
        FuzzMachine.run(
            settings=settings(
                max_examples=STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS, **HYPOTHESIS
            )
        )
    assert not FuzzMachine.failures, "\n\n".join(dict.fromkeys(FuzzMachine.failures))
