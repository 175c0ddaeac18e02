"""A copy's minute book and the meeting a decision names are one read: no commit of the copy lands between them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from shared.meeting_copy import CopiedMeetings
from shared.readstore import ReadStore
from tests.harness import settings_for


def test_the_book_and_the_meeting_are_read_together_and_agree_with_each_read_alone(tmp_path: Path) -> None:
    store = ReadStore(settings_for(data_dir=tmp_path), "copy")
    try:
        copy = CopiedMeetings(store)
        meeting_id = uuid.uuid4()
        assert copy.book_and_meeting("pstg", meeting_id) == (0, None)  # nothing copied yet
        store.execute("INSERT INTO copied_minute_books (body, version) VALUES (?, ?)", ("pstg", 3))
        assert copy.book_and_meeting("pstg", meeting_id) == (3, None)  # the book is past it: it was never held
        store.execute("INSERT INTO copied_meetings (id, body, held_on, title, present, entry, roll)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (str(meeting_id), "pstg", "2011-05-10", "PSTG May meeting",
                       json.dumps(["worcestershire-cc", "worcester-college"]), 3,
                       json.dumps([["worcestershire-cc", 1], ["worcester-college", 2]])))
        known, meeting = copy.book_and_meeting("pstg", meeting_id)
        assert known == copy.minute_book_version("pstg") == 3
        assert meeting is not None and meeting == copy.meeting(meeting_id)
        assert (meeting.title, meeting.entry, meeting.present, meeting.roll) == (
            "PSTG May meeting", 3, ("worcestershire-cc", "worcester-college"),
            (("worcestershire-cc", 1), ("worcester-college", 2)))
        assert copy.book_and_meeting("other-body", meeting_id) == (0, meeting)  # the book asked is the body's
    finally:
        store.close()
