"""The documentation as tested text: every example on the site and in the README
runs, and shows what it printed; every check has its section; every page of the
navigation exists; the README stays a front page.

How a page's fenced blocks are read (the convention the pages are written in):

- ```` ```python ```` blocks run in order, one fresh namespace per page, in a
  temporary working folder that is also on `sys.path`. A block whose first line is
  a file name comment (`# my_callbacks.py`) is not run: it is written to that file
  in the folder, for later blocks (and commands) to import.
- A ```` ```text ```` block right after a block (nothing but blank lines between)
  is what that block prints, compared after normalisation: timings
  (`0.4s`, `12.8s`) and runs of whitespace; the temporary folder is written `.`.
- ```` ```bash ```` blocks are commands to read, not run (installs, the test
  commands), except those that run the checks (`lerax-conformance`,
  `python -m lerax_testing`): each of those says what is done with it on the line
  above, invisible on the site, `<!-- run -->` (run in the page's folder, its
  output compared like a Python block's) or `<!-- not-run: REASON -->`.
- `<!-- not-run: REASON -->` above a Python block leaves it unrun: sparingly, for
  what cannot run here (Lerax on Python 3.11, a package of the reader's own).

Running the examples means checking callbacks, so those tests are marked `slow`;
the quick set (`-m "not slow"`) reads the pages only. `LERAX_DOCS_UPDATE=1` writes
what the examples printed into their output blocks, for a change that alters a
report (a new check, a new advice text); review the diff before committing it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import linecache
import os
import re
import shlex
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from lerax_testing import CHECKS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]
UPDATE = os.environ.get("LERAX_DOCS_UPDATE") == "1"

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+)(?P<lang>[\w-]*)\s*$")
_MARKER = re.compile(r"^\s*<!-- (?P<kind>run|not-run)(?::\s*(?P<reason>.+?))? -->\s*$")
_FILE = re.compile(r"^# (?P<name>[\w/]+\.py)$")
_COMMANDS = ("lerax-conformance", "python -m lerax_testing")


@dataclasses.dataclass
class Block:
    """One fenced block of a page: where it is, its language and text, the marker
    on the line above it, and the output block that follows it, if any."""

    page: Path
    first: int  # 0-based index of the first line of the text (after the fence)
    last: int  # index of the closing fence
    indent: str
    lang: str
    code: str
    marker: str | None = None  # "run" or "not-run"
    reason: str | None = None
    output: Block | None = None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.first}"

    @property
    def file_name(self) -> str | None:
        first = self.code.splitlines()[0] if self.code.strip() else ""
        match = _FILE.match(first)
        return match["name"] if match else None

    @property
    def runs_checks(self) -> bool:
        return any(command in self.code for command in _COMMANDS)


def blocks(page: Path) -> list[Block]:
    """The page's fenced blocks in order, each output block attached to the block
    it follows."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    last_end = -1
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        end = i + 1
        while end < len(lines) and lines[end] != indent + fence:
            end += 1
        assert end < len(lines), f"{page.name}:{i + 1}: unclosed code block"
        body = [line.removeprefix(indent) for line in lines[i + 1 : end]]
        block = Block(page, i + 1, end, indent, match["lang"], "\n".join(body) + "\n")
        above = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        if marker := _MARKER.match(above):
            block.marker, block.reason = marker["kind"], marker["reason"]
        between = lines[last_end + 1 : i]
        if (
            block.lang == "text"
            and found
            and not any(line.strip() for line in between)
            and found[-1].lang in ("python", "bash")
        ):
            found[-1].output = block
        else:
            found.append(block)
        last_end = end
        i = end + 1
    return found


def normalise(text: str) -> str:
    """Output as compared: no timings, one space for any run of whitespace."""
    text = re.sub(r"\b\d+\.\d+ ?s\b", "<t>s", text)
    return " ".join(text.split())


def _relative(printed: str, folder: Path) -> str:
    """What a run printed, with the page's temporary folder written as `.`."""
    for path in {str(folder.resolve()), str(folder)}:
        printed = printed.replace(path, ".")
    return printed


# ------------------------------------------------------------- the examples run


def _run_python(block: Block, namespace: dict, folder: Path) -> str:
    """Run one block as part of the page's script; what it printed."""
    # The block's lines at their own line numbers in the page, so that a traceback,
    # and the harness's reading of a callback's source, point into the page.
    name = str(block.page)
    source = "\n" * block.first + block.code
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, name, "exec"), namespace)
    return out.getvalue()


def _run_bash(block: Block, folder: Path) -> str:
    """Run a block of commands in the page's folder; their standard output."""
    printed = []
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env["PYTHONPATH"] = os.pathsep.join([str(folder), env.get("PYTHONPATH", "")])
    for line in block.code.splitlines():
        command = line.split("#", 1)[0].strip()
        if not command:
            continue
        words = shlex.split(command)
        if words[:3] == ["python", "-m", "lerax_testing"]:
            words[0] = sys.executable
        result = subprocess.run(
            words, cwd=folder, env=env, capture_output=True, text=True, timeout=600
        )
        printed.append(result.stdout)
    return "".join(printed)


@contextlib.contextmanager
def _page_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The page's working folder, importable; modules imported from it are
    forgotten afterwards, so that pages do not share them."""
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "path", [str(folder), *sys.path])
    before = set(sys.modules)
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            file = getattr(sys.modules[name], "__file__", None) or ""
            if file.startswith(str(folder)):
                del sys.modules[name]


def _runnable(page: Path) -> bool:
    return any(
        b.lang == "python" and b.marker != "not-run" and not b.file_name
        for b in blocks(page)
    ) or any(b.marker == "run" for b in blocks(page))


def _lerax_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("lerax") is not None


@pytest.mark.slow
@pytest.mark.parametrize(
    "page", [p for p in PAGES if _runnable(p)], ids=lambda p: p.name
)
def test_the_examples_run_and_print_what_is_shown(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if _lerax_installed():
        pytest.skip("the outputs shown are those of a run without Lerax")
    namespace: dict = {"__name__": "__main__"}
    updates: list[tuple[Block, str]] = []
    with _page_folder(tmp_path, monkeypatch):
        for block in blocks(page):
            if block.lang == "python" and block.file_name:
                path = tmp_path / block.file_name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(block.code, encoding="utf-8")
                continue
            if block.marker == "not-run":
                continue
            if block.lang == "python":
                printed = _run_python(block, namespace, tmp_path)
            elif block.lang == "bash" and block.marker == "run":
                printed = _run_bash(block, tmp_path)
            else:
                continue
            if block.output is None:
                continue
            printed = _relative(printed, tmp_path)
            if UPDATE:
                updates.append((block.output, printed))
                continue
            shown = block.output.code
            assert normalise(printed) == normalise(shown), (
                f"{block.where} printed\n{printed}\nwhere the page shows\n{shown}"
                "\n(LERAX_DOCS_UPDATE=1 writes what it printed into the page)"
            )
    if updates:
        _write_outputs(page, updates)


def _write_outputs(page: Path, updates: list[tuple[Block, str]]) -> None:
    lines = page.read_text(encoding="utf-8").splitlines()
    for output, printed in sorted(updates, key=lambda u: -u[0].first):
        new = [
            output.indent + line if line else ""
            for line in printed.rstrip().split("\n")
        ]
        lines[output.first : output.last] = new
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------ the pages' rules


def test_every_command_that_runs_checks_says_whether_it_is_run() -> None:
    unmarked = [
        b.where
        for page in PAGES
        for b in blocks(page)
        if b.lang == "bash" and b.runs_checks and b.marker is None
    ]
    assert not unmarked, (
        "mark these with `<!-- run -->` or `<!-- not-run: REASON -->` on the line "
        f"above: {unmarked}"
    )


def test_every_unrun_example_says_why() -> None:
    silent = [
        b.where
        for page in PAGES
        for b in blocks(page)
        if b.marker == "not-run" and not (b.reason or "").strip()
    ]
    assert not silent, f"say why these are not run: {silent}"


def test_the_parser_finds_examples_and_their_outputs(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        textwrap.dedent(
            """\
            ```python
            print(1)
            ```

            ```text
            1
            ```

            Prose.

            ```text
            not an output
            ```

            <!-- not-run: needs Lerax -->
            ```python
            import lerax
            ```

            1. A list item:

               ```python
               # my_module.py
               X = 1
               ```
            """
        )
    )
    found = blocks(page)
    assert [b.lang for b in found] == ["python", "text", "python", "python"]
    assert found[0].output is not None
    assert found[0].output.code == "1\n"
    assert found[1].output is None
    assert (found[2].marker, found[2].reason) == ("not-run", "needs Lerax")
    assert found[3].file_name == "my_module.py"
    assert found[3].code == "# my_module.py\nX = 1\n"
    assert normalise("passed in 12.3s\n  runs 0.4s") == "passed in <t>s runs <t>s"


def check_sections() -> list[str]:
    """The check ids with a section (a `## `id`` heading) on the Checks page."""
    text = (DOCS / "checks.md").read_text(encoding="utf-8")
    return re.findall(r"^## `([a-z0-9_]+)`$", text, re.M)


def test_every_check_has_its_section_on_the_checks_page() -> None:
    sections = check_sections()
    missing = [c for c in CHECKS if c not in sections]
    assert not missing, (
        f"docs/checks.md has no section for {missing}: add a `## `id`` heading with "
        "what it catches, why training needs it, a failing example and the fix"
    )
    unknown = [s for s in sections if s not in CHECKS]
    assert not unknown, f"docs/checks.md has sections of no check: {unknown}"


def test_the_readme_is_a_front_page() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; at most 200"


def _nav_pages(nav: list) -> Iterator[str]:
    for entry in nav:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            if isinstance(value, list):
                yield from _nav_pages(value)
            else:
                yield value


def test_every_page_of_the_navigation_exists_and_every_page_is_in_it() -> None:
    config = tomllib.loads((ROOT / "zensical.toml").read_text(encoding="utf-8"))
    nav = list(_nav_pages(config["project"]["nav"]))
    missing = [page for page in nav if not (DOCS / page).is_file()]
    assert not missing, f"zensical.toml's nav lists pages that do not exist: {missing}"
    orphans = [
        str(p.relative_to(DOCS))
        for p in DOCS.rglob("*.md")
        if str(p.relative_to(DOCS)) not in nav
    ]
    assert not orphans, f"pages missing from zensical.toml's nav: {orphans}"
    assert config["project"]["strict"] is True


def test_the_readme_links_to_pages_that_exist() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?:docs|examples|tests|ci)/[^)#\s]*)", text)
    assert links, "the README links to the site's pages"
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_the_readme_quickstart_is_what_ci_runs() -> None:
    """The project's rule: CI runs exactly the README's install and test commands."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Quickstart") :]
    section = section[: section.index("\n## ")]
    ci = (ROOT / "ci" / "run.sh").read_text(encoding="utf-8")
    commands = [
        re.split(r"\s#\s", line, maxsplit=1)[0].strip()
        for b in re.findall(r"```bash\n(.*?)```", section, re.S)
        for line in b.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands, "the README's Quickstart has its commands in ```bash blocks"
    for command in commands:
        if command.startswith("python3 -m venv"):
            continue  # CI makes its virtual environment in a temporary folder
        command = command.replace("pip install -e", "pip install -q -e")
        assert command in ci, f"ci/run.sh does not run the README's `{command}`"
