"""Sources' feeds in the admin: set on the source, pulled on schedule or at once."""

import providers.admin
from providers.models import Source

SOURCES = "/admin/providers/source/"


def test_curators_set_a_feed_and_its_schedule_on_the_source(curator_client):
    response = curator_client.post(
        f"{SOURCES}add/",
        {
            "slug": "partner-api",
            "name": "Partner API",
            "feed_url": "https://other.example/api/hsds/",
            "feed_schedule": "daily",
        },
    )

    assert response.status_code == 302
    source = Source.objects.get(slug="partner-api")
    assert (source.feed_url, source.feed_schedule) == ("https://other.example/api/hsds/", "daily")


def test_a_schedule_without_a_feed_is_refused_on_the_form(curator_client):
    response = curator_client.post(f"{SOURCES}add/", {"slug": "s", "name": "S", "feed_schedule": "daily"})

    assert response.context["adminform"].form.errors["feed_schedule"] == ["A schedule needs a feed to pull."]


def test_curators_pull_the_selected_feeds_now(curator_client, monkeypatch):
    queued = []

    class Worker:
        @staticmethod
        def enqueue(source_id):
            queued.append(source_id)

    monkeypatch.setattr(providers.admin, "pull_feed", Worker)
    fed = Source.objects.create(slug="fed", name="Fed", feed_url="https://partner.example/export.csv")
    unfed = Source.objects.create(slug="unfed", name="Unfed")

    response = curator_client.post(
        SOURCES, {"action": "pull_feeds_now", "_selected_action": [fed.pk, unfed.pk]}, follow=True
    )

    assert queued == [fed.pk]
    assert "Queued 1 feed(s)" in response.content.decode()
    assert "1 of the selected sources have no feed." in response.content.decode()
