"""Runtime type checking of callbacks, states and contexts against their
annotations, with jaxtyping and beartype.

`_enable` holds the public switches and decorators, `_fields` checks a module's
fields, `_calls` wraps callback methods, `_hints` resolves annotations (generic
state types included) and `_errors` words the failures. The package may import the
API modules (`_callback`, `_contexts`, `_states`, `_switch`); they never import it:
it plugs itself into `_switch` when imported.
"""

from ._enable import (
    TypeCheckError as TypeCheckError,
    check_fields as check_fields,
    enable_typechecking as enable_typechecking,
    typecheck_call as typecheck_call,
    typechecked as typechecked,
    typechecking_enabled as typechecking_enabled,
)
