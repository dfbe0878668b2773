"""The model registry: datasets, model versions, stages and lineage in DynamoDB, artifacts in S3."""

from liveml.registry.datasets import DatasetRecord, dataset_model_name, record_dataset
from liveml.registry.errors import RegistryError, StaleStateError, VersionNotFoundError
from liveml.registry.events import EventBridgePublisher, EventPublisher, RecordingPublisher
from liveml.registry.model import Approval, Artifact, HistoryEntry, Lineage, ModelVersion, Stage
from liveml.registry.store import Registry

__all__ = [
    "Approval",
    "Artifact",
    "DatasetRecord",
    "EventBridgePublisher",
    "EventPublisher",
    "HistoryEntry",
    "Lineage",
    "ModelVersion",
    "RecordingPublisher",
    "Registry",
    "RegistryError",
    "Stage",
    "StaleStateError",
    "VersionNotFoundError",
    "dataset_model_name",
    "record_dataset",
]
