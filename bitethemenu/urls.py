from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from bitethemenu import views
from bitethemenu.api import api
from observe.views import metrics_view

urlpatterns = [
    path("", views.home, name="home"),
    path("venue/switch/", views.switch_venue, name="switch-venue"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("credits/", include("credits.urls")),
    path("", include("composer.urls")),
]
# No /media/ route, in DEBUG either: generated images are served only through
# composer.views.library.asset_file, which checks the user belongs to the asset's venue.
