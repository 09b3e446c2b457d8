"""The four model providers and the facts the product knows about each."""

from __future__ import annotations

import enum

import attrs

from domain.billing import BillingMode
from domain.errors import UnknownProviderError
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class ProviderSpec(Value):
    """Static facts about one provider (DESIGN section 1)."""

    label: str
    env_vars: tuple[str, ...]
    default_model: str | None
    billing: BillingMode
    key_prefixes: tuple[str, ...]
    billed_account: str = ""  # whose account a BYOK key bills, e.g. "OpenAI account"


class Provider(enum.Enum):
    """A model provider; ``TRACE`` means Trace-hosted models on the Trace plan."""

    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    GEMINI = "gemini"
    TRACE = "trace"

    @property
    def spec(self) -> ProviderSpec:
        """This provider's row of the provider table."""
        return _SPECS[self]

    @property
    def is_byok(self) -> bool:
        """True when requests carry the user's own key."""
        return self is not Provider.TRACE

    @property
    def payer(self) -> str:
        """Who pays for this provider's AI requests (``BillingMode.describe``'s words)."""
        return self.spec.billing.describe(self.spec.billed_account)

    @property
    def account(self) -> str:
        """The secret-store account that holds this provider's key."""
        return f"llm:{self.value}"

    @classmethod
    def parse(cls, name: str, *, byok_only: bool = False) -> Provider:
        """The provider named by ``name`` (case- and whitespace-insensitive).

        ``byok_only`` is for commands about keys: the error then lists only the
        providers that take one.
        """
        try:
            return cls(name.strip().lower())
        except ValueError:
            known = tuple(p.value for p in cls.byok()) if byok_only else NAMES
            raise UnknownProviderError(name, known) from None

    @classmethod
    def byok(cls) -> tuple[Provider, ...]:
        """The providers that take a user key, in table order."""
        return tuple(p for p in cls if p.is_byok)


_SPECS: dict[Provider, ProviderSpec] = {
    Provider.ANTHROPIC: ProviderSpec(
        label="Anthropic",
        env_vars=("ANTHROPIC_API_KEY",),
        default_model="claude-sonnet-4-6",
        billing=BillingMode.PROVIDER,
        key_prefixes=("sk-ant-",),
        billed_account="Anthropic account",
    ),
    Provider.OPENAI: ProviderSpec(
        label="OpenAI",
        env_vars=("OPENAI_API_KEY",),
        default_model="gpt-4o",
        billing=BillingMode.PROVIDER,
        key_prefixes=("sk-",),
        billed_account="OpenAI account",
    ),
    Provider.GEMINI: ProviderSpec(
        label="Gemini",
        env_vars=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
        default_model="gemini-2.5-flash",
        billing=BillingMode.PROVIDER,
        key_prefixes=("AIza",),
        # A Gemini key (from Google AI Studio or Google Cloud) bills the Google account
        # behind it; "Gemini account" is not a thing a user can look up.
        billed_account="Google account (Google AI Studio / Google Cloud)",
    ),
    Provider.TRACE: ProviderSpec(
        label="Trace-hosted",
        env_vars=(),
        default_model=None,
        billing=BillingMode.TRACE_PLAN,
        key_prefixes=(),
    ),
}

NAMES: tuple[str, ...] = tuple(p.value for p in Provider)
TRACE_TOKEN_ACCOUNT = "trace:token"  # noqa: S105 - an account name, not a secret
TRACE_TOKEN_ENV = "TRACE_API_TOKEN"  # noqa: S105 - a variable name, not a secret
