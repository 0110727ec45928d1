import datetime
import hashlib
import unicodedata
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


def validate_time_zone(value: str) -> None:
    from django.core.exceptions import ValidationError

    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone. Pick one like Europe/Berlin.")


# Characters that may never be part of a display name: they break lines (and so email headers)
# or turn the text around it (a name that shows as someone else's). Emoji and their joiners stay.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e") | frozenset(
    "\u2066\u2067\u2068\u2069"
)


def _is_forbidden_in_name(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Zl", "Zp"} or char in _BIDI_CONTROLS


def validate_display_name(value: str) -> None:
    from django.core.exceptions import ValidationError

    if any(_is_forbidden_in_name(char) for char in value):
        raise ValidationError(
            "A name cannot hold line breaks, tabs or other control characters. Type it on one line."
        )


def header_safe_name(name: str) -> str:
    """A display name fit for an email header, whatever was stored (names saved before they
    were checked): forbidden characters become spaces, runs of spaces one."""
    cleaned = "".join(" " if _is_forbidden_in_name(char) else char for char in name)
    return " ".join(cleaned.split())


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Signs in with email; everything they see is scoped by memberships."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    @property
    def handle(self) -> str:
        """The @mention handle: the email's local part, which is stable and unique enough."""
        return self.email.split("@", 1)[0]


class SignedInSession(models.Model):
    """One row per browser session, so people can see where they are signed in."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.user} on {self.user_agent[:40] or 'an unknown browser'}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenScope(models.TextChoices):
    """What an API token may do. Admin and tokens add to read and write, never replace them."""

    READ = "read", "Read: see what you can see"
    WRITE = "write", "Write: post, reply, change your settings"
    ADMIN = "admin", "Admin: manage people and invitations where you are an owner or admin"
    TOKENS = "tokens", "Tokens: list, make and revoke API tokens"


def default_token_scopes() -> list[str]:
    return [TokenScope.READ.value, TokenScope.WRITE.value]


class AccessToken(models.Model):
    """A personal access token for the JSON API. Only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    scopes = models.JSONField(default=default_token_scopes)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def scope_names(self) -> list[str]:
        """The scopes in the order of TokenScope, for showing."""
        return [scope.value for scope in TokenScope if scope.value in self.scopes]


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def default_working_hours() -> dict[str, list[str] | None]:
    return {day: (["09:00", "17:00"] if day not in {"sat", "sun"} else None) for day in WEEKDAYS}


def parse_clock(value: object) -> datetime.time | None:
    """A "HH:MM" string as a time, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.strptime(value.strip(), "%H:%M").time()
    except ValueError:
        return None


def validate_working_hours(value: object) -> None:
    """Seven weekdays, each ["HH:MM", "HH:MM"] with the end after the start, or null (off)."""
    from django.core.exceptions import ValidationError

    if not isinstance(value, dict) or set(value) != set(WEEKDAYS):
        raise ValidationError("Give working hours for each day from mon to sun (null for off).")
    for day, name in zip(WEEKDAYS, WEEKDAY_NAMES, strict=True):
        hours = value[day]
        if hours is None:
            continue
        if not isinstance(hours, list | tuple) or len(hours) != 2:
            raise ValidationError(f"{name}: give a start and an end, like 09:00 and 17:00.")
        start, end = (parse_clock(part) for part in hours)
        if start is None or end is None:
            raise ValidationError(f"{name}: write times as HH:MM, like 09:00.")
        if end <= start:
            raise ValidationError(f"{name}: the end must be after the start.")


class EmailCadence(models.TextChoices):
    IMMEDIATELY = "immediately", "Immediately"
    HOURLY = "hourly", "Hourly batch"
    DAILY = "daily", "Daily digest"
    WEEKLY = "weekly", "Weekly digest"
    NEVER = "never", "Never"


class DeliverySettings(models.Model):
    """When a person wants to hear from Tidings. The time zone is the person's own (User)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="delivery_settings")
    working_hours = models.JSONField(
        default=default_working_hours, validators=[validate_working_hours]
    )
    # Both empty: no quiet hours. A start after the end spans midnight (20:00–08:00).
    quiet_start = models.TimeField(null=True, blank=True, default=datetime.time(20, 0))
    quiet_end = models.TimeField(null=True, blank=True, default=datetime.time(8, 0))
    away_until = models.DateField(null=True, blank=True)
    cadence = models.CharField(
        max_length=12, choices=EmailCadence.choices, default=EmailCadence.HOURLY
    )
    digest_time = models.TimeField(default=datetime.time(8, 30))
    digest_weekday = models.PositiveSmallIntegerField(
        default=0, choices=list(enumerate(WEEKDAY_NAMES))
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "delivery settings"

    def __str__(self) -> str:
        return f"Delivery settings of {self.user}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return self.user.zone

    def working_window(self, weekday: int) -> tuple[datetime.time, datetime.time] | None:
        """(start, end) of the working hours on a weekday (0 = Monday), or None for a day off."""
        hours = (self.working_hours or {}).get(WEEKDAYS[weekday])
        if not hours:
            return None
        start, end = parse_clock(hours[0]), parse_clock(hours[1])
        if start is None or end is None or end <= start:
            return None
        return start, end
