from django.apps import AppConfig


class ResilienceConfig(AppConfig):
    name = "resilience"
    verbose_name = "AI resilience"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from resilience import checks  # noqa: F401 — registers the provider settings checks
