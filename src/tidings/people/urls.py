from django.urls import path

from tidings.people import views

app_name = "people"
urlpatterns = [
    path("invite/<str:token>/", views.accept_invite, name="accept-invite"),
    path("w/<slug:workspace>/people/", views.people, name="people"),
    path("w/<slug:workspace>/people/invite", views.invite, name="invite"),
    path(
        "w/<slug:workspace>/people/invites/<int:invite_id>/resend",
        views.resend_invite,
        name="resend-invite",
    ),
    path(
        "w/<slug:workspace>/people/invites/<int:invite_id>/revoke",
        views.revoke_invite,
        name="revoke-invite",
    ),
    path(
        "w/<slug:workspace>/people/members/<int:membership_id>/role",
        views.change_role,
        name="change-role",
    ),
    path(
        "w/<slug:workspace>/people/members/<int:membership_id>/deactivate",
        views.deactivate_member,
        name="deactivate-member",
    ),
]
