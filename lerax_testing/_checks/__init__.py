"""The conformance checks: the registry (`_registry`), one `Check` record per
check id, and one function per check, grouped by family in modules (`_api`,
`_execution`, `_transforms`, `_structure`, `_purity` with `_mutation`, `_retrace`,
`_side_effects` with `_capture`, `_finite`, `_typecheck`, `_lerax`). Each
function takes a `Subject` and returns its `Failure`s; the check modules may
import the harness core, never the command or the formats.

Importing this package imports the registry only, and no JAX: a record imports
its check's module when the check first runs.
"""

from ._registry import (
    CHECKS as CHECKS,
    FEW_EXAMPLES as FEW_EXAMPLES,
    REGISTRY as REGISTRY,
    Check as Check,
)
