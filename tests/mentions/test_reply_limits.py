"""A reply is measured the way its channel measures it before anything is posted."""
from __future__ import annotations

import pytest

from app.core.errors import Invalid
from app.core.models import Mention
from app.mentions.send import check_postable
from connectors.bluesky import BlueskyConnector
from connectors.x import XConnector


def test_x_replies_are_measured_by_x_weighted_count():
    mention = Mention(channel="x", author="klant", text="help")
    check_postable(mention, "Sorry! Zie https://www.acme.nl/status/" + "s" * 400, XConnector.capabilities)
    with pytest.raises(Invalid, match="282"):
        check_postable(mention, "谢" * 141, XConnector.capabilities)


def test_other_channels_count_graphemes():
    mention = Mention(channel="bluesky", author="klant", text="help")
    check_postable(mention, "🇳🇱" * 300, BlueskyConnector.capabilities)  # 600 code points, 300 graphemes
    with pytest.raises(Invalid, match="301"):
        check_postable(mention, "🇳🇱" * 300 + "!", BlueskyConnector.capabilities)
