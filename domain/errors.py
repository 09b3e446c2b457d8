"""The error tree of the whole product.

Every error raised by our code derives from :class:`TraceError`. Entrypoints map
the families below to exit codes (DESIGN section 7) in one table; nothing else
turns an error into words. A message never contains a secret.

    TraceError
    ├── InvalidInputError            usage or invalid input                (exit 2)
    │   ├── UnknownProviderError
    │   ├── InvalidKeyError
    │   │   └── InvalidTokenError
    │   ├── InvalidModelError
    │   ├── InvalidSettingError
    │   ├── AmbiguousCredentialError
    │   ├── KeyRejectedError
    │   └── ProjectFileError
    ├── MissingConfigurationError    something the user must set up first (exit 3)
    │   ├── MissingKeyError
    │   │   └── MissingNamedKeyError
    │   ├── KeyHelperError
    │   ├── EnvOverrideError
    │   ├── NotLoggedInError
    │   └── LoginFailedError
    │       └── DeviceLoginUnavailableError
    ├── BackendError                 Trace backend or network failure      (exit 4)
    │   ├── AuthenticationRejectedError   (exit 3: the fix is to log in)
    │   ├── QuotaExhaustedError
    │   ├── PlanRestrictionError
    │   ├── BackendUnavailableError
    │   ├── InsecureTransportError
    │   ├── ProtocolError
    │   └── ProviderUnreachableError
    └── StorageError                 local storage failure                 (exit 5)
        ├── KeychainUnavailableError
        ├── InsecurePermissionsError
        ├── CorruptFileError
        ├── UnreadableFileError
        └── UntrustedLocationError
"""

from __future__ import annotations

from collections.abc import Callable

# The step that stores a provider key, in one wording (the provider is the user's pick).
STORE_KEY_FIX = "buildwithtrace byok set anthropic   (or openai, gemini)"
# The last step when nothing local can help (TRACE_DEBUG adds only tracebacks of bugs).
REPORT_STEP = (
    "if it persists, report it with this message and the output of buildwithtrace --version"
)


class TraceError(Exception):
    """Base of every error our code raises; ``fix`` is the command or step that helps."""

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The full text shown to a person: what went wrong, then how to fix it."""
        return f"{self.problem}\n  fix: {self.fix}" if self.fix else self.problem

    def redact(self, clean: Callable[[str], str]) -> None:
        """Pass the problem and the fix through ``clean`` in place (e.g. secret masking)."""
        self.problem, self.fix = clean(self.problem), clean(self.fix)
        self.args = (self.message,)


# --- exit 2 -------------------------------------------------------------------


class InvalidInputError(TraceError):
    """The user gave input we cannot accept; nothing was changed."""


class UnknownProviderError(InvalidInputError):
    """A provider name that is not in the table."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        # A long value is likely a key pasted where the provider goes: never echo it.
        shown = repr(name) if len(name) <= 20 else f"({len(name)} characters, not shown)"
        super().__init__(
            f"unknown provider {shown}",
            f"use one of: {', '.join(known)}",
        )


class InvalidKeyError(InvalidInputError):
    """A provider key that is empty, too long, not UTF-8 text, or holds spaces or controls."""

    def __init__(self, reason: str, provider: str | None = None) -> None:
        target = f" for {provider}" if provider else ""
        fix = (
            f"buildwithtrace byok set {provider}   (paste the key exactly as your provider "
            "shows it)"
            if provider
            else f"copy the key again from your provider's console; to store it: {STORE_KEY_FIX}"
        )
        super().__init__(f"invalid key{target}: {reason}; nothing was stored", fix)


class InvalidTokenError(InvalidKeyError):
    """A Trace token that breaks the same rules as a key (it is a secret of the same kind)."""

    def __init__(self, reason: str) -> None:
        InvalidInputError.__init__(
            self,
            f"invalid Trace token: {reason}; nothing was stored",
            "copy the token again from your Trace settings: buildwithtrace auth login --paste"
            "   (or: buildwithtrace auth login, the browser login)",
        )


class InvalidModelError(InvalidInputError):
    """A model id that is empty, too long or contains whitespace/control characters."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"invalid model id: {reason}",
            "give a model id such as claude-sonnet-4-6 or gpt-4o; to go back to the "
            "provider's default: buildwithtrace byok model --reset",
        )


class InvalidSettingError(InvalidInputError):
    """An unknown setting name or a value the setting does not accept."""

    def __init__(self, problem: str, fix: str = "buildwithtrace config list") -> None:
        super().__init__(problem, fix)


class AmbiguousCredentialError(InvalidInputError):
    """A key was given without saying which provider it belongs to."""

    def __init__(self, where: str, provider_hint: str) -> None:
        super().__init__(
            f"{where} gives an API key but no provider",
            f"also set {provider_hint} (anthropic, openai or gemini)",
        )


# --- exit 3 -------------------------------------------------------------------


class MissingConfigurationError(TraceError):
    """Something the user must set up before this can work."""


class MissingKeyError(MissingConfigurationError):
    """A BYOK provider is selected but no key resolves for it."""

    def __init__(self, provider: str, env_vars: tuple[str, ...]) -> None:
        self.provider = provider
        env = " or ".join(env_vars)
        super().__init__(
            f"no API key for {provider}: none in {env} nor in the secret store",
            f"buildwithtrace byok set {provider}   (or: buildwithtrace byok use trace)",
        )


class NotLoggedInError(MissingConfigurationError):
    """No Trace token is available."""

    def __init__(self, problem: str = "not logged in to Trace") -> None:
        super().__init__(problem, "buildwithtrace auth login   (or set TRACE_API_TOKEN)")


# --- exit 4 -------------------------------------------------------------------


class BackendError(TraceError):
    """The Trace backend or the network failed us."""


class AuthenticationRejectedError(BackendError):
    """The backend answered 401: the token is missing, expired or revoked."""

    def __init__(self) -> None:
        super().__init__(
            "the Trace backend rejected the login token (401)",
            "buildwithtrace auth login",
        )


def _backend_said(detail: str) -> str:
    """The backend's own words (an excerpt, already masked and printable), quoted."""
    return f': "{detail}"' if detail else " (it gave no reason)"


class QuotaExhaustedError(BackendError):
    """The backend answered 402 (payment required): its words, and who pays for what.

    ``provider`` is the provider in effect (``trace`` for Trace-hosted models) and
    ``payer`` its ``Provider.payer`` words: with the user's own key the model usage is
    billed to their provider account, so the Trace plan's budget is not what ran out.
    """

    def __init__(self, provider: str, payer: str, detail: str = "") -> None:
        self.provider = provider
        said = _backend_said(detail)
        refused = f"the Trace backend refused the request with 402 Payment Required{said}"
        if provider == "trace":
            problem = f"{refused}; Trace-hosted models are billed to {payer}"
            fix = (
                "buildwithtrace billing status   (what is used and left); or use your own key: "
                f"{STORE_KEY_FIX}"
            )
        else:
            problem = (
                f"{refused}; with {provider} active, model usage is billed to {payer}, "
                "not to your Trace plan's budget"
            )
            fix = (
                f"if the message is about {payer}, add credit there; if it is about your "
                "Trace plan: buildwithtrace billing status"
            )
        super().__init__(problem, fix)


class PlanRestrictionError(BackendError):
    """The backend answered 403: the Trace plan does not allow this request (its mode)."""

    def __init__(self, mode: str, detail: str = "") -> None:
        self.mode = mode
        problem = (
            f"the Trace backend refused the request in {mode} mode (403 Forbidden)"
            f"{_backend_said(detail)}"
        )
        if mode == "ask":
            # Every plan allows ask: suggesting it again would contradict the refusal.
            fix = (
                "ask mode is refused too, so this is about your account, not the mode: "
                "buildwithtrace billing status   (and: buildwithtrace auth status)"
            )
        else:
            fix = (
                'run the chat again with --mode ask (SDK: mode="ask"): free plans allow ask '
                "only, even with your own key; or upgrade your Trace plan (see it with: "
                "buildwithtrace billing status)"
            )
        super().__init__(problem, fix)


class BackendUnavailableError(BackendError):
    """The backend could not be reached or kept failing after retries."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem, "check the network and TRACE_BASE_URL, then try again")


class InsecureTransportError(BackendError):
    """Refused to send a key or token to a non-HTTPS, non-loopback URL."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"refusing to send credentials to {url}: only https or a loopback address is allowed",
            "set TRACE_BASE_URL to an https:// URL",
        )


class ProtocolError(BackendError):
    """The backend answered something the protocol does not allow."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem, f"try again; {REPORT_STEP}")


# --- exit 5 -------------------------------------------------------------------


class StorageError(TraceError):
    """Local storage (keychain, credentials file, config) failed; nothing was overwritten."""


class KeychainUnavailableError(StorageError):
    """The OS keychain cannot be used (absent, locked, refused, or too slow)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"the OS keychain is not usable: {reason}",
            "unlock the keychain (or start a Secret Service), or use the file store: "
            "buildwithtrace config set credentials.store file",
        )


class InsecurePermissionsError(StorageError):
    """A secrets file or directory is readable by other users."""

    def __init__(self, path: str, mode: int, wanted: int) -> None:
        self.path = path
        super().__init__(
            f"{path} has mode {mode:04o}; other users could read your secrets",
            f"chmod {wanted:o} {path}",
        )


class CorruptFileError(StorageError):
    """A file we own exists but cannot be parsed; it is left untouched."""

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        super().__init__(
            f"{path} is corrupt ({detail}); it was left unchanged",
            f"fix or move the file aside (mv {path} {path}.bad) and run the command again",
        )


class UnreadableFileError(StorageError):
    """A file or directory we need cannot be read or written; ``fix`` when the default
    (check the file) is not the step, e.g. a directory that lost its write bit."""

    def __init__(self, path: str, detail: str, fix: str = "") -> None:
        self.path = path
        super().__init__(
            f"cannot use {path}: {detail}",
            fix or f"check that {path} is a regular file you own (ls -l {path})",
        )


class UntrustedLocationError(StorageError):
    """A config or secrets location that another local user could change, or a link we
    would have to write through; nothing was read from it or written to it."""

    def __init__(self, path: str, detail: str, fix: str) -> None:
        self.path = path
        super().__init__(f"refusing to use {path}: {detail}", fix)


LOGIN_FIX = "buildwithtrace auth login --token-stdin   (paste a token from your Trace settings)"


class LoginFailedError(MissingConfigurationError):
    """The login did not deliver a token (denied, expired, timed out, backend unreachable)."""

    def __init__(self, problem: str, fix: str = LOGIN_FIX) -> None:
        super().__init__(problem, fix)


class DeviceLoginUnavailableError(LoginFailedError):
    """The Trace backend offers no device login (it answered 404 to ``/auth/device/code``)."""

    def __init__(self) -> None:
        super().__init__(
            "this Trace backend does not offer the browser (device) login",
            "buildwithtrace auth login --paste   (or --token-stdin; a token from your Trace "
            "settings)",
        )


# --- where keys come from: named keys, helper commands, verification, project files ----
# (issue 13; kept together at the end so the families above stay as they were)


class MissingNamedKeyError(MissingKeyError):
    """A named key was chosen (by a project file or ``byok use --name``) but does not exist."""

    def __init__(self, provider: str, name: str, chosen_by: str) -> None:
        self.provider = provider
        self.key_name = name
        MissingConfigurationError.__init__(
            self,
            f"no {provider} key named {name!r} (chosen by {chosen_by})",
            f"buildwithtrace byok set {provider} --name {name}   "
            f"(or choose another key: buildwithtrace byok status)",
        )


class KeyHelperError(MissingConfigurationError):
    """A key helper command failed, timed out, or printed something that is not a key."""

    def __init__(self, key: str, problem: str, fix: str) -> None:
        self.key = key
        super().__init__(f"{key}: {problem}", fix)


class EnvOverrideError(MissingConfigurationError):
    """An environment variable would override a stored key, and the setting forbids it."""

    def __init__(self, variable: str, overridden: str) -> None:
        self.variable = variable
        super().__init__(
            f"{variable} is set and would override {overridden} (keys.env_override = error)",
            f"unset {variable}   (or: buildwithtrace config set keys.env_override warn)",
        )


class KeyRejectedError(InvalidInputError):
    """The provider's own models endpoint rejected the key (HTTP 401/403)."""

    def __init__(self, provider: str, status: int, stored: bool = False) -> None:
        self.provider = provider
        self.status = status
        if stored:
            problem = f"{provider} rejected the key (HTTP {status})"
            fix = f"buildwithtrace byok set {provider}   (store a working key)"
        else:
            problem = f"{provider} rejected the key (HTTP {status}); it was not stored"
            fix = (
                f"check the key, then store it again: buildwithtrace byok set {provider}   "
                "(--force stores it anyway)"
            )
        super().__init__(problem, fix)


class ProviderUnreachableError(BackendError):
    """The provider's models endpoint could not say whether the key works."""

    def __init__(self, provider: str, reason: str) -> None:
        self.provider = provider
        super().__init__(
            f"could not check the key with {provider}: {reason}",
            f"check the network (and TRACE_{provider.upper()}_BASE_URL if set), then ask "
            f"again: buildwithtrace byok verify {provider}",
        )


class ProjectFileError(InvalidInputError):
    """A project file (trace.toml) that holds more than a choice among the user's own keys."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        super().__init__(
            f"{path}: {problem}",
            f"edit {path} so it holds only [llm] provider, key_name and model (names of "
            "your own keys and models; never a key or a command), then check it: "
            "buildwithtrace byok status",
        )
