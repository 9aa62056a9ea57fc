from rest_framework import serializers

from providers.models import TAXONOMY_FIELDS, Provider


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
    medications = serializers.SerializerMethodField()
    payment_options = serializers.SerializerMethodField()
    populations = serializers.SerializerMethodField()
    languages = serializers.SerializerMethodField()

    class Meta:
        model = Provider
        fields = [
            "url", "page", "slug", "name", "organization", "description", "country", "region", "city",
            "street_address", "street_address_2", "postal_code", "latitude", "longitude", "time_zone",
            "phone", "intake_phone", "hotline_phone", "email", "website", "telehealth", "accepting_new_clients",
            *TAXONOMY_FIELDS.values(), "last_verified", "source", "external_id", "updated_at", "distance_km",
        ]  # fmt: skip

    def get_page(self, provider) -> str:
        return self.context["request"].build_absolute_uri(provider.get_absolute_url())

    def get_distance_km(self, provider) -> float | None:
        distance = getattr(provider, "distance_km", None)
        return None if distance is None else round(distance, 3)

    def _slugs(self, provider, field):
        return [term.slug for term in provider.terms[field]]

    def get_modalities(self, provider) -> list[str]:
        return self._slugs(provider, "modalities")

    def get_care_settings(self, provider) -> list[str]:
        return self._slugs(provider, "care_settings")

    def get_medications(self, provider) -> list[str]:
        return self._slugs(provider, "medications")

    def get_payment_options(self, provider) -> list[str]:
        return self._slugs(provider, "payment_options")

    def get_populations(self, provider) -> list[str]:
        return self._slugs(provider, "populations")

    def get_languages(self, provider) -> list[str]:
        return self._slugs(provider, "languages")


class CountrySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    name = serializers.CharField()
    providers = serializers.IntegerField(help_text="Published listings in the country.")

