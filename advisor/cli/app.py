"""The `advisor` command: wires sub-commands and turns every failure into one line and the right exit status.

Exit status: 0 fine, 1 an error finding (check), 2 bad input or usage, 130 interrupted (Ctrl-C),
128+N killed by signal N (SIGTERM: 143), 141 stdout closed early (``advisor check | head -1``), as a
command killed by SIGPIPE would report.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from typing import Any

import typer
from typer._click import Context
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from advisor import __version__
from advisor.cli import (
    bench_cmd,
    catalog_cmd,
    check_cmd,
    cluster_cmd,
    fast_params,
    recommend_cmd,
    report_cmd,
)
from advisor.errors import AdvisorError

# Options of the root command that users also write after the sub-command (`advisor check --debug`).
_GLOBAL_FLAGS = ("--debug", "--no-color", "--ascii")
_FLAG_ENV = ("ADVISOR_DEBUG", "ADVISOR_NO_COLOR", "ADVISOR_ASCII")
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EIO, errno.EDQUOT}


def _show_usage_error(exc: ClickException) -> None:
    """click's usage errors in the tool's own one-line form (click prints Usage / Try / Error lines)."""
    if isinstance(exc, NoArgsIsHelpError):
        exc.show()  # `advisor` alone prints the help, as before
        return
    from advisor.render.safe import safe_text

    message = safe_text(" ".join(exc.format_message().split()), one_line=True)
    ctx = getattr(exc, "ctx", None)
    hint = f" (see: {ctx.command_path} --help)" if isinstance(exc, UsageError) and ctx else ""
    sys.stderr.write(f"advisor: error: {message}{hint}\n")


def _quiet_stdout() -> None:
    # The reader went away: point stdout at /dev/null so the interpreter's final flush cannot fail too.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


class _AdvisorGroup(TyperGroup):
    """Turns a failure anywhere below into one clear line on stderr and its exit status.

    Done here rather than only in main() so every entry (console script, python -m, CliRunner) agrees.
    """

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        # Global flags are accepted anywhere before `--`: move them in front of the sub-command.
        if ctx.parent is None:
            end = args.index("--") if "--" in args else len(args)
            moved = [a for a in args[:end] if a in _GLOBAL_FLAGS]
            if moved:
                rest = [a for a in args[:end] if a not in _GLOBAL_FLAGS] + args[end:]
                args = moved + rest
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        # The global flags live in the environment for the length of one invocation (so library code
        # deep down sees them); put it back afterwards, for callers that run several (CliRunner, tests).
        saved = {k: os.environ.get(k) for k in _FLAG_ENV}
        try:
            return self._invoke(ctx)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def _invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except AdvisorError as exc:
            if os.environ.get("ADVISOR_DEBUG"):
                raise
            from advisor.render.safe import safe_text

            sys.stderr.write(f"advisor: error: {safe_text(str(exc))}\n")
            raise typer.Exit(exc.exit_code) from None
        except ClickException as exc:
            if os.environ.get("ADVISOR_DEBUG"):
                raise
            _show_usage_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            _quiet_stdout()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except OSError as exc:
            if exc.errno not in _OUTPUT_ERRNOS or os.environ.get("ADVISOR_DEBUG"):
                raise
            # stdout itself failed (/dev/full, a full disk behind a redirect): one line, not a traceback.
            _quiet_stdout()
            sys.stderr.write(f"advisor: error: cannot write the output: {exc.strerror or exc}\n")
            raise typer.Exit(2) from None
        except (KeyboardInterrupt, typer.Abort):
            sys.stderr.write("advisor: interrupted\n")
            raise typer.Exit(EXIT_INTERRUPTED) from None


def _plain_metavar(self: Any, ctx: Context) -> str:
    """click's style of value names (NUMBER, TEXT, [quick|full]) instead of typer's Python type names
    (``<list[Path]>``, ``<float range>``) in --help."""
    desc = getattr(self, "type_descriptor", None)
    if desc is None:
        return "VALUE"
    if getattr(desc, "is_choice", False):
        return "[" + "|".join(str(getattr(c, "value", c)) for c in desc.choices or ()) + "]"
    if getattr(desc, "is_path", False):
        return "PATH"
    annotation = getattr(desc, "annotation", None)
    return "N" if annotation is int else "NUMBER" if annotation is float else "TEXT"


typer.core.TyperOption.display_type = _plain_metavar  # type: ignore[method-assign]
# An argument's help line already names it by its metavar ("PATH..."): no type after it.
typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]


def _usage_name(self: Any) -> str:
    """``NAME`` / ``[NAME]`` / ``PATH...`` in the usage line, as click and POSIX write it (not ``{name}``)."""
    name = str(self.display_name_raw).upper()
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


typer.core.TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]

fast_params.install()  # plain options converted without building pydantic validators (start-up time)

app = typer.Typer(
    cls=_AdvisorGroup,
    name="advisor",
    help="GPU hardware advisor: what you have, whether it works together, how fast it is, what to do.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("check")(check_cmd.check)
app.command("bench")(bench_cmd.bench)
app.command("recommend")(recommend_cmd.recommend)
app.add_typer(catalog_cmd.app, name="catalog")
app.add_typer(report_cmd.app, name="report")
app.add_typer(cluster_cmd.app, name="cluster")


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
        False, "--version", "-V", callback=_version, is_eager=True, help="Show the version."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
    no_color: bool = typer.Option(
        False, "--no-color", help="No colours (as NO_COLOR=1 does). Also accepted after the command."
    ),
    ascii_only: bool = typer.Option(
        False,
        "--ascii",
        help="ASCII only: symbols and table borders (chosen anyway when the output cannot "
        "show Unicode, e.g. a cp1252 redirect on Windows).",
    ),
) -> None:
    if debug:
        os.environ["ADVISOR_DEBUG"] = "1"
    if no_color:
        os.environ["ADVISOR_NO_COLOR"] = "1"
    if ascii_only:
        os.environ["ADVISOR_ASCII"] = "1"
    from advisor.cli.common import setup_streams

    setup_streams()


def _on_signal(signum: int, _frame: object) -> None:
    # SIGTERM (timeout, systemd, CI cancel) and SIGHUP unwind like Ctrl-C: temp files are removed and the
    # bench child is killed by the same `finally` blocks; the exit status says which signal it was.
    raise SystemExit(128 + signum)


def _install_signal_handlers() -> None:
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            if signal.getsignal(sig) is signal.SIG_DFL:
                signal.signal(sig, _on_signal)
        except (ValueError, OSError):
            pass  # not the main thread, or the platform refuses


def main() -> None:
    """Console entry point: every failure becomes one clear line on stderr (a traceback only with --debug)."""
    # advisor uses no pydantic plugin, and looking for them scans every installed distribution's entry
    # points on the first model build (milliseconds per command, more in a big environment). Set here,
    # in the CLI process only, never on library import; a value the user set wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _install_signal_handlers()
    code: int
    try:
        # standalone_mode=False: click returns typer.Exit's code instead of exiting, and lets our
        # AdvisorError through so it becomes one line instead of a traceback.
        rv = app(standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
        sys.stdout.flush()
    except AdvisorError as exc:
        if os.environ.get("ADVISOR_DEBUG"):
            raise
        from advisor.render.safe import safe_text

        sys.stderr.write(f"advisor: error: {safe_text(str(exc))}\n")
        code = exc.exit_code
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("advisor: interrupted\n")
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        code = EXIT_BROKEN_PIPE
    except ClickException as exc:
        _show_usage_error(exc)
        code = exc.exit_code
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        code = EXIT_BROKEN_PIPE
    except (OSError, ValueError):
        pass
    sys.exit(code)
