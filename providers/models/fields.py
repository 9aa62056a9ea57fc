from django.core import exceptions
from django_countries import countries
from django_countries.fields import CountryDescriptor, CountryField

COUNTRY_CODES = frozenset(code for code, _name in countries)


class CountryCodeDescriptor(CountryDescriptor):
    """Hands out one shared Country object per valid code.

    django-countries builds a new Country, looking its code up again, on every
    attribute access; during an import that cost as much as validating the record.
    Country objects translate their name when it is read, so sharing them is safe.
    """

    _shared: dict = {}

    def country(self, code):
        shared = self._shared.get(code)
        if shared is None:
            shared = super().country(code)
            if code in COUNTRY_CODES:
                self._shared[code] = shared
        return shared


class CountryCodeField(CountryField):
    """django-countries' field, validated against a set of codes.

    The stock validation walks all 250 translated choices for every value,
    which made it most of the cost of validating an import.
    """

    descriptor_class = CountryCodeDescriptor

    def validate(self, value, model_instance):
        if not self.editable:
            return
        if value in self.empty_values:
            if not self.blank:
                raise exceptions.ValidationError(self.error_messages["blank"], code="blank")
            return
        if value not in COUNTRY_CODES:
            raise exceptions.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
