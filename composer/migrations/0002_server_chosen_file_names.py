"""Asset images are stored under names the server chooses (composer.models.asset_file_name).

Older images were named after the request id — the client's Idempotency-Key when it sent one — so
this renames every stored file to a random name. A missing file keeps its row unchanged (the view
already answers 404 for it). Reversing leaves the new names: nothing needs the old ones back.
"""

import re

from django.core.files.storage import default_storage
from django.db import migrations, models

import composer.models

SERVER_CHOSEN = re.compile(r"^assets/\d{4}/\d{2}/[0-9a-f]{32}\.(png|jpg|webp)$")


def rename_to_server_chosen_names(apps, schema_editor):
    Asset = apps.get_model("composer", "Asset")
    for asset in Asset.objects.exclude(image="").only("pk", "image").iterator():
        old = asset.image.name
        if SERVER_CHOSEN.match(old) or not default_storage.exists(old):
            continue
        with default_storage.open(old, "rb") as handle:
            new = default_storage.save(composer.models.asset_file_name(asset, old), handle)
        Asset.objects.filter(pk=asset.pk).update(image=new)
        default_storage.delete(old)


class Migration(migrations.Migration):
    dependencies = [
        ("composer", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="asset",
            name="image",
            field=models.FileField(blank=True, upload_to=composer.models.asset_file_name),
        ),
        migrations.RunPython(rename_to_server_chosen_names, migrations.RunPython.noop),
    ]
