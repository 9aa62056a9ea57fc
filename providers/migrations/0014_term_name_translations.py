"""Taxonomy names in the site's other languages, filled from fixtures/taxonomy.json.

Like 0002, it reads only the fields it knows, and leaves terms whose
translations a curator has already written alone.
"""

import json
from pathlib import Path

from django.db import migrations, models

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "taxonomy.json"
TERM_MODELS = ("caresetting", "language", "medication", "modality", "paymentoption", "population")


def fill_translations(apps, schema_editor):
    for entry in json.loads(FIXTURE.read_text(encoding="utf-8")):
        translations = entry["fields"].get("name_translations")
        if translations and entry["model"].removeprefix("providers.") in TERM_MODELS:
            model = apps.get_model(entry["model"])
            model.objects.filter(slug=entry["fields"]["slug"], name_translations={}).update(
                name_translations=translations
            )


class Migration(migrations.Migration):
    dependencies = [("providers", "0013_crisis_lines")]

    operations = [
        *(
            migrations.AddField(
                model_name=model_name,
                name="name_translations",
                field=models.JSONField(
                    blank=True,
                    default=dict,
                    help_text="The name in each of the site's other languages; the English name shows where one is missing.",
                    verbose_name="translated names",
                ),
            )
            for model_name in TERM_MODELS
        ),
        migrations.RunPython(fill_translations, migrations.RunPython.noop),
    ]
