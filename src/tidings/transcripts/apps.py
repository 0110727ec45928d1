from django.apps import AppConfig
from django.core import checks


class TranscriptsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tidings.transcripts"

    def ready(self) -> None:
        from tidings.transcripts import jobs  # noqa: F401  Registers its Huey jobs with the worker.

        checks.register(speech_model_check, "transcripts", deploy=True)


def speech_model_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`tidings check --deploy`: the configured speech model loads on this machine."""
    # Only `check --deploy` needs the speech engine; every other start skips loading it.
    from tidings.transcripts.engine import model_problem

    problem = model_problem()
    if not problem:
        return []
    return [
        checks.Error(
            f"The speech model cannot be loaded: {problem}",
            hint="Set TRANSCRIPTION_MODEL to a faster-whisper model directory, or to a size "
            "name whose model is in TRANSCRIPTION_MODEL_DIR; unset, the bundled tiny.en is used.",
            id="tidings.E010",
        )
    ]
