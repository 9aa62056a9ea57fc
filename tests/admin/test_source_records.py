"""On a listing's page: the fields curators lock against its source, and whether the source's file still holds it."""

import pytest
from django.contrib.auth.models import Group, User

from providers.admin.roles import PARTNER_GROUP
from providers.models import Provider, SourceRecord
from tests.admin.test_admin import CHANGELIST, change_url
from tests.admin.test_stale_edits import open_form
from tests.exchange.helpers import run, write_our_csv

pytestmark = pytest.mark.django_db

CLINIC = {
    "source": "ministry",
    "external_id": "KE-1",
    "name": "Harbour Clinic",
    "country": "KE",
    "phone": "+254722123457",
}
HOSTEL = {"source": "ministry", "external_id": "KE-2", "name": "Recovery Hostel", "country": "KE"}


def import_rows(tmp_path, rows):
    return run("import_providers", write_our_csv(tmp_path / "partner.csv", rows))


def listing(external_id="KE-1"):
    return Provider.objects.get(external_id=external_id)


def test_a_curator_locks_a_field_and_the_partners_next_file_leaves_it(tmp_path, curator_client):
    import_rows(tmp_path, [CLINIC])
    opened = open_form(curator_client, listing())

    response = curator_client.post(change_url(listing()), {**opened, "source_record-0-locked_fields": ["phone"]})

    assert response.status_code == 302
    assert SourceRecord.objects.get(provider=listing()).locked_fields == ["phone"]
    output = import_rows(tmp_path, [{**CLINIC, "phone": "+254700000001"}])
    assert listing().phone == "+254722123457"
    assert "conflict" not in output


def test_the_page_shows_what_the_source_delivered(tmp_path, curator_client):
    import_rows(tmp_path, [CLINIC])

    page = curator_client.get(change_url(listing())).content.decode()

    assert "What the source delivered" in page
    assert "+254722123457" in page and "Open conflicts" in page


def test_a_listing_missing_from_its_sources_file_says_so_and_is_listed_apart(tmp_path, curator_client):
    import_rows(tmp_path, [CLINIC, HOSTEL])
    import_rows(tmp_path, [CLINIC])

    page = curator_client.get(change_url(listing("KE-2"))).content.decode()
    missing = curator_client.get(CHANGELIST, {"in_source_file": "no"})
    present = curator_client.get(CHANGELIST, {"in_source_file": "yes"})

    assert "Not in ministry’s file since" in page
    assert [provider.external_id for provider in missing.context["cl"].queryset] == ["KE-2"]
    assert [provider.external_id for provider in present.context["cl"].queryset] == ["KE-1"]


def test_listings_without_a_source_and_partner_importers_get_no_locks(make_provider, curator_client, client, tmp_path):
    own = make_provider(name="Walk-in Centre")
    assert "What the source delivered" not in curator_client.get(change_url(own)).content.decode()

    import_rows(tmp_path, [CLINIC])
    partner = User.objects.create_user(username="partner", is_staff=True)
    partner.groups.add(Group.objects.get(name=PARTNER_GROUP))
    listing().source.partner_users.add(partner)
    client.force_login(partner)
    page = client.get(change_url(listing()))
    assert page.status_code == 200 and "What the source delivered" not in page.content.decode()
