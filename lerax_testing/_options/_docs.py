"""The table of options on the docs' "Configuring a check" page, made from
`OPTIONS` (a test holds the page to it, as it does the table of checks)."""

from __future__ import annotations

from ._table import OPTIONS, Option


def _code(text: str | None) -> str:
    return "" if text is None else f"`{text}`"


def _flag(option: Option, flag: str | None) -> str:
    if flag is None:
        return ""
    if option.boolean:
        return f"`{flag}`"
    repeat = " (repeatable)" if option.repeatable else ""
    return f"`{flag} {option.metavar}`{repeat}"


def markdown_table() -> str:
    """One row per option: its keyword, default, what it does and its other
    spellings (the command's flag, the plugin's option and ini setting, the key
    in `[tool.lerax_testing]`)."""
    rows = [
        "| `check_callback` | default | what | command | pytest | ini | pyproject |",
        "|---|---|---|---|---|---|---|",
    ]
    for option in OPTIONS.values():
        help_text = option.help[0].upper() + option.help[1:]
        rows.append(
            f"| `{option.name}=` | {option.default_text} | {help_text} "
            f"| {_flag(option, option.flag)} | {_flag(option, option.plugin_flag)} "
            f"| {_code(option.ini)} | {_code(option.pyproject_key)} |"
        )
    return "\n".join(rows)
