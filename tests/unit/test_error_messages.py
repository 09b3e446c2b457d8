"""Every error message says what happened and the exact next step, and the step is real.

Two nets over the words users read when something fails:

- every ``TraceError`` subclass (found by introspection, in every module of the four
  packages, so a new one cannot be forgotten) is rendered with the sample arguments of
  ``tests/shared/error_cases.py``; its fix must name a next step, every
  ``buildwithtrace ...`` command in it must parse with the real click command tree,
  every ``--option`` must exist, every environment variable must be documented, and no
  message may hold a key-shaped string;
- every place the code builds an error with its own fix (a base class, or a class that
  takes a ``fix``), found in the source, is held to the same rules; a base class must
  be given a fix at all.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from domain import errors
from domain.secret import looks_like_secret
from entrypoints.cli.app import cli
from tests.shared.error_cases import SAMPLES, _build
from tests.support.files import REPO_ROOT

PACKAGES = ("domain", "application", "adapters", "entrypoints")
# A command in running text ends at two spaces or at punctuation that is not part of one.
_COMMAND = re.compile(r"(?<![\w/.-])buildwithtrace((?: [^\s(),;`]+)*)")
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
_ENV_VAR = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
# Steps that are not our commands but are exact (a shell command with its argument).
_SHELL_STEPS = ("chmod ", "mv ", "ls ", "df ", "ulimit ", "unset ", "rm ", "cp ", "export ")
# SDK steps: a client to build, a keyword argument to pass.
# Options of the shell commands a fix names (cp --remove-destination ...), not ours.
_SHELL_OPTIONS = {"--remove-destination"}
_SDK_STEP = re.compile(r"\b(?:Async)?Trace\(|\b[a-z_]+=")
# A refused value with the values that are accepted is a step too.
_CHOICES = re.compile(r"\bone of: \w")
_DOCUMENTED = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def _import_everything() -> None:
    for package in PACKAGES:
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, f"{package}."):
            importlib.import_module(module.name)


def _inherits_init(cls: type[errors.TraceError]) -> bool:
    """True when ``cls`` takes (problem, fix) as TraceError does (no words of its own)."""
    return all(
        "__init__" not in vars(k) for k in cls.__mro__[: cls.__mro__.index(errors.TraceError)]
    )


def _subclasses(cls: type[errors.TraceError]) -> Iterator[type[errors.TraceError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


_import_everything()
_FOUND: set[type[errors.TraceError]] = {errors.TraceError, *_subclasses(errors.TraceError)}
ERROR_CLASSES: list[type[errors.TraceError]] = sorted(_FOUND, key=lambda c: c.__name__)
# The families callers fill with their own words: checked at their raise sites below.
BASES = [c for c in ERROR_CLASSES if _inherits_init(c)]


def _options() -> set[str]:
    found: set[str] = set()

    def walk(command: click.Command, ctx: click.Context) -> None:
        for param in command.params:
            found.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(sub, click.Context(sub, info_name=name, parent=ctx))

    walk(cli, click.Context(cli, info_name="buildwithtrace"))
    return found


OPTIONS = _options()


def parse_command(words: list[str]) -> None:
    """Parse ``buildwithtrace WORDS`` with the real command tree (types, arity, choices)."""
    ctx = click.Context(cli, info_name="buildwithtrace")
    command: click.Command = cli
    rest = list(words)
    if rest in (["--version"], ["--help"]):
        return  # the root group's own options
    while isinstance(command, click.Group):
        assert rest, "the command stops at a group"
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"no command {rest[0]!r}"
        ctx = click.Context(sub, info_name=rest[0], parent=ctx)
        command, rest = sub, rest[1:]
    assert ctx.parent is not None
    command.make_context((rest and ctx.info_name) or ctx.info_name, rest, parent=ctx.parent)


def check_words(text: str, *, where: str, commands: bool = True) -> list[str]:
    """What is wrong with one fix (or, without ``commands``, problem) text; empty if nothing."""
    problems = []
    for match in _COMMAND.finditer(text) if commands else ():
        words = match.group(1).split()
        try:
            parse_command(words)
        except (click.ClickException, errors.TraceError, AssertionError) as exc:
            problems.append(f"{where}: `buildwithtrace {' '.join(words)}` does not parse: {exc}")
    for option in _OPTION.findall(text):
        if option not in OPTIONS | _SHELL_OPTIONS:
            problems.append(f"{where}: no command has the option {option}")
    for name in _ENV_VAR.findall(text):
        if name not in _DOCUMENTED:
            problems.append(f"{where}: {name} is not documented in docs/configuration.md")
    return problems


def names_a_step(fix: str) -> bool:
    """True when ``fix`` names something to run or set: a command, option, variable."""
    return bool(
        _COMMAND.search(fix)
        or _OPTION.search(fix)
        or _ENV_VAR.search(fix)
        or any(step in fix for step in _SHELL_STEPS)
        or _SDK_STEP.search(fix)
        or _CHOICES.search(fix)
    )


def _samples() -> Iterator[Any]:
    for cls in ERROR_CLASSES:
        for index, args in enumerate(SAMPLES.get(cls.__name__, [])):
            yield pytest.param(cls, args, id=f"{cls.__name__}-{index}")


def test_every_error_class_has_samples_in_the_shared_table() -> None:
    """A new error class anywhere fails here until it has samples (and so a Node twin)."""
    missing = [c.__name__ for c in ERROR_CLASSES if c.__name__ not in SAMPLES]
    assert missing == []
    outside = [c.__name__ for c in ERROR_CLASSES if c.__module__ != "domain.errors"]
    assert outside == [], "errors live in domain.errors (one tree, one table of exit codes)"


@pytest.mark.parametrize(("cls", "args"), list(_samples()))
def test_each_error_says_what_happened_and_a_real_next_step(
    cls: type[errors.TraceError], args: list[Any]
) -> None:
    error = _build(cls, args)
    assert error.problem.strip()
    tokens = re.split(r"[\s\"'(),;:`]+", error.message)
    assert not [t for t in tokens if looks_like_secret(t)], "a key-shaped string in a message"
    if cls in BASES:
        return  # the sample's words are the test's own; raise sites are checked below
    assert error.fix.strip(), f"{cls.__name__} has no fix"
    assert names_a_step(error.fix), f"{cls.__name__}'s fix names no step: {error.fix!r}"
    assert check_words(error.fix, where=cls.__name__) == []
    assert check_words(error.problem, where=cls.__name__, commands=False) == []


# --- raise sites of the base classes, read from the source ---------------------------------


def _source_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((REPO_ROOT / package).rglob("*.py"))


def _rendered(node: ast.expr, module: Any) -> list[str]:
    """The texts an argument can take: a literal, an f-string (each {} as a sample word),
    a module constant, or either side of a conditional; [] when it cannot be told."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue) and _rendered(value.value, module):
                parts.append(_rendered(value.value, module)[0])  # a module constant
            else:
                parts.append("anthropic")  # a placeholder word every slot accepts
        return ["".join(parts)]
    if isinstance(node, ast.Name) and isinstance(getattr(module, node.id, None), str):
        return [getattr(module, node.id)]
    if isinstance(node, ast.IfExp):
        return _rendered(node.body, module) + _rendered(node.orelse, module)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _rendered(node.left, module), _rendered(node.right, module)
        return [a + b for a in left for b in right]
    return []


def _fix_position(cls: type[errors.TraceError]) -> int | None:
    """The positional index of ``cls``'s ``fix`` argument, None when it takes none."""
    names = list(inspect.signature(cls.__init__).parameters)[1:]
    return names.index("fix") if "fix" in names else None


def _raise_sites() -> Iterator[tuple[str, str, ast.Call, Any]]:
    names = {c.__name__: c for c in ERROR_CLASSES if _fix_position(c) is not None}
    for path in _source_files():
        relative = path.relative_to(REPO_ROOT)
        module = importlib.import_module(
            ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        )
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if isinstance(name, str) and name in names:
                yield f"{relative}:{node.lineno}", name, node, module


RAISE_SITES = list(_raise_sites())


def test_the_source_raises_base_errors_somewhere() -> None:
    """The scan below sees the code (a guard against a scan that finds nothing)."""
    assert len(RAISE_SITES) > 10


@pytest.mark.parametrize(
    ("where", "name", "call", "module"), [pytest.param(*s, id=s[0]) for s in RAISE_SITES]
)
def test_every_raise_site_gives_a_fix_with_a_real_step(
    where: str, name: str, call: ast.Call, module: Any
) -> None:
    if any(isinstance(a, ast.Starred) for a in call.args):
        return  # arguments forwarded as they are (a subclass's own __init__)
    cls = next(c for c in ERROR_CLASSES if c.__name__ == name)
    position = _fix_position(cls)
    assert position is not None
    fix_node = call.args[position] if len(call.args) > position else None
    for keyword in call.keywords:
        if keyword.arg == "fix":
            fix_node = keyword.value
    if fix_node is None:
        assert cls not in BASES, f"{where}: {name}(...) without a fix"
        return  # the class's own default fix, checked with its samples above
    for fix in _rendered(fix_node, module):
        assert fix.strip(), f"{where}: an empty fix"
        assert names_a_step(fix), f"{where}: the fix names no step: {fix!r}"
        assert check_words(fix, where=where) == []
    for problem in _rendered(call.args[0], module) if call.args else []:
        assert check_words(problem, where=where, commands=False) == []


def test_parse_command_refuses_what_the_cli_refuses() -> None:
    """The checker itself: a wrong command, option value or arity fails."""
    parse_command(["byok", "set", "openai", "--key-stdin"])
    parse_command(["auth", "login", "--paste"])
    for wrong in (
        ["byok", "set", "PROVIDER"],
        ["byok", "sett", "openai"],
        ["billing", "status", "shows", "it"],
        ["chat"],
        ["byok", "set", "openai", "--key-stdn"],
    ):
        with pytest.raises((click.ClickException, errors.TraceError, AssertionError)):
            parse_command(wrong)
    assert inspect.isclass(errors.TraceError)


def test_key_shape_warnings_name_real_commands() -> None:
    """The warnings byok set prints for a key of another shape hold to the same rules."""
    from application.key_shape import key_shape_warning
    from domain.provider import Provider
    from domain.secret import Secret

    shaped = {"sk-ant-": "anthropic", "AIza": "gemini", "sk-proj-": "openai", "zz-": ""}
    for prefix in shaped:
        for provider in Provider.byok():
            warning = key_shape_warning(provider, Secret(prefix + "0123456789abcdefghij"))
            if warning is not None:
                assert _COMMAND.search(warning), warning
                assert check_words(warning, where=f"{provider.value} {prefix}") == []
