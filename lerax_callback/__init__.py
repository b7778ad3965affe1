"""The Lerax callback API: trace-safe callbacks for JAX reinforcement learning."""

from ._callback import (
    AbstractCallback as AbstractCallback,
    callback_state_types as callback_state_types,
)
from ._contexts import (
    IterationContext as IterationContext,
    ResetContext as ResetContext,
    StepContext as StepContext,
    TrainingContext as TrainingContext,
)
from ._empty import EmptyCallback as EmptyCallback
from ._env import AbstractEnvLike as AbstractEnvLike, AbstractPolicy as AbstractPolicy
from ._list import (
    CallbackList as CallbackList,
    CallbackListState as CallbackListState,
    CallbackListStepState as CallbackListStepState,
)
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
