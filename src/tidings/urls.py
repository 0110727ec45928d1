from django.urls import include, path

from tidings import views
from tidings.pages import urls as pages
from tidings.threads import urls as threads

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("tidings.accounts.urls")),
    path("", include("tidings.workspaces.urls")),
    path("", include("tidings.people.urls")),
    path("", include((threads.urlpatterns + pages.thread_pages, threads.app_name))),
    path("", include("tidings.inbox.urls")),
    path("", include("tidings.search.urls")),
    path("", include("tidings.recordings.urls")),
    path("", include("tidings.transcripts.urls")),
    path("", include("tidings.mail.urls")),
    path("api/", include("tidings.api.urls")),
]
