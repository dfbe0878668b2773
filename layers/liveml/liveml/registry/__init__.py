"""The model registry: datasets, model versions, stages and lineage in DynamoDB, artifacts in S3."""

from liveml.registry.datasets import DatasetRecord, dataset_model_name, record_dataset
from liveml.registry.errors import RegistryError

__all__ = ["DatasetRecord", "RegistryError", "dataset_model_name", "record_dataset"]
