"""`lerax-conformance` (also `python -m lerax_testing`): check callbacks in CI.

Exit status: 0 when every callback passed, 1 when a check failed or a callback
could not be checked (its module raised on import, it exited, crashed or hung), 2
for a usage error (unknown module, no callbacks found, bad option, unknown context
field, an output file that cannot be written), found before any check runs, with a
one-line reason on standard error, or when the run was interrupted (Ctrl-C: the
results so far are still reported). Nothing a callback does changes these: each
module's callbacks are checked in a worker process by default (`--no-isolate` to
check in this process), so a callback that exits or hangs is that callback's
failure.

Starting up imports neither JAX nor the harness, so `--help` and usage errors are
quick; they are imported once there is a callback to check.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._checks import REGISTRY
from .._options._values import output_file
from .._settings import OPTIONS, InvalidArgument, resolve_settings
from ._targets import Target, UsageError, ensure_importable, parse_target

if TYPE_CHECKING:
    from .._formats import RunResult
    from .._options import Option
    from .._settings import Settings
    from ._run import Progress

PROG = "lerax-conformance"
DEFAULT_TIMEOUT = 600.0
"""Seconds a callback may take in a worker when `--timeout` is not given: longer
than any sound callback's checks (a few seconds to a minute), short enough that a
hung CI job fails with a report instead of the CI system's own time limit."""

_EPILOG = f"""\
TARGET is `module`, `module:attribute`, `path/to/file.py`, `file.py:attribute`
or a folder (its `.py` files, in subfolders too).
An attribute may be a callback instance, a callback class whose constructor needs
no arguments, or a zero-argument factory; a module or file stands for every
concrete callback class and instance it defines. A class that is still abstract is
an error unless its name starts with `Abstract` or it sets
`__conformance_abstract__ = True`.

formats (--format, repeatable; FORMAT=FILE writes to FILE):
  text      a callbacks-by-checks table, then each failure in full (default)
  json      every report as data, with a summary
  junit     JUnit XML: a testsuite per callback, a testcase per check
  github    GitHub Actions annotations on the callbacks' source lines
  markdown  for a CI job summary ($GITHUB_STEP_SUMMARY)

exit status: 0 all callbacks passed, 1 a check failed or a callback could not be
checked (raised on import, exited, crashed, timed out), 2 usage error (before any
check runs; also an output FILE whose folder is missing or not writable) or
interrupted.

examples:
  {PROG} mypkg.callbacks
  {PROG} mypkg.callbacks:MyCallback --checks jit,vmap --max-examples 50
  {PROG} callbacks.py --format junit=conformance.xml --format markdown=summary.md
  {PROG} mypkg.callbacks --timeout 300 --format github
  {PROG} mypkg.callbacks --no-isolate      # in this process: quicker, less safe
  {PROG} mypkg.callbacks --env mypkg.envs:make_env   # with your own environment
  {PROG} --init mypkg.callbacks:MyCallback
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, the reason, as for every usage error (argparse adds the usage).
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def flag_arguments(option: Option) -> dict[str, Any]:
    """`add_argument`'s keywords for an option of the table: the text is kept
    as given, and parsed and validated by the option itself (`settings_from`)."""
    default = option.default_text
    if option.boolean:
        return {"action": "store_true", "help": f"{option.help} (default: {default})"}
    where = "[tool.lerax_testing]" if option.pyproject_key else ""
    help_text = f"{option.help} (default: {where} {option.pyproject_key}, else "
    return {
        "action": "append" if option.repeatable else "store",
        "metavar": option.metavar,
        "help": (help_text + f"{default}").replace("%", "%%")
        + ("; repeatable)" if option.repeatable else ")"),
    }


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected positive seconds, got {text}")
    return value


def _format(text: str) -> tuple[str, str | None]:
    from .._formats import FORMATS

    fmt, _, path = text.partition("=")
    if fmt not in FORMATS:
        raise argparse.ArgumentTypeError(
            f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}"
        )
    return fmt, path or None


def _parser() -> argparse.ArgumentParser:
    """The command's argument parser: targets, output formats, a flag per option of the
    option table (`flag_arguments`) and the command's own flags; `_Parser` keeps a
    usage error to one line."""
    parser = _Parser(
        prog=PROG,
        description="Check that Lerax callbacks are trace-safe, for CI.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("targets", nargs="*", metavar="TARGET", help="what to check (see below)")
    add(
        "-f",
        "--format",
        dest="formats",
        action="append",
        type=_format,
        metavar="FORMAT[=FILE]",
        help="output format, repeatable (default: text)",
    )
    add(
        "-o",
        "--output",
        metavar="FILE",
        help="write the format that has no =FILE to FILE instead of the terminal",
    )
    for option in OPTIONS.values():  # the run's options, from the option table
        if option.flag is not None:
            add(option.flag, **flag_arguments(option))
    add(
        "--isolate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check each module's callbacks in a worker process, so that one that "
        "exits, crashes or hangs fails and the run goes on (default; "
        "--no-isolate checks in this process)",
    )
    add(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"per callback, in a worker (default {DEFAULT_TIMEOUT:g})",
    )
    add(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show which callback and check run, on standard error (default: "
        "when standard output is not a machine format)",
    )
    add(
        "-v",
        "--verbose",
        action="store_true",
        help="include the underlying errors' tracebacks in text reports",
    )
    add("--list-checks", action="store_true", help="list the check ids and exit")
    add(
        "--init",
        metavar="MODULE:CALLBACK",
        help="write tests/test_<callback>_conformance.py, a pytest file for it",
    )
    add("--tests-dir", default="tests", type=Path, help="where --init writes")
    add("--force", action="store_true", help="let --init overwrite a file")
    add("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lerax-callback-toolkit")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run `lerax-conformance` with `argv` (default `sys.argv[1:]`); returns the
    exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit:  # --help, --version, or argparse's usage error
        return exit.code if isinstance(exit.code, int) else 2
    try:
        return _main(args)
    except (UsageError, InvalidArgument) as error:
        sys.stderr.write(f"{PROG}: error: {error}\n")
        return 2


def _outputs(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """`(format, file or None for standard output)`, validated."""
    from .._formats import HUMAN

    outputs = list(args.formats or [("text", None)])
    to_stdout = [fmt for fmt, path in outputs if path is None]
    if args.output is not None:
        if len(to_stdout) != 1:
            raise UsageError(
                "--output FILE takes exactly one format without =FILE; give the "
                "others their own file, e.g. --format junit=report.xml."
            )
        outputs = [(f, args.output if p is None else p) for f, p in outputs]
    elif len(to_stdout) > 1 and not set(to_stdout) <= HUMAN:
        raise UsageError(
            f"only one of the formats {', '.join(to_stdout)} can go to standard "
            "output; write the others to files, e.g. --format junit=report.xml."
        )
    for fmt, path in outputs:  # a file that cannot be written: say so now
        if path is not None:
            flag = "--output" if path == args.output else f"--format {fmt}=FILE"
            output_file(path, flag)
    if all(path is not None for _, path in outputs):
        outputs.append(("text", None))  # and the terminal still shows the table
    return outputs


def settings_from(args: argparse.Namespace) -> Settings:
    """The run's settings from the flags the option table gives the command;
    `InvalidArgument` naming the flag for text it cannot read, the option for a
    value it cannot use (as `check_callback` does)."""
    given = {
        option.name: option.from_text(getattr(args, option.dest), option.flag)
        for option in OPTIONS.values()
        if option.flag is not None
    }
    return resolve_settings(**given)


def _main(args: argparse.Namespace) -> int:
    """Run the parsed command and return the exit status: list the checks, write a test
    file (`--init`), or check the targets, in workers or in this process, and write
    every output (after a Ctrl-C too). The formats and the runner are imported only
    here, so that `--help` and usage errors stay quick."""
    if args.list_checks:
        width = max(map(len, REGISTRY)) + 1
        for check in REGISTRY.values():
            print(f"{check.id:<{width}} {check.summary}")
        return 0
    if os.getcwd() not in sys.path:  # as `python -m` does: the project's modules
        sys.path.insert(0, os.getcwd())
    if args.init is not None:
        from ._scaffold import write_test_file

        return write_test_file(
            args.init, tests_dir=args.tests_dir, force=args.force, out=sys.stdout
        )
    if not args.targets:
        raise UsageError(
            "give at least one TARGET: `module`, `module:attribute` or `file.py`."
        )
    outputs = _outputs(args)
    targets = [parse_target(text) for text in args.targets]
    for target in targets:
        ensure_importable(target)
    settings = settings_from(args)
    from .._formats import HUMAN, RunResult
    from ._run import Progress, stderr_if_wanted

    if not args.isolate and args.timeout is not None:
        raise UsageError(
            "--timeout applies to worker processes; drop --no-isolate to use it."
        )

    human = all(fmt in HUMAN for fmt, path in outputs if path is None)
    progress = Progress(stderr_if_wanted(args.progress, human))
    result = RunResult([], settings)
    start = time.perf_counter()
    try:
        if args.isolate:
            from ._isolate import run_isolated

            run_isolated(
                targets,
                settings,
                progress,
                timeout=args.timeout or DEFAULT_TIMEOUT,
                usage_errors=result.usage_errors,
                outcomes=result.outcomes,
                bases=result.bases,
            )
        else:
            _in_process(targets, settings, progress, result)
    except KeyboardInterrupt:  # report what was found so far, and exit 2
        result.interrupted = True
        sys.stderr.write(f"\n{PROG}: interrupted; reporting the results so far\n")
    result.seconds = time.perf_counter() - start
    unwritten = _write(outputs, result, verbose=args.verbose)
    for error in result.usage_errors + unwritten:
        sys.stderr.write(f"{PROG}: error: {error}\n")
    return 2 if unwritten else result.exit_status


def _write(
    outputs: list[tuple[str, str | None]], result: RunResult, *, verbose: bool
) -> list[str]:
    """Write every output, the files first, so that they are written even if
    standard output is gone (a closed pipe); returns why each file that could
    not be written anyway (a full disk, a folder removed meanwhile) was not, and
    the other outputs are still written."""
    from .._formats import render

    unwritten = []
    for fmt, path in sorted(outputs, key=lambda output: output[1] is None):
        text = render(fmt, result, verbose=verbose)
        if path is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            continue
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as error:
            unwritten.append(
                f"could not write the {fmt} report to {path!r}: "
                f"{error.strerror or error}; the results are in the other outputs, "
                "and a rerun with a writable FILE writes it."
            )
    return unwritten


def _in_process(
    targets: list[Target], settings: Settings, progress: Progress, result: RunResult
) -> None:
    from ._run import run_in_process

    if not settings.typecheck:
        run_in_process(targets, settings, progress, result.outcomes, result.bases)
        return
    from .._settings import typechecking

    with typechecking():
        run_in_process(targets, settings, progress, result.outcomes, result.bases)
