"""The super-admin site: Django admin plus the pages under /admin/super/.

Each app contributes its pages through `super_admin_urls()` in its `admin_views` module, imported
lazily so this module does not depend on the apps above it (bitethemenu is the bottom layer).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver

# Modules exposing `super_admin_urls(site) -> list[URLPattern]` and, optionally,
# `super_admin_context(request) -> dict` (e.g. the alerts badge count).
SUPER_ADMIN_MODULES = ("alerts.admin_views", "resilience.admin_views", "observe.admin_views")


def _load(module_path: str) -> Any | None:
    try:
        return import_module(module_path)
    except ModuleNotFoundError as exc:
        if exc.name == module_path:
            return None  # that app has no custom pages yet
        raise


class BoundedDatesMixin:
    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return BoundedDateChangeList


class SuperAdminSite(admin.AdminSite):
    site_header = "BiteTheMenu Super Admin"
    site_title = "BiteTheMenu admin"
    index_title = "Platform administration"

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Every model admin (ours and third-party ones such as Axes') gets BoundedDateChangeList,
        unless it brings a change list of its own."""
        admin_class = admin_class or admin.ModelAdmin
        if admin_class.get_changelist is admin.ModelAdmin.get_changelist:
            admin_class = type(admin_class.__name__, (BoundedDatesMixin, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        # The whole admin is for super admins only: venue staff never get in, even with is_staff.
        return bool(request.user.is_active and request.user.is_superuser)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        extra: list[URLResolver | URLPattern] = []
        for module_path in SUPER_ADMIN_MODULES:
            module = _load(module_path)
            if module is not None and hasattr(module, "super_admin_urls"):
                extra += module.super_admin_urls(self)
        return extra + super().get_urls()

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        for module_path in SUPER_ADMIN_MODULES:
            module = _load(module_path)
            if module is not None and hasattr(module, "super_admin_context"):
                context.update(module.super_admin_context(request))
        return context


class BoundedDateChangeList(ChangeList):
    """A date-hierarchy year Python's datetime cannot hold (`?created_at__year=9999` asks for the
    year up to 10000) is a bad filter, like any other: Django then shows the list with "?e=1"
    instead of a 500. Django itself catches only a date it cannot build, not the end it adds."""

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


class ReadOnlyAdminMixin:
    """For ledgers, inboxes and audit tables: viewable in the admin, never added, edited or
    deleted there (their writes go through the apps' service functions). Works on ModelAdmin and
    inlines alike."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
