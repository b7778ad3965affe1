"""Conformance harness, strategies and reference loop for Lerax callbacks."""

from ._loop import TrainingResult as TrainingResult, run_training as run_training
