"""Reusable field validators shared by the admin, the importers and the API."""

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

validate_latitude = [MinValueValidator(-90.0), MaxValueValidator(90.0)]
validate_longitude = [MinValueValidator(-180.0), MaxValueValidator(180.0)]

ISO_639_1_CODES = frozenset(language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2"))


def validate_language_code(value: str) -> None:
    if value not in ISO_639_1_CODES:
        raise ValidationError(
            "%(value)s is not an ISO 639-1 language code (two lower-case letters, such as en or es).",
            code="invalid_language",
            params={"value": value},
        )
