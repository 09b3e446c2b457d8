"""``Trace``: the SDK's synchronous client, over the same use-cases as the CLI."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Self, TypeVar, Unpack

from application.allow_project import ProjectResult
from application.auth_status import AuthReport
from application.billing_status import BillingReport
from application.chat import Chat, ChatCommand, ChatFinished, ChatOutput, ChatReply
from application.login import LoginResult
from application.remove_key import RemoveKeyResult
from application.select_model import SelectModelResult
from application.set_key import SetKeyResult
from application.show_status import StatusReport
from application.use_provider import UseProviderResult
from domain.chat import ClientKind
from domain.errors import BackendError, InvalidInputError
from domain.keys import HelperCommand, parse_key_name
from domain.model_id import parse_model_id
from domain.notices import Notice
from domain.provider import Provider
from domain.resolution import LlmChoice, Resolution
from domain.secret import Secret
from domain.verification import KeyVerification
from entrypoints.container import UseCases
from entrypoints.runtime import Runtime
from entrypoints.sdk.options import ChatOptions, TraceOptions, chat_command, parse_project_dir

_T = TypeVar("_T")


class TraceNotice(UserWarning):
    """What a ``Trace`` client says once before a request (e.g. an env var's key is used
    instead of your stored one) when no ``on_notice`` callback was given."""


class Trace:
    """A Trace client for scripts and CI; a context manager that closes its connections.

    ``token``: the Trace token (else ``TRACE_API_TOKEN``, else ``buildwithtrace auth
    login``'s). ``llm_provider`` / ``llm_api_key`` / ``llm_model_id``: defaults for every
    call, below per-call arguments and ``TRACE_LLM_*``, above the stored choice.
    ``project_dir``: the default sandbox root for the model's tools. ``base_url``: the
    Trace backend, instead of ``TRACE_BASE_URL``. ``env``: the environment variables to
    read instead of ``os.environ`` (a whole replacement, ``TRACE_CONFIG_DIR`` included).
    ``secrets`` / ``settings`` / ``backend`` / ``tool_runner`` / ``key_helper`` /
    ``verifier`` / ``project_files``: your own adapters (e.g.
    ``adapters.secrets.memory.InMemorySecretStore()``), used as given. ``cache_reads``
    (default on): cache what the real secret and settings stores read. ``on_notice``:
    called once per client with each ``Notice`` (an env var's key used instead of your
    stored one, an ignored project file, a helper key fetched again), before the request;
    without it, each is a ``warnings.warn(..., TraceNotice)``.
    """

    def __init__(self, **options: Unpack[TraceOptions]) -> None:
        # Everything the caller gave is parsed before anything is built.
        token = options.get("token")
        self._defaults = LlmChoice.parse(
            options.get("llm_provider"), options.get("llm_api_key"), options.get("llm_model_id")
        )
        given_dir = options.get("project_dir")
        self._project_dir = parse_project_dir(given_dir) if given_dir is not None else None
        self._runtime = Runtime(
            options.get("env"),
            base_url=options.get("base_url"),
            token=Secret.parse_token(token) if token is not None else None,
            cache_reads=options.get("cache_reads", True),
            secrets=options.get("secrets"),
            settings=options.get("settings"),
            backend=options.get("backend"),
            tool_runner=options.get("tool_runner"),
            key_helper=options.get("key_helper"),
            verifier=options.get("verifier"),
            project_files=options.get("project_files"),
        )
        # dependency-injector's Singletons are not thread-safe: concurrent first chats
        # could build two backends (two connection pools). Use-cases are built under this
        # lock; the Chat use-case, which keeps no per-turn state, is then reused.
        self._lock = threading.Lock()
        self._chat: Chat | None = None
        self._closed = False
        self._on_notice = options.get("on_notice")
        self._told: set[tuple[str, str]] = set()
        self.byok = Byok(self)
        self.auth = Auth(self)
        self.billing = Billing(self)
        self.project = Project(self)

    # --- chat -----------------------------------------------------------------

    def chat(self, message: str, **options: Unpack[ChatOptions]) -> ChatReply:
        """Run one turn to the end (tools included) and return the reply.

        The reply says what answered and who pays (``provider``, ``model``,
        ``key_source``, ``masked_key``, ``billing``), plus ``text``, ``usage``,
        ``conversation_id``, ``tool_runs`` (summaries), the in-stream ``errors``, and
        ``failed`` (an error event means the turn failed, as the CLI's exit code says).
        """
        for item in self.stream(message, **options):
            if isinstance(item, ChatFinished):
                return item.reply
        raise AssertionError("stream() always ends with ChatFinished")  # pragma: no cover

    def stream(self, message: str, **options: Unpack[ChatOptions]) -> Iterator[ChatOutput]:
        """Events as they arrive (``TextDelta``, ``ToolFinished``...), then ``ChatFinished``.

        In the order things happened: a ``ToolFinished`` follows its ``ToolCall`` and comes
        before whatever the backend sent once it had that result (match results of tools
        that ran together by ``tool_call_id``). Nothing is sent before the first
        ``next()``; errors are raised from the iteration. Closing the iterator early
        (``break``) ends the stream. Notices go to ``on_notice`` (or ``TraceNotice``
        warnings), not into the stream.
        """
        return self._told_apart(self._chat_use_case().stream(self._command(message, options)))

    def resolve(self, **options: Unpack[ChatOptions]) -> Resolution:
        """Which provider, key (masked, with its source) and model a chat would use; no request.

        A key helper that supplies the key runs (it is then held in memory for the chats
        that follow). ``overrides`` and ``project`` say what an env var displaced and
        which project file applied.
        """
        command = self._command("", options)
        use_case = self._use(lambda use_cases: use_cases.resolve_key())
        return use_case.execute(
            command.overrides,
            command.client_defaults,
            client_kind=ClientKind.SDK,
            project_dir=command.search_from,
        )

    # --- lifecycle ------------------------------------------------------------

    def close(self) -> None:
        """Close the backend's connections (idempotent); the client is unusable afterwards."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._runtime.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- internals ------------------------------------------------------------

    def _use(self, make: Callable[[UseCases], _T]) -> _T:
        with self._lock:
            if self._closed:
                raise BackendError("this Trace client is closed", "build a new client: Trace()")
            return make(self._runtime.use_cases)

    def _chat_use_case(self) -> Chat:
        chat = self._chat
        if chat is None or self._closed:
            chat = self._use(lambda use_cases: use_cases.chat())
            self._chat = chat
        return chat

    def _told_apart(self, items: Iterator[ChatOutput]) -> Iterator[ChatOutput]:
        """``items`` without the notices, which go to the notice sink (once per client)."""
        try:
            for item in items:
                if isinstance(item, Notice):
                    self._tell(item)
                else:
                    yield item
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def _tell(self, notice: Notice) -> None:
        seen = (notice.code.value, notice.message)
        with self._lock:
            if seen in self._told:
                return
            self._told.add(seen)
        if self._on_notice is not None:
            self._on_notice(notice)
        else:
            warnings.warn(notice.message, TraceNotice, stacklevel=4)

    def _search_dir(self) -> str:
        """Where project files are looked for: the client's project dir, else the cwd."""
        from pathlib import Path

        return self._project_dir or str(Path.cwd())

    def _command(self, message: str, options: ChatOptions) -> ChatCommand:
        return chat_command(
            message, options, client_defaults=self._defaults, project_dir=self._project_dir
        )


class Byok:
    """``trace.byok``: manage stored keys exactly like ``buildwithtrace byok``."""

    def __init__(self, client: Trace) -> None:
        self._use = client._use  # builds under the client's lock, refuses once closed
        self._search_dir = client._search_dir

    def set(
        self,
        provider: str,
        key: str | None = None,
        *,
        helper: str | None = None,
        shell: bool = False,
        name: str | None = None,
        verify: bool = False,
        force: bool = False,
    ) -> SetKeyResult:
        """Store ``key`` (or the ``helper`` command that prints it) for ``provider`` and make
        it active; ``name``: a named key. ``verify``: ask the provider first (a rejected
        key raises ``KeyRejectedError`` unless ``force``)."""
        parsed = Provider.parse(provider, byok_only=True)
        if (key is None) == (helper is None):
            raise InvalidInputError(
                "give a key or a helper command (exactly one)",
                'trace.byok.set("anthropic", helper="op read op://Vault/Item/credential")',
            )
        source: Secret | HelperCommand = (
            HelperCommand.parse(helper, shell=shell)
            if helper is not None
            else Secret.parse(key or "", parsed.value)
        )
        key_name = parse_key_name(name) if name is not None else None
        use_case = self._use(lambda use_cases: use_cases.set_key())
        return use_case.execute(parsed, source, name=key_name, verify=verify, force=force)

    def verify(self, provider: str, name: str | None = None) -> KeyVerification:
        """Ask ``provider``'s models endpoint whether the key in use (or key ``name``) works.

        Returns the verdict (``valid``, ``rejected``, ``unreachable``); its ``failure``
        is the matching error, not raised. A key helper runs (reason ``verify``).
        """
        parsed = Provider.parse(provider, byok_only=True)
        key_name = parse_key_name(name) if name is not None else None
        use_case = self._use(lambda use_cases: use_cases.verify_key())
        return use_case.execute(parsed, key_name, project_dir=self._search_dir())

    def use(self, provider: str, name: str | None = None) -> UseProviderResult:
        """Make ``provider`` active (``"trace"`` for Trace-hosted models), with key ``name``."""
        parsed = Provider.parse(provider)
        key_name = parse_key_name(name) if name is not None else None
        return self._use(lambda use_cases: use_cases.use_provider()).execute(parsed, key_name)

    def model(self, model: str | None, provider: str | None = None) -> SelectModelResult:
        """Remember ``model`` for ``provider`` (default: the active one); ``None`` resets it."""
        parsed_model = parse_model_id(model) if model is not None else None
        parsed = Provider.parse(provider, byok_only=True) if provider is not None else None
        return self._use(lambda use_cases: use_cases.select_model()).execute(parsed_model, parsed)

    def remove(self, provider: str, name: str | None = None) -> RemoveKeyResult:
        """Delete ``provider``'s stored key and helper (``name``: that named key)."""
        parsed = Provider.parse(provider, byok_only=True)
        key_name = parse_key_name(name) if name is not None else None
        return self._use(lambda use_cases: use_cases.remove_key()).execute(parsed, key_name)

    def status(self, *, run_helpers: bool = False) -> StatusReport:
        """Every provider's key source (masked), model and billing, the named keys, the
        project file that applies; ``run_helpers``: run key helpers to show their keys."""
        return self._use(lambda use_cases: use_cases.show_status()).execute(
            project_dir=self._search_dir(), run_helpers=run_helpers
        )


class Project:
    """``trace.project``: the project file (trace.toml), like ``buildwithtrace project``."""

    def __init__(self, client: Trace) -> None:
        self._use = client._use  # builds under the client's lock, refuses once closed
        self._search_dir = client._search_dir

    def status(self, directory: str | None = None) -> ProjectResult | None:
        """The project file found from ``directory`` (default: the client's project dir,
        else the working directory) and whether it applies; None when there is none."""
        where = directory or self._search_dir()
        return self._use(lambda use_cases: use_cases.show_project()).execute(where)

    def allow(self, directory: str | None = None) -> ProjectResult:
        """Allow that project file with its current content (a change needs allowing again)."""
        where = directory or self._search_dir()
        return self._use(lambda use_cases: use_cases.allow_project()).execute(where)

    def forget(self, directory: str | None = None) -> ProjectResult:
        """Withdraw the allowance of that project file."""
        where = directory or self._search_dir()
        return self._use(lambda use_cases: use_cases.forget_project()).execute(where)


class Auth:
    """``trace.auth``: the Trace login, like ``buildwithtrace auth`` (minus the browser)."""

    def __init__(self, client: Trace) -> None:
        self._use = client._use  # builds under the client's lock, refuses once closed

    def login(self, token: str) -> LoginResult:
        """Check ``token`` with the backend (when reachable) and store it; 401 stores nothing."""
        secret = Secret.parse_token(token)
        return self._use(lambda use_cases: use_cases.login()).execute(secret)

    def status(self, *, check: bool = True) -> AuthReport:
        """Whether a token is available, its source (masked), and what the backend says."""
        return self._use(lambda use_cases: use_cases.auth_status()).execute(check=check)

    def logout(self) -> bool:
        """Forget the stored token; True if there was one (``TRACE_API_TOKEN`` is not touched)."""
        return self._use(lambda use_cases: use_cases.logout()).execute()


class Billing:
    """``trace.billing``: the Trace plan's usage and who pays, like ``buildwithtrace billing``."""

    def __init__(self, client: Trace) -> None:
        self._use = client._use  # builds under the client's lock, refuses once closed

    def status(self) -> BillingReport:
        """Plan, monthly budget used, credits, and who pays with the current provider."""
        return self._use(lambda use_cases: use_cases.billing_status()).execute()
