"""The initials a reply is signed with (`[brand] signature = "^{initials}"`)."""
from __future__ import annotations

import pytest

from app.core.models import User


@pytest.mark.parametrize(("display_name", "username", "initials"), [
    ("Anna de Vries", "anna", "ADV"),
    ("Sam Jansen (demo)", "sam", "SJ"),
    ("jean-luc.picard", "jl", "JLP"),
    (None, "bob", "B"),
    ("(•‿•)", "ok", "OK"),
])
def test_initials_come_from_the_words_that_start_with_a_letter(display_name, username, initials):
    assert User(username=username, display_name=display_name, password_hash="x", role="responder").initials == initials
