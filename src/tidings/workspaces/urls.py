from django.urls import path

from tidings.workspaces import views

app_name = "workspaces"
urlpatterns = [
    path("setup/<str:token>/", views.setup, name="setup"),
]
