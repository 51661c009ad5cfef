from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"
    verbose_name = "Credits"
    default_auto_field = "django.db.models.BigAutoField"
