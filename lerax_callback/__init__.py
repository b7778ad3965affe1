"""The Lerax callback API: trace-safe callbacks for JAX reinforcement learning.

The API modules sit at the top (`_states`, `_contexts`, `_callback`, `_partial`,
`_env`, and `_switch`, the type-checking switch they share with the checker); the
built-in callbacks are in `_builtins/` and runtime type checking in `_typecheck/`.
"""

from ._bridge import to_lerax as to_lerax
from ._builtins._early_stopping import (
    EarlyStoppingCallback as EarlyStoppingCallback,
    EarlyStoppingState as EarlyStoppingState,
)
from ._builtins._empty import EmptyCallback as EmptyCallback
from ._builtins._episode_stats import (
    EpisodeStatsCallback as EpisodeStatsCallback,
    EpisodeStatsState as EpisodeStatsState,
    EpisodeStatsStepState as EpisodeStatsStepState,
)
from ._builtins._list import (
    CallbackList as CallbackList,
    CallbackListState as CallbackListState,
    CallbackListStepState as CallbackListStepState,
)
from ._builtins._progress import (
    ProgressBarCallback as ProgressBarCallback,
    ProgressBarState as ProgressBarState,
    ProgressBarStepState as ProgressBarStepState,
    TextProgressBar as TextProgressBar,
)
from ._callback import (
    AbstractCallback as AbstractCallback,
    callback_state_types as callback_state_types,
)
from ._checking import is_checking as is_checking
from ._contexts import (
    IterationContext as IterationContext,
    ResetContext as ResetContext,
    StepContext as StepContext,
    TrainingContext as TrainingContext,
)
from ._env import AbstractEnvLike as AbstractEnvLike, AbstractPolicy as AbstractPolicy
from ._partial import (
    AbstractIterationCallback as AbstractIterationCallback,
    AbstractStatelessCallback as AbstractStatelessCallback,
    AbstractStepCallback as AbstractStepCallback,
    AbstractTrainingCallback as AbstractTrainingCallback,
)
from ._states import (
    AbstractCallbackState as AbstractCallbackState,
    AbstractCallbackStepState as AbstractCallbackStepState,
    EmptyCallbackState as EmptyCallbackState,
    EmptyCallbackStepState as EmptyCallbackStepState,
)
from ._typecheck import (
    TypeCheckError as TypeCheckError,
    check_fields as check_fields,
    enable_typechecking as enable_typechecking,
    typecheck_call as typecheck_call,
    typechecked as typechecked,
    typechecking_enabled as typechecking_enabled,
)
