"""Curators work the queue of suggestions in the admin: see each beside the listing, accept or reject it."""

import logging
import smtplib

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core import mail
from django.core.exceptions import ValidationError

from providers.models import Provider, Suggestion
from providers.models.suggestion import ProposedValue

pytestmark = pytest.mark.django_db

QUEUE = "/admin/providers/suggestion/"


def review_url(suggestion):
    return f"{QUEUE}{suggestion.pk}/change/"


def accept_url(suggestion):
    return f"{QUEUE}{suggestion.pk}/accept/"


def reject_url(suggestion):
    return f"{QUEUE}{suggestion.pk}/reject/"


@pytest.fixture
def clinic(make_provider):
    return make_provider(
        name="Harbour Clinic",
        city="Mombasa",
        country="KE",
        phone="+254711000000",
        website="https://harbour.example.org",
    )


@pytest.fixture
def make_suggestion(request):
    """Create a suggestion; a correction is about the clinic unless told otherwise."""

    def make(**fields):
        fields.setdefault("kind", Suggestion.Kind.CORRECTION)
        if fields["kind"] == Suggestion.Kind.CORRECTION:
            fields.setdefault("provider", request.getfixturevalue("clinic"))
            fields.setdefault("problem", Suggestion.Problem.PHONE)
        fields.setdefault("message", "The number is wrong.")
        return Suggestion.objects.create(**fields)

    return make


@pytest.fixture
def new_provider_suggestion(make_suggestion):
    return make_suggestion(
        kind=Suggestion.Kind.NEW_PROVIDER,
        proposed={"name": "Kisumu  Harm Reduction Centre", "country": "KE", "city": "Kisumu", "phone": "0722 654321"},
        message="I work there.",
    )


# --- The queue --------------------------------------------------------------------------------


def test_the_queue_lists_waiting_suggestions_first(curator_client, make_suggestion):
    done = make_suggestion(status=Suggestion.Status.REJECTED)
    older = make_suggestion()
    newer = make_suggestion(kind=Suggestion.Kind.NEW_PROVIDER, proposed={"name": "New Place", "country": "KE"})
    Suggestion.objects.filter(pk=done.pk).update(created_at=newer.created_at)

    response = curator_client.get(QUEUE)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [newer, older, done]
    assert b"New: New Place" in response.content


@pytest.mark.parametrize(
    "query, expected",
    [
        ("status__exact=pending", {"waiting"}),
        ("status__exact=rejected", {"rejected"}),
        ("kind__exact=new-provider", {"new"}),
    ],
)
def test_the_queue_filters_by_status_and_kind(curator_client, make_suggestion, query, expected):
    suggestions = {
        "waiting": make_suggestion(),
        "rejected": make_suggestion(status=Suggestion.Status.REJECTED),
        "new": make_suggestion(kind=Suggestion.Kind.NEW_PROVIDER, status=Suggestion.Status.ACCEPTED),
    }

    response = curator_client.get(f"{QUEUE}?{query}")

    listed = set(response.context["cl"].result_list)
    assert listed == {suggestions[name] for name in expected}


def test_the_admin_front_page_says_how_many_suggestions_wait(curator_client, make_suggestion):
    make_suggestion()
    make_suggestion()
    make_suggestion(status=Suggestion.Status.ACCEPTED)

    response = curator_client.get("/admin/")

    assert b"<strong>2</strong> suggestions from the public waiting" in response.content
    assert b'href="/admin/providers/suggestion/?status__exact=pending"' in response.content


def test_the_front_page_says_when_none_wait(curator_client):
    assert b"No suggestion from the public is waiting." in curator_client.get("/admin/").content


def test_suggestions_are_not_added_in_the_admin(admin_client):
    assert admin_client.get(f"{QUEUE}add/").status_code == 403


# --- Beside the listing -----------------------------------------------------------------------


def test_a_correction_is_shown_beside_the_listing_with_the_differences_marked(curator_client, make_suggestion):
    suggestion = make_suggestion(
        proposed={"phone": "0722 123456", "website": "https://harbour.example.org", "city": "Malindi"},
        contact_email="amina@example.org",
    )

    response = curator_client.get(review_url(suggestion))

    assert response.status_code == 200
    rows = {row.field: row for row in response.context["comparison"]}
    assert rows["phone"] == ProposedValue("phone", "main phone", "+254711000000", "0722 123456", differs=True)
    assert rows["city"] == ProposedValue("city", "city", "Mombasa", "Malindi", differs=True)
    assert rows["website"].differs is False, "the same value is not a change"
    assert rows["name"] == ProposedValue("name", "name", "Harbour Clinic", "", differs=False)
    content = response.content.decode()
    assert content.count('<tr class="differs">') == 2
    assert "The number is wrong." in content
    assert "amina@example.org" in content
    assert 'value="Accept and apply"' in content and 'value="Reject with this note"' in content


def test_a_phone_written_another_way_is_not_a_difference(curator_client, make_suggestion):
    suggestion = make_suggestion(proposed={"phone": "0711 000000"})

    rows = {row.field: row for row in curator_client.get(review_url(suggestion)).context["comparison"]}

    assert rows["phone"].differs is False


def test_a_closed_provider_shows_that_accepting_archives_it(curator_client, make_suggestion):
    suggestion = make_suggestion(problem=Suggestion.Problem.CLOSED, proposed={})

    content = curator_client.get(review_url(suggestion)).content.decode()

    assert "<td>Archived</td>" in content
    assert "archives the listing" in content


def test_a_new_provider_suggestion_shows_its_values_and_a_search_for_duplicates(
    curator_client, new_provider_suggestion
):
    content = curator_client.get(review_url(new_provider_suggestion)).content.decode()

    assert "Kisumu  Harm Reduction Centre" in content
    assert "Kenya" in content
    assert "/admin/providers/provider/?q=Kisumu%20%20Harm%20Reduction%20Centre" in content
    assert 'value="Accept: create a draft listing"' in content


def test_a_reviewed_suggestion_offers_no_buttons(curator_client, make_suggestion, curator):
    suggestion = make_suggestion()
    suggestion.reject(curator, "Already fixed.")

    content = curator_client.get(review_url(suggestion)).content.decode()

    assert "Rejected by curator" in content
    assert "Already fixed." in content
    assert "Accept and apply" not in content


# --- Accepting --------------------------------------------------------------------------------


def test_accepting_a_correction_applies_it_through_the_listings_validation(
    curator_client, curator, clinic, make_suggestion
):
    suggestion = make_suggestion(proposed={"phone": "0722 123456", "city": "Malindi"})

    response = curator_client.post(accept_url(suggestion), {"note": "Called them."})

    assert response.status_code == 302
    assert response["Location"] == QUEUE
    clinic.refresh_from_db()
    assert clinic.phone == "+254722123456", "normalised as if a curator had typed it"
    assert clinic.city == "Malindi"
    assert clinic.status == Provider.Status.PUBLISHED
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.ACCEPTED
    assert suggestion.reviewed_by == curator
    assert suggestion.reviewed_at is not None
    assert suggestion.review_note == "Called them."
    latest = clinic.history.first()
    assert latest.history_user == curator
    assert latest.history_change_reason == f"Suggestion #{suggestion.pk}"
    assert latest.history_channel == "suggestion"


def test_accepting_a_closed_provider_archives_the_listing(curator_client, clinic, make_suggestion):
    suggestion = make_suggestion(problem=Suggestion.Problem.CLOSED, message="Boarded up since May.")

    curator_client.post(accept_url(suggestion))

    clinic.refresh_from_db()
    assert clinic.status == Provider.Status.ARCHIVED
    assert curator_client.get(clinic.get_absolute_url()).status_code == 200  # curators still see it
    assert curator_client.get("/providers/").context["page_obj"].paginator.count == 0


def test_accepting_a_new_provider_creates_a_draft(curator_client, curator, new_provider_suggestion):
    response = curator_client.post(accept_url(new_provider_suggestion), follow=True)

    provider = Provider.objects.get()
    assert provider.status == Provider.Status.DRAFT
    assert provider.name == "Kisumu Harm Reduction Centre"
    assert (provider.country.code, provider.city, provider.phone) == ("KE", "Kisumu", "+254722654321")
    new_provider_suggestion.refresh_from_db()
    assert new_provider_suggestion.created_provider == provider
    assert new_provider_suggestion.status == Suggestion.Status.ACCEPTED
    assert provider.history.first().history_user == curator
    assert "is a new draft listing" in response.content.decode()
    assert f"/admin/providers/provider/{provider.pk}/change/" in response.content.decode()


def test_an_invalid_proposed_value_is_shown_and_changes_nothing(curator_client, clinic, make_suggestion):
    suggestion = make_suggestion(proposed={"phone": "12345", "city": "Malindi"})

    response = curator_client.post(accept_url(suggestion), {"note": "Looks right."})

    assert response.status_code == 200
    content = response.content.decode()
    assert "Nothing was changed" in content
    assert "Main phone: 12345 is not a valid phone number" in content
    clinic.refresh_from_db()
    assert (clinic.phone, clinic.city) == ("+254711000000", "Mombasa")
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.PENDING
    assert suggestion.reviewed_by is None
    assert clinic.history.count() == 1


def test_an_invalid_new_provider_creates_nothing(curator, make_suggestion):
    suggestion = make_suggestion(kind=Suggestion.Kind.NEW_PROVIDER, proposed={"name": "No Country"})

    with pytest.raises(ValidationError) as raised:
        suggestion.accept(curator)

    assert "country" in raised.value.message_dict
    assert not Provider.objects.exists()
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.created_provider) == (Suggestion.Status.PENDING, None)


def test_a_suggestion_is_applied_once(curator_client, curator, clinic, make_suggestion):
    suggestion = make_suggestion(proposed={"city": "Malindi"})
    curator_client.post(accept_url(suggestion))

    response = curator_client.post(accept_url(suggestion))

    assert response.status_code == 200
    assert "This suggestion was already accepted." in response.content.decode()
    assert clinic.history.count() == 2


def test_accept_and_reject_take_posts_only(curator_client, make_suggestion):
    suggestion = make_suggestion()

    assert curator_client.get(accept_url(suggestion)).status_code == 405
    assert curator_client.get(reject_url(suggestion)).status_code == 405


# --- Rejecting --------------------------------------------------------------------------------


def test_rejecting_records_the_note_and_leaves_the_listing(curator_client, curator, clinic, make_suggestion):
    suggestion = make_suggestion(proposed={"city": "Malindi"})

    response = curator_client.post(reject_url(suggestion), {"note": "The clinic confirmed Mombasa."})

    assert response["Location"] == QUEUE
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.REJECTED
    assert suggestion.review_note == "The clinic confirmed Mombasa."
    assert suggestion.reviewed_by == curator
    clinic.refresh_from_db()
    assert clinic.city == "Mombasa"


def test_rejecting_needs_a_note(curator_client, make_suggestion):
    suggestion = make_suggestion()

    response = curator_client.post(reject_url(suggestion), {"note": "  "})

    assert response.status_code == 200
    assert "Say why, so other curators know it was looked at." in response.content.decode()
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.PENDING


# --- Who may review ---------------------------------------------------------------------------


def test_curators_may_read_and_review_suggestions_but_not_add_or_delete_them():
    codenames = set(Group.objects.get(name="Curators").permissions.values_list("codename", flat=True))

    assert {"view_suggestion", "change_suggestion"} <= codenames
    assert not {"add_suggestion", "delete_suggestion"} & codenames


def test_staff_without_the_permission_cannot_see_or_review_the_queue(client, make_suggestion):
    staff = User.objects.create_user("helper", password="helper-password", is_staff=True)
    client.force_login(staff)
    suggestion = make_suggestion()

    assert client.get(QUEUE).status_code == 403
    assert client.get(review_url(suggestion)).status_code == 403
    assert client.post(accept_url(suggestion)).status_code == 403
    assert b"suggestions waiting" not in client.get("/admin/").content


def test_reading_the_queue_is_not_enough_to_review_it(client, clinic, make_suggestion):
    reader = User.objects.create_user("reader", password="reader-password", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_suggestion"))
    client.force_login(reader)
    suggestion = make_suggestion(proposed={"city": "Malindi"})

    assert "Accept and apply" not in client.get(review_url(suggestion)).content.decode()
    assert client.post(accept_url(suggestion)).status_code == 403
    assert client.post(reject_url(suggestion), {"note": "No."}).status_code == 403
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.PENDING


# --- Telling the curators ---------------------------------------------------------------------


@pytest.fixture
def recipients(curator):
    curator.email = "curator@example.org"
    curator.save()
    User.objects.create_superuser("admin", "admin@example.org", "admin-password")
    User.objects.create_superuser("no-mail", "", "admin-password")
    gone = User.objects.create_user("gone", email="gone@example.org", is_staff=True, is_active=False)
    gone.groups.add(Group.objects.get(name="Curators"))
    User.objects.create_user("visitor", email="visitor@example.org")


def test_curators_get_an_email_with_a_link_to_the_suggestion(client, clinic, recipients):
    client.post(
        f"/providers/{clinic.slug}/suggest/",
        {
            "problem": "phone",
            "message": "Private details here.",
            "phone": "0722 123456",
            "contact_email": "amina@example.org",
        },
    )

    suggestion = Suggestion.objects.get()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["admin@example.org", "curator@example.org"]
    assert message.subject == "New suggestion: Correction to a listing: Harbour Clinic"
    assert f"http://testserver/admin/providers/suggestion/{suggestion.pk}/change/" in message.body
    assert "amina@example.org" not in message.body
    assert "Private details here." not in message.body


def test_a_failing_mail_server_loses_nothing_and_tells_the_visitor_nothing(
    client, clinic, recipients, monkeypatch, caplog
):
    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)

    with caplog.at_level(logging.INFO):
        response = client.post(
            f"/providers/{clinic.slug}/suggest/",
            {"problem": "other", "message": "Private details here.", "contact_email": "amina@example.org"},
        )

    assert response["Location"] == "/suggest/thanks/"
    suggestion = Suggestion.objects.get()
    assert f"Could not email curators about suggestion #{suggestion.pk}" in caplog.text
    assert "Private details here." not in caplog.text
    assert "amina@example.org" not in caplog.text


def test_no_mail_is_attempted_when_nobody_can_receive_it(client, clinic):
    client.post(f"/providers/{clinic.slug}/suggest/", {"problem": "other", "message": "Wrong hours."})

    assert Suggestion.objects.count() == 1
    assert mail.outbox == []
