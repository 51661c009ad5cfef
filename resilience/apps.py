from django.apps import AppConfig


class ResilienceConfig(AppConfig):
    name = "resilience"
    verbose_name = "AI resilience"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from resilience import checks  # noqa: F401 — registers the provider settings checks
        from resilience.registry import PROVIDERS, get_adapter

        # Load every adapter now, not on a venue's first call: importing one mid-walk would spend part
        # of the first candidate's share of the deadline on our own start-up.
        for provider_id in PROVIDERS:
            get_adapter(provider_id)
