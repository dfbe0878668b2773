"""What every HTML report shares about its plots: matplotlib without a display (Lambda and CI have
none), and figures embedded in the page as base64 PNGs so one file is the whole report."""

from __future__ import annotations

import base64
import io
from typing import Any


def pyplot() -> Any:
    """matplotlib's pyplot on the headless Agg backend (imported only by code that draws)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_base64(fig: Any, dpi: int = 80) -> str:
    """The figure as a base64 PNG, and the figure closed (pyplot keeps every open one alive)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def img_tag(fig: Any, dpi: int = 100) -> str:
    """The figure as an ``<img>`` carrying its PNG inline."""
    return f'<img alt="" src="data:image/png;base64,{png_base64(fig, dpi)}">'
