"""Fuzzing the public APIs in-process with schemathesis: no answer is a server error, every answer matches its schema.

/api/v1/ is fuzzed against the schema drf-spectacular serves at /api/schema/, /api/hsds/ against the official
HSDS 3.0 OpenAPI document. Requests go straight into the site's WSGI application: no server, no network.
"""

import datetime
import json
import re
from datetime import time

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.throttling import AnonRateThrottle
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from directory.wsgi import application
from providers.models import OpeningInterval, Organization, Provider, Source
from tests.exchange.formats.test_hsds import SCHEMAS

pytestmark = pytest.mark.django_db

# The same requests on every run, and few enough per operation for the whole file to take seconds.
FUZZ_SETTINGS = settings(max_examples=50, derandomize=True, database=None, deadline=None)

# Where the official document's "$ref"s point; the same files are in SCHEMAS.
HSDS_SCHEMA_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"

V1_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# The official document is a template that documents only 200s; which 400s and 404s to give is up to us.
HSDS_CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


def hsds_openapi():
    """The official HSDS OpenAPI document, served at /api/hsds, with every schema it refers to read from SCHEMAS.

    Its "$ref"s name the specification's files on GitHub, and theirs name siblings ("metadata.json"); each
    file becomes a component of the document instead, so nothing is fetched.
    """
    document = json.loads((SCHEMAS / "openapi.json").read_text(encoding="utf-8"))
    # 3.0 documents a service here; the specification corrected it to a service_at_location in a later
    # patch release (openreferral/specification#574), which is what the API answers.
    at_location = document["paths"]["/service_at_locations/{id}"]["get"]["responses"]["200"]
    at_location["content"]["application/json"]["schema"]["$ref"] = HSDS_SCHEMA_URL + "compiled/service_at_location.json"
    # Its "format" parameter says format=ndjson streams the services, a document a line, but no answer says so.
    document["paths"]["/services"]["get"]["responses"]["200"]["content"]["application/x-ndjson"] = {}
    components = document["components"]["schemas"]

    def component(path):
        name = path.relative_to(SCHEMAS.resolve()).with_suffix("").as_posix().replace("/", "_")
        if name not in components:
            components[name] = {}  # claimed before its contents, which may refer back to it
            components[name] = local(json.loads(path.read_text(encoding="utf-8")), path.parent)
        return f"#/components/schemas/{name}"

    def local(node, folder):
        if isinstance(node, list):
            return [local(item, folder) for item in node]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str) and not reference.startswith("#"):
            target = SCHEMAS / reference.removeprefix(HSDS_SCHEMA_URL) if "://" in reference else folder / reference
            node = {**node, "$ref": component(target.resolve())}
        return {key: value if key == "$ref" else local(value, folder) for key, value in node.items()}

    document["paths"] = local(document["paths"], SCHEMAS)
    document["servers"] = [{"url": "/api/hsds"}]
    return document


v1 = schemathesis.openapi.from_wsgi("/api/schema/", application)
hsds = schemathesis.openapi.from_dict(hsds_openapi())
hsds.app = application


@pytest.fixture
def listings(make_provider):
    """Published providers with everything a response can carry, and a draft the APIs must not show."""
    ministry = Source.objects.create(slug="ministry", name="Ministry of Health")
    coastal = Organization.objects.create(
        slug="coastal-health", name="Coastal Health", website="https://coastal.example/", description="Clinics."
    )
    harbour = make_provider(
        name="Harbour Clinic",
        description="Methadone and counselling by the harbour.",
        country="KE",
        city="Mombasa",
        street_address="Moi Avenue 12",
        postal_code="80100",
        latitude=-4.0435,
        longitude=39.6682,
        time_zone="Africa/Nairobi",
        phone="+254722123456",
        intake_phone="+254722123457;ext=12",
        email="help@harbour.example",
        website="https://harbour.example/",
        telehealth=True,
        accepting_new_clients=True,
        last_verified=datetime.date(2025, 3, 1),
        source=ministry,
        external_id="KE-1",
        organization=coastal,
        modalities=["mat", "counseling"],
        care_settings=["outpatient"],
        medications=["methadone", "buprenorphine"],
        payment_options=["free", "sliding-scale"],
        populations=["adults", "women"],
        languages=["sw", "en"],
    )
    OpeningInterval.objects.bulk_create(
        [
            *(OpeningInterval(provider=harbour, weekday=day, opens=time(8), closes=time(17)) for day in range(5)),
            OpeningInterval(provider=harbour, weekday=OpeningInterval.Weekday.SATURDAY, opens=time(0), closes=time(0)),
        ]
    )
    make_provider(
        name="Lakeside Centre",
        country="UG",
        city="Kampala",
        latitude=0.3476,
        longitude=32.5825,
        organization=coastal,
        care_settings=["inpatient", "aftercare"],
        populations=["adolescents"],
        languages=["en"],
    )
    make_provider(name="Prairie Recovery", country="CA", city="Regina", modalities=["peer-support"])
    make_provider(name="Draft Place", country="KE", status=Provider.Status.DRAFT)


@pytest.fixture
def fuzzing(listings, monkeypatch):
    """The listings, and the site's WSGI application as a server runs it but for two things that would spoil the run.

    A server closes the database connection around each request, which would end the test's transaction
    (django.test's client holds it back the same way). And the API throttles anonymous clients: the
    hundreds of requests of a run would soon be answered 429 instead of by the API itself.
    """
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": None})
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@v1.hook("flatmap_path_parameters")
@hsds.hook("flatmap_path_parameters")
def listed_identifiers(context, path_parameters):
    """Generated slugs and ids find nothing, so also ask for the ones the operation's list shows.

    The list is read when a case is drawn, from the listings of the running test.
    """
    if not path_parameters:  # a list, or the HSDS root
        return st.just(path_parameters)
    [(name, _)] = path_parameters.items()
    listing = context.operation.schema[re.sub(r"/\{\w+\}(?=/?$)", "", context.operation.path)]["GET"]
    body = listing.Case().call().json()
    items = body if isinstance(body, list) else body.get("results", body.get("contents"))
    return st.sampled_from([path_parameters, *({name: item[name]} for item in items)])


def operations(schema):
    # A test per operation, not schema.parametrize(): under pytest 9.2 the items that makes share one node id,
    # and pytest-xdist then runs only the first operation of each schema.
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(operation, checks):
    """Requests to ``operation``, valid and invalid by its schema; every answer must pass ``checks``."""

    @FUZZ_SETTINGS
    @given(st.one_of([operation.as_strategy(mode) for mode in GenerationMode]))
    def answers(case):
        case.call_and_validate(checks=checks)

    answers()


@pytest.mark.parametrize("operation", operations(v1), ids=lambda operation: operation.label)
def test_the_v1_api_answers_as_its_schema_says(operation, fuzzing):
    fuzz(operation, V1_CHECKS)


@pytest.mark.parametrize("operation", operations(hsds), ids=lambda operation: operation.label)
def test_the_hsds_api_answers_as_the_hsds_specification_says(operation, fuzzing):
    fuzz(operation, HSDS_CHECKS)
