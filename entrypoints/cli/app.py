"""The root command: lazy sub-command loading, the container, and the one error handler."""

from __future__ import annotations

import importlib
import io
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from domain.errors import TraceError
from domain.masking import SecretMasker
from domain.secret import looks_like_secret
from entrypoints.cli.commands import COMMANDS, HELP_OPTIONS, ROOT_HELP
from entrypoints.cli.output import emit_json, emit_json_line, note, tell
from entrypoints.errors import INTERRUPTED, UNEXPECTED, USAGE, exit_code_for

if TYPE_CHECKING:
    from entrypoints.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Eager and lazy commands, sorted."""
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import the command's module only now."""
        if cmd_name in self._lazy:
            module, attribute, _ = self._lazy[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands from the static table, without importing them."""
        rows = [(name, self._lazy[name][2]) for name in sorted(self._lazy)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class CliState:
    """Per-invocation state: output mode and the container, built on first use."""

    def __init__(self, argv: Sequence[str] = ()) -> None:
        self.json = False
        # Arguments shaped like a key (pasted where a mode, a command or a shell name
        # goes): no error message may repeat them.
        self.masker = SecretMasker(_secret_shaped(argv))
        # Set by commands whose --json output is JSON lines (chat): an error is one more line.
        self.json_lines = False
        self._runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        """The composition root (imports the adapters only when a command needs them)."""
        if self._runtime is None:
            from entrypoints.cli import resume_collection
            from entrypoints.cli.output import warn
            from entrypoints.runtime import Runtime

            self._runtime = Runtime(warn=warn)
            resume_collection()  # the imports are done: what follows is the command's
        return self._runtime

    def drain_notices(self) -> list[str]:
        """Secret-store notices (e.g. a fall back to the file store), if a store was built."""
        return [] if self._runtime is None else self._runtime.notices()

    def close(self) -> None:
        """Close what the runtime opened (the backend's connections), if it was built."""
        if self._runtime is not None:
            self._runtime.close()


def state() -> CliState:
    """The state of the running invocation."""
    obj = click.get_current_context().find_root().obj
    assert isinstance(obj, CliState)
    return obj


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool | None) -> bool:
    root = ctx.find_root().obj
    if value is None:
        value = isinstance(root, CliState) and _json_by_default(root)
    if value and isinstance(root, CliState):
        root.json = True
    return value


def _json_by_default(root: CliState) -> bool:
    """The ``output.format`` setting, when neither --json nor --text was given."""
    try:
        view = root.runtime.use_cases.get_setting().execute("output.format")
    except TraceError:
        return False  # a broken config.toml is reported by the command itself
    return bool(view.value == "json")


def json_option(func: F) -> F:
    """The ``--json`` flag every command has."""
    option = click.option(
        "--json/--text",
        "as_json",
        default=None,
        expose_value=True,
        callback=_set_json,
        help="JSON (a stable, documented shape) or text; default: the output.format setting.",
    )
    return option(func)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": list(HELP_OPTIONS)},
    help=ROOT_HELP,  # one text for click and the click-free --help (commands.py)
)
@click.version_option(package_name="buildwithtrace", prog_name="buildwithtrace")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Trace: an AI assistant for electronics design, with your own model keys."""
    ctx.obj = ctx.obj or CliState()


def _secret_shaped(argv: Sequence[str]) -> list[str]:
    """The arguments (or ``--option=value`` values) that look like a key or a token."""
    found = []
    for arg in argv:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if looks_like_secret(value):
            found.append(value.strip())
    return found


def _emit_error(kind: str, problem: str, fix: str, code: int, *, one_line: bool = False) -> None:
    document = {"error": {"type": kind, "problem": problem, "fix": fix, "exit_code": code}}
    (emit_json_line if one_line else emit_json)(document)


def _report(error: TraceError, cli_state: CliState) -> None:
    error.redact(cli_state.masker.mask)
    if cli_state.json:
        _emit_error(
            type(error).__name__,
            error.problem,
            error.fix,
            exit_code_for(error),
            one_line=cli_state.json_lines,
        )
    tell(f"error: {error.message}")


def _show_usage_error(error: click.ClickException, cli_state: CliState) -> None:
    """click's message (usage line, hint, error), without any argument shaped like a key
    and without the control characters an argument may hold."""
    shown = io.StringIO()
    error.show(file=shown)
    tell(cli_state.masker.mask(shown.getvalue()), nl=False)


def _usage_fix(error: click.ClickException) -> str:
    ctx = error.ctx if isinstance(error, click.UsageError) else None
    return f"{ctx.command_path if ctx else 'buildwithtrace'} --help"


def run(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with the code of DESIGN section 7."""
    root_state = CliState(sys.argv[1:] if argv is None else argv)
    code = 0
    try:
        result = cli.main(
            args=argv, prog_name="buildwithtrace", standalone_mode=False, obj=root_state
        )
        # Without standalone mode click returns a command's ctx.exit(n) code instead of
        # raising it (and --help/--version return 0).
        if isinstance(result, int):
            code = result
    except TraceError as error:
        _report(error, root_state)
        code = exit_code_for(error)
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.ClickException as error:
        _show_usage_error(error, root_state)
        code = error.exit_code if error.exit_code else USAGE
        if root_state.json:  # set only once --json was parsed, so JSON readers get a document
            _emit_error(
                type(error).__name__,
                root_state.masker.mask(error.format_message()),
                _usage_fix(error),
                code,
                one_line=root_state.json_lines,
            )
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
        code = INTERRUPTED
    except Exception as error:  # the last line of defence: no traceback, no secret
        click.echo(
            f"error: unexpected {type(error).__name__}; run again with "
            "TRACE_DEBUG=1 for details and report it",
            err=True,
        )
        if _debug():
            raise
        code = UNEXPECTED
    finally:
        root_state.close()
        for text in root_state.drain_notices():
            note(text)
    sys.exit(code)


def _debug() -> bool:
    import os

    from domain.runtime import debug_enabled

    return debug_enabled(os.environ)
