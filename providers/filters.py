"""The one FilterSet behind the search page (and, later, the API)."""

import uuid
from functools import lru_cache

import django_filters
from django import forms
from django.core.cache import cache
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from django.db.models import Exists, F, IntegerField, OuterRef, Value
from django.db.models import CharField as CharType
from django.utils import timezone
from django_countries import countries

from providers.filter_fields import (
    CodeMultipleChoiceField,
    OptInCheckbox,
    PlaceField,
    QuickSelect,
    SharedCodes,
    SingleSelectList,
)
from providers.fields import COUNTRY_CODES
from providers.models import TAXONOMY_FIELDS, Provider
from providers.places import KM_PER_MILE
from providers.validators import ISO_639_1_CODES

# Never-verified listings go last on every database (PostgreSQL would put NULLs first).
SORT_ORDERS = {
    "name": ("name", "pk"),
    "verified": (F("last_verified").desc(nulls_last=True), "name", "pk"),
    "updated": ("-updated_at", "pk"),
}


RADIUS_CHOICES_KM = (5, 10, 25, 50, 100, 250, 500)
DEFAULT_RADIUS_KM = 25
MAX_RADIUS_KM = 500

# Filters the search page folds away under "More filters".
MORE_FILTERS = ("medication", "payment", "population", "language", "telehealth", "open_now", "sort")


@extend_schema_field(OpenApiTypes.STR)
class TermFilter(django_filters.MultipleChoiceFilter):
    """Providers tagged with any of the chosen terms of one taxonomy."""

    def __init__(self, *args, taxonomy_field, **kwargs):
        self.taxonomy_field = taxonomy_field
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return qs.with_any_term(self.taxonomy_field, value, self.parent.term_ids[self.field_name]) if value else qs


class CodeFilter(django_filters.MultipleChoiceFilter):
    field_class = CodeMultipleChoiceField


class CodeTermFilter(TermFilter):
    field_class = CodeMultipleChoiceField


class PlaceFilter(django_filters.CharFilter):
    field_class = PlaceField


class RadiusFilter(django_filters.NumberFilter):
    field_class = forms.FloatField


def _checkboxes(label, taxonomy_field):
    return TermFilter(label=label, taxonomy_field=taxonomy_field, widget=forms.CheckboxSelectMultiple)


class ProviderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Keyword",
        method="filter_keywords",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, city or service"}),
    )
    near = PlaceFilter(
        label="Near",
        method="filter_nothing",
        max_length=100,
        help_text="A city, a postal code, or latitude,longitude.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Nairobi, 80100 or -1.28,36.82", "autocomplete": "off"}),
    )
    radius = RadiusFilter(
        label="Within",
        method="filter_nothing",
        min_value=1,
        max_value=MAX_RADIUS_KM,
        initial=DEFAULT_RADIUS_KM,
        widget=QuickSelect(choices=[(km, f"{km} km ({round(km / KM_PER_MILE)} mi)") for km in RADIUS_CHOICES_KM]),
    )
    place = django_filters.CharFilter(
        label="City, region or postal code", method="filter_place", max_length=100
    )
    country = CodeFilter(
        label="Country",
        method="filter_countries",
        valid_codes=SharedCodes(COUNTRY_CODES),
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
        valid_codes=SharedCodes(ISO_639_1_CODES),
        normalise=lambda code: code.strip().lower(),
        widget=SingleSelectList,
    )
    telehealth = django_filters.BooleanFilter(label="Offers telehealth", widget=OptInCheckbox)
    open_now = django_filters.BooleanFilter(
        label="Open now",
        widget=OptInCheckbox,
        method=lambda queryset, name, value: queryset.open_at(timezone.now()) if value else queryset,
    )
    modified_after = django_filters.IsoDateTimeFilter(
        label="Changed since",
        field_name="updated_at",
        lookup_expr="gte",
        help_text="ISO 8601 date and time; listings changed at or after it.",
    )
    sort = django_filters.ChoiceFilter(
        label="Sort by",
        choices=[
            ("distance", "Distance (with a place)"),
            ("name", "Name"),
            ("verified", "Recently verified"),
            ("updated", "Recently updated"),
        ],
        method="sort_by",
        empty_label=None,
        widget=QuickSelect,
    )

    class Meta:
        model = Provider
        fields = []

    def __init__(self, data=None, queryset=None, **kwargs):
        if data is not None and not data.get("radius"):
            # A bound form ignores initial values; without this the drop-down would show (and resubmit) 5 km.
            data = data.copy()
            data["radius"] = str(DEFAULT_RADIUS_KM)
        super().__init__(data, queryset=queryset if queryset is not None else Provider.objects.published(), **kwargs)
        self.resolution = None
        self.unlocated = None
        choices, self.term_ids, self.choices_generation = filter_choices()
        choices["country"] = [("", "Any country"), *choices["country"]]
        choices["language"] = [("", "Any language"), *choices["language"]]
        for name, filter_ in self.filters.items():
            if name in choices:
                # A callable: forms deep-copy list choices on every request (hundreds of countries), and
                # the API, which renders no form, would pay for that on every call.
                filter_.extra["choices"] = lambda listed=choices[name]: listed

    @property
    def uses_more_filters(self):
        """Whether any filter under "More filters" is set, so the page shows them open."""
        return bool(self.data) and any(self.data.get(name) for name in MORE_FILTERS)

    def filter_queryset(self, queryset):
        """Apply every filter, then the distance search, which needs both ``near`` and ``radius``."""
        queryset = super().filter_queryset(queryset)
        resolution = self.resolution = self.form.cleaned_data.get("near")
        if resolution is None:
            return queryset
        self.unlocated = queryset.without_coordinates()
        nearby = queryset.within(resolution.place.latitude, resolution.place.longitude, self.radius_km)
        return nearby.nearest_first() if self.form.cleaned_data.get("sort") in (None, "", "distance") else nearby

    @property
    def searched_country(self) -> str:
        """The one country chosen, else that of the place searched near, or "": it picks the crisis lines shown."""
        if not self.is_bound or not self.form.is_valid():
            return ""
        chosen = self.form.cleaned_data.get("country") or []
        if len(chosen) == 1:
            return chosen[0]
        return self.resolution.place.country if self.resolution else ""

    @property
    def uses_miles(self):
        return bool(self.resolution and self.resolution.place.uses_miles)

    @property
    def radius_km(self):
        return self.form.cleaned_data.get("radius") or DEFAULT_RADIUS_KM

    def filter_nothing(self, queryset, name, value):
        # "near" and "radius" work together, in filter_queryset.
        return queryset

    def filter_keywords(self, queryset, name, value):
        return queryset.matching_keywords(value)

    def filter_place(self, queryset, name, value):
        return queryset.in_place(value)

    def filter_countries(self, queryset, name, value):
        return queryset.in_countries(value) if value else queryset

    def sort_by(self, queryset, name, value):
        # Distance order needs a place; filter_queryset applies it then.
        return queryset if value == "distance" else queryset.order_by(*SORT_ORDERS[value])


# The choices change only when listings or vocabularies do (which clears them, see
# forget_filter_choices); the time limit bounds staleness on other app servers.
CHOICES_CACHE_KEY = "providers:filter-choices"
CHOICES_CACHE_SECONDS = 300


def filter_choices():
    """Choices for every filter that lists terms or codes, with names in the visitor's language.

    Also returns each taxonomy's {slug: id} (term filters name ids, see
    ProviderQuerySet.with_any_term) and the generation of the cached choices,
    which names fragments of pages rendered from them.
    """
    cached = cache.get(CHOICES_CACHE_KEY)
    if cached is None:
        cached = {"rows": _choice_rows(), "generation": uuid.uuid4().hex}
        cache.set(CHOICES_CACHE_KEY, cached, CHOICES_CACHE_SECONDS)
    rows = cached["rows"]
    choices = {param: [] for param in (*TAXONOMY_FIELDS, "country")}
    term_ids = {param: {} for param in TAXONOMY_FIELDS}
    for param, slug, name, order, pk in sorted(rows, key=lambda row: (row[0], row[3], row[2])):
        choices[param].append((slug, name))
        if param in term_ids:
            term_ids[param][slug] = pk
    choices["country"] = country_choices(tuple(code for code, _name in choices["country"]), get_language())
    return choices, term_ids, cached["generation"]


@lru_cache(maxsize=64)
def country_choices(codes, language):
    """(code, name) pairs sorted by name in ``language``: naming and sorting 250 countries is not free."""
    return sorted(((code, countries.name(code)) for code in codes), key=lambda choice: choice[1])


def forget_filter_choices(**kwargs):
    """Drop the cached choices (a signal receiver, and called after imports and bulk changes)."""
    cache.delete(CHOICES_CACHE_KEY)


def _choice_rows():
    """(parameter, code, name, order, term id) rows for every filter's choices, in one query.

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
            .values_list("param", "slug", "name", "order", "pk")
            .order_by()
        )
    selects.append(
        published.annotate(
            param=Value("country", output_field=CharType()),
            label=Value("", output_field=CharType()),
            position=Value(0, output_field=IntegerField()),
            term=Value(0, output_field=IntegerField()),
        )
        .values_list("param", "country", "label", "position", "term")
        .order_by()
    )
    return list(selects[0].union(*selects[1:]))
