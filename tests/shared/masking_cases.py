"""Generate tests/shared/masking-cases.json: secret-masking vectors both SDKs run.

    python -m tests.shared.masking_cases          # rewrite the file
    python -m tests.shared.masking_cases --check  # exit 1 when the file is stale

Inputs are written here; every expectation is computed by the Python masker
(``domain.masking``). node/test/masking-cases.test.ts runs each case through the Node
masker and must get the same text; a Python test fails when the file is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from domain.masking import SecretMasker
from tests.shared.generated import write_or_check

FILE = Path(__file__).with_name("masking-cases.json")
KEY = "sk-ant-api03-Abc123Def456Ghi789Jkl0"
TOKEN = "trace_tok_9f8e7d6c5b4a3210ZYXW"
QUOTED = 'pa"ss\\word-with-ümlaut-0123'
ASCII_JSON = json.dumps(QUOTED)
JSON_FORMS = f"json {ASCII_JSON} unicode-json {json.dumps(QUOTED, ensure_ascii=False)}"

TEXTS: list[tuple[list[str], str]] = [
    ([KEY], f"invalid x-api-key {KEY} given"),
    ([KEY], f"prefix only {KEY[:8]} and seven {KEY[20:27]}"),
    ([KEY], f"middle {KEY[10:22]} end"),
    ([KEY], f"suffix {KEY[-9:]}"),
    ([KEY], f"twice {KEY}{KEY} and reversed {KEY[::-1]}"),
    ([KEY, TOKEN], f"both {TOKEN} and {KEY[5:30]}!"),
    ([KEY], "nothing secret here at all"),
    ([KEY], ""),
    ([QUOTED], f"raw {QUOTED} {JSON_FORMS}"),
    (["short"], "a short secret: short, shor"),
    ([KEY], f"overlapping {KEY[:15]}{KEY[10:30]}"),
    ([], f"no secrets {KEY}"),
]
STREAMS: list[tuple[list[str], list[str]]] = [
    ([KEY], ["here: ", KEY[:10], KEY[10:], " done"]),
    ([KEY], [c for c in f"a {KEY} b"]),
    ([KEY], ["sk-", "ant", " not a key after all"]),
    ([KEY, TOKEN], ["x", TOKEN[:4], "y", TOKEN, KEY[3:12], "z"]),
    ([KEY], ["plain text without secrets", " more"]),
]
DATA: list[tuple[list[str], Any]] = [
    ([KEY], {"echo": {"nested": [KEY, {"deeper": f"x{KEY[2:14]}y"}]}, KEY: 1, "n": 3.5}),
    ([TOKEN], [TOKEN, [TOKEN[:9]], None, True, 7]),
]


def render() -> str:
    """The file's text."""
    texts = [{"secrets": s, "text": t, "masked": SecretMasker(s).mask(t)} for s, t in TEXTS]
    streams = []
    for secrets, pieces in STREAMS:
        stream = SecretMasker(secrets).stream()
        shown = [stream.feed(piece) for piece in pieces]
        flush = stream.flush()
        streams.append({"secrets": secrets, "pieces": pieces, "shown": shown, "flush": flush})
    data = [{"secrets": s, "data": d, "masked": SecretMasker(s).mask_data(d)} for s, d in DATA]
    table = {"texts": texts, "streams": streams, "data": data}
    return json.dumps(table, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the file, or with ``--check`` report whether it is up to date."""
    return write_or_check(FILE, render, "tests.shared.masking_cases", argv)


if __name__ == "__main__":
    sys.exit(main())
