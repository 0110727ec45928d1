from django.urls import path

from tidings.mail import views

app_name = "mail"
urlpatterns = [
    path("email/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("email/original/<int:message_id>", views.original, name="original"),
    path("w/<slug:workspace>/email", views.workspace_email, name="workspace-email"),
    path("w/<slug:workspace>/s/<slug:space>/email", views.space_email, name="space-email"),
    path(
        "w/<slug:workspace>/s/<slug:space>/email/held/<int:message_id>",
        views.held_message,
        name="held-message",
    ),
]
