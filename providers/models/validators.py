"""Reusable field validators shared by the admin, the importers and the API."""

import zoneinfo
from functools import cache

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator


def validate_finite(value: float) -> None:
    # NaN compares false with every bound, so range checks alone would let it through.
    if value != value or value in (float("inf"), float("-inf")):
        raise ValidationError("Enter a finite number.", code="not_finite")


validate_latitude = [validate_finite, MinValueValidator(-90.0), MaxValueValidator(90.0)]
validate_longitude = [validate_finite, MinValueValidator(-180.0), MaxValueValidator(180.0)]

ISO_639_1_CODES = frozenset(language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2"))


def validate_time_zone(value: str) -> None:
    if value not in available_time_zones():
        raise ValidationError(
            "%(value)s is not an IANA time zone (such as Africa/Nairobi or America/Chicago).",
            code="invalid_time_zone",
            params={"value": value},
        )


@cache
def available_time_zones() -> frozenset:
    return frozenset(zoneinfo.available_timezones())


def validate_language_code(value: str) -> None:
    if value not in ISO_639_1_CODES:
        raise ValidationError(
            "%(value)s is not an ISO 639-1 language code (two lower-case letters, such as en or es).",
            code="invalid_language",
            params={"value": value},
        )
