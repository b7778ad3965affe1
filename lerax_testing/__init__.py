"""Conformance harness, strategies and reference loop for Lerax callbacks."""

from . import strategies as strategies
from ._config import ConfigError as ConfigError
from ._harness import check_callback as check_callback
from ._loop import TrainingResult as TrainingResult, run_training as run_training
from ._report import (
    CHECKS as CHECKS,
    CheckResult as CheckResult,
    ConformanceError as ConformanceError,
    Failure as Failure,
    Report as Report,
)
