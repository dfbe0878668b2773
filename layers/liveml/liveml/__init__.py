"""LiveML: serverless ML-ops for live games on AWS."""

__version__ = "0.1.0"
