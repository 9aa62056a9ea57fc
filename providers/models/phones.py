"""Phone numbers: one stored form, shown the way people dial them.

Numbers are stored in E.164 (``+13346732143``) with an optional RFC 3966
extension (``;ext=12``), so a ``tel:`` link works from any country and the
same number typed two ways is stored once.
"""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

_EXTENSION = ";ext="


def normalise_phone(raw: str, region: str | None) -> str:
    """Return the stored form of ``raw`` dialled from ``region``, or raise ValidationError."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            gettext(
                "Enter a phone number with its country code (e.g. +44 20 7946 0000) "
                "or a number valid in the provider's country."
            ),
            code="invalid_phone",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            gettext("%(value)s is not a valid phone number for the provider's country."),
            code="invalid_phone",
            params={"value": text},
        )
    stored = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.extension:
        stored += _EXTENSION + number.extension
    return stored


def display_phone(stored: str, region: str | None) -> str:
    """Format a stored number nationally for its own country, internationally otherwise."""
    if not stored:
        return ""
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    same_country = region and phonenumbers.region_code_for_number(number) == region.upper()
    style = phonenumbers.PhoneNumberFormat.NATIONAL if same_country else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def tel_uri(stored: str) -> str:
    return f"tel:{stored}" if stored else ""
