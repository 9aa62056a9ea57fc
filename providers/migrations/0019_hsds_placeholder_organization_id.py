"""Each listing's HSDS id of the organization that stands in for it when it has none.

Indexed, not unique: it is derived from the listing's unique service id, and on SQLite a
unique column would rebuild the provider table (dropping the full-text triggers of 0018).
"""

import json
import uuid

from django.db import migrations, models

# The placeholder organization ids the HSDS export and API already published (providers.models.hsds_ids, frozen here).
NAMESPACE = uuid.UUID("1fe6c795-841b-45e8-b778-c7fe5a618af9")
BATCH = 1000


def placeholder_organization_id(service):
    return uuid.uuid5(NAMESPACE, json.dumps([service, "organization"]))


def assign_ids(apps, schema_editor):
    Provider = apps.get_model("providers", "Provider")
    listings = Provider.objects.filter(hsds_id__isnull=False).only("hsds_id").order_by("pk")
    last = 0
    while batch := list(listings.filter(pk__gt=last)[:BATCH]):
        for provider in batch:
            provider.hsds_placeholder_organization_id = placeholder_organization_id(str(provider.hsds_id))
        Provider.objects.bulk_update(batch, ["hsds_placeholder_organization_id"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0018_search_index_in_migrations"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalprovider",
            name="hsds_placeholder_organization_id",
            field=models.UUIDField(
                db_index=True, editable=False, null=True, verbose_name="HSDS id of the organization standing in for it"
            ),
        ),
        migrations.AddField(
            model_name="provider",
            name="hsds_placeholder_organization_id",
            field=models.UUIDField(
                db_index=True, editable=False, null=True, verbose_name="HSDS id of the organization standing in for it"
            ),
        ),
        migrations.RunPython(assign_ids, migrations.RunPython.noop, elidable=True),
    ]
