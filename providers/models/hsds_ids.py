"""Open Referral HSDS identifiers: UUIDs derived from our own keys, the same in every export and API response."""

import hashlib
import uuid
from json.encoder import encode_basestring_ascii

# Every identifier we publish is a uuid5 in this namespace, so exporting twice gives the same files.
NAMESPACE = uuid.UUID("1fe6c795-841b-45e8-b778-c7fe5a618af9")
_NAMESPACE_BYTES = NAMESPACE.bytes


def stable_id(*parts: str) -> str:
    """uuid5 of ``parts`` as a JSON list, which keeps them apart even when an external id contains a
    separator.

    Written out rather than through json.dumps and uuid.uuid5, which give the same id at about twice
    the cost: an import of 100,000 listings makes 300,000 (docs/PERFORMANCE.md).
    """
    name = "[" + ", ".join(map(encode_basestring_ascii, parts)) + "]"
    return str(uuid.UUID(bytes=hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16], version=5))


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
