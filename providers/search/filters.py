"""The one FilterSet behind the search page (and, later, the API)."""

import json
import unicodedata
import uuid
from functools import lru_cache

import django_filters
from django import forms
from django.db.models import CharField as CharType
from django.db.models import Count, Exists, F, IntegerField, OuterRef, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from providers import caching
from providers.models import TAXONOMY_FIELDS, Provider, search_index
from providers.models.fields import COUNTRY_CODES
from providers.models.places import KM_PER_MILE
from providers.models.validators import ISO_639_1_CODES
from providers.search.filter_fields import (
    CodeMultipleChoiceField,
    OptInCheckbox,
    PlaceField,
    QuickSelect,
    SharedChoices,
    SharedCodes,
    SingleSelectList,
)
from providers.search.hours import open_now_filter

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
        label=_("Keyword"),
        method="filter_keywords",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, city or service")}),
    )
    near = PlaceFilter(
        label=_("Near"),
        method="filter_nothing",
        max_length=100,
        help_text=_("A city, a postal code, or latitude,longitude."),
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Nairobi, 80100 or -1.28,36.82"), "autocomplete": "off"}),
    )
    radius = RadiusFilter(
        label=_("Within"),
        method="filter_nothing",
        min_value=1,
        max_value=MAX_RADIUS_KM,
        initial=DEFAULT_RADIUS_KM,
        widget=QuickSelect(choices=[(km, f"{km} km ({round(km / KM_PER_MILE)} mi)") for km in RADIUS_CHOICES_KM]),
    )
    place = django_filters.CharFilter(label=_("City, region or postal code"), method="filter_place", max_length=100)
    country = CodeFilter(
        label=_("Country"),
        method="filter_countries",
        valid_codes=SharedCodes(COUNTRY_CODES),
        normalise=lambda code: code.strip().upper(),
        widget=SingleSelectList,
    )
    modality = _checkboxes(_("Type of help"), "modalities")
    setting = _checkboxes(_("Setting"), "care_settings")
    entry = _checkboxes(_("How to get in"), "entry_routes")
    medication = _checkboxes(_("Medication"), "medications")
    payment = _checkboxes(_("Payment"), "payment_options")
    population = _checkboxes(_("Who is served"), "populations")
    language = CodeTermFilter(
        label=_("Language"),
        taxonomy_field="languages",
        valid_codes=SharedCodes(ISO_639_1_CODES),
        normalise=lambda code: code.strip().lower(),
        widget=SingleSelectList,
    )
    telehealth = django_filters.BooleanFilter(label=_("Offers telehealth"), widget=OptInCheckbox)
    open_now = django_filters.BooleanFilter(
        label=_("Open now"),
        widget=OptInCheckbox,
        method=lambda queryset, name, value: open_now_filter(queryset, timezone.now()) if value else queryset,
    )
    modified_after = django_filters.IsoDateTimeFilter(
        label=_("Changed since"),
        field_name="updated_at",
        lookup_expr="gte",
        help_text=_("ISO 8601 date and time; listings changed at or after it."),
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        choices=[
            ("distance", _("Distance (with a place)")),
            ("name", _("Name")),
            ("verified", _("Recently verified")),
            ("updated", _("Recently updated")),
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
        choices["country"] = [("", gettext("Any country")), *choices["country"]]
        choices["language"] = [("", gettext("Any language")), *choices["language"]]
        for name, filter_ in self.filters.items():
            if name in choices:
                filter_.extra["choices"] = SharedChoices(choices[name])

    @property
    def uses_more_filters(self):
        """Whether any filter under "More filters" is set, so the page shows them open."""
        return bool(self.data) and any(self.data.get(name) for name in MORE_FILTERS)

    def filter_queryset(self, queryset, leaving_out=None):
        """Apply every filter, then the distance search, which needs both ``near`` and ``radius``.

        The term filters and the country are answered together by the full-text index over
        term tokens (ProviderQuerySet.holding_terms) where the database gains by it (see
        search_index.answers_together); otherwise each filter applies its own condition.
        ``leaving_out`` names one filter to leave unapplied: the counts beside its choices
        (providers.search.choice_counts) are taken under all the others.
        """
        cleaned_data = {name: value for name, value in self.form.cleaned_data.items() if name != leaving_out}
        chosen = self.indexed_choices(cleaned_data)
        combined = search_index.answers_together(chosen, queryset.db)
        if combined:
            queryset = queryset.holding_terms(chosen)
        for name, value in cleaned_data.items():
            if not (combined and name in chosen):
                queryset = self.filters[name].filter(queryset, value)
        resolution = self.resolution = cleaned_data.get("near")
        if resolution is None:
            return queryset
        self.unlocated = queryset.without_coordinates()
        nearby = queryset.within(resolution.place.latitude, resolution.place.longitude, self.radius_km)
        return nearby.nearest_first() if cleaned_data.get("sort") in (None, "", "distance") else nearby

    def indexed_choices(self, cleaned_data=None):
        """What the term-token index can answer: {parameter: term ids} of the term filters set, and
        {"country": codes} if countries are (in ``cleaned_data``, by default the form's)."""
        cleaned_data = self.form.cleaned_data if cleaned_data is None else cleaned_data
        chosen = {
            name: [self.term_ids[name][slug] for slug in cleaned_data[name] if slug in self.term_ids[name]]
            for name, filter_ in self.filters.items()
            if isinstance(filter_, TermFilter) and cleaned_data.get(name)
        }
        if cleaned_data.get("country"):
            chosen["country"] = cleaned_data["country"]
        return chosen

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
    def problems(self):
        """What keeps filters from being used, as "Label: error" lines (the page warns, the download refuses)."""
        return [f"{field.label}: {error}" for field in self.form for error in field.errors]

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

    @property
    def active_filter_count(self) -> int:
        """How many filters narrow the search, for the search page's "Filters · 3 active".

        Only valid values count: an invalid one is left out of the search. The radius belongs to
        "near" and the sort order narrows nothing; an unticked "open now" is "any".
        """
        if not self.is_bound:
            return 0
        self.form.is_valid()
        return sum(
            1
            for name, value in self.form.cleaned_data.items()
            if name not in ("radius", "sort") and value not in EMPTY_VALUES and not (name == "open_now" and not value)
        )


def filter_choices():
    """Choices for every filter that lists terms or codes, with names in the visitor's language.

    Also returns each taxonomy's {slug: id} (term filters name ids, see
    ProviderQuerySet.with_any_term) and the generation of the cached choices,
    which names fragments of pages rendered from them.
    """
    cached = caching.FILTER_CHOICES.get(lambda: {"rows": _choice_rows(), "generation": uuid.uuid4().hex})
    language = get_language()
    choices = {param: [] for param in (*TAXONOMY_FIELDS, "country")}
    term_ids = {param: {} for param in TAXONOMY_FIELDS}
    for param, slug, name, _order, pk, translations in cached["rows"]:
        choices[param].append((slug, translations.get(language) or name))
        if param in term_ids:
            term_ids[param][slug] = pk
    # Terms keep their curators' order; languages are listed alphabetically in the page's language.
    choices["language"].sort(key=lambda choice: alphabetical(choice[1]))
    choices["country"] = country_choices(tuple(code for code, _name in choices["country"]), language)
    return choices, term_ids, cached["generation"]


def published_totals():
    """{"providers": n, "countries": m} of the published listings, as the home page states them.

    Counting every listing (and every country) costs more than the rest of the page, so the
    figures are kept like the search choices.
    """
    return caching.TOTALS.get(
        lambda: Provider.objects.published().aggregate(providers=Count("pk"), countries=Count("country", distinct=True))
    )


@lru_cache(maxsize=64)
def country_choices(codes, language):
    """(code, name) pairs sorted by name in ``language``: naming and sorting 250 countries is not free."""
    return sorted(((code, countries.name(code)) for code in codes), key=lambda choice: alphabetical(choice[1]))


def alphabetical(name):
    """A sort key that files accented letters with their base letter ("Árabe" among the A's, "Égypte" among the E's)."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold(), name.casefold()


def _choice_rows():
    """(parameter, code, name, order, term id, translated names) rows for every filter's choices, in one query.

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
            .values_list("param", "slug", "name", "order", "pk", Cast("name_translations", TextField()))
            .order_by()
        )
    selects.append(
        published.annotate(
            param=Value("country", output_field=CharType()),
            label=Value("", output_field=CharType()),
            position=Value(0, output_field=IntegerField()),
            term=Value(0, output_field=IntegerField()),
            translations=Value("{}", output_field=TextField()),
        )
        .values_list("param", "country", "label", "position", "term", "translations")
        .order_by()
    )
    rows = selects[0].union(*selects[1:])
    # Sorted and decoded once per cache fill, not on every request.
    return [(*row[:5], json.loads(row[5] or "{}")) for row in sorted(rows, key=lambda row: (row[0], row[3], row[2]))]
