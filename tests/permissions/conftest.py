"""The scene, built once per module inside a transaction that is rolled back at its end;
each test still runs in its own savepoint, so what one row changes no other row sees."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings

from tests.permissions.matrix import ROLES
from tests.permissions.scene import Scene, build_scene


@pytest.fixture(scope="module")
def scene_media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _fast_settings(settings, scene_media):
    """The root conftest's settings, but with the scene's media folder for every test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = scene_media
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.RATELIMIT_ENABLE = False


@pytest.fixture(scope="module")
def scene(django_db_setup, django_db_blocker, scene_media) -> Scene:
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=scene_media,
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            STORAGES={
                **settings.STORAGES,
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
        ),
        transaction.atomic(),
    ):
        yield build_scene()
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def sessions(scene: Scene, django_db_blocker) -> dict[str, str]:
    """role → the session cookie of that person signed in (made inside the scene's
    transaction, so it goes away with it)."""
    cookies = {}
    with django_db_blocker.unblock():
        for role in ROLES:
            person = scene.world.person(role)
            if person is not None:
                client = Client()
                client.force_login(person)
                cookies[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return cookies


# Addresses that name nothing, one for each kind of 404 a page route gives.
NOTHING = ("/t/999999999/",)


@pytest.fixture(scope="module")
def not_found(scene: Scene, sessions: dict[str, str], django_db_blocker) -> dict:
    """(role, content type) → the 404 answer for an address that names nothing."""
    answers = {}
    with django_db_blocker.unblock():
        for role, cookie in sessions.items():
            client = Client()
            client.cookies[settings.SESSION_COOKIE_NAME] = cookie
            for path in NOTHING:
                response = client.get(path)
                assert response.status_code == 404, path
                answers[(role, response["Content-Type"])] = response.content.decode()
    return answers
