"""How a callback is driven: the contexts, keys and examples a check feeds it, and
the eager, jitted, vmapped and scanned runs of its methods.

- `_contexts`: contexts of a callback's API family, field by field.
- `_encoding`, `_scenario`: examples drawn as bytes, and the `Scenario` they decode to.
- `_arrays`, `_keys`: an example's numbers and PRNG keys as arrays.
- `_calls`, `_records`, `_trace`: one method call, what a run records, tracing state.
- `_episode`, `_drive`: an example run through a callback's methods, eagerly or jitted.
- `_scan`: the methods inside `lax.scan`, as the algorithms call them.

May import `lerax_callback`, `lerax_testing.toy` and `lerax_testing._tree`; never the
checks, the explanations of failures, the options, the command or the formats.
Importing the package itself imports no JAX: the options read `MAX_STEPS`.
"""

MAX_STEPS = 58
"""The longest generated rollout: the drivers split a fixed number of keys per
example, six of them for the non-step methods."""
