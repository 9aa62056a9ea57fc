"""Open Referral HSDS identifiers: UUIDs derived from our own keys, the same in every export and API response."""

import json
import uuid

# Every identifier we publish is a uuid5 in this namespace, so exporting twice gives the same files.
NAMESPACE = uuid.UUID("1fe6c795-841b-45e8-b778-c7fe5a618af9")


def stable_id(*parts: str) -> str:
    # A JSON list keeps the parts apart even when an external id contains a separator.
    return str(uuid.uuid5(NAMESPACE, json.dumps(parts)))


def service_id(source_slug: str, external_id: str, slug: str) -> str:
    """A new listing's service id, from its source and its id there (its slug when it has none)."""
    return stable_id("provider", source_slug or "", external_id or slug)


def service_at_location_id(service: str) -> str:
    return stable_id(service, "service_at_location")


def organization_id(slug: str) -> str:
    return stable_id("organization", slug)


def placeholder_organization_id(service: str) -> str:
    """The id of the organization standing in for a listing that belongs to none (HSDS requires one)."""
    return stable_id(service, "organization")
