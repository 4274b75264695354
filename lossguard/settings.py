"""`lossguard check --show-settings`: the configuration a run resolves to, and where each value came from."""

from __future__ import annotations

from lossguard.config import Config


def _toml(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(f'"{item}"' for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f'"{key}" = {_toml(items)}' for key, items in value.items()) + " }"
    return f'"{value}"'


def describe_settings(config: Config, enabled: frozenset[str], command_line: dict[str, object],
                      options: dict[str, tuple[object, bool]]) -> str:
    """One line per setting: `name = value  # from <origin>`.

    `command_line` holds select/ignore as given on the command line (empty when not given); `options` the other
    options of the run as (value, given on the command line).
    """
    where = config.source or "(no pyproject.toml with [tool.lossguard] found)"
    lines = [f"# configuration file: {where}", f"# project root: {config.root.resolve()}"]
    configured = {"select": config.select, "ignore": config.ignore, "exclude": config.exclude,
                  "per-file-ignores": config.per_file_ignores}
    for key, value in configured.items():
        given = command_line.get(key)
        if given:
            lines.append(f"{key} = {_toml(given)}  # from the command line")
        elif value:
            lines.append(f"{key} = {_toml(value)}  # from {config.source}")
        else:
            lines.append(f"{key} = {_toml(value)}  # default")
    lines.append(f"enabled = {_toml(sorted(enabled))}  # the codes select and ignore leave")
    for key, (value, given) in options.items():
        shown = str(value).lower() if isinstance(value, bool) or value is None else _toml(value)
        lines.append(f"{key} = {shown}  # {'from the command line' if given else 'default'}")
    return "\n".join(lines)
