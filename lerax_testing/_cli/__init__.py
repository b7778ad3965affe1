"""`lerax-conformance`: the command's arguments (`_main`), finding callbacks in
targets (`_targets`, `_entries`, `_folders`), checking them in worker processes
(`_isolate` in the command, `_worker` in each worker; the default) or in this
process (`_run`), and writing pytest files (`--init`, `_scaffold`).

May import the harness core, the settings and `_formats`; nothing else in
`lerax_testing` imports this package.
"""

from ._main import main as main
