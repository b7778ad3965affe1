"""`lerax-conformance`: the command's arguments (`_main`), finding callbacks in
targets (`_targets`, `_entries`), checking them in this process (`_run`) or in
worker processes (`_isolate`), and writing pytest files (`--init`, `_scaffold`).

May import the harness core, the settings and `_formats`; nothing else in
`lerax_testing` imports this package.
"""

from ._main import main as main
