from django.urls import include, path

from tidings import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("tidings.accounts.urls")),
    path("", include("tidings.workspaces.urls")),
    path("", include("tidings.people.urls")),
    path("", include("tidings.threads.urls")),
    path("", include("tidings.inbox.urls")),
    path("", include("tidings.search.urls")),
    path("", include("tidings.recordings.urls")),
    path("", include("tidings.transcripts.urls")),
    path("", include("tidings.mail.urls")),
    path("api/", include("tidings.api.urls")),
]
