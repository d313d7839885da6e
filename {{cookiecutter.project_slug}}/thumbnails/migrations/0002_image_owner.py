from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("thumbnails", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="image",
            name="owner",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
