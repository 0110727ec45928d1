"""Each word keeps whether it is glued to the one before ("28" ".8" reads "28.8"), and the
texts made from words are spelt again. Words stored before kept no spacing: one that starts
with punctuation (".8", "-substantial", "'s", "%") is taken to be glued to the one before.
A summary of a recording under half a minute goes: such a recording gets none."""

import re

from django.db import migrations

GLUED_STARTS = ".,;:!?%')’-"
SPACE_BEFORE_GLUED = re.compile(r" (?=[.,;:!?%')’-])")
SHORTEST_SUMMARISED_MS = 30_000


def _spelt(words: list[list]) -> str:
    parts: list[str] = []
    for word in words:
        if not word[2]:
            continue  # corrected away
        if parts and not word[4]:
            parts.append(" ")
        parts.append(word[2])
    return "".join(parts)


def spell_again(apps, schema_editor) -> None:
    Transcript = apps.get_model("transcripts", "Transcript")
    Segment = apps.get_model("transcripts", "Segment")
    ActionItem = apps.get_model("transcripts", "ActionItem")
    # The search index keeps a copy of each transcript's text (see search.index).
    SearchDocument = apps.get_model("search", "SearchDocument")
    for pk in list(Transcript.objects.values_list("pk", flat=True)):
        transcript = Transcript.objects.get(pk=pk)
        segments = list(Segment.objects.filter(transcript_id=pk).order_by("index"))
        every_word: list[list] = []
        for segment in segments:
            for word in segment.words:
                if len(word) == 4:
                    word.append(bool(every_word) and word[2].startswith(tuple(GLUED_STARTS)))
                every_word.append(word)
            segment.text = _spelt(segment.words)
        Segment.objects.bulk_update(segments, ["words", "text"], batch_size=200)
        # Only a finished transcript has its text (the job spells it when the words are all in).
        text = _spelt(every_word) if transcript.state == "ready" else transcript.text
        summary = [[start, SPACE_BEFORE_GLUED.sub("", said)] for start, said in transcript.summary]
        if transcript.duration_ms < SHORTEST_SUMMARISED_MS:
            summary = []
        if (text, summary) != (transcript.text, transcript.summary):
            Transcript.objects.filter(pk=pk).update(text=text, summary=summary)
        if text != transcript.text:
            SearchDocument.objects.filter(recording_id=transcript.recording_id).update(body=text)
        for item in ActionItem.objects.filter(transcript_id=pk):
            spelt = SPACE_BEFORE_GLUED.sub("", item.text)
            if spelt != item.text:
                ActionItem.objects.filter(pk=item.pk).update(text=spelt)


class Migration(migrations.Migration):
    dependencies = [
        ("transcripts", "0003_transcript_job_chain"),
        ("search", "0004_transcript_documents"),
    ]

    operations = [migrations.RunPython(spell_again, migrations.RunPython.noop)]
