"""Generate tests/shared/errors.json: the error tree both SDKs raise, with sample messages.

    python -m tests.shared.error_cases          # rewrite the file
    python -m tests.shared.error_cases --check  # exit 1 when the file is stale

Every class of ``domain.errors`` with its parent, its exit-code family
(``entrypoints.errors``) and, for sample arguments, the exact problem and fix text; and
why ``domain.secret.refusal`` refuses sample keys (both SDKs name the same reason).
The Node SDK builds each sample with the same arguments and must produce the same
words (node/test/errors.test.ts); a Python test fails when the file is stale.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from domain import errors
from domain.secret import refusal
from entrypoints.errors import exit_code_for
from tests.shared.generated import write_or_check

OUTPUT = Path(__file__).with_name("errors.json")

# Constructor arguments per class; a class missing here fails the generator.
SAMPLES: dict[str, list[list[Any]]] = {
    "TraceError": [["something went wrong", "do this"], ["no fix given"]],
    "InvalidInputError": [["bad input", "pass a good one"]],
    "UnknownProviderError": [
        ["mistral", ["anthropic", "openai", "gemini", "trace"]],
        ["sk-ant-a-key-pasted-in-the-wrong-place", ["anthropic", "openai", "gemini"]],
    ],
    "InvalidKeyError": [
        ["it is empty", "openai"],
        ["it contains whitespace", None],
        [
            "it is UTF-16 text (it starts with the bytes FF FE), not UTF-8; save it as UTF-8",
            "gemini",
        ],
    ],
    "InvalidTokenError": [["it contains the control character U+0007"]],
    "InvalidModelError": [["it is empty"]],
    "InvalidSettingError": [
        ["unknown setting 'x'"],
        ["bad value", "buildwithtrace config set output.format json"],
    ],
    "AmbiguousCredentialError": [["TRACE_LLM_API_KEY", "TRACE_LLM_PROVIDER"]],
    "MissingConfigurationError": [["set something up", "run this"]],
    "MissingKeyError": [
        ["anthropic", ["ANTHROPIC_API_KEY"]],
        ["gemini", ["GEMINI_API_KEY", "GOOGLE_API_KEY"]],
    ],
    "NotLoggedInError": [[]],
    "LoginFailedError": [
        ["the browser login timed out"],
        ["the login was denied in the browser", "buildwithtrace auth login"],
    ],
    "DeviceLoginUnavailableError": [[]],
    "BackendError": [["the Trace backend answered HTTP 500", "try again later"]],
    "AuthenticationRejectedError": [[]],
    "QuotaExhaustedError": [
        ["trace", "your Trace plan (monthly budget / credits)", "Monthly budget exceeded."],
        ["anthropic", "your own Anthropic account", "Credit balance too low."],
        ["gemini", "your own Google account (Google AI Studio / Google Cloud)"],
    ],
    "PlanRestrictionError": [
        ["agent", "Agent mode requires a paid plan."],
        ["ask", "Account suspended."],
        ["plan"],
    ],
    "BackendUnavailableError": [["the Trace backend could not be reached"]],
    "InsecureTransportError": [["http://example.com/api"]],
    "ProtocolError": [["the Trace backend ended the stream without a 'done' event"]],
    "StorageError": [["cannot write /x: the disk is full", "free some disk space"]],
    "KeychainUnavailableError": [["the keychain is locked"]],
    "InsecurePermissionsError": [["/home/u/.config/buildwithtrace/credentials.json", 0o644, 0o600]],
    "CorruptFileError": [["/home/u/.config/buildwithtrace/config.toml", "invalid TOML"]],
    "UnreadableFileError": [["/home/u/.config/buildwithtrace/config.toml", "permission denied"]],
    "UntrustedLocationError": [["/tmp/x", "other users can write to it", "chmod 700 /tmp/x"]],
    # Where keys come from (issue 13).
    "MissingNamedKeyError": [
        ["anthropic", "client-a", "/home/u/client-a/trace.toml"],
        ["openai", "work", "byok use openai --name work"],
    ],
    "KeyHelperError": [
        [
            "openai:work",
            "the key helper printed nothing",
            "make the helper print only the key, then: buildwithtrace byok status --run-helpers",
        ]
    ],
    "EnvOverrideError": [["ANTHROPIC_API_KEY", "your stored key (keychain)"]],
    "KeyRejectedError": [["anthropic", 401, False], ["gemini", 400, True]],
    "ProviderUnreachableError": [["openai", "could not connect (connection refused)"]],
    "ProjectFileError": [
        [
            "/home/u/repo/trace.toml",
            "llm.helper looks like a command; a project file never holds commands",
        ]
    ],
}


# Raw keys (after trimming) and why the domain refuses them: both SDKs give the same words.
KEY_REFUSALS: list[str] = [
    "",
    "sk-a b",
    "sk-a\x07b",
    "\ufeffsk-ab",
    "s\x00k\x00-\x00",
    "\udcff\udcfes\x00k\x00",
    "sk-\udce9t\udce9",
    "k" * 4097,
    "sk-valid-key-0123456789",
]


def _classes() -> list[type[errors.TraceError]]:
    found = [
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, errors.TraceError)
    ]
    return sorted(found, key=lambda cls: (len(cls.__mro__), cls.__name__))


def document() -> dict[str, Any]:
    """Every error class, its parent and exit code, and its sample messages."""
    out = []
    for cls in _classes():
        samples = SAMPLES[cls.__name__]
        rendered = []
        for args in samples:
            error = _build(cls, args)
            rendered.append(
                {"args": args, "problem": error.problem, "fix": error.fix, "message": error.message}
            )
        parent = cls.__mro__[1].__name__
        out.append(
            {
                "name": cls.__name__,
                "parent": None if cls is errors.TraceError else parent,
                "exit_code": exit_code_for(_build(cls, samples[0])),
                "samples": rendered,
            }
        )
    refusals = [{"raw": raw, "reason": refusal(raw)} for raw in KEY_REFUSALS]
    return {
        "generated_by": "python -m tests.shared.error_cases (do not edit)",
        "errors": out,
        "key_refusals": refusals,
    }


def _build(cls: type[errors.TraceError], args: list[Any]) -> errors.TraceError:
    """``cls`` built from JSON arguments (lists become the tuples the constructors take)."""
    build: Any = cls  # each subclass has its own signature; SAMPLES matches them
    error: errors.TraceError = build(*[tuple(a) if isinstance(a, list) else a for a in args])
    return error


def render() -> str:
    """The file's text (a lone surrogate, which UTF-8 cannot hold, as its JSON escape)."""
    text = json.dumps(document(), indent=2, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the file, or with ``--check`` report whether it is up to date."""
    return write_or_check(OUTPUT, render, "tests.shared.error_cases", argv)


if __name__ == "__main__":
    raise SystemExit(main())
