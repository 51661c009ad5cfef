from django.apps import AppConfig


class ComposerConfig(AppConfig):
    name = "composer"
    verbose_name = "Composer and library"
    default_auto_field = "django.db.models.BigAutoField"
