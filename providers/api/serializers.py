from urllib.parse import quote

from django.urls import reverse
from rest_framework import serializers

from providers.models import TAXONOMY_FIELDS, Provider

# Stored as they are read: text, numbers, booleans, or None.
PLAIN_FIELDS = (
    "slug", "name", "description", "region", "city", "street_address", "street_address_2", "postal_code",
    "latitude", "longitude", "time_zone", "phone", "intake_phone", "hotline_phone", "email", "website",
    "telehealth", "accepting_new_clients", "external_id", "address_hidden",
)  # fmt: skip
SLUG_PLACEHOLDER = "slug-placeholder"


class TermSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    order = serializers.IntegerField()


class ProviderSerializer(serializers.ModelSerializer):
    """A published listing. Taxonomies are lists of term slugs; phones are E.164."""

    url = serializers.HyperlinkedIdentityField(view_name="api:provider-detail", lookup_field="slug")
    page = serializers.SerializerMethodField(help_text="The listing's page on the site.")
    country = serializers.CharField(source="country.code")
    organization = serializers.CharField(source="organization.name", allow_null=True, default=None)
    source = serializers.CharField(source="source.slug", allow_null=True, default=None)
    distance_km = serializers.SerializerMethodField(help_text="Distance from `near`, when given.")
    modalities = serializers.SerializerMethodField()
    care_settings = serializers.SerializerMethodField()
    entry_routes = serializers.SerializerMethodField(help_text="How a person gets in: walk-in, appointment, referral.")
    medications = serializers.SerializerMethodField()
    payment_options = serializers.SerializerMethodField()
    populations = serializers.SerializerMethodField()
    languages = serializers.SerializerMethodField()

    class Meta:
        model = Provider
        fields = [
            "url", "page", "slug", "name", "organization", "description", "country", "region", "city",
            "street_address", "street_address_2", "postal_code", "address_hidden", "latitude", "longitude", "time_zone",
            "phone", "intake_phone", "hotline_phone", "email", "website", "telehealth", "accepting_new_clients",
            *TAXONOMY_FIELDS.values(), "last_verified", "source", "external_id", "updated_at", "distance_km",
        ]  # fmt: skip

    def to_representation(self, provider):
        """What the declared fields give (tests compare the two), built directly: a page of 100 listings
        through DRF's field machinery cost more than the queries behind it."""
        links = self._links()
        data = {
            "url": links["url"].replace(SLUG_PLACEHOLDER, quote(provider.slug)),
            "page": links["page"].replace(SLUG_PLACEHOLDER, quote(provider.slug)),
        }
        for name in PLAIN_FIELDS:
            data[name] = provider.public_value(name)
        data["organization"] = provider.organization.name if provider.organization_id else None
        data["country"] = provider.country.code
        for field in TAXONOMY_FIELDS.values():
            data[field] = [term.slug for term in provider.terms[field]]
        data["last_verified"] = provider.last_verified.isoformat() if provider.last_verified else None
        data["source"] = provider.source.slug if provider.source_id else None
        data["updated_at"] = _iso_datetime(provider.updated_at)
        data["distance_km"] = self.get_distance_km(provider)
        return {name: data[name] for name in self.Meta.fields}

    def _links(self):
        """Absolute URLs of a listing, with a placeholder for the slug: reversed once per response."""
        if "links" not in self.context:
            request = self.context["request"]
            self.context["links"] = {
                "url": request.build_absolute_uri(reverse("api:provider-detail", kwargs={"slug": SLUG_PLACEHOLDER})),
                "page": request.build_absolute_uri(reverse("providers:detail", kwargs={"slug": SLUG_PLACEHOLDER})),
            }
        return self.context["links"]

    def get_page(self, provider) -> str:
        return self.context["request"].build_absolute_uri(provider.get_absolute_url())

    def get_distance_km(self, provider) -> float | None:
        """Metres apart; a listing whose address is hidden is known only to about a kilometre."""
        distance = getattr(provider, "distance_km", None)
        if distance is None:
            return None
        return float(round(distance)) if provider.address_hidden else round(distance, 3)

    def _slugs(self, provider, field):
        return [term.slug for term in provider.terms[field]]

    def get_modalities(self, provider) -> list[str]:
        return self._slugs(provider, "modalities")

    def get_care_settings(self, provider) -> list[str]:
        return self._slugs(provider, "care_settings")

    def get_entry_routes(self, provider) -> list[str]:
        return self._slugs(provider, "entry_routes")

    def get_medications(self, provider) -> list[str]:
        return self._slugs(provider, "medications")

    def get_payment_options(self, provider) -> list[str]:
        return self._slugs(provider, "payment_options")

    def get_populations(self, provider) -> list[str]:
        return self._slugs(provider, "populations")

    def get_languages(self, provider) -> list[str]:
        return self._slugs(provider, "languages")


def _iso_datetime(value):
    # DRF's own rendering of an aware UTC datetime (settings.TIME_ZONE is UTC).
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class CountrySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    name = serializers.CharField()
    providers = serializers.IntegerField(help_text="Published listings in the country.")
