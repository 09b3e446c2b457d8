"""``HttpKeyVerifier`` against a local stub of the three providers' models endpoints."""

from __future__ import annotations

import pytest

from adapters.verify.http import HttpKeyVerifier
from domain.errors import InsecureTransportError
from domain.provider import Provider
from domain.secret import Secret
from domain.verification import Verdict
from tests.support.provider_stub import ProviderStub

KEYS = {
    Provider.ANTHROPIC: "sk-ant-api03-verify-me-0123456789",
    Provider.OPENAI: "sk-proj-verify-me-0123456789abcd",
    Provider.GEMINI: "AIzaSy-verify-me-0123456789abcdef",
}


def _verifier(stub: ProviderStub, timeout: float = 10.0) -> HttpKeyVerifier:
    return HttpKeyVerifier({p: stub.base_url(p) for p in Provider.byok()}, timeout=timeout)


@pytest.mark.parametrize("provider", Provider.byok())
def test_each_provider_says_valid_or_rejected(
    provider_stub: ProviderStub, provider: Provider
) -> None:
    provider_stub.valid[provider].add(KEYS[provider])
    verifier = _verifier(provider_stub)

    good = verifier.verify(provider, Secret(KEYS[provider]))
    bad = verifier.verify(provider, Secret(KEYS[provider] + "x"))

    assert (good.verdict, good.status) == (Verdict.VALID, 200)
    assert good.masked_key == "…" + KEYS[provider][-4:]
    assert bad.verdict is Verdict.REJECTED
    assert bad.status == (400 if provider is Provider.GEMINI else 401)


@pytest.mark.parametrize("provider", Provider.byok())
def test_the_key_goes_in_a_header_to_that_provider_only(
    provider_stub: ProviderStub, provider: Provider
) -> None:
    _verifier(provider_stub).verify(provider, Secret(KEYS[provider]))
    (request,) = provider_stub.requests
    assert request.provider is provider
    assert request.query == ""  # never in the URL: no log line or proxy sees it
    header = {
        Provider.ANTHROPIC: ("x-api-key", KEYS[provider]),
        Provider.OPENAI: ("authorization", f"Bearer {KEYS[provider]}"),
        Provider.GEMINI: ("x-goog-api-key", KEYS[provider]),
    }[provider]
    assert request.headers[header[0]] == header[1]
    others = [v for k, v in request.headers.items() if k != header[0]]
    assert not any(KEYS[provider] in value for value in others)
    if provider is Provider.ANTHROPIC:
        assert request.headers["anthropic-version"] == "2023-06-01"


@pytest.mark.parametrize(
    ("behaviour", "verdict", "words"),
    [
        ("error", Verdict.UNREACHABLE, "HTTP 500, which says nothing about the key"),
        ("forbidden", Verdict.REJECTED, "rejected the key (HTTP 403)"),
        ("redirect", Verdict.UNREACHABLE, "redirects are not followed"),
        ("hang", Verdict.UNREACHABLE, "timed out"),
    ],
)
def test_what_is_not_an_answer_about_the_key_is_unreachable(
    provider_stub: ProviderStub, behaviour: str, verdict: Verdict, words: str
) -> None:
    provider_stub.behaviour[Provider.OPENAI] = behaviour
    provider_stub.redirect_to = provider_stub.url + "/stolen"
    found = _verifier(provider_stub, timeout=1.0).verify(
        Provider.OPENAI, Secret(KEYS[Provider.OPENAI])
    )
    assert found.verdict is verdict
    assert words in found.detail
    assert [r.path for r in provider_stub.requests] == ["/openai/v1/models"]  # no redirect


def test_a_closed_port_is_unreachable() -> None:
    found = HttpKeyVerifier({Provider.ANTHROPIC: "http://127.0.0.1:9"}).verify(
        Provider.ANTHROPIC, Secret(KEYS[Provider.ANTHROPIC])
    )
    assert found.verdict is Verdict.UNREACHABLE
    assert found.detail.startswith("could not connect")


def test_plain_http_off_this_machine_is_refused_before_sending() -> None:
    verifier = HttpKeyVerifier({Provider.OPENAI: "http://proxy.example.com"})
    with pytest.raises(InsecureTransportError):
        verifier.verify(Provider.OPENAI, Secret(KEYS[Provider.OPENAI]))
