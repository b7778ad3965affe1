"""The options of a conformance run, each declared once.

- `_errors`: `InvalidArgument` and `ConfigError`, the one error for a bad option.
- `_values`: what each kind of option accepts, from Python and from text.
- `_table`: `OPTIONS`, one `Option` record per option, made by `define_option`.
- `_docs`: the docs' table of options (docs/configuring.md), made from `OPTIONS`.

Everything that takes options reads them here: `_config` (the accepted
`[tool.lerax_testing]` keys), `_settings` (validation and merging), the command's
flags and the plugin's options. Imports no JAX, and of ours only the check
registry, the engine package's `MAX_STEPS` and the names of Lerax's algorithms.
"""

from ._docs import markdown_table as markdown_table
from ._errors import ConfigError as ConfigError, InvalidArgument as InvalidArgument
from ._table import (
    CI_SEED as CI_SEED,
    DEFAULT_MAX_EXAMPLES as DEFAULT_MAX_EXAMPLES,
    DEFAULT_MAX_STEPS as DEFAULT_MAX_STEPS,
    DEFAULT_NUM_ENVS as DEFAULT_NUM_ENVS,
    OPTIONS as OPTIONS,
    SETTINGS as SETTINGS,
    Option as Option,
    define_option as define_option,
    in_ci as in_ci,
)
