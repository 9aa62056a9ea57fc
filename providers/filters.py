"""The one FilterSet behind the search page (and, later, the API)."""

import django_filters
from django import forms
from django.db.models import Exists, F, IntegerField, OuterRef, Value
from django.db.models import CharField as CharType
from django_countries import countries

from providers.filter_fields import CodeMultipleChoiceField, OptInCheckbox, SingleSelectList
from providers.fields import COUNTRY_CODES
from providers.models import TAXONOMY_FIELDS, Provider
from providers.validators import ISO_639_1_CODES

# Never-verified listings go last on every database (PostgreSQL would put NULLs first).
SORT_ORDERS = {
    "name": ("name", "pk"),
    "verified": (F("last_verified").desc(nulls_last=True), "name", "pk"),
    "updated": ("-updated_at", "pk"),
}


# Filters the search page folds away under "More filters".
MORE_FILTERS = ("medication", "payment", "population", "language", "telehealth", "sort")


class TermFilter(django_filters.MultipleChoiceFilter):
    """Providers tagged with any of the chosen terms of one taxonomy."""

    def __init__(self, *args, taxonomy_field, **kwargs):
        self.taxonomy_field = taxonomy_field
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return qs.with_any_term(self.taxonomy_field, value) if value else qs


class CodeFilter(django_filters.MultipleChoiceFilter):
    field_class = CodeMultipleChoiceField


class CodeTermFilter(TermFilter):
    field_class = CodeMultipleChoiceField


def _checkboxes(label, taxonomy_field):
    return TermFilter(label=label, taxonomy_field=taxonomy_field, widget=forms.CheckboxSelectMultiple)


class ProviderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Keyword",
        method="filter_keywords",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, city or service"}),
    )
    place = django_filters.CharFilter(
        label="City, region or postal code", method="filter_place", max_length=100
    )
    country = CodeFilter(
        label="Country",
        method="filter_countries",
        valid_codes=COUNTRY_CODES,
        normalise=lambda code: code.strip().upper(),
        widget=SingleSelectList,
    )
    modality = _checkboxes("Type of help", "modalities")
    setting = _checkboxes("Setting", "care_settings")
    medication = _checkboxes("Medication", "medications")
    payment = _checkboxes("Payment", "payment_options")
    population = _checkboxes("Who is served", "populations")
    language = CodeTermFilter(
        label="Language",
        taxonomy_field="languages",
        valid_codes=ISO_639_1_CODES,
        normalise=lambda code: code.strip().lower(),
        widget=SingleSelectList,
    )
    telehealth = django_filters.BooleanFilter(label="Offers telehealth", widget=OptInCheckbox)
    sort = django_filters.ChoiceFilter(
        label="Sort by",
        choices=[("name", "Name"), ("verified", "Recently verified"), ("updated", "Recently updated")],
        method="sort_by",
        empty_label=None,
    )

    class Meta:
        model = Provider
        fields = []

    def __init__(self, data=None, queryset=None, **kwargs):
        super().__init__(data, queryset=queryset if queryset is not None else Provider.objects.published(), **kwargs)
        choices = filter_choices()
        for name, filter_ in self.filters.items():
            if name in choices:
                filter_.extra["choices"] = choices[name]
        self.filters["country"].extra["choices"] = [("", "Any country"), *choices["country"]]
        self.filters["language"].extra["choices"] = [("", "Any language"), *choices["language"]]

    @property
    def uses_more_filters(self):
        """Whether any filter under "More filters" is set, so the page shows them open."""
        return bool(self.data) and any(self.data.get(name) for name in MORE_FILTERS)

    def filter_keywords(self, queryset, name, value):
        return queryset.matching_keywords(value)

    def filter_place(self, queryset, name, value):
        return queryset.in_place(value)

    def filter_countries(self, queryset, name, value):
        return queryset.in_countries(value) if value else queryset

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORT_ORDERS[value])


def filter_choices():
    """Choices for every filter that lists terms, in one query.

    All terms of each taxonomy, except languages and countries: of those only
    the ones published providers have, since the standards list hundreds.
    """
    published = Provider.objects.published()
    selects = []
    for param, field in TAXONOMY_FIELDS.items():
        model = Provider._meta.get_field(field).related_model
        terms = model.objects.all()
        if param == "language":
            spoken = Provider.languages.through.objects.filter(language_id=OuterRef("pk"), provider__in=published)
            terms = terms.filter(Exists(spoken))
        selects.append(
            terms.annotate(param=Value(param, output_field=CharType()))
            .values_list("param", "slug", "name", "order")
            .order_by()
        )
    selects.append(
        published.annotate(
            param=Value("country", output_field=CharType()),
            label=Value("", output_field=CharType()),
            position=Value(0, output_field=IntegerField()),
        )
        .values_list("param", "country", "label", "position")
        .order_by()
    )
    rows = selects[0].union(*selects[1:])
    choices = {param: [] for param in (*TAXONOMY_FIELDS, "country")}
    for param, slug, name, order in sorted(rows, key=lambda row: (row[0], row[3], row[2])):
        choices[param].append((slug, name))
    choices["country"] = sorted(((code, countries.name(code)) for code, _ in choices["country"]), key=lambda c: c[1])
    return choices
