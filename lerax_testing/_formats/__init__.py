"""The report formats of `lerax-conformance`: text, JSON, JUnit XML, GitHub
annotations and Markdown, each rendering a `RunResult`.

Imports only the harness's report data (`_report`, `_settings`, the check
registry), its grouping by cause (`_causes`) and `_sentences`; only the command
(`_cli`) and the pytest plugin import this package.
"""

from ._results import Outcome as Outcome, RunResult as RunResult, Status as Status
from ._text import FORMATS as FORMATS, HUMAN as HUMAN, render as render
