"""The admin upload's dry run runs in a worker: what it found, and how far it has got, are kept with the upload.

Uploads waiting for confirmation when this runs were dry-run in their request, whose summary was
never kept: their page asks for the file again. Uploads already queued for import keep their file.
"""

from django.db import migrations, models

ASK_AGAIN = {"error": "This file was uploaded before an update of the directory; its dry run was not kept."}


def ask_for_waiting_uploads_again(apps, schema_editor):
    PendingImport = apps.get_model("providers", "PendingImport")
    PendingImport.objects.exclude(options__has_key="run").update(dry_run=ASK_AGAIN, data=b"")


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0021_curators_settle_conflicts"),
    ]

    operations = [
        migrations.AddField(
            model_name="pendingimport",
            name="checking_since",
            field=models.DateTimeField(blank=True, help_text="When a worker started the dry run.", null=True),
        ),
        migrations.AddField(
            model_name="pendingimport",
            name="dry_run",
            field=models.JSONField(
                blank=True,
                help_text="What the dry run found, as its page shows it ({'error': ...} if it failed); "
                "empty until it ends.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="pendingimport",
            name="records_checked",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="pendingimport",
            name="records_read",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(ask_for_waiting_uploads_again, migrations.RunPython.noop),
    ]
