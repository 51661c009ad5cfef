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
