"""The built-in callbacks, composed with `CallbackList` as a training script would."""

from __future__ import annotations

from lerax_callback import (
    CallbackList,
    EarlyStoppingCallback,
    EpisodeStatsCallback,
    ProgressBarCallback,
)

stack = CallbackList(
    [
        ProgressBarCallback(),
        EpisodeStatsCallback(writer=None),
        EarlyStoppingCallback("episode_return", patience=20),
    ]
)
