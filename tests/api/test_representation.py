"""The provider list's direct representation says exactly what its declared serializer fields say."""

import datetime

import pytest
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from providers.api.serializers import ProviderSerializer
from providers.models import Organization, Provider, Source
from providers.search.vocabulary import attach_terms

pytestmark = pytest.mark.django_db


def declared_representation(provider, context):
    """DRF's generic path through every declared field: the reference the direct one must match."""
    return serializers.ModelSerializer.to_representation(ProviderSerializer(context=context), provider)


@pytest.fixture
def context():
    return {"request": Request(APIRequestFactory().get("/api/v1/providers/", HTTP_HOST="testserver"))}


def test_a_full_listing_reads_the_same_both_ways(make_provider, context):
    provider = make_provider(
        name="Harbour Clinic",
        description="Methadone by the harbour.",
        country="KE",
        region="Mombasa County",
        city="Mombasa",
        street_address="Moi Avenue 12",
        street_address_2="Second floor",
        postal_code="80100",
        latitude=-4.0435,
        longitude=39.6682,
        phone="+254722123456",
        intake_phone="+254722123457;ext=12",
        hotline_phone="+254722123458",
        email="help@harbour.example",
        website="https://harbour.example/",
        telehealth=True,
        accepting_new_clients=False,
        last_verified=datetime.date(2025, 3, 1),
        organization=Organization.objects.create(slug="coastal", name="Coastal Health"),
        source=Source.objects.create(slug="ministry", name="Ministry"),
        external_id="KE-1",
        modalities=["mat", "counseling"],
        care_settings=["outpatient"],
        medications=["methadone"],
        payment_options=["free"],
        populations=["women"],
        languages=["sw", "en"],
    )
    [provider] = attach_terms(Provider.objects.with_organization_and_source().filter(pk=provider.pk))
    provider.distance_km = 12.34567

    assert ProviderSerializer(provider, context=context).data == declared_representation(provider, context)


def test_an_empty_listing_with_a_non_latin_slug_reads_the_same_both_ways(make_provider, context):
    provider = make_provider(name="مركز الأمل", country="EG", city="القاهرة")
    [provider] = attach_terms(Provider.objects.with_organization_and_source().filter(pk=provider.pk))

    direct = ProviderSerializer(provider, context=context).data
    assert direct == declared_representation(provider, context)
    assert direct["page"].startswith("http://testserver/providers/%D9%85")
