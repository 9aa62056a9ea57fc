"""Form fields and widgets for the search filters."""

from django import forms


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


class SingleSelectList(forms.SelectMultiple):
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
