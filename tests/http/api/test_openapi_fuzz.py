"""The OpenAPI document is the truth: schemathesis generates requests from
``/api/v1/openapi.json`` (valid and invalid ones, unsupported methods, missing headers) and
runs them in-process against the app with a key of a seeded scope.

Checks: no 5xx, every status and response body as documented, schema-valid requests
accepted, schema-invalid ones refused, 405s and ``Allow`` headers naming exactly the
documented methods.  The run is bounded and reproducible: a fixed seed, deterministic
generation, ``TAGWRIGHT_FUZZ_EXAMPLES`` examples per operation (5 here, without the
stateful phase; ``make fuzz`` runs 200 and every phase).

Some rules relate a body to itself or to data the generator cannot see, so no schema can
state them; a generated request that breaks one is not "valid data" for
positive_data_acceptance: a tag expression ``q`` (its grammar is no pattern, and the tags it
names must exist), and in bodies:
``POST /tag`` names under its ``rootTag``, a ``category`` beside a ``parent_tag_id`` (a
child takes its parent's group), a new parent in an update (it must not be the tag or one
of its descendants), and a reference to a tag that must already exist (a ``parent_tag_id``;
a deprecated tag's ``replacement``, which must also be another tag and not deprecated; the
names given to ``POST /tag/{modelType}/{modelId}``; a policy's
``requireGroups``, ``forbidTags`` and ``where``, which must name the scope's groups and
tags), which is a 400 naming the field
when it names none; and a tag's ``aliases`` (each must be free, else a 409 or a 400).
A refusal of such a body is not counted against the document; nor is
the refusal of a taxonomy file sent as CSV or YAML (the document says "text"; their
grammar is the server's to check, every problem with its line), nor of a rule's ``when``
(an expression) and ``attach`` (names the planner checks).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import schemathesis
from flask import Flask
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
from schemathesis.core import NotSet
from schemathesis.engine import events, from_schema

from tests.http.api.conftest import ApiWorld

EXAMPLES = int(os.environ.get("TAGWRIGHT_FUZZ_EXAMPLES", "5"))
PHASE_SECONDS: dict[str, float] = {}
LONG_RUN = 20  # this many examples or more: the stateful phase runs too
SEED = int(os.environ.get("TAGWRIGHT_FUZZ_SEED", "20260101"))
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
]


@dataclass(frozen=True)
class Finding:
    check: str
    operation: str
    request: str
    status: int | None
    message: str

    def __str__(self) -> str:
        return (f"{self.check} on {self.operation}: {self.request} -> {self.status}\n"
                f"    {self.message}")


def _shown(value: Any) -> Any:
    return None if isinstance(value, NotSet) else value


def _key(text: Any) -> str:
    return text.strip().casefold() if isinstance(text, str) else ""


def possible(operation: str, body: Any, query: Any = None) -> bool:
    """Whether ``body`` and ``query`` can pass the rules the document cannot state (see
    above)."""
    if isinstance(query, dict) and str(query.get("q") or "").strip():
        return False  # a tag expression: parsed, and its names looked up, by the server
    if operation.startswith("POST ") and operation.endswith("/{modelId}"):
        return False  # the names given must be live tags of the scope
    if operation == "POST /api/v1/taxonomy" and not isinstance(body, dict):
        return False  # a CSV or YAML file: its grammar is no schema (JSON's is)
    if "/api/v1/rules" in operation and isinstance(body, dict) and (
            "when" in body or "attach" in body):
        return False  # a rule's expression and names: resolved and planned by the server
    if "/api/v1/policies" in operation and isinstance(body, dict) and (
            body.get("requireGroups") or body.get("forbidTags") or body.get("where")
            or operation.startswith("POST")):
        return False  # a policy's groups, tags and expression: resolved by the server
    if not isinstance(body, dict):
        return True
    root = body.get("rootTag")
    if isinstance(root, dict) and isinstance(body.get("tags"), list):
        prefix = _key(root.get("name")) + "."
        return all(isinstance(item, dict) and _key(item.get("name")).startswith(prefix)
                   for item in body["tags"])
    return (body.get("parent_tag_id") in (None, "") and body.get("replacement") in (None, "")
            and not body.get("aliases"))


def fuzz(app: Flask, token: str, examples: int) -> tuple[int, list[Finding]]:
    """Run every phase against ``app``; the number of requests and every failure."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    config = schema.config
    if examples < LONG_RUN:
        config.phases.update(phases=["examples", "coverage", "fuzzing"])
        # The coverage phase's boundary values of valid data (every length limit of every
        # pattern) are most of its time; the short run keeps its invalid data, unsupported
        # methods and missing headers, and leaves valid data to the fuzzing phase.
        config.phases.coverage.generation.update(modes=["negative"])
    config.update(headers={"x-api-key": token}, workers=1)
    config.seed = SEED
    config.checks.update(included_check_names=CHECKS)
    # A list past its documented cap is a 413 here (the API's status for limits).
    config.checks.negative_data_rejection.expected_statuses = [
        *NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]
    config.generation.update(max_examples=examples, deterministic=True)
    requests = 0
    findings: list[Finding] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            requests += len(event.recorder.cases)
            PHASE_SECONDS[event.phase.value] = (PHASE_SECONDS.get(event.phase.value, 0.0)
                                                + event.elapsed_time)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    case = event.recorder.cases[case_id].value
                    if check.failure_info is None or (
                            check.name == "positive_data_acceptance"
                            and not possible(case.operation.label, _shown(case.body),
                                             _shown(case.query))):
                        continue
                    interaction = event.recorder.interactions.get(case_id)
                    response = interaction.response if interaction else None
                    request = (f"{case.method} {case.formatted_path} "
                               f"query={json.dumps(_shown(case.query), default=repr)[:200]} "
                               f"body={json.dumps(_shown(case.body), default=repr)[:300]}")
                    findings.append(Finding(
                        check.name, case.operation.label, request,
                        response.status_code if response else None,
                        str(check.failure_info.failure)[:500]))
        elif isinstance(event, events.NonFatalError | events.FatalError):
            findings.append(Finding("error", str(getattr(event, "label", "")), "",
                                    None, repr(getattr(event, "value", event))[:500]))
    return requests, findings


def test_the_server_answers_as_its_openapi_document_says(app: Flask, api: ApiWorld) -> None:
    requests, findings = fuzz(app, api.manager, EXAMPLES)
    assert requests > 500  # every operation was exercised
    assert not findings, f"{len(findings)} finding(s):\n" + "\n".join(map(str, findings[:40]))
