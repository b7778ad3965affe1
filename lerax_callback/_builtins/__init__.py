"""The built-in callbacks, each a small example of a correct trace-safe callback:
`EmptyCallback`, `CallbackList`, `ProgressBarCallback`, `EpisodeStatsCallback` and
`EarlyStoppingCallback`.

They are written against the public API modules only (`_callback`, `_contexts`,
`_partial`, `_states`), as a user's callbacks would be.
"""
