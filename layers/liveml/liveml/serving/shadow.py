"""Shadow traffic, serving side: a sampled share of answered predictions of one model goes to a queue
with the answer the player got, for a candidate version to score later (``liveml.rollout.shadow``).

The player's answer is already made when this runs and never depends on it: a failed send is logged
and dropped (shadow data is a sample, not a record). Configured per published version, so turning
shadowing on or off is an alias move like any other:

    LIVEML_SHADOW = {"candidate": "<function version>", "model": "churn", "model_version": "4",
                     "sample_rate": 0.1}
    LIVEML_SHADOW_QUEUE = <SQS queue URL>   (from the stack)
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from typing import Any

from liveml.binding.constants import SHADOW, SHADOW_QUEUE
from liveml.binding.environment import read

log = logging.getLogger(__name__)


class ShadowTee:
    def __init__(
        self,
        config: dict[str, Any] | None,
        queue_url: str | None,
        *,
        default_model: str | None = None,
        sqs: Any = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config or {}
        self.queue_url = queue_url
        self.rate = float(self.config.get("sample_rate", 0.0))
        model = self.config.get("model")
        # The routes that serve the shadowed model: its own, and the model-less one if it is the default.
        self.paths = {f"/models/{model}/predict"} if model else {"/predict"}
        if model is None or model == default_model:
            self.paths.add("/predict")
        self._sqs = sqs
        self._rng = rng

    @classmethod
    def from_env(cls, default_model: str | None = None) -> ShadowTee:
        raw = read(SHADOW)
        try:
            config = json.loads(raw) if raw else None
        except ValueError:
            log.error("%s is not JSON; shadowing is off", SHADOW)
            config = None
        return cls(config, read(SHADOW_QUEUE), default_model=default_model)

    def reset_client(self) -> None:
        """Forget the SQS client (after a SnapStart restore its connections are dead)."""
        self._sqs = None

    @property
    def enabled(self) -> bool:
        return bool(self.queue_url and self.rate > 0 and self.config.get("candidate"))

    def after(self, event: dict[str, Any], response: dict[str, Any]) -> bool:
        """Maybe enqueue this request; True when it was sent."""
        if not self.enabled or response.get("statusCode") != 200:
            return False
        if (
            event.get("httpMethod") != "POST"
            or event.get("path") not in self.paths
            or self._rng() >= self.rate
        ):
            return False
        try:
            if self._sqs is None:
                from liveml.aws.clients import client

                self._sqs = client("sqs", connect_timeout=1, read_timeout=2)
            message = {
                "candidate": self.config["candidate"],
                "model": self.config.get("model"),
                "model_version": self.config.get("model_version"),
                "path": event.get("path"),
                "request": json.loads(event.get("body") or "null"),
                "primary": json.loads(response.get("body") or "null"),
            }
            self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message))
        except Exception as exc:  # never the player's problem
            log.warning("shadow sample not sent: %s", exc)
            return False
        return True
