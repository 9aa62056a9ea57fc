from django.core import exceptions
from django_countries import countries
from django_countries.fields import CountryField

COUNTRY_CODES = frozenset(code for code, _name in countries)


class CountryCodeField(CountryField):
    """django-countries' field, validated against a set of codes.

    The stock validation walks all 250 translated choices for every value,
    which made it most of the cost of validating an import.
    """

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
