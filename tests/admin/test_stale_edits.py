"""No lost edits: a listing's form saved after someone else changed the listing is refused, saying who changed what."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from providers.curation import history
from providers.models import Modality, OpeningInterval, Provider, Suggestion
from tests.admin.test_admin import CHANGELIST, change_url

pytestmark = pytest.mark.django_db

Channel = history.Channel
OLD_PHONE, NEW_PHONE = "+13346732143", "+13346732199"
PHONE_CHANGED = f"curator2 changed main phone ({OLD_PHONE} → {NEW_PHONE}) on "


@pytest.fixture
def clinic(make_provider):
    return make_provider(name="Hope House", city="Montgomery", phone=OLD_PHONE, description="Outpatient care.")


@pytest.fixture
def second_curator(db):
    user = User.objects.create_user(username="curator2", is_staff=True)
    user.groups.add(Group.objects.get(name="Curators"))
    return user


@pytest.fixture
def second_client(second_curator):
    client = Client()
    client.force_login(second_curator)
    return client


def values_of(form):
    """A form's fields as the browser posts them, hidden ones included."""
    return {field.html_name: "" if field.value() is None else field.value() for field in form}


def open_form(client, provider):
    """The change form's data as a curator's browser holds it after opening the listing."""
    response = client.get(change_url(provider))
    assert response.status_code == 200
    data = values_of(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        data.update(values_of(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(values_of(form))
    return data


def save(client, provider, opened, **changes):
    return client.post(change_url(provider), {**opened, **changes})


def refusal(response):
    """The message of a refused change form."""
    assert response.status_code == 200
    form = response.context["adminform"].form
    return " ".join(form.non_field_errors())


def stored(provider, *fields):
    return Provider.objects.values_list(*fields).get(pk=provider.pk)


# --- The change form -----------------------------------------------------------------------------


def test_the_change_form_carries_the_version_it_was_opened_on(curator_client, clinic):
    page = curator_client.get(change_url(clinic)).content.decode()

    assert 'type="hidden" name="opened_version"' in page


def test_a_fresh_save_is_saved(curator_client, clinic):
    opened = open_form(curator_client, clinic)

    response = save(curator_client, clinic, opened, phone=NEW_PHONE)

    assert response.status_code == 302
    assert stored(clinic, "phone") == (NEW_PHONE,)


def test_of_two_curators_the_second_is_refused_and_neither_edit_is_lost(curator_client, second_client, clinic):
    first = open_form(curator_client, clinic)
    second = open_form(second_client, clinic)
    assert save(curator_client, clinic, first, phone=NEW_PHONE).status_code == 302

    response = save(second_client, clinic, second, description="Outpatient and residential care.")

    when = history.when(Provider.history.filter(id=clinic.pk).latest("history_id"))
    message = refusal(response)
    assert message.startswith(
        f"Since you opened this form, curator changed main phone ({OLD_PHONE} → {NEW_PHONE}) on {when} through Admin. "
        "Nothing was saved. Your input is still below: "
    )
    assert f'<a href="{change_url(clinic)}">open the listing as it is now</a>' in message
    assert message in response.content.decode()
    assert stored(clinic, "phone", "description") == (NEW_PHONE, "Outpatient care.")
    form = response.context["adminform"].form
    assert form["description"].value() == "Outpatient and residential care."
    # Still the version it was opened on: saving the same page again is refused again.
    assert form["opened_version"].value() == second["opened_version"]
    assert refusal(save(second_client, clinic, second, description="Again")) == message


def test_after_reopening_the_listing_the_second_curator_s_edit_is_saved_beside_the_first_s(
    curator_client, second_client, clinic
):
    first = open_form(curator_client, clinic)
    second = open_form(second_client, clinic)
    save(curator_client, clinic, first, phone=NEW_PHONE)
    save(second_client, clinic, second, description="Outpatient and residential care.")

    reopened = open_form(second_client, clinic)
    response = save(second_client, clinic, reopened, description="Outpatient and residential care.")

    assert response.status_code == 302
    assert stored(clinic, "phone", "description") == (NEW_PHONE, "Outpatient and residential care.")


def test_terms_and_hours_changed_since_are_named_and_kept(curator_client, second_client, clinic):
    first = open_form(curator_client, clinic)
    second = open_form(second_client, clinic)
    mat = Modality.objects.get(slug="mat")
    hours = {
        "opening_hours-TOTAL_FORMS": "1",
        "opening_hours-0-weekday": "0",
        "opening_hours-0-opens": "09:00",
        "opening_hours-0-closes": "17:00",
    }
    assert save(curator_client, clinic, first, modalities=[mat.pk], **hours).status_code == 302

    response = save(second_client, clinic, second, name="Hope House Recovery")

    message = refusal(response)
    assert f"modalities (none → {mat.name})" in message
    assert "opening hours (none → Mon 09:00–17:00)" in message
    assert list(clinic.modalities.all()) == [mat]
    assert [str(interval) for interval in OpeningInterval.objects.filter(provider=clinic)] == ["Monday 09:00–17:00"]
    assert stored(clinic, "name") == ("Hope House",)


def test_an_import_between_opening_and_saving_counts_as_a_change(curator_client, clinic):
    opened = open_form(curator_client, clinic)
    history.update_with_history(
        Provider.objects.filter(pk=clinic.pk),
        user=None,
        channel=Channel.IMPORT,
        reason="Import run #3",
        phone=NEW_PHONE,
    )

    message = refusal(save(curator_client, clinic, opened, description="Residential care."))

    assert message.startswith(f"Since you opened this form, someone changed main phone ({OLD_PHONE} → {NEW_PHONE}) on ")
    assert " through Import, “Import run #3”. Nothing was saved." in message
    assert stored(clinic, "phone", "description") == (NEW_PHONE, "Outpatient care.")


def test_a_change_made_within_the_same_tick_of_the_clock_still_counts(curator_client, clinic):
    opened = open_form(curator_client, clinic)
    # A write that records a version but leaves updated_at where it was (a clock that did not move).
    Provider.objects.filter(pk=clinic.pk).update(phone=NEW_PHONE)
    clinic.phone = NEW_PHONE
    history.record_versions([clinic], user=None, channel=Channel.OTHER, reason="", when=timezone.now())

    message = refusal(save(curator_client, clinic, opened, description="Residential care."))

    assert f"main phone ({OLD_PHONE} → {NEW_PHONE})" in message
    assert stored(clinic, "description") == ("Outpatient care.",)


def test_several_changes_are_told_in_order(curator_client, second_client, clinic):
    opened = open_form(curator_client, clinic)
    save(second_client, clinic, open_form(second_client, clinic), phone=NEW_PHONE)
    save(second_client, clinic, open_form(second_client, clinic), status=Provider.Status.ARCHIVED)

    message = refusal(save(curator_client, clinic, opened, description="Residential care."))

    assert "curator2 changed main phone" in message
    assert "; then curator2 changed status (Published → Archived) on " in message


def test_a_bulk_action_between_opening_and_saving_counts_as_a_change(curator_client, second_client, clinic):
    opened = open_form(curator_client, clinic)
    second_client.post(CHANGELIST, {"action": "archive", "_selected_action": [clinic.pk]})

    message = refusal(save(curator_client, clinic, opened, phone=NEW_PHONE))

    assert "curator2 changed status (Published → Archived)" in message
    assert "through Admin, “Archived (bulk action)”" in message
    assert stored(clinic, "status", "phone") == (Provider.Status.ARCHIVED, OLD_PHONE)


def test_a_bulk_action_writes_only_its_own_field_so_it_keeps_an_edit_made_after_the_list_was_shown(
    curator_client, second_client, clinic
):
    assert clinic in second_client.get(CHANGELIST).context["cl"].result_list
    save(curator_client, clinic, open_form(curator_client, clinic), phone=NEW_PHONE)

    second_client.post(CHANGELIST, {"action": "archive", "_selected_action": [clinic.pk]})

    assert stored(clinic, "status", "phone") == (Provider.Status.ARCHIVED, NEW_PHONE)


def test_the_provider_changelist_edits_nothing_in_place(curator_client):
    assert not curator_client.get(CHANGELIST).context["cl"].list_editable


# --- Reverting to a version ----------------------------------------------------------------------


def revert_url(version):
    return f"/admin/providers/provider/{version.id}/history/{version.history_id}/"


def test_a_revert_confirmed_after_someone_changed_the_listing_is_refused(curator_client, second_client, clinic):
    save(curator_client, clinic, open_form(curator_client, clinic), description="Residential care.")
    original = Provider.history.filter(id=clinic.pk).earliest("history_id")
    page = curator_client.get(revert_url(original))
    save(second_client, clinic, open_form(second_client, clinic), phone=NEW_PHONE)

    response = curator_client.post(revert_url(original), {"opened_version": page.context["opened_version"]})

    assert response.status_code == 200
    refusal = response.context["refusal"]
    assert refusal.startswith("Since you opened this page, " + PHONE_CHANGED)
    assert refusal in response.content.decode()
    assert stored(clinic, "phone", "description") == (NEW_PHONE, "Residential care.")
    # The page now compares with the listing as it is, so confirming it again reverts.
    assert "Main phone" in [change["field"] for change in response.context["changes"]]
    again = curator_client.post(revert_url(original), {"opened_version": response.context["opened_version"]})
    assert again.status_code == 302
    assert stored(clinic, "phone", "description") == (OLD_PHONE, "Outpatient care.")


# --- Accepting a suggestion ----------------------------------------------------------------------


def test_a_suggestion_accepted_after_someone_changed_the_listing_is_refused(curator_client, second_client, clinic):
    suggestion = Suggestion.objects.create(
        kind=Suggestion.Kind.CORRECTION,
        provider=clinic,
        problem=Suggestion.Problem.PHONE,
        message="The number is wrong.",
        proposed={"phone": "(334) 673-2100"},
    )
    review = curator_client.get(f"/admin/providers/suggestion/{suggestion.pk}/change/")
    save(second_client, clinic, open_form(second_client, clinic), phone=NEW_PHONE)
    accept = f"/admin/providers/suggestion/{suggestion.pk}/accept/"

    response = curator_client.post(accept, {"note": "", "opened_version": review.context["opened_version"]})

    assert response.status_code == 200
    [error] = response.context["errors"]
    assert error.startswith("Since you opened this page, " + PHONE_CHANGED)
    assert stored(clinic, "phone") == (NEW_PHONE,)
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.PENDING
    again = curator_client.post(accept, {"note": "", "opened_version": response.context["opened_version"]})
    assert again.status_code == 302
    assert stored(clinic, "phone") == ("+13346732100",)
