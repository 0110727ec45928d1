"""API for transcripts: a recording's transcript with its segments and timed words, and the
same as captions (WebVTT, SRT) or plain text."""

from __future__ import annotations

from datetime import date, datetime

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Router, Schema

from tidings.accounts.api import PersonOut, person_out
from tidings.recordings.queries import recording_for
from tidings.transcripts import actions, queries
from tidings.transcripts.models import SuggestionState, Transcript, TranscriptState
from tidings.transcripts.words import joins_previous

router = Router(tags=["transcripts"])


class WordOut(Schema):
    start_ms: int
    end_ms: int = Field(..., description="May equal start_ms: some words come with no length.")
    text: str
    probability: float = Field(..., description="How sure the model was, 0 to 1.")
    joins_previous: bool = Field(
        ..., description='Spelt with no space before it: "28" then ".8" read "28.8".'
    )


class SegmentOut(Schema):
    index: int
    start_ms: int
    end_ms: int
    text: str
    words: list[WordOut]


class SentenceOut(Schema):
    start_ms: int
    text: str


class ActionItemOut(Schema):
    id: int
    start_ms: int
    text: str
    owner: PersonOut | None = Field(..., description="Matched to a person who can see it.")
    owner_name: str = Field(..., description="The name as it was said.")
    due_on: date | None
    state: SuggestionState


class TranscriptOut(Schema):
    recording_token: str
    state: TranscriptState
    progress: int = Field(..., description="0–100 while transcribing.")
    failure_reason: str = Field(..., description="Why there are no words, when there are none.")
    model: str
    language: str
    text: str = Field(..., description="Every word, as corrected.")
    finished_at: datetime | None
    summary: list[SentenceOut] = Field(..., description="The most representative sentences.")
    action_items: list[ActionItemOut] = Field(
        ..., description="Said aloud: suggested, or accepted (dismissed ones are left out)."
    )
    segments: list[SegmentOut]


def _transcript(request: HttpRequest, token: str) -> Transcript:
    transcript = queries.transcript_of(recording_for(request.auth, token))
    if transcript is None:
        raise Http404("This recording has no transcript.")
    return transcript


@router.get(
    "/recordings/{token}/transcript",
    response=TranscriptOut,
    summary="A recording's transcript: segments of timed words",
)
def get_transcript(request: HttpRequest, token: str) -> TranscriptOut:
    return _transcript_out(token, _transcript(request, token))


@router.post(
    "/recordings/{token}/transcript/retry",
    response=TranscriptOut,
    summary="Try a failed transcript again (the recording's author or an admin)",
)
def retry_transcript(request: HttpRequest, token: str) -> TranscriptOut:
    recording = recording_for(request.auth, token)
    return _transcript_out(token, actions.retry_transcript(request.auth, recording))


def _transcript_out(token: str, transcript: Transcript) -> TranscriptOut:
    return TranscriptOut(
        recording_token=token,
        state=transcript.state,
        progress=transcript.progress,
        failure_reason=transcript.failure_reason,
        model=transcript.model_name,
        language=transcript.language,
        text=transcript.text,
        finished_at=transcript.finished_at,
        summary=[SentenceOut(start_ms=start, text=text) for start, text in transcript.summary],
        action_items=[
            ActionItemOut(
                id=item.pk,
                start_ms=item.start_ms,
                text=item.text,
                owner=person_out(item.owner),
                owner_name=item.owner_name,
                due_on=item.due_on,
                state=item.state,
            )  # fmt: skip
            for item in queries.action_items_of(transcript)
        ],
        segments=[
            SegmentOut(
                index=segment.index,
                start_ms=segment.start_ms,
                end_ms=segment.end_ms,
                text=segment.text,
                words=[
                    WordOut(
                        start_ms=w[0],
                        end_ms=w[1],
                        text=w[2],
                        probability=w[3],
                        joins_previous=joins_previous(w),
                    )
                    for w in segment.words
                ],
            )
            for segment in transcript.segments.all()
        ],
    )


@router.get(
    "/recordings/{token}/transcript.{fmt}",
    summary="The transcript as WebVTT or SRT captions, or plain text (fmt: vtt, srt, txt)",
    response={200: str},
    openapi_extra={"responses": {200: {"content": {"text/vtt": {}, "text/plain": {}}}}},
)
def get_caption_file(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    if fmt not in queries.CAPTION_FORMATS:
        raise Http404("No such format: use vtt, srt or txt.")
    transcript = _transcript(request, token)
    if transcript.state != TranscriptState.READY:
        raise Http404("The transcript is not ready.")
    return HttpResponse(
        queries.caption_file(transcript, fmt),
        content_type=f"{queries.CAPTION_FORMATS[fmt]}; charset=utf-8",
    )
