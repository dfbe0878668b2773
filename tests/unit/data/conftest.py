"""Clean synthetic players shared by the data tests (read once per module, never changed in place)."""

from __future__ import annotations

import pandas as pd
import pytest

from liveml.data import generate_players


@pytest.fixture(scope="module")
def players() -> pd.DataFrame:
    """1,000 clean players: every gate passes them."""
    return generate_players(1000, 8)
