from django.urls import path

from tidings.accounts import views

app_name = "accounts"
urlpatterns = [
    path("sign-in", views.sign_in, name="sign-in"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("password-reset", views.password_reset, name="password-reset"),
    path("password-reset/sent", views.password_reset_sent, name="password-reset-sent"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password-reset-confirm",
    ),
    path("password-reset/done", views.password_reset_complete, name="password-reset-complete"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/profile", views.update_profile, name="update-profile"),
    path("settings/delivery", views.delivery_page, name="delivery"),
    path("settings/delivery/preview", views.delivery_preview, name="delivery-preview"),
    path("settings/password", views.change_password, name="change-password"),
    path("settings/sessions/<int:session_id>/sign-out", views.end_session, name="end-session"),
    path("settings/sessions/sign-out-others", views.end_other_sessions, name="end-other-sessions"),
    path("settings/tokens", views.create_token, name="create-token"),
    path("settings/tokens/<int:token_id>/revoke", views.revoke_token, name="revoke-token"),
]
