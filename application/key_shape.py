"""Warnings for keys that do not look like their provider's (a hint, never a refusal)."""

from __future__ import annotations

from domain.provider import Provider
from domain.secret import Secret


def key_shape_warning(provider: Provider, secret: Secret) -> str | None:
    """A warning when ``secret`` looks like another provider's key or not like ``provider``'s."""
    value = secret.reveal()
    # Most specific prefix first: an "sk-ant-" key also starts with OpenAI's "sk-".
    owners = sorted(
        ((prefix, p) for p in Provider.byok() for prefix in p.spec.key_prefixes),
        key=lambda item: -len(item[0]),
    )
    owner = next((p for prefix, p in owners if value.startswith(prefix)), None)
    if owner is not None and owner is not provider:
        return (
            f"this key looks like {owner.spec.label}'s, not {provider.spec.label}'s; stored for "
            f"{provider.value} anyway (if it is {owner.spec.label}'s: buildwithtrace byok set "
            f"{owner.value}, then buildwithtrace byok remove {provider.value})"
        )
    if owner is None and provider.spec.key_prefixes:
        expected = " or ".join(f"{p!r}" for p in provider.spec.key_prefixes)
        return (
            f"{provider.spec.label} keys usually start with {expected}; stored anyway (to undo: "
            f"buildwithtrace byok remove {provider.value})"
        )
    return None
