"""Pydantic's plugin discovery, skipped where ``PYDANTIC_DISABLE_PLUGINS`` turns every plugin off.

Pydantic honours that setting (its ``get_plugins()`` then returns nothing) but still imports
``importlib.metadata`` first, and that import alone (email, zipfile, csv and their kin) costs tens of
milliseconds of each cold start of the predict function, which sets it. Registering the loader as a
module whose ``get_plugins()`` returns nothing, before pydantic builds its first model, is exactly what
pydantic would do then, without the import. Anywhere the setting is absent this does nothing.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

#: Pydantic's own values for "no plugin at all" (pydantic.plugin._loader.get_plugins).
ALL_OFF = ("__all__", "1", "true")
LOADER = "pydantic.plugin._loader"


def skip_discovery_when_disabled() -> bool:
    """Stand in for pydantic's plugin loader when every plugin is disabled; True when it did."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in ALL_OFF or LOADER in sys.modules:
        return False
    loader = ModuleType(LOADER, "No pydantic plugins: PYDANTIC_DISABLE_PLUGINS disables them all.")
    loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
    sys.modules[LOADER] = loader
    return True
