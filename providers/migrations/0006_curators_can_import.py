"""Let curators import partner files in the admin and read the record of every import.

The upload pages check add_importrun only, so curators need no permission on
PendingImport: those rows are never edited through the admin.
"""

from django.db import migrations

from providers.migrations._grants import curators_may


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0005_pending_imports"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [curators_may("add_importrun", "view_importrun")]
