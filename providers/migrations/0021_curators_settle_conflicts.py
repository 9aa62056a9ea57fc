"""Let curators see the conflicts imports record and settle them (take the partner's value, or keep ours).

Settling needs change_importconflict; conflicts are only ever added by imports, and deleting
stays with administrators.
"""

from django.db import migrations

from providers.migrations._grants import curators_may


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0020_source_records_and_conflicts"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [curators_may("view_importconflict", "change_importconflict")]
