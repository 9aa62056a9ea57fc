"""Crisis lines: the table, the shipped lines from fixtures/crisis_lines.json, and curators' rights to edit them.

Like 0002, this reads only the fields that exist now, and leaves lines curators
already edited (matched by country and name) as they are.
"""

import json
from pathlib import Path

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

import providers.models.fields

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "crisis_lines.json"
FIELDS = ("kind", "phone", "hours", "notes", "source_url", "checked_on", "order")
GROUP = "Curators"
CODENAMES = ("add_crisisline", "change_crisisline", "view_crisisline")


def create_lines(apps, schema_editor):
    CrisisLine = apps.get_model("providers", "CrisisLine")
    for entry in json.loads(FIXTURE.read_text(encoding="utf-8")):
        fields = entry["fields"]
        CrisisLine.objects.get_or_create(
            country=fields["country"], name=fields["name"], defaults={name: fields[name] for name in FIELDS}
        )


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations run; create them now so the group can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="providers", codename__in=CODENAMES))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="providers", codename__in=CODENAMES)
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(*permissions)


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
        migrations.RunPython(grant, revoke),
    ]
