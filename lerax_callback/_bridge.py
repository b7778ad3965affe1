"""`to_lerax`: any `lerax_callback` callback, as a callback of Lerax's algorithms.

Lerax's algorithms accept only instances of their own `lerax.callback.AbstractCallback`
and hand them Lerax's own context classes. The bridge is a Lerax callback holding
ours as a field: each method rebuilds our context from the fields of Lerax's, by
name, and calls ours. Lerax is imported when `to_lerax` is first called, never when
`lerax_callback` is, so this package works without it (and on Python < 3.13).

Imports only the API modules of this package.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from typing import Any, Generic, TypeVar

from ._callback import callback_state_types
from ._family import OURS, callback_api

INSTALL_HINT = 'pip install "lerax-callback-toolkit[lerax]"'

_S = TypeVar("_S")
_SS = TypeVar("_SS")


def _import_lerax_callback() -> types.ModuleType:
    """`lerax.callback`, or an `ImportError` saying how to install it."""
    try:
        import lerax.callback as lerax_callback
    except ImportError as error:
        raise ImportError(
            "`to_lerax` needs Lerax, which is not installed. Install it with "
            f"`{INSTALL_HINT}` (Lerax needs Python >= 3.13)."
        ) from error
    return lerax_callback


def _ours(lerax_ctx: Any, our_class: type) -> Any:
    """Our context of class `our_class`, built from the fields of Lerax's `lerax_ctx`.

    Fields are matched by name; fields only Lerax has (such as the `algorithm` of
    newer releases) are left out.
    """
    values = {}
    for field in dataclasses.fields(our_class):
        try:
            values[field.name] = getattr(lerax_ctx, field.name)
        except AttributeError:
            raise TypeError(
                f"`to_lerax` cannot pass a `{type(lerax_ctx).__qualname__}` to a "
                f"`lerax_callback` callback: it has no `{field.name}` field, which "
                f"`lerax_callback.{our_class.__qualname__}` needs. This Lerax release "
                "calls callbacks differently; use a Lerax version this toolkit "
                "supports (>= 0.0.5)."
            ) from None
    return our_class(**values)


@functools.cache
def _bridge_base() -> type:
    """The generic Lerax callback that forwards to a `lerax_callback` callback.

    Defined once Lerax is importable; `_bridge_class` parameterises it per
    wrapped class, so the bridge declares the wrapped callback's state types.
    """
    lerax_callback = _import_lerax_callback()
    reset_ctx, step_ctx, iteration_ctx, training_ctx = (
        OURS.contexts[kind] for kind in ("reset", "step", "iteration", "training")
    )

    class LeraxBridge(lerax_callback.AbstractCallback[_S, _SS], Generic[_S, _SS]):
        """A Lerax callback that calls the `lerax_callback` callback it holds.

        Build it with `lerax_callback.to_lerax(callback)`.

        **Attributes:**

        - `callback`: the wrapped `lerax_callback` callback.
        """

        callback: Any

        def reset(self, ctx: Any, *, key: Any) -> Any:
            return self.callback.reset(_ours(ctx, reset_ctx), key=key)

        def step_reset(self, ctx: Any, *, key: Any) -> Any:
            return self.callback.step_reset(_ours(ctx, reset_ctx), key=key)

        def on_step(self, ctx: Any, *, key: Any) -> Any:
            return self.callback.on_step(_ours(ctx, step_ctx), key=key)

        def on_iteration(self, ctx: Any, *, key: Any) -> Any:
            return self.callback.on_iteration(_ours(ctx, iteration_ctx), key=key)

        def on_training_start(self, ctx: Any, *, key: Any) -> Any:
            return self.callback.on_training_start(_ours(ctx, training_ctx), key=key)

        def on_training_end(self, ctx: Any, *, key: Any) -> Any:
            return self.callback.on_training_end(_ours(ctx, training_ctx), key=key)

        def continue_training(self, ctx: Any, *, key: Any) -> Any:
            return self.callback.continue_training(_ours(ctx, iteration_ctx), key=key)

        def apply_curriculum(self, state: Any, callback_state: Any) -> tuple[Any, Any]:
            """Lerax's curriculum hook (newer releases): forwarded when the wrapped
            callback has one, otherwise both are returned unchanged, as Lerax's
            own default does."""
            apply = getattr(self.callback, "apply_curriculum", None)
            if apply is None:
                return state, callback_state
            return apply(state, callback_state)

    LeraxBridge.__module__ = "lerax_callback"
    return LeraxBridge


@functools.cache
def _bridge_class(wrapped: type, state_type: Any, step_state_type: Any) -> type:
    """The bridge class for callbacks of class `wrapped`, made once per class so
    that jitted Lerax algorithms see the same class, and hit their compile cache,
    on every call."""
    base = _bridge_base()
    name = f"LeraxBridge[{wrapped.__qualname__}]"
    cls = types.new_class(name, (base[state_type, step_state_type],))
    cls.__qualname__ = name
    cls.__module__ = "lerax_callback"
    return cls


def to_lerax(callback: Any) -> Any:
    """Wrap a `lerax_callback` callback so Lerax's algorithms accept it.

    ```python
    from lerax.algorithm import PPO
    import lerax_callback as lc

    PPO().learn(env, policy, total_timesteps, key=key,
                callback=lc.to_lerax(lc.EpisodeStatsCallback()))
    ```

    The result is a `lerax.callback.AbstractCallback` (an `equinox.Module`) whose
    one field, `callback`, is the callback given. Each method rebuilds the
    `lerax_callback` context from the fields of Lerax's by name (fields that only
    newer Lerax releases have, such as `algorithm`, are left out) and calls the
    same method of the wrapped callback. Lerax's `apply_curriculum` hook (newer
    releases) is forwarded when the wrapped callback defines it, and otherwise
    returns its arguments unchanged. The bridge declares the wrapped callback's
    state types, so `callback_state_types(to_lerax(cb)) == callback_state_types(cb)`.

    Lerax 0.0.5's algorithms never call `continue_training`, so a callback that
    stops training through it, such as `EarlyStoppingCallback`, cannot stop them:
    training runs for all of `total_timesteps`.

    **Arguments:**

    - `callback`: an instance of a `lerax_callback` callback, built-in or your own.
        A Lerax callback is returned unchanged.

    **Returns:**

    A `lerax.callback.AbstractCallback` instance to pass as `callback=`.

    **Raises:**

    `ImportError` if Lerax is not installed (install it with
    `pip install "lerax-callback-toolkit[lerax]"`, on Python >= 3.13);
    `TypeError` if `callback` is not a callback instance.
    """
    api = callback_api(callback)
    if isinstance(callback, type) or api is None:
        if isinstance(callback, type) and api is not None:
            problem = (
                f"the class {callback.__qualname__}; pass an instance instead, e.g. "
                f"`to_lerax({callback.__qualname__}())`"
            )
        else:
            problem = (
                f"{type(callback).__qualname__} {callback!r}; pass an instance of a "
                "`lerax_callback.AbstractCallback` subclass"
            )
        raise TypeError(f"`to_lerax` takes a callback instance, got {problem}.")
    lerax_callback = _import_lerax_callback()
    if isinstance(callback, lerax_callback.AbstractCallback):
        return callback  # Already a Lerax callback: Lerax calls it as it is.
    if not api.ours:
        raise TypeError(
            f"`to_lerax` wraps `lerax_callback` callbacks, got a callback of the "
            f"`{api.name}` API, {type(callback).__qualname__}; Lerax's algorithms "
            "take neither, so port it to `lerax_callback.AbstractCallback`."
        )
    state_type, step_state_type = callback_state_types(callback)
    return _bridge_class(type(callback), state_type, step_state_type)(callback)
