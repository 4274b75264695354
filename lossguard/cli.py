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

    # What `lossguard --help` lists for them, so that help never imports torch.
    lazy_help = {
        "run": "Run a Python program (script.py [ARGS...], or -m MODULE) with the runtime guard installed.",
        "demo": "Train the reference models and their broken twins side by side (needs torch).",
    }

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, with the lazy commands' help taken from `lazy_help` instead of importing them."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy_commands:
                rows.append((name, self.lazy_help[name]))
            else:
                command = super().get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

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


@click.group(cls=_LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lossguard")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Catch PyTorch loss-function pitfalls: static checks (`check`) and a runtime guard (`run`)."""
    if ctx.invoked_subcommand is None:  # a bare `lossguard` shows the help, as `lossguard --help` does
        click.echo(ctx.get_help())


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
@click.option("--fix", is_flag=True, help="Apply the safe fixes in place (files and notebooks).")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply unsafe fixes (they change what a model returns).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff instead of writing them.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("--show-source", is_flag=True, help="Show the source under each finding, both ends of the flow marked.")
@click.option("--output-file", type=click.Path(dir_okay=False, path_type=str), help="Write the report to this file.")
@click.option("--stdin-filename", metavar="PATH", help="With `-` as the path: the name to check standard input as.")
@click.option("--report-unused-noqa", is_flag=True, help="Report `# noqa: LGxxx` comments that silence nothing.")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False, path_type=str),
              help="Hide the findings recorded in this baseline file: fail only on new ones.")
@click.option("--write-baseline", "write_baseline_path", type=click.Path(dir_okay=False, path_type=str),
              help="Record every current finding in this baseline file, then exit 0.")
@click.option("--show-settings", is_flag=True, help="Print the resolved configuration and where it came from.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
              help="Check files in N processes (default: the number of CPUs; 1: in this process).")
@click.option("--max-file-size", metavar="SIZE",
              help="Skip files larger than SIZE: bytes, or 500kB, 5MB, 1GiB (default: max-file-size, else 5MB).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=str),
              help="Where to keep the result cache (default: .lossguard_cache next to pyproject.toml).")
@click.pass_context
def check(
    ctx: click.Context, paths: tuple[str, ...], select: tuple[str, ...], ignore: tuple[str, ...],
    output_format: str, exit_zero: bool, quiet: bool, config_path: str | None, fix: bool, unsafe_fixes: bool,
    diff: bool, statistics: bool, show_source: bool, output_file: str | None, stdin_filename: str | None,
    report_unused_noqa: bool, baseline_path: str | None, write_baseline_path: str | None, show_settings: bool,
    jobs: int | None, max_file_size: str | None, no_cache: bool, cache_dir: str | None,
) -> None:
    """Check Python files and notebooks under PATHS (default: the current folder) for loss pitfalls.

    PATHS `-` reads standard input (name it with --stdin-filename).
    """
    import dataclasses
    from pathlib import Path

    from lossguard import linter_options as extra
    from lossguard.baseline import BaselineError, load_baseline, new_findings, write_baseline
    from lossguard.config import ConfigError, load_config, parse_size
    from lossguard.formats import render
    from lossguard.formats.text import Fixable
    from lossguard.rules import select_codes
    from lossguard.static.checker import (
        CheckResult, available_cpus, check_file_text, check_paths, default_cache_folder,
    )
    from lossguard.static.source import SourceError
    from lossguard.static.source_lines import SourceLines

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

    if show_settings:
        from lossguard.settings import describe_settings

        given = {name for name in ctx.params
                 if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE}
        options = {name.replace("_", "-"): (ctx.params[name], name in given)
                   for name in ("output_format", "fix", "unsafe_fixes", "diff", "exit_zero", "quiet", "show_source",
                                "statistics", "report_unused_noqa", "baseline_path")}
        click.echo(describe_settings(config, enabled, {"select": _split_codes(select), "ignore": _split_codes(ignore)},
                                     options))
        return

    targets = list(paths) or ["."]
    cache_folder = None if no_cache else Path(cache_dir) if cache_dir else default_cache_folder(targets, config)

    def run_check() -> CheckResult:
        return check_paths(targets, enabled=enabled, config=config, jobs=jobs or available_cpus(),
                           cache_folder=cache_folder)

    stdin = list(paths) == ["-"]
    texts: dict[str, str] = {}
    if stdin:
        name = extra.stdin_name(stdin_filename)
        texts[name] = extra.read_stdin()
        result = CheckResult(files_checked=1)
        try:
            result.findings = check_file_text(texts[name], stdin_filename or name, enabled, config)[0]
        except SourceError as error:
            result.errors.append(error.located(name))
    elif stdin_filename:
        raise click.UsageError("--stdin-filename needs `-` as the path")
    else:
        result = run_check()
    sources = SourceLines(texts)

    fixed: int | None = None
    if diff:
        sys.exit(extra.print_diff(result, texts, stdin_filename, enabled=enabled, config=config, unsafe=unsafe_fixes,
                                  exit_zero=exit_zero))
    if fix and stdin:
        sys.exit(extra.fix_standard_input(texts, stdin_filename, enabled=enabled, config=config, unsafe=unsafe_fixes,
                                          quiet=quiet, show_source=show_source, exit_zero=exit_zero))
    if fix:
        run = extra.fix_files(result.findings, enabled=enabled, config=config, unsafe=unsafe_fixes, write=True)
        fixed = run.fixed
        if run.files:  # report what is left after the fixes
            result = run_check()
        result.errors.extend(run.errors)

    if write_baseline_path:
        try:
            write_baseline(Path(write_baseline_path), result.findings, sources)
        except BaselineError as error:
            raise click.UsageError(str(error)) from None
        for error in result.errors:
            click.echo(error, err=True)
        click.echo(f"Wrote {len(result.findings)} findings to the baseline {write_baseline_path}.")
        sys.exit(EXIT_ERROR if result.errors else EXIT_CLEAN)
    hidden = 0
    if baseline_path:
        try:
            recorded = load_baseline(Path(baseline_path))
        except BaselineError as error:
            raise click.UsageError(str(error)) from None
        result.findings, hidden = new_findings(result.findings, recorded, sources, Path(baseline_path))

    unused: list[str] = []
    if report_unused_noqa:
        unused = extra.unused_suppressions(list(paths), texts, stdin_filename, enabled, config)

    for notice in result.skipped:
        click.echo(notice, err=True)
    for error in result.errors:
        click.echo(error, err=True)
    wants_fixable = (output_format == "text" and not quiet and not fixed) or statistics
    fixable_map = extra.fixable_summary(result.findings, texts) if wants_fixable else {}
    fixable = Fixable(sum(1 for safe in fixable_map.values() if safe),
                      sum(1 for safe in fixable_map.values() if not safe), unsafe_fixes)
    colour = output_format == "text" and not output_file and extra.use_colour(sys.stdout)
    if statistics:
        from lossguard.formats.statistics import render_statistics

        output = render_statistics(result.findings, fixable_map, unsafe_fixes)
    else:
        output = render(result.findings, output_format, quiet=quiet, files_checked=result.files_checked,
                        errors=len(result.errors), error_lines=result.errors, fixable=fixable, fixed=fixed,
                        sources=sources if show_source else None, colour=colour, skipped=len(result.skipped))
    if output_format == "text":
        lines = [*unused, output] if unused else [output]
        if hidden and not quiet:
            lines.append(f"{hidden} more recorded in the baseline {baseline_path} (not shown).")
        output = "\n".join(line for line in lines if line)
    if output_file:
        try:
            Path(output_file).write_text(output + "\n" if output else "", encoding="utf-8")
        except OSError as error:
            raise click.UsageError(f"{output_file}: cannot write the report: {error.strerror or error}") from None
    elif output:
        click.echo(output, color=colour)
    if result.errors:
        sys.exit(EXIT_ERROR)
    failing = result.findings or unused
    sys.exit(EXIT_FINDINGS if failing and not exit_zero else EXIT_CLEAN)


@main.command()
def rules() -> None:
    """List every rule: code, name, where lossguard detects it, which fixes it has, and its title."""
    width = max(len(rule.name) for rule in RULES)
    fixes = max(len(rule.fix_availability) for rule in RULES)
    for rule in RULES:
        click.echo(f"{rule.code}  {rule.name:<{width}}  {rule.detection:<14}  {rule.fix_availability:<{fixes}}  "
                   f"{rule.title}")


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Explain one rule, such as LG101: why it is wrong, how to fix it, and examples."""
    try:
        rule = get_rule(code)
    except KeyError as error:
        raise click.UsageError(f"{error.args[0]}; `lossguard rules` lists them") from None
    from lossguard.formats.explain import explain_rule
    from lossguard.static.autofix import fixed_examples

    click.echo(explain_rule(rule, fixed_examples(rule) if rule.autofix else None))
