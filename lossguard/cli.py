"""The `lossguard` command line: check, rules, explain, and the lazily loaded run and demo commands.

`run` (runtime guard) and `demo` (reference models) need torch; they are imported only when invoked, so
`lossguard check` works in a pre-commit environment that has only libcst and click.
"""

from __future__ import annotations

import importlib
import sys

import click

from lossguard import __version__
from lossguard.rules import RULES, get_rule

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _LazyGroup(click.Group):
    """A group whose heavy subcommands are imported from `module:attribute` only when used."""

    lazy_commands = {
        "run": "lossguard.runtime.launcher:run_command",
        "demo": "lossguard.reference.demo:demo_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[name].split(":")
            try:
                return getattr(importlib.import_module(module_name), attribute)
            except ImportError as error:
                missing = getattr(error, "name", None) or str(error)
                raise click.UsageError(
                    f"'lossguard {name}' needs {missing}: install it with `pip install 'lossguard[torch]'`"
                ) from None
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lossguard")
def main() -> None:
    """Catch PyTorch loss-function pitfalls: static checks (`check`) and a runtime guard (`run`)."""


def _split_codes(values: tuple[str, ...]) -> list[str]:
    return [code for value in values for code in value.split(",") if code.strip()]


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--select", multiple=True, metavar="CODES", help="Only these codes or prefixes (LG101, LG1), comma-separated.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these codes or prefixes, comma-separated.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "sarif", "github"]), default="text",
              show_default=True, help="sarif: GitHub code scanning and other dashboards; github: Actions annotations.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (errors still exit 2).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the findings: no hints, no summary.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=str),
              help="A pyproject.toml whose [tool.lossguard] to use (default: the nearest one above the current folder).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
              help="Check files in N processes (default: the number of CPUs; 1: in this process).")
@click.option("--max-file-size", metavar="SIZE",
              help="Skip files larger than SIZE: bytes, or 500kB, 5MB, 1GiB (default: max-file-size, else 5MB).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=str),
              help="Where to keep the result cache (default: .lossguard_cache next to pyproject.toml).")
def check(
    paths: tuple[str, ...], select: tuple[str, ...], ignore: tuple[str, ...],
    output_format: str, exit_zero: bool, quiet: bool, config_path: str | None,
    jobs: int | None, max_file_size: str | None, no_cache: bool, cache_dir: str | None,
) -> None:
    """Check Python files and notebooks under PATHS (default: the current folder) for loss pitfalls."""
    import dataclasses
    from pathlib import Path

    from lossguard.config import ConfigError, load_config, parse_size
    from lossguard.formats import render
    from lossguard.rules import select_codes
    from lossguard.static.checker import available_cpus, check_paths, default_cache_folder

    try:
        config = load_config(Path(config_path) if config_path else None)
        enabled = select_codes(_split_codes(select) or list(config.select),
                               _split_codes(ignore) or list(config.ignore))
    except (ValueError, ConfigError) as error:
        raise click.UsageError(str(error)) from None
    if max_file_size is not None:
        try:
            config = dataclasses.replace(config, max_file_size=parse_size(max_file_size))
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="'--max-file-size'") from None

    targets = list(paths) or ["."]
    cache_folder = None if no_cache else Path(cache_dir) if cache_dir else default_cache_folder(targets, config)
    result = check_paths(targets, enabled=enabled, config=config, jobs=jobs or available_cpus(),
                         cache_folder=cache_folder)
    for line in result.skipped:
        click.echo(line, err=True)
    for error in result.errors:
        click.echo(error, err=True)
    output = render(result.findings, output_format, quiet=quiet, files_checked=result.files_checked,
                    errors=len(result.errors), skipped=len(result.skipped))
    if output:
        click.echo(output)
    if result.errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if result.findings and not exit_zero else EXIT_CLEAN)


@main.command()
def rules() -> None:
    """List every rule: code, name, where lossguard detects it, and its title."""
    width = max(len(rule.name) for rule in RULES)
    for rule in RULES:
        click.echo(f"{rule.code}  {rule.name:<{width}}  {rule.detection:<14}  {rule.title}")


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Explain one rule, such as LG101: why it is wrong, how to fix it, and examples."""
    try:
        rule = get_rule(code)
    except KeyError as error:
        raise click.UsageError(f"{error.args[0]}; `lossguard rules` lists them") from None
    from lossguard.formats.explain import explain_rule

    click.echo(explain_rule(rule))
