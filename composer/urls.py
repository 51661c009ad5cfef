"""Venue pages (included at the site root by bitethemenu.urls)."""

from __future__ import annotations

from django.urls import path

from composer.views import ai_settings, compose, library, library_actions, menu

app_name = "composer"
urlpatterns = [
    path("composer/", compose.composer, name="composer"),
    path("composer/image/", compose.generate_image, name="generate-image"),
    path("composer/caption/", compose.write_caption, name="write-caption"),
    path("jobs/<int:job_id>/", compose.job, name="job"),
    path("library/", library.library, name="library"),
    path("library/jobs/<int:job_id>/", library.library_job, name="library-job"),
    path("library/<int:asset_id>/edit/", library.edit_image, name="edit"),
    path("library/<int:asset_id>/image/", library.asset_file, name="image"),
    path("library/<int:asset_id>/download/", library.asset_file, {"download": True}, name="download"),
    path("library/archived/", library_actions.archived, name="archived"),
    path("library/<int:asset_id>/archive/", library_actions.archive, name="archive"),
    path("library/<int:asset_id>/restore/", library_actions.restore, name="restore"),
    path("library/<int:asset_id>/text/", library_actions.save_menu_text, name="menu-text"),
    path("menu/import/", menu.menu_import, name="menu-import"),
    path("settings/ai/", ai_settings.ai_settings, name="ai-settings"),
]
