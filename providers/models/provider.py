import functools
import math
import uuid
from datetime import date, timedelta
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, ExpressionWrapper, F, OuterRef, Q, Value
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.text import slugify
from django.utils.translation import get_language, gettext, ngettext, pgettext
from simple_history.models import HistoricalRecords

from providers.models import hsds_ids, keywords, phones, places, search_index, term_tokens
from providers.models.fields import CountryCodeField
from providers.models.history import ProviderHistoryExtras
from providers.models.naming import first_free
from providers.models.organization import Organization
from providers.models.source import Source
from providers.models.taxonomy import (
    CareSetting,
    EntryRoute,
    Language,
    Medication,
    Modality,
    PaymentOption,
    Population,
)
from providers.models.validators import validate_latitude, validate_longitude, validate_time_zone

# Public filter parameter -> the Provider many-to-many field it filters on.
TAXONOMY_FIELDS = {
    "modality": "modalities",
    "setting": "care_settings",
    "entry": "entry_routes",
    "medication": "medications",
    "payment": "payment_options",
    "population": "populations",
    "language": "languages",
}

PHONE_FIELDS = ("phone", "intake_phone", "hotline_phone")
# The fields a hidden address leaves out of everything public: the city and region still show.
HIDDEN_ADDRESS_FIELDS = ("street_address", "street_address_2", "postal_code")
# Coordinates of a listing whose address is hidden keep two decimals: about 1.1 km.
HIDDEN_ADDRESS_DECIMALS = 2


def stale_cutoff(today: date) -> date:
    """The newest verification date that is stale on ``today``: VERIFICATION_STALE_MONTHS ago.

    Months are counted as average days (12 months = 365 days), so the cutoff moves by one
    day a day and never depends on how long the months in between were.
    """
    return today - timedelta(days=round(settings.VERIFICATION_STALE_MONTHS * 365.25 / 12))


def stale_period() -> str:
    """VERIFICATION_STALE_MONTHS in words: "a year", "2 years", "18 months"."""
    months = settings.VERIFICATION_STALE_MONTHS
    if months == 12:
        return gettext("a year")
    if months % 12 == 0:
        return ngettext("%(count)d year", "%(count)d years", months // 12) % {"count": months // 12}
    return (
        gettext("a month")
        if months == 1
        else ngettext("%(count)d month", "%(count)d months", months) % {"count": months}
    )


class ProviderQuerySet(models.QuerySet):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)

    def published(self):
        return self.filter(status=Provider.Status.PUBLISHED)

    def in_countries(self, codes):
        return self.filter(country__in=codes)

    def with_any_term(self, field, slugs, term_ids=None):
        """Providers tagged with at least one of ``slugs`` in the taxonomy ``field``.

        An EXISTS subquery instead of a JOIN, so no DISTINCT is needed and a
        provider with several matching terms appears once. ``term_ids`` ({slug: id},
        as the search form's cached choices know them) lets the subquery name term ids
        instead of joining on the slug: with ids PostgreSQL's statistics know how common
        a term is; guessing low, it sorted all 20,000 holders of a common term instead of
        reading the first page in name order (65 ms instead of 5).
        """
        relation = Provider._meta.get_field(field)
        through = relation.remote_field.through
        term = relation.m2m_reverse_field_name()
        if term_ids is None:
            lookup = {f"{term}__slug__in": slugs}
        else:
            lookup = {f"{term}_id__in": [term_ids[slug] for slug in slugs if slug in term_ids]}
        return self.filter(Exists(through.objects.filter(provider_id=OuterRef("pk"), **lookup)))

    def holding_terms(self, chosen):
        """Providers holding, for each taxonomy in ``chosen`` ({search parameter: term ids}), one of its terms,
        and in one of the countries ``chosen["country"]`` names if it does.

        What chaining ``with_any_term`` and ``in_countries`` gives, answered by one full-text
        index over ``term_tokens`` (see providers.models.term_tokens): with several filters it lists
        the few matches at once, where each EXISTS probed every row walked.
        """
        if not all(chosen.values()):
            return self.none()
        return self.filter(search_index.holding_terms(chosen, self.db))

    def refresh_indexed_text(self):
        """Recompute ``search_text`` and ``term_tokens`` of these listings."""
        self.refresh_search_text()
        self.refresh_term_tokens()

    def refresh_term_tokens(self):
        """Recompute ``term_tokens`` of these listings from their country and the term tables; returns
        {id: tokens} of each."""
        listings = {provider.pk: provider for provider in self.only("pk", "country", "term_tokens")}
        held = self.held_terms()
        changed = []
        for pk, provider in listings.items():
            text = term_tokens.tokens_text(provider.country, held.get(pk, {}))
            if text != provider.term_tokens:
                provider.term_tokens = text
                changed.append(provider)
        self.model.objects.using(self.db).bulk_update(changed, ["term_tokens"], batch_size=500)
        return {pk: provider.term_tokens for pk, provider in listings.items()}

    def with_drifted_indexed_text(self, chunk_size=2000):
        """Ids of these listings whose stored ``search_text`` or ``term_tokens`` differ from what their
        fields, organisation and terms give now (a write that bypassed providers.signals)."""
        drifted = []
        listings = self.select_related("organization").order_by("pk")
        last = 0
        while chunk := list(listings.filter(pk__gt=last)[:chunk_size]):
            held = self.model.objects.using(self.db).filter(pk__in=[listing.pk for listing in chunk]).held_terms()
            for listing in chunk:
                tokens = term_tokens.tokens_text(listing.country, held.get(listing.pk, {}))
                if listing.search_text != listing.listing_text() or listing.term_tokens != tokens:
                    drifted.append(listing.pk)
            last = chunk[-1].pk
        return drifted

    def held_terms(self):
        """{listing id: {search parameter: term ids}} of these listings, as the term tables hold them, in one query."""
        selects = []
        for param, field in TAXONOMY_FIELDS.items():
            relation = Provider._meta.get_field(field)
            term = relation.m2m_reverse_field_name() + "_id"
            held = relation.remote_field.through.objects.using(self.db).filter(provider_id__in=self.values("pk"))
            selects.append(held.annotate(param=Value(param)).values_list("provider_id", "param", term).order_by())
        terms = {}
        for provider_id, param, term_id in selects[0].union(*selects[1:], all=True):
            terms.setdefault(provider_id, {}).setdefault(param, []).append(term_id)
        return terms

    def matching_keywords(self, text):
        """Listings holding every word of ``text`` in their name, organisation, city, region or
        description, as the start of a word (words of one or two letters whole); accents and
        case do not matter.

        The database's full-text index answers (see providers.models.search_index). Blank
        text filters nothing; text without a letter or digit matches nothing.
        """
        if not text.strip():
            return self
        words = keywords.query_words(text)
        return self.filter(search_index.matching(words, self.db)) if words else self.none()

    def refresh_search_text(self):
        """Recompute ``search_text`` of these listings (after their organisation was renamed)."""
        changed = []
        for provider in self.select_related("organization"):
            text = provider.listing_text()
            if text != provider.search_text:
                provider.search_text = text
                changed.append(provider)
        self.model.objects.bulk_update(changed, ["search_text"], batch_size=500)

    def in_place(self, text):
        """Match a city, region or postal code; "Springfield, IL" must match both parts."""
        for part in filter(None, (piece.strip() for piece in text.split(","))):
            self = self.filter(Q(city__iexact=part) | Q(region__iexact=part) | Q(postal_code__istartswith=part))
        return self

    def within(self, latitude, longitude, radius_km):
        """Providers within ``radius_km`` of a point, each with ``distance_km``.

        A bounding box on the indexed coordinates narrows the rows first; the
        exact great-circle distance then filters and orders what is left.
        """
        box = Q()
        for south, north, west, east in bounding_boxes(latitude, longitude, radius_km):
            box |= Q(latitude__range=(south, north), longitude__range=(west, east))
        return (
            self.filter(box)
            .annotate(distance_km=great_circle_km_expression(latitude, longitude))
            .filter(distance_km__lte=radius_km)
        )

    def nearest_first(self):
        """Order a ``within`` search by distance."""
        return self.order_by("distance_km", "pk")

    def without_coordinates(self):
        return self.filter(latitude__isnull=True)

    def with_organization_and_source(self):
        return self.select_related("organization", "source")

    def stale(self, today):
        """Listings due for verification on ``today``: never verified, or not for VERIFICATION_STALE_MONTHS."""
        return self.filter(Q(last_verified__isnull=True) | Q(last_verified__lte=stale_cutoff(today)))


class Provider(models.Model):
    """One place where treatment is given."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=120,
        unique=True,
        blank=True,
        allow_unicode=True,
        help_text="Part of the listing's address. Leave empty to build it from the name; "
        "do not change it once published.",
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="providers"
    )
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)

    country = CountryCodeField()
    region = models.CharField("region or state", max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    street_address = models.CharField(max_length=200, blank=True)
    street_address_2 = models.CharField("street address, line 2", max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    latitude = models.FloatField(null=True, blank=True, validators=validate_latitude)
    longitude = models.FloatField(null=True, blank=True, validators=validate_longitude)
    address_hidden = models.BooleanField(
        "hide the street address",
        default=False,
        help_text="For places that must not show where they are (shelters, programmes for people fleeing "
        "violence): public pages, downloads and APIs show only the city and region, and the location is "
        "kept only to about 1 km.",
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="IANA time zone for opening hours, e.g. Africa/Nairobi. "
        "Left empty, it is filled from the coordinates.",
    )

    phone = models.CharField("main phone", max_length=40, blank=True)
    intake_phone = models.CharField(max_length=40, blank=True)
    hotline_phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(max_length=300, blank=True)

    languages = models.ManyToManyField(Language, blank=True, related_name="providers")
    modalities = models.ManyToManyField(Modality, blank=True, related_name="providers")
    care_settings = models.ManyToManyField(CareSetting, blank=True, related_name="providers")
    entry_routes = models.ManyToManyField(
        EntryRoute, blank=True, related_name="providers", verbose_name="how to get in"
    )
    medications = models.ManyToManyField(Medication, blank=True, related_name="providers")
    payment_options = models.ManyToManyField(PaymentOption, blank=True, related_name="providers")
    populations = models.ManyToManyField(Population, blank=True, related_name="providers")
    # The words a keyword search looks through (see providers.models.keywords), kept by providers.signals.
    search_text = models.TextField(default="", editable=False)
    # The country and terms as words for the full-text index (see providers.models.term_tokens), kept by
    # providers.signals.
    term_tokens = models.TextField(default="", editable=False)
    # None means the source does not say; a person deserves "unknown", not a guessed "no".
    telehealth = models.BooleanField("offers telehealth", null=True, blank=True)
    accepting_new_clients = models.BooleanField(null=True, blank=True)

    last_verified = models.DateField(null=True, blank=True, help_text="When a curator last confirmed the listing.")
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="verified_providers",
        editable=False,
        help_text="The curator who last confirmed the listing.",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged",
        editable=False,
        help_text="The listing this duplicate was merged into; its address redirects there.",
    )
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.PROTECT, related_name="providers")
    external_id = models.CharField(
        max_length=100, blank=True, help_text="The record's identifier in its source; unique within the source."
    )
    # Frozen when the listing is created, so partners' references survive renamed slugs and sources.
    hsds_id = models.UUIDField("HSDS service id", unique=True, null=True, editable=False)
    hsds_service_at_location_id = models.UUIDField(
        "HSDS service-at-location id", unique=True, null=True, editable=False
    )
    # Stored for every listing, as it may lose its organization; a placeholder is looked up by it (one query).
    hsds_placeholder_organization_id = models.UUIDField(
        "HSDS id of the organization standing in for it", db_index=True, null=True, editable=False
    )
    last_import_run = models.ForeignKey(
        "providers.ImportRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="providers",
        editable=False,
        help_text="The import that last created or changed this listing.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProviderQuerySet.as_manager()
    history = HistoricalRecords(
        # updated_at moves on every save and would make every record look changed.
        excluded_fields=["updated_at", "search_text", "term_tokens"],
        bases=[ProviderHistoryExtras],
        cascade_delete_history=False,
    )

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="provider_unique_external_id_per_source",
                violation_error_message="Another provider from this source already has this external id.",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="provider_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="provider_longitude_range",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="provider_coordinates_together",
                violation_error_message="Give both latitude and longitude, or neither.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "name"], name="provider_status_name"),
            # Bounding-box prefilter of "near" searches: published listings, a latitude band, then longitude.
            # Leading with status lets the planner pick it without statistics (SQLite has none by default).
            models.Index(fields=["status", "latitude", "longitude"], name="provider_status_coordinates"),
            # A country's listings in name order: a page of a small country reads only its rows, not every name.
            models.Index(fields=["status", "country", "name"], name="provider_status_country_name"),
        ]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)

    def get_absolute_url(self):
        # reverse() resolves the whole URL configuration each time: twenty results cost 1.5 ms.
        before, after = _detail_url_around_slug(get_urlconf(settings.ROOT_URLCONF), get_script_prefix(), get_language())
        return before + quote(self.slug, safe=RFC3986_SUBDELIMS + "/~:@") + after

    def clean(self):
        errors = {}
        self.name = " ".join(self.name.split())
        for field in PHONE_FIELDS:
            try:
                setattr(self, field, phones.normalise_phone(getattr(self, field), self.country.code or None))
            except ValidationError as error:
                errors[field] = error
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = (
                "Give both latitude and longitude, or neither."
            )
        elif self.address_hidden and all(isinstance(value, float | int) for value in (self.latitude, self.longitude)):
            # Not stored more exactly than shown: no distance, map or export can then give the place away.
            self.latitude = round(float(self.latitude), HIDDEN_ADDRESS_DECIMALS)
            self.longitude = round(float(self.longitude), HIDDEN_ADDRESS_DECIMALS)
        # source_id first: it answers without a query whenever a source is saved.
        if self.external_id and self.source_id is None and self.source is None:
            errors["source"] = "A record with an external id must name its source."
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = self._unique_slug()
        if not self.time_zone and self.has_coordinates:
            self.time_zone = places.time_zone_at(self.latitude, self.longitude)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and keywords.SEARCHED_FIELDS.intersection(update_fields):
            # providers.signals derives it again; it is written only if named.
            kwargs["update_fields"] = {*update_fields, "search_text"}
        if update_fields is not None and "country" in update_fields:
            kwargs["update_fields"] = {*kwargs["update_fields"], "term_tokens"}
        super().save(*args, **kwargs)

    def assign_hsds_ids(self):
        """Give a new listing its HSDS ids (see providers.models.hsds_ids); they never change afterwards."""
        if self.hsds_id is None:
            source_slug = self.source.slug if self.source is not None else ""
            self.hsds_id = uuid.UUID(hsds_ids.service_id(source_slug, self.external_id, self.slug))
            self.hsds_service_at_location_id = uuid.UUID(hsds_ids.service_at_location_id(str(self.hsds_id)))
        # Also for a listing loaded with its service id but not this one (a fixture from before it existed).
        if self.hsds_placeholder_organization_id is None:
            self.hsds_placeholder_organization_id = uuid.UUID(hsds_ids.placeholder_organization_id(str(self.hsds_id)))

    @staticmethod
    def slug_base(text):
        """The slug ``text`` gives before numbering; room is left for a "-N" suffix."""
        max_length = Provider._meta.get_field("slug").max_length - 6
        # Unicode slugs, so a listing named in Arabic or Cyrillic gets a readable address.
        return slugify(text, allow_unicode=True)[:max_length].strip("-") or "provider"

    @property
    def slug_text(self):
        return " ".join(filter(None, [self.name, self.city]))

    def _unique_slug(self):
        base = self.slug_base(self.slug_text)
        return first_free(base, set(Provider.objects.filter(slug__startswith=base).values_list("slug", flat=True)))

    def listing_text(self):
        """The words of this listing a keyword search looks through."""
        return keywords.listing_text(self, self.organization.name if self.organization_id else "")

    @property
    def is_public(self):
        return self.status == self.Status.PUBLISHED

    @property
    def verification_is_stale(self):
        """Never verified, or not for VERIFICATION_STALE_MONTHS: the public pages say so."""
        return self.last_verified is None or self.last_verified <= stale_cutoff(timezone.localdate())

    @property
    def stale_period(self):
        return stale_period()

    def mark_verified(self, user, today):
        """Record that ``user`` confirmed the listing on ``today`` (saved with the listing)."""
        self.last_verified = today
        self.verified_by = user

    @property
    def has_coordinates(self):
        return self.latitude is not None and self.longitude is not None

    def public_value(self, field):
        """``field``'s value as it may leave the directory: blank for the street and postal code of a hidden address."""
        return "" if self.address_hidden and field in HIDDEN_ADDRESS_FIELDS else getattr(self, field)

    @property
    def address_lines(self):
        """The address as the public sees it: without street and postal code when it is hidden."""
        street, street_2, postal_code = map(self.public_value, HIDDEN_ADDRESS_FIELDS)
        locality = ", ".join(filter(None, [self.city, " ".join(filter(None, [self.region, postal_code]))]))
        return [line for line in (street, street_2, locality, self.country.name) if line]

    @property
    def directions_url(self):
        """OpenStreetMap directions to the pin, or a search for the address when there is none (or it is hidden)."""
        if self.has_coordinates and not self.address_hidden:
            return f"https://www.openstreetmap.org/directions?route=%3B{self.latitude}%2C{self.longitude}"
        return "https://www.openstreetmap.org/search?" + urlencode({"query": ", ".join(self.address_lines)})

    def contact_phones(self):
        """(label, display, tel: URI) for each number the provider gave, main line first."""
        labels = {
            "phone": pgettext("phone", "Main"),
            "intake_phone": pgettext("phone", "Intake"),
            "hotline_phone": pgettext("phone", "Hotline"),
        }
        country = self.country.code
        return [
            (labels[field], phones.display_phone(value, country), phones.tel_uri(value))
            for field in PHONE_FIELDS
            if (value := getattr(self, field))
        ]


@functools.lru_cache(maxsize=32)
def _detail_url_around_slug(urlconf, script_prefix, language):
    """A provider page's address before and after its slug, as reverse() gives it in ``language``.

    The slug is quoted as reverse() quotes it.
    """
    marker = "slug-goes-here"
    return tuple(reverse("providers:detail", urlconf=urlconf, kwargs={"slug": marker}).split(marker))


def bounding_boxes(latitude, longitude, radius_km):
    """(south, north, west, east) boxes covering a circle: two when it crosses the antimeridian."""
    degrees_latitude = math.degrees(radius_km / places.EARTH_RADIUS_KM)
    south, north = latitude - degrees_latitude, latitude + degrees_latitude
    if south <= -90 or north >= 90:
        # The circle holds a pole: every longitude is inside it.
        return [(max(south, -90.0), min(north, 90.0), -180.0, 180.0)]
    degrees_longitude = math.degrees(
        math.asin(min(1.0, math.sin(radius_km / places.EARTH_RADIUS_KM) / math.cos(math.radians(latitude))))
    )
    west, east = longitude - degrees_longitude, longitude + degrees_longitude
    if west < -180:
        return [(south, north, west + 360, 180.0), (south, north, -180.0, east)]
    if east > 180:
        return [(south, north, west, 180.0), (south, north, -180.0, east - 360)]
    return [(south, north, west, east)]


def great_circle_km_expression(latitude, longitude):
    """The haversine distance from a point to each provider, as a database expression."""
    phi = Radians(F("latitude"))
    phi_0 = math.radians(latitude)
    half_d_phi = (phi - Value(phi_0)) / 2
    half_d_lambda = (Radians(F("longitude")) - Value(math.radians(longitude))) / 2
    a = Power(Sin(half_d_phi), 2) + Value(math.cos(phi_0)) * Cos(phi) * Power(Sin(half_d_lambda), 2)
    return ExpressionWrapper(2 * places.EARTH_RADIUS_KM * ASin(Sqrt(a)), output_field=models.FloatField())
