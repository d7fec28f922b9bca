"""The `advisor` command: wires sub-commands and turns library errors into one line and exit 2."""

from __future__ import annotations

import os
import sys

import typer
from typer.core import TyperGroup

from advisor import __version__
from advisor.cli import bench_cmd, catalog_cmd, check_cmd, recommend_cmd, report_cmd
from advisor.errors import AdvisorError


class _AdvisorGroup(TyperGroup):
    """Turns a library error anywhere below into one clear line on stderr and its exit status (2).

    Done here rather than only in main() so every entry (console script, python -m, CliRunner) agrees.
    """

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except AdvisorError as exc:
            if os.environ.get("ADVISOR_DEBUG"):
                raise
            typer.echo(f"advisor: error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_AdvisorGroup,
    name="advisor",
    help="GPU hardware advisor: what you have, whether it works together, how fast it is, what to do.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("check")(check_cmd.check)
app.command("bench")(bench_cmd.bench)
app.command("recommend")(recommend_cmd.recommend)
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(report_cmd.app, name="report")


def _version(value: bool) -> None:
    if value:
        from advisor.knowledge.loader import shipped_catalog_dir
        from advisor.knowledge.staleness import shipped_current_to

        current_to = shipped_current_to(shipped_catalog_dir())
        typer.echo(f"advisor {__version__}")
        typer.echo(
            f"knowledge current to {current_to or 'an unknown date'} (torch, CUDA, driver and GPU tables)"
        )
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
) -> None:
    if debug:
        os.environ["ADVISOR_DEBUG"] = "1"


def main() -> None:
    """Console entry point: AdvisorError → one clear line on stderr, exit 2 (traceback with --debug)."""
    # advisor uses no pydantic plugin, and looking for them scans every installed distribution's entry
    # points on the first model build (milliseconds per command, more in a big environment). Set here,
    # in the CLI process only, never on library import; a value the user set wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        # standalone_mode=False: click returns typer.Exit's code instead of exiting, and lets our
        # AdvisorError through so it becomes one line instead of a traceback.
        rv = app(standalone_mode=False)
    except AdvisorError as exc:
        if os.environ.get("ADVISOR_DEBUG"):
            raise
        sys.stderr.write(f"advisor: error: {exc}\n")
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("advisor: aborted\n")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.stderr.write("advisor: interrupted\n")
        sys.exit(130)
    except Exception as exc:
        # Usage errors: click's ClickException (vendored inside typer since 0.2x), matched by shape so
        # either layout works.
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise
    sys.exit(rv if isinstance(rv, int) else 0)
