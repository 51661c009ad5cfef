from django.apps import AppConfig


class ResilienceConfig(AppConfig):
    name = "resilience"
    verbose_name = "AI resilience"
    default_auto_field = "django.db.models.BigAutoField"
