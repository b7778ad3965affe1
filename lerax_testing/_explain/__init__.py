"""How a failure becomes a report: the `Failure` record, the `Report` of a run,
grouping failures by cause, advice, the user's source lines and the reproducer.

- `_failure`, `_report`: what a check found, and a run's results.
- `_causes`, `_advice`, `_drift`: one entry per cause, with what to do about it.
- `_source`, `_locations`, `_sentences`: the user's line, and messages made short.
- `_reproduce`: the snippet that reruns a failing example.

May import `lerax_callback` and the option table (for the reproducer's defaults);
never the engine, the checks, the command or the formats.
"""
