"""The EDA tools: ``get_erc_violations`` and ``get_drc_violations`` through ``kicad-cli``.

They run ``kicad-cli sch erc`` / ``kicad-cli pcb drc`` with ``--format json`` and
return the JSON report as written (size-capped). The report goes to a private temp
directory outside the project, so checking never adds files to the user's tree.
Without ``kicad-cli`` (KiCad 8+) the tools answer with an error naming the fix.

The file argument (``file_path``; ``target_file`` or ``file`` also accepted) is
optional: without it the root's schematic/board is used, i.e. the one named like the
project's single ``.kicad_pro``, else the only one in the root directory. Both go
through the path policy (:mod:`adapters.tools.local.path_policy`): a hidden file, or
a link to one, is refused when named and never chosen as the default.

``kicad-cli`` runs with an allow-listed environment
(:mod:`adapters.tools.local.child_env`): no API key, Trace token or other secret of
this process reaches it. A run that exceeds the timeout, or whose turn is cancelled,
is killed with its whole process group (POSIX) so a stuck engine cannot hold the call.

Residual risk: ``kicad-cli`` opens the file by path after the check, so a project
whose files are being swapped for links at that moment could make it read another
schematic; it only ever reports ERC/DRC findings, never file contents.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from pathlib import Path

from adapters.tools.local import path_policy
from adapters.tools.local.arguments import Arguments, ToolError
from adapters.tools.local.child_env import child_environment
from adapters.tools.local.context import ToolContext
from adapters.tools.local.output import cap

NO_ENGINE = "no EDA engine installed: install KiCad 8+ (kicad-cli) to run ERC/DRC"
_STDERR_TAIL = 2000


def get_erc_violations(ctx: ToolContext, args: Arguments) -> str:
    """``get_erc_violations``: the electrical rules check report of a schematic."""
    return _check(ctx, args, ("sch", "erc"), ".kicad_sch", "schematic")


def get_drc_violations(ctx: ToolContext, args: Arguments) -> str:
    """``get_drc_violations``: the design rules check report of a board."""
    return _check(ctx, args, ("pcb", "drc"), ".kicad_pcb", "board")


def _check(
    ctx: ToolContext, args: Arguments, command: tuple[str, str], suffix: str, what: str
) -> str:
    """Run one ``kicad-cli`` check on a file inside the root and return its JSON report."""
    if ctx.kicad_cli is None:
        raise ToolError(NO_ENGINE)
    raw = args.optional_text("file_path", "target_file", "file")
    if raw is not None:
        path = path_policy.resolve(ctx.sandbox, raw, "check")
    else:
        path = _default_file(ctx, suffix, what)
    shown = ctx.sandbox.display(path)
    if path_policy.name_key(path.suffix) != suffix:
        raise ToolError(f"{command[1].upper()} needs a {suffix} {what}; got {shown!r}")
    if not path.is_file():
        raise ToolError(f"{what} {shown!r} does not exist")
    with tempfile.TemporaryDirectory(prefix="trace-eda-") as temp:
        report = Path(temp, "report.json")
        argv = [ctx.kicad_cli, *command, "--format", "json", "--output", str(report), str(path)]
        _run(ctx, argv, " ".join(command))
        try:
            with report.open("rb") as file:
                data = file.read(ctx.max_read_bytes + 1)
        except FileNotFoundError:
            raise ToolError(f"kicad-cli {' '.join(command)} wrote no report") from None
    text = data.decode("utf-8", "replace")
    if len(data) <= ctx.max_read_bytes:
        try:
            json.loads(text)
        except ValueError:
            raise ToolError(
                f"kicad-cli {' '.join(command)} wrote a report that is not JSON"
            ) from None
    return cap(text, ctx.max_result_chars)


def _run(ctx: ToolContext, argv: list[str], name: str) -> None:
    """Run ``argv`` in the root with the timeout; ``ToolError`` unless it exits 0."""
    posix = os.name == "posix"
    try:
        process = subprocess.Popen(
            argv,
            cwd=ctx.sandbox.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_environment(ctx.environment),
            start_new_session=posix,
        )
    except OSError as error:
        raise ToolError(f"cannot run the EDA engine {ctx.kicad_cli!r}: {error.strerror}") from None
    if not ctx.processes.add(process):
        _kill(process, posix)
        raise ToolError(f"kicad-cli {name} was cancelled")
    try:
        _, stderr = process.communicate(timeout=ctx.eda_timeout)
    except subprocess.TimeoutExpired:
        _kill(process, posix)
        raise ToolError(
            f"kicad-cli {name} did not finish within {ctx.eda_timeout:g} s and was stopped"
        ) from None
    finally:
        ctx.processes.discard(process)
    if ctx.processes.cancelled:
        raise ToolError(f"kicad-cli {name} was cancelled")
    if process.returncode != 0:
        detail = stderr.decode("utf-8", "replace").strip()[-_STDERR_TAIL:]
        raise ToolError(
            f"kicad-cli {name} failed (exit status {process.returncode})"
            + (f": {detail}" if detail else "")
        )


def cancel_running(ctx: ToolContext) -> None:
    """Kill every running EDA process (and its group); later runs are refused."""
    for process in ctx.processes.cancel():
        _kill_group(process, os.name == "posix")


def _kill_group(process: subprocess.Popen[bytes], posix: bool) -> None:
    try:
        if posix:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass


def _kill(process: subprocess.Popen[bytes], posix: bool) -> None:
    """Stop ``process`` and, on POSIX, everything it started."""
    _kill_group(process, posix)
    try:
        process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        # Something escaped the group and still holds the pipes; stop waiting for it.
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        process.wait()


def _default_file(ctx: ToolContext, suffix: str, what: str) -> Path:
    """The project's main schematic or board when the model named none."""
    root = ctx.sandbox.root
    candidates: dict[str, Path] = {}
    projects: list[str] = []
    for found in sorted(root.iterdir()):
        resolved = path_policy.reach(ctx.sandbox, found)
        if resolved is None:
            continue
        key = path_policy.name_key(found.name)
        if key.endswith(".kicad_pro"):
            projects.append(found.name[: -len(".kicad_pro")])
        elif (
            key.endswith(suffix)
            and path_policy.name_key(resolved.name).endswith(suffix)
            and resolved.is_file()
        ):
            candidates[found.name] = resolved
    if len(projects) == 1 and projects[0] + suffix in candidates:
        return candidates[projects[0] + suffix]
    if len(candidates) == 1:
        return next(iter(candidates.values()))
    if not candidates:
        raise ToolError(f"no {suffix} {what} in the project directory; pass file_path")
    raise ToolError(
        f"several {what}s in the project directory ({', '.join(candidates)}); pass file_path"
    )
