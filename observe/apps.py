from __future__ import annotations

from django.apps import AppConfig


class ObserveConfig(AppConfig):
    name = "observe"
    verbose_name = "Observability"
    default_auto_field = "django.db.models.BigAutoField"
