"""Keyword search: fills ``search_text`` for the listings already stored (0018 indexes it).

The words are normalised as providers.models.keywords did when this migration was written, copied
here so that what the migration does never changes with that module.
"""

import re
import unicodedata

from django.db import migrations, models

BATCH = 2000
WORD = re.compile(r"[^\W_]+")


def listing_text(provider, organization_name):
    parts = (provider.name, organization_name, provider.city, provider.region, provider.description)
    words = []
    for part in filter(None, parts):
        decomposed = unicodedata.normalize("NFKD", part)
        bare = "".join(character for character in decomposed if not unicodedata.combining(character))
        words.extend(WORD.findall(bare.casefold()))
    return " ".join(words)


def fill_search_text(apps, schema_editor):
    provider_model = apps.get_model("providers", "Provider")
    rows = provider_model.objects.using(schema_editor.connection.alias).select_related("organization").order_by("pk")
    last = 0
    while batch := list(rows.filter(pk__gt=last)[:BATCH]):
        for provider in batch:
            provider.search_text = listing_text(provider, provider.organization.name if provider.organization else "")
        provider_model.objects.using(schema_editor.connection.alias).bulk_update(batch, ["search_text"], batch_size=500)
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("providers", "0014_term_name_translations")]

    operations = [
        migrations.AddField(
            model_name="provider",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=True),
    ]
