"""`lerax-conformance --init module:Callback`: write a ready pytest file for it."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TextIO

from .._options._values import output_file
from ._targets import Target, UsageError, parse_target, required_arguments

_TEMPLATE = '''\
"""Conformance tests of `{attribute}` from `{module}`.

Written by `lerax-conformance --init`; run them with

    pytest {path} -v

for one test item per check, such as `test_{name}[jit]`. Useful options:
`--lerax-max-examples N`, `--lerax-seed SEED` (to reproduce a failure) and
`--lerax-skip CHECK=REASON`; `pytest -n auto` spreads the checks over CPUs.
"""

from lerax_testing.pytest_plugin import conformance_suite

from {module} import {root}
{factory}
# One test item per conformance check. Skip a check that does not apply to this
# callback by saying why: conformance_suite(..., skip={{"x64": "float32 only"}}).
test_{name} = conformance_suite({subject})


def test_{name}_with_options(callback_conformance):
    """The whole report in one test, with options of its own."""
    callback_conformance(
        {instance}, checks=["api", "runs", "jit"], max_examples=5
    )
'''

_FACTORY = '''

def make_{name}():
    """The callback to check. TODO: give it the arguments you train with."""
    return {attribute}({arguments})

'''


def snake_case(name: str) -> str:
    """`EMACallback` -> `ema_callback`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _module_name(target: Target) -> str:
    """The import name of the target's module, also for a file under the cwd."""
    if target.module is not None:
        return target.module
    assert target.path is not None
    relative = Path(os.path.relpath(target.path.with_suffix(""), os.getcwd()))
    parts = relative.parts
    if not parts or parts[0] == ".." or not all(p.isidentifier() for p in parts):
        raise UsageError(
            "--init needs the module's import name, e.g. "
            f"`pkg.callbacks:{target.attribute}`; cannot make one from "
            f"{str(target.path)!r}."
        )
    return ".".join(parts)


def write_test_file(text: str, *, tests_dir: Path, force: bool, out: TextIO) -> int:
    """Write `tests_dir/test_<name>_conformance.py` for the TARGET `text`."""
    target = parse_target(text)
    if target.attribute is None:
        raise UsageError(
            f"--init takes one callback, as `module:Callback`; got {text!r}."
        )
    module_name = _module_name(target)
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(f"--init cannot import {module_name!r}: {error}") from error
    obj = module
    for part in target.attribute.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"{module_name!r} has no attribute {target.attribute!r}.")
        obj = getattr(obj, part)
    from lerax_callback._family import is_callback

    name = snake_case(target.attribute.rpartition(".")[2])
    subject, instance, factory = target.attribute, f"{target.attribute}()", ""
    required: list[str] = []
    if is_callback(obj):
        instance = target.attribute
    elif not callable(obj):
        raise UsageError(
            f"--init: {text!r} is a {type(obj).__name__}, not a callback, a callback "
            "class or a factory."
        )
    else:
        required = required_arguments(obj)
    if required:
        arguments = ", ".join(f"{p}=..." for p in required)
        factory = _FACTORY.format(
            name=name, attribute=target.attribute, arguments=arguments
        )
        subject, instance = f"make_{name}", f"make_{name}()"
    path = tests_dir / f"test_{name}_conformance.py"
    if path.exists() and not force:
        raise UsageError(f"{path} exists already; pass --force to overwrite it.")
    if not tests_dir.exists() and tests_dir.parent.is_dir():
        try:  # the tests folder itself, never the folders above it
            tests_dir.mkdir()
        except OSError as error:
            raise UsageError(
                f"--tests-dir: cannot create {str(tests_dir)!r}: "
                f"{error.strerror or error}; give a folder you can write to."
            ) from error
    output_file(path, "--init")
    path.write_text(
        _TEMPLATE.format(
            attribute=target.attribute,
            module=module_name,
            root=target.attribute.partition(".")[0],
            name=name,
            path=path.as_posix(),
            subject=subject,
            instance=instance,
            factory=factory or "\n",
        ),
        encoding="utf-8",
    )
    out.write(f"wrote {path}; run it with: pytest {path.as_posix()} -v\n")
    if required:
        out.write(
            f"`{target.attribute}` needs arguments ({', '.join(required)}): fill them "
            f"in `make_{name}` first.\n"
        )
    return 0
