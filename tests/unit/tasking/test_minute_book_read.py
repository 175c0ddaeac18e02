"""A body's minute book is read incrementally (the entries since the last read), not replayed whole at every meeting
and decision: what a read returns is still the book as stored, with the meetings another process entered, and a
command's changes to the book it was given never reach the next read unless saved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from services.tasking.application import TaskingApplication
from shared.contracts import Actor
from shared.eventstore import CommandContext
from tests.harness import settings_for

OFFICER = CommandContext(Actor("officer-1", "worcestershire-cc", "partnership_officer"), "corr-book")
PSTG = ["worcestershire-cc", "chamber-of-commerce", "worcester-college"]


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[tuple[TaskingApplication, TaskingApplication]]:
    settings = settings_for(data_dir=tmp_path)
    one, other = TaskingApplication(settings), TaskingApplication(settings)
    yield one, other
    one.close()
    other.close()


def test_the_minute_book_read_is_the_stored_one(apps: tuple[TaskingApplication, TaskingApplication]) -> None:
    one, other = apps
    for organisation in PSTG:
        one.join(OFFICER, body="pstg", organisation=organisation, joined_on=date(2010, 1, 1))
    first = one.hold_meeting(OFFICER, body="pstg", held_on=date(2011, 1, 10), present=PSTG)
    assert one.meeting_version(first) == 1
    # Another process (another replica of the service) enters two more meetings of the body.
    second = other.hold_meeting(OFFICER, body="pstg", held_on=date(2011, 2, 10), present=PSTG)
    third = other.hold_meeting(OFFICER, body="pstg", held_on=date(2011, 3, 10), present=PSTG)
    book = one.minute_book("pstg")
    assert book is not None and book.version == 3
    assert (one.meeting_version(second), one.meeting_version(third)) == (2, 3)
    # A change made to a book read, and never saved, is not what the next read sees.
    book.entries.clear()
    again = one.minute_book("pstg")
    assert again is not None and len(again.entries) == 3
    fourth = one.hold_meeting(OFFICER, body="pstg", held_on=date(2011, 4, 10), present=PSTG)
    assert one.meeting_version(fourth) == 4 and other.meeting_version(fourth) == 4
