from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class SuperAdminConfig(AdminConfig):
    """Installs SuperAdminSite as the default admin site (custom pages under /admin/super/)."""

    default_site = "bitethemenu.admin_site.SuperAdminSite"


class BiteTheMenuConfig(AppConfig):
    name = "bitethemenu"
    verbose_name = "Platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every Pillow use in the process (uploads, AI answers, the simulated provider) refuses to
        # decode more pixels than the upload limit allows: Pillow warns past this and raises past twice it.
        from django.conf import settings
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS

        from bitethemenu import login_guard  # noqa: F401 — connects the per-address failed-login counter
