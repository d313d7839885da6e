from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("thumbnails", "0002_image_owner"),
    ]

    operations = [
        migrations.AddField(
            model_name="image",
            name="uploader",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
