"""Form fields and widgets for the search filters."""

from django import forms
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from providers.models import Provider, places


class SharedCodes(frozenset):
    """The codes of a standard, shared instead of copied: django-filter deep-copies every filter per request."""

    def __deepcopy__(self, memo):
        return self


class SharedChoices(BaseChoiceIterator):
    """A list of (value, label) choices handed to form fields as it is.

    A plain list is deep-copied with the form's fields on every request; a callable
    is normalised again each time a field or widget iterates it (the country list
    twice a page). Being a choice iterator, this is neither.
    """

    def __init__(self, choices):
        self.choices = choices

    def __iter__(self):
        return iter(self.choices)

    def __deepcopy__(self, memo):
        return self


class CodeMultipleChoiceField(forms.MultipleChoiceField):
    """Offers the codes we have listings for, but accepts any code of the standard.

    A valid country or language code with no listings is a search with no
    results, not a mistake; an unknown code is a form error.
    """

    def __init__(self, *, valid_codes=frozenset(), normalise=str.strip, **kwargs):
        self.valid_codes = valid_codes
        self.normalise = normalise
        super().__init__(**kwargs)

    def to_python(self, value):
        return [code for code in (self.normalise(item) for item in super().to_python(value)) if code]

    def valid_value(self, value):
        return value in self.valid_codes


class QuickOptionsMixin:
    """Builds a drop-down's options in Python.

    Django renders each option through its own template include, and builds
    a dictionary of attributes for each first; for the country list that was a
    third of the search page's server time. The choices here are flat lists.
    """

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        attributes = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            attributes["multiple"] = True
        # Plain string building: format_html per option was most of the cost of 250 countries.
        options = "".join(
            f'<option value="{escape(choice)}"{" selected" if str(choice) in selected else ""}>{escape(label)}</option>'
            for choice, label in self.choices
        )
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(attributes), mark_safe(options))


class QuickSelect(QuickOptionsMixin, forms.Select):
    pass


class SingleSelectList(QuickOptionsMixin, forms.SelectMultiple):
    """A plain drop-down that still submits a list, so links may repeat the parameter."""

    allow_multiple_selected = False


class OptInCheckbox(forms.CheckboxInput):
    """A checkbox that filters only when ticked: unticked means "any", not "no"."""

    def __init__(self, attrs=None):
        super().__init__(attrs, check_test=lambda value: value in (True, "true", "1", "True"))

    def format_value(self, value):
        return "true"

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class PlaceField(forms.CharField):
    """A place name, a postal code or "latitude,longitude", resolved to coordinates.

    Cleans to a ``places.Resolution`` (None when left empty); an unknown place
    or coordinates out of range are form errors.
    """

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        if not places.normalise(text):
            raise forms.ValidationError(_("Enter a place name, a postal code, or latitude,longitude."), code="empty")
        coordinates = places.parse_coordinates(text)
        if coordinates is not None:
            latitude, longitude = coordinates
            if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
                raise forms.ValidationError(
                    _("Latitude must be between -90 and 90 and longitude between -180 and 180."), code="range"
                )
        try:
            return places.resolve(text, Provider.objects.published())
        except places.PlaceNotFound:
            raise forms.ValidationError(
                _("We could not find “%(place)s”. Try a city, a postal code, or latitude,longitude."),
                code="unknown_place",
                params={"place": text},
            ) from None
