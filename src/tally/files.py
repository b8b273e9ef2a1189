"""Files (files_notes.md) as other resources refer to them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tally.domain.errors import InvalidRequest


def check_attachments(file_ids: Sequence[Any] | None) -> None:
    """Attachments must name existing files (invoices.md §15, payments B2). Files arrive with
    files_notes.md; until then no file id exists, so any id is unknown."""
    for file_id in file_ids or []:
        raise InvalidRequest(f"No such file: {file_id}", "attachments")
