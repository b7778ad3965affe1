"""The conformance checks, one function per check id, grouped by family in modules
(`_api`, `_execution`, `_transforms`, `_structure`, `_purity` with `_mutation`,
`_retrace`, `_side_effects`, `_finite`, `_typecheck`, `_lerax`). Each takes a
`Subject` and returns its `Failure`s; they may import the harness core, never the
command or the formats."""

from collections.abc import Callable

from .._explain._report import CHECKS, Failure
from .._subject import Subject
from ._api import check_api
from ._execution import check_jit, check_runs, check_types
from ._finite import check_finite
from ._lerax import check_lerax
from ._purity import check_purity
from ._retrace import check_retrace
from ._side_effects import check_side_effects
from ._structure import check_scan, check_structure, check_x64
from ._transforms import check_vmap
from ._typecheck import check_typecheck

CHECK_FUNCTIONS: dict[str, Callable[[Subject], list[Failure]]] = {
    "api": check_api,
    "runs": check_runs,
    "types": check_types,
    "jit": check_jit,
    "vmap": check_vmap,
    "structure": check_structure,
    "scan": check_scan,
    "purity": check_purity,
    "retrace": check_retrace,
    "finite": check_finite,
    "typecheck": check_typecheck,
    "x64": check_x64,
    "side_effects": check_side_effects,
    "lerax": check_lerax,
}
assert tuple(CHECK_FUNCTIONS) == CHECKS
