"""Create the initial taxonomy terms from fixtures/taxonomy.json.

The fixture is the one list of shipped terms; this migration reads only the
fields that existed when it was written, so later changes to the term models
cannot break it, and skips taxonomies added later (their own migration makes their terms).
Existing terms (matched by slug) are left as curators edited them.
"""

import json
from pathlib import Path

from django.db import migrations

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "taxonomy.json"
FIELDS = ("name", "description", "order")


def create_terms(apps, schema_editor):
    known = {f"providers.{model._meta.model_name}" for model in apps.get_app_config("providers").get_models()}
    for entry in json.loads(FIXTURE.read_text(encoding="utf-8")):
        if entry["model"] not in known:
            continue
        model = apps.get_model(entry["model"])
        fields = entry["fields"]
        model.objects.get_or_create(slug=fields["slug"], defaults={name: fields[name] for name in FIELDS})


class Migration(migrations.Migration):
    dependencies = [("providers", "0001_initial")]

    operations = [migrations.RunPython(create_terms, migrations.RunPython.noop)]
