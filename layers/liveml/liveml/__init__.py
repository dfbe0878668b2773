"""LiveML: serverless ML-ops for live games on AWS."""

from liveml.plugins_off import skip_discovery_when_disabled

__version__ = "0.1.0"

skip_discovery_when_disabled()  # before any pydantic model is built (see liveml.plugins_off)
