"""HTTP for the people pages: sign-in and out, password reset, settings, delivery, rate limit."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from tidings.accounts import actions, delivery, queries
from tidings.accounts.forms import (
    AccessTokenForm,
    ChangePasswordForm,
    DeliveryForm,
    NewPasswordForm,
    ProfileForm,
    ResetPasswordForm,
    SignInForm,
    SignOutEverywhereForm,
)
from tidings.accounts.models import DeliverySettings

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
    form_class = NewPasswordForm

    def form_valid(self, form):
        response = super().form_valid(form)
        # A reset means the old password may be known to someone: end every session, and
        # unless the person unticked it, every token made with that password too.
        actions.sign_out_other_sessions(self.user, None)
        if form.cleaned_data["revoke_tokens"]:
            actions.revoke_all_access_tokens(self.user)
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
        "sign_out_form": SignOutEverywhereForm(),
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
    said = "Your password is changed. Other browsers were signed out."
    if form.cleaned_data["revoke_tokens"]:
        revoked = actions.revoke_all_access_tokens(request.user)
        said += f" {revoked} access token{'s' if revoked != 1 else ''} revoked." if revoked else ""
    messages.success(request, said)
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
    form = SignOutEverywhereForm(request.POST)
    form.is_valid()  # a lone checkbox: always valid
    count = actions.sign_out_other_sessions(request.user, request.session.session_key)
    revoked = (
        actions.revoke_all_access_tokens(request.user) if form.cleaned_data["revoke_tokens"] else 0
    )
    said = [
        f"Signed out of {count} other session{'s' if count != 1 else ''}."
        if count
        else "You were not signed in anywhere else."
    ]
    if revoked:
        said.append(f"{revoked} access token{'s' if revoked != 1 else ''} revoked.")
    messages.success(request, " ".join(said))
    return redirect("accounts:settings")


@login_required
@require_POST
def create_token(request: HttpRequest) -> HttpResponse:
    form = AccessTokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = actions.create_access_token(
                request.user,
                form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
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


# --- Delivery: when Tidings may email me, and how much of each space reaches me.


def _when(moment: dt.datetime | None, now: dt.datetime, zone) -> str:
    """A send time as the person reads it: "today at 16:00", "tomorrow at 08:00", "Mon 15 Jun"."""
    if moment is None:
        return "never: you chose no email"
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if moment <= now + dt.timedelta(seconds=59):
        return "right away"
    if local.date() == today:
        return f"today at {clock}"
    if local.date() == today + dt.timedelta(days=1):
        return f"tomorrow at {clock}"
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b')} at {clock}"


def _preview(row: DeliverySettings, now: dt.datetime) -> dict[str, object]:
    """What the preview box says for these (possibly unsaved) settings, at `now`."""
    zone = row.zone
    local_now = now.astimezone(zone)
    tonight = delivery.local_instant(zone, local_now.date(), dt.time(21, 0))
    if tonight < now:
        tonight = delivery.local_instant(zone, local_now.date() + dt.timedelta(days=1), dt.time(21))
    if delivery.is_away(row, now):
        state = "You are away: no emails until you are back."
    elif delivery.in_quiet_hours(row, now):
        state = "You are in quiet hours: emails wait until they end."
    elif delivery.next_working_start(row, now) == now:
        state = "You are in working hours."
    else:
        state = "You are outside working hours but not in quiet hours."
    rows = [
        ("A reply posted now", _when(delivery.next_email_time(row, now), now, zone)),
        (
            "A mention at 21:00 "
            + ("tonight" if tonight.astimezone(zone).date() == local_now.date() else "tomorrow"),
            _when(delivery.next_email_time(row, tonight, urgent=True), now, zone),
        ),
    ]
    digest = delivery.next_digest_time(row, now)
    if digest is not None:
        rows.append(("Your next digest", _when(digest, now, zone)))
    rows.append(
        (
            "Send later “in working hours” reaches you",
            _when(delivery.next_working_start(row, now), now, zone),
        )
    )
    return {
        "now_text": local_now.strftime("%a %H:%M"),
        "zone_name": row.user.time_zone,
        "state": state,
        "rows": rows,
    }


def delivery_settings_page(
    request: HttpRequest, status: int = 200, form: DeliveryForm | None = None, **extra
) -> HttpResponse:
    """The delivery settings page; its table of space levels comes from the threads app
    (`tidings.threads.context.space_levels`), which also saves it."""
    row = delivery.settings_for(request.user)
    if form is None:
        form = DeliveryForm(initial=DeliveryForm.initial_for(row))
    context = {
        "form": form,
        "preview": _preview(row, timezone.now()),
        **extra,
    }
    return render(request, "accounts/delivery.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def delivery_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return delivery_settings_page(request)
    form = DeliveryForm(request.POST)
    if form.is_valid():
        try:
            actions.update_delivery_settings(request.user, **form.delivery_fields())
        except ValidationError as error:
            _add_errors(form, error)
    if not form.is_valid():
        return delivery_settings_page(request, 400, form)
    messages.success(request, "Your delivery settings are saved.")
    return redirect("accounts:delivery")


def _add_errors(form: DeliveryForm, error: ValidationError) -> None:
    for name, problems in error.message_dict.items():
        form.add_error(name if name in form.fields else None, problems)


@login_required
@require_POST
def delivery_preview(request: HttpRequest) -> HttpResponse:
    """The preview box for the settings as they stand in the form, saved or not (htmx)."""
    form = DeliveryForm(request.POST)
    preview, problems = None, []
    if form.is_valid():
        try:
            row = actions.build_delivery_settings(request.user, **form.delivery_fields())
            preview = _preview(row, timezone.now())
        except ValidationError as error:
            problems = [p for messages_ in error.message_dict.values() for p in messages_]
    else:
        problems = [p for messages_ in form.errors.values() for p in messages_]
    return render(
        request, "accounts/_delivery_preview.html", {"preview": preview, "problems": problems}
    )
