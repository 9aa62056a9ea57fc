"""Keyword search through the database's full-text index.

Fills ``search_text`` for the listings already stored, then creates the index
(FTS5 on SQLite, a stored tsvector with GIN on PostgreSQL; see
providers.search_index, which also restores it after later migrations).
"""

from django.db import migrations, models

from providers.keywords import listing_text
from providers.search_index import drop_search_index, ensure_search_index

BATCH = 2000


def fill_search_text(apps, schema_editor):
    provider_model = apps.get_model("providers", "Provider")
    rows = provider_model.objects.using(schema_editor.connection.alias).select_related("organization").order_by("pk")
    last = 0
    while batch := list(rows.filter(pk__gt=last)[:BATCH]):
        for provider in batch:
            provider.search_text = listing_text(provider, provider.organization.name if provider.organization else "")
        provider_model.objects.using(schema_editor.connection.alias).bulk_update(batch, ["search_text"], batch_size=500)
        last = batch[-1].pk


def create_index(apps, schema_editor):
    ensure_search_index(schema_editor.connection)


def drop_index(apps, schema_editor):
    drop_search_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("providers", "0014_term_name_translations")]

    operations = [
        migrations.AddField(
            model_name="provider",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(create_index, drop_index),
    ]
