"""Listings whose street address is hidden (shelters, programmes for people fleeing violence).

A column that cannot be null makes SQLite rebuild the provider table, which drops the full-text
triggers: 0018's own statements make them again (they tolerate what exists, and are frozen there).
"""

from importlib import import_module

from django.db import migrations, models

search_index = import_module("providers.migrations.0018_search_index_in_migrations")


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0024_mapping_samples"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalprovider",
            name="address_hidden",
            field=models.BooleanField(
                default=False,
                help_text="For places that must not show where they are (shelters, programmes for people fleeing violence): public pages, downloads and APIs show only the city and region, and the location is kept only to about 1 km.",
                verbose_name="hide the street address",
            ),
        ),
        migrations.AddField(
            model_name="provider",
            name="address_hidden",
            field=models.BooleanField(
                default=False,
                help_text="For places that must not show where they are (shelters, programmes for people fleeing violence): public pages, downloads and APIs show only the city and region, and the location is kept only to about 1 km.",
                verbose_name="hide the street address",
            ),
        ),
        migrations.RunPython(search_index.create_index, migrations.RunPython.noop),
    ]
