"""``SubprocessKeyHelper``: runs a key helper command (1Password ``op``, ``pass``, Vault...).

How a helper runs, and why:

- **No shell** unless the command was stored with ``shell = true``: the words are split
  like a POSIX shell would (``shlex``) and executed directly, so quotes, ``$VAR``, ``;``
  and backticks in the command mean nothing unless the user asked for a shell.
- **The user's environment**, not a scrubbed one: password managers need their session
  variables (``OP_SESSION_*``, ``VAULT_ADDR``/``VAULT_TOKEN``, ``GNUPGHOME``...). Added:
  ``TRACE_KEY_HELPER_REASON`` (``chat``, ``sdk``, ``status``, ``verify``, ``doctor``) so
  a helper can avoid prompting where nobody can answer, ``TRACE_KEY_HELPER_PROVIDER``
  and ``TRACE_KEY_HELPER_NAME`` (empty for a provider's default key).
- **Standard input closed**, and its own session (process group), so a helper cannot
  read the terminal by accident and, when it runs past its time, it and everything it
  started are stopped together (SIGTERM, then SIGKILL).
- **Bounded**: ``timeout`` seconds (``keys.helper_timeout``), at most 64 KiB of output
  read (a key is far smaller); a helper that exits while something it started keeps the
  output open is waited for one more second, no longer, and what it started is then
  stopped with its process group (nothing it left behind keeps running).
- **Its stderr**, trimmed to one line, explains a failure; it is masked against what the
  helper printed on stdout (and anything shaped like a key), so the error never carries
  the key.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping

from application.ports import KeyHelper
from domain.errors import KeyHelperError
from domain.keys import (
    HELPER_NAME_ENV,
    HELPER_PROVIDER_ENV,
    HELPER_REASON_ENV,
    MAX_HELPER_OUTPUT,
    HelperCommand,
    HelperReason,
    KeyRef,
)
from domain.masking import SecretMasker
from domain.secret import looks_like_secret

_STDERR_KEPT = 8 * 1024
_STDERR_SHOWN = 300
_AFTER_EXIT = 1.0  # seconds to wait for the output to end once the helper itself exited
_TERM_GRACE = 0.5
_WORD = r"\S+"  # compiled (and cached by re) in the error path only


class SubprocessKeyHelper(KeyHelper):
    """Runs helpers as child processes with the user's environment (see the module doc)."""

    def __init__(self, environment: Mapping[str, str], *, timeout: float) -> None:
        self._environment = environment
        self._timeout = timeout

    def run(self, helper: HelperCommand, ref: KeyRef, reason: HelperReason) -> str:
        """Run ``helper``; its stdout, or ``KeyHelperError`` (see the port)."""
        env = dict(self._environment)
        env[HELPER_REASON_ENV] = reason.value
        env[HELPER_PROVIDER_ENV] = ref.provider.value
        env[HELPER_NAME_ENV] = ref.name or ""
        argv = ["/bin/sh", "-c", helper.command] if helper.shell else list(helper.argv())
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        except FileNotFoundError:
            raise _error(
                ref,
                f"the key helper program {helper.program!r} was not found",
                f"install it, or fix the command: {ref.set_command} --helper '...'",
            ) from None
        except OSError as exc:
            raise _error(
                ref,
                f"the key helper {helper.program!r} could not start ({exc.strerror or exc})",
                f"check the command: {ref.set_command} --helper '...'",
            ) from None
        return self._collect(process, helper, ref)

    def _collect(self, process: subprocess.Popen[bytes], helper: HelperCommand, ref: KeyRef) -> str:
        deadline = time.monotonic() + self._timeout
        out, err = bytearray(), bytearray()
        too_much = False
        exited_at: float | None = None
        assert process.stdout is not None and process.stderr is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ, out)
            selector.register(process.stderr, selectors.EVENT_READ, err)
            while selector.get_map():
                now = time.monotonic()
                if exited_at is None and process.poll() is not None:
                    exited_at = now
                limit = deadline if exited_at is None else min(deadline, exited_at + _AFTER_EXIT)
                if now >= limit:
                    break
                for key, _ in selector.select(timeout=min(0.1, limit - now)):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    buffer: bytearray = key.data
                    buffer.extend(chunk)
                    if buffer is out and len(out) > MAX_HELPER_OUTPUT:
                        too_much = True
                    if buffer is err and len(err) > _STDERR_KEPT:
                        del err[_STDERR_KEPT:]
                if too_much:
                    break
            output_open = bool(selector.get_map())
        if output_open and process.poll() is not None:
            # It exited, but something it started still holds its output: stop that too
            # (it is in the helper's process group) rather than leave it running.
            _stop_group(process.pid)
        if not too_much and process.poll() is None:
            # Its output ended but it did not exit (yet): wait for it, up to the deadline.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        timed_out = not too_much and process.poll() is None
        if process.poll() is None:
            _stop(process)
        for pipe in (process.stdout, process.stderr):
            pipe.close()
        code = process.wait()
        if too_much:
            raise _error(ref, f"the key helper printed more than {MAX_HELPER_OUTPUT // 1024} KiB")
        if timed_out:
            raise _error(
                ref,
                f"the key helper {helper.program!r} did not finish within {self._timeout:g} s "
                "and was stopped",
                "check that it does not wait for input (it runs without a terminal), or raise "
                "the limit: buildwithtrace config set keys.helper_timeout 120",
            )
        stdout = bytes(out)
        if code != 0:
            why = _excerpt(bytes(err), stdout)
            detail = f": {why}" if why else ""
            raise _error(
                ref, f"the key helper {helper.program!r} exited with status {code}{detail}"
            )
        try:
            return stdout.decode("utf-8")
        except UnicodeDecodeError:
            raise _error(ref, "the key helper printed bytes that are not UTF-8 text") from None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the helper and everything it started (its own process group)."""
    killpg = getattr(os, "killpg", None)
    for sig in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
        with contextlib.suppress(OSError):
            if killpg is not None:
                killpg(process.pid, sig)
            else:  # pragma: no cover - Windows has no process groups to signal
                process.kill()
        try:
            process.wait(timeout=_TERM_GRACE)
            return
        except subprocess.TimeoutExpired:
            continue


def _stop_group(pgid: int) -> None:
    """SIGKILL what is left of an exited helper's process group (POSIX only)."""
    killpg = getattr(os, "killpg", None)
    if killpg is not None:
        with contextlib.suppress(OSError):
            killpg(pgid, getattr(signal, "SIGKILL", signal.SIGTERM))


def _excerpt(stderr: bytes, stdout: bytes) -> str:
    """One printable line of stderr, without anything stdout held or shaped like a key."""
    text = stderr.decode("utf-8", "replace")
    printed = stdout.decode("utf-8", "replace")
    secrets = [printed.strip(), *(word for word in re.findall(_WORD, printed))]
    text = SecretMasker([s for s in secrets if s]).mask(text)
    text = re.sub(_WORD, lambda m: "***" if looks_like_secret(m.group()) else m.group(), text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text if len(text) <= _STDERR_SHOWN else text[: _STDERR_SHOWN - 1] + "…"


def _error(ref: KeyRef, problem: str, fix: str | None = None) -> KeyHelperError:
    return KeyHelperError(
        ref.label,
        problem,
        fix
        or "run the helper command in a terminal to see what it does, then: "
        "buildwithtrace byok status --run-helpers",
    )
