import pytest


@pytest.fixture(autouse=True)
def _transcription_settings(settings):
    settings.TRANSCRIPTION_CPU_THREADS = 2
