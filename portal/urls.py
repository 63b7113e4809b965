from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from . import offline, views

urlpatterns = [
    path("", views.home, name="home"),
    # Pages that name no icon (the admin's) make browsers ask for /favicon.ico.
    path("favicon.ico", views.favicon),
    path("healthz/", views.healthz, name="healthz"),
    # Before allauth: the offline app's pages, and the logout that clears the offline data.
    path("", include(offline.urlpatterns)),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("branches/", include("branches.urls")),
    path("core/", include("core.urls")),
    path("", include("notifications.urls")),
    path("", include("discussions.urls")),
    path("", include("lessons.urls")),
    path("", include("meetings.urls")),
    path("", include("welfare.urls")),
    path("", include("decisions.urls")),
    path("", include("members.urls")),
    path("", include("reports.urls")),
]

if settings.NETBRANCH_SERVE_MEDIA:
    # Uploaded files. Behind a real web server, set DJANGO_SERVE_MEDIA=0 and let it serve them.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
