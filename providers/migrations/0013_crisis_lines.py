"""Crisis lines: the table, the shipped lines from fixtures/crisis_lines.json, and curators' rights to edit them.

Like 0002, this reads only the fields that exist now, and leaves lines curators
already edited (matched by country and name) as they are.
"""

import json
from pathlib import Path

from django.db import migrations, models

import providers.models.fields
from providers.migrations._grants import curators_may

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "crisis_lines.json"
FIELDS = ("kind", "phone", "hours", "notes", "source_url", "checked_on", "order")


def create_lines(apps, schema_editor):
    CrisisLine = apps.get_model("providers", "CrisisLine")
    for entry in json.loads(FIXTURE.read_text(encoding="utf-8")):
        fields = entry["fields"]
        CrisisLine.objects.get_or_create(
            country=fields["country"], name=fields["name"], defaults={name: fields[name] for name in FIELDS}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0012_not_duplicate"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="CrisisLine",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "country",
                    providers.models.fields.CountryCodeField(
                        blank=True,
                        help_text="Leave empty for the line shown where no country has its own.",
                        max_length=2,
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("emergency", "Emergency number"),
                            ("crisis", "Crisis line"),
                            ("addiction", "Addiction helpline"),
                        ],
                        max_length=20,
                    ),
                ),
                ("name", models.CharField(max_length=120)),
                (
                    "phone",
                    models.CharField(
                        blank=True,
                        help_text="As dialled inside the country: 988, 116 123, 0300 123 6600. "
                        "Empty only for the international fallback, which links to its source instead.",
                        max_length=40,
                    ),
                ),
                (
                    "hours",
                    models.CharField(
                        blank=True, help_text="e.g. 24/7, or Monday to Friday 9:00–17:00.", max_length=120
                    ),
                ),
                (
                    "notes",
                    models.CharField(
                        blank=True,
                        help_text="Shown on the list of all lines, e.g. text or chat options.",
                        max_length=300,
                    ),
                ),
                (
                    "source_url",
                    models.URLField(
                        help_text="An official or authoritative page giving this number.", verbose_name="source"
                    ),
                ),
                (
                    "checked_on",
                    models.DateField(
                        blank=True,
                        help_text="When a curator last compared the number with its source; empty until someone has.",
                        null=True,
                    ),
                ),
                (
                    "order",
                    models.PositiveSmallIntegerField(
                        default=0, help_text="Lower numbers are shown first; the first three appear on every page."
                    ),
                ),
            ],
            options={
                "ordering": ["country", "order", "name"],
                "constraints": [models.UniqueConstraint(fields=("country", "name"), name="crisis_line_unique_name")],
            },
        ),
        migrations.RunPython(create_lines, migrations.RunPython.noop),
        curators_may("add_crisisline", "change_crisisline", "view_crisisline"),
    ]
