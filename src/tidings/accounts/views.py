"""HTTP for the people pages: sign-in and out, password reset, settings, rate-limit page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from tidings.accounts import actions, queries
from tidings.accounts.forms import (
    AccessTokenForm,
    ChangePasswordForm,
    ProfileForm,
    ResetPasswordForm,
    SignInForm,
)

# Attempts allowed per account (the email posted) and per client address.
SIGN_IN_RATE_PER_ACCOUNT = "10/15m"
SIGN_IN_RATE_PER_ADDRESS = "30/15m"
RESET_RATE_PER_ACCOUNT = "3/h"
RESET_RATE_PER_ADDRESS = "10/h"


def posted_email(group: str, request: HttpRequest) -> str:
    """Rate-limit key: the email in the form, whatever its case or spacing."""
    return (request.POST.get("username") or request.POST.get("email") or "").strip().lower()


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Shown instead of a page when someone tries too often (settings.RATELIMIT_VIEW)."""
    response = render(request, "accounts/rate_limited.html", status=429)
    response["Retry-After"] = "300"
    return response


def _limited(view, group: str, per_account: str, per_address: str):
    view = ratelimit(group=f"{group}-account", key=posted_email, rate=per_account, method="POST")(
        view
    )
    return ratelimit(group=f"{group}-address", key="ip", rate=per_address, method="POST")(view)


sign_in = _limited(
    auth_views.LoginView.as_view(
        template_name="accounts/sign_in.html",
        authentication_form=SignInForm,
        redirect_authenticated_user=True,
    ),
    "sign-in",
    SIGN_IN_RATE_PER_ACCOUNT,
    SIGN_IN_RATE_PER_ADDRESS,
)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    actions.forget_session(request.session.session_key)
    logout(request)
    messages.success(request, "You are signed out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


password_reset = _limited(
    auth_views.PasswordResetView.as_view(
        form_class=ResetPasswordForm,
        template_name="accounts/password_reset.html",
        subject_template_name="accounts/email/password_reset_subject.txt",
        email_template_name="accounts/email/password_reset.txt",
        html_email_template_name="accounts/email/password_reset.html",
        success_url=reverse_lazy("accounts:password-reset-sent"),
        extra_email_context={"site_url": settings.SITE_URL, "site_name": "Tidings"},
    ),
    "password-reset",
    RESET_RATE_PER_ACCOUNT,
    RESET_RATE_PER_ADDRESS,
)
password_reset_sent = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_sent.html"
)


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # A reset means the old password may be known to someone: end every session.
        actions.sign_out_other_sessions(self.user, None)
        return response


password_reset_confirm = PasswordResetConfirm.as_view()
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


def _settings_page(request: HttpRequest, status: int = 200, **forms) -> HttpResponse:
    person = request.user
    context = {
        "profile_form": ProfileForm(initial={"name": person.name, "time_zone": person.time_zone}),
        "password_form": ChangePasswordForm(person),
        "token_form": AccessTokenForm(),
        "sessions": queries.signed_in_sessions(person, request.session.session_key),
        "tokens": queries.active_access_tokens(person),
        **forms,
    }
    return render(request, "accounts/settings.html", context, status=status)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


@login_required
@require_POST
def update_profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            actions.update_profile(request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
    if not form.is_valid():
        return _settings_page(request, 400, profile_form=form)
    messages.success(request, "Your profile is saved.")
    return redirect("accounts:settings")


@login_required
@require_POST
def change_password(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.user, request.POST)
    if form.is_valid():
        try:
            actions.change_password(
                request.user,
                new_password=form.cleaned_data["new_password"],
                keep_session_key=request.session.session_key,
            )
        except ValidationError as error:
            form.add_error("new_password", error)
    if not form.is_valid():
        return _settings_page(request, 400, password_form=form)
    old_key = request.session.session_key
    update_session_auth_hash(request, request.user)
    actions.follow_session_key(old_key, request.session.session_key)
    messages.success(request, "Your password is changed. Other browsers were signed out.")
    return redirect("accounts:settings")


@login_required
@require_POST
def end_session(request: HttpRequest, session_id: int) -> HttpResponse:
    row = actions.sign_out_session(request.user, session_id)
    if row.session_key == request.session.session_key:
        logout(request)
        return redirect(settings.LOGOUT_REDIRECT_URL)
    messages.success(request, "That session is signed out.")
    return redirect("accounts:settings")


@login_required
@require_POST
def end_other_sessions(request: HttpRequest) -> HttpResponse:
    count = actions.sign_out_other_sessions(request.user, request.session.session_key)
    if count:
        messages.success(
            request, f"Signed out of {count} other session{'s' if count != 1 else ''}."
        )
    else:
        messages.info(request, "You were not signed in anywhere else.")
    return redirect("accounts:settings")


@login_required
@require_POST
def create_token(request: HttpRequest) -> HttpResponse:
    form = AccessTokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = actions.create_access_token(request.user, form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error(None, error)
    if not form.is_valid():
        return _settings_page(request, 400, token_form=form)
    # Rendered, not redirected: the raw token must never be stored, not even in a message.
    return _settings_page(request, 201, new_token=token, new_token_raw=raw)


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = actions.revoke_access_token(request.user, token_id)
    messages.success(request, f"The token “{token.name}” is revoked.")
    return redirect("accounts:settings")
