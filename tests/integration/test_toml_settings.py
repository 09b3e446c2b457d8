"""config.toml on disk: round trips, the user's file preserved, corrupt files refused, locking."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.settings.memory import InMemorySettingsStore
from adapters.settings.toml import TomlSettingsStore
from domain.errors import CorruptFileError, InvalidInputError, InvalidSettingError
from domain.provider import Provider
from domain.settings import (
    SETTING_KEYS,
    BackendEnv,
    EnvOverride,
    OutputFormat,
    Settings,
    StoreChoice,
    settings_to_flat,
)
from tests.support.files import GATE_PRELUDE, file_mode, run_gated, temp_files

USER_FILE = """\
# My Trace settings — hand written, please keep this comment.
top_level_unknown = "kept"   # a key from a newer version

[llm]
provider = "openai"   # switched in March
temperature = 0.2     # unknown to us, must survive

[llm.models]
# pinned after the eval run
openai = "gpt-4o-mini"

[plugins.kicad]
paths = ["/opt/kicad", "~/kicad"]   # arrays and nested unknown tables too
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Where config.toml lives for this test (its directory does not exist yet)."""
    return tmp_path / "config" / "config.toml"


def _write(path: Path, text: str | bytes) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    path.write_bytes(data)
    return data


# --- round trips ---------------------------------------------------------------


def test_missing_file_loads_defaults_and_is_not_created(config: Path) -> None:
    assert TomlSettingsStore(config).load() == Settings()
    assert not config.exists()


def test_every_setting_round_trips_through_a_new_store(config: Path) -> None:
    full = Settings(
        active_provider=Provider.GEMINI,
        models={
            Provider.ANTHROPIC: "claude-opus-4",
            Provider.OPENAI: "gpt-4.1",
            Provider.GEMINI: "gemini-2.5-pro",
        },
        backend_env=BackendEnv.LOCAL,
        api_version="v2",
        output_format=OutputFormat.JSON,
        credentials_store=StoreChoice.FILE,
        key_names={Provider.ANTHROPIC: "work", Provider.OPENAI: "client-a", Provider.GEMINI: "me"},
        env_override=EnvOverride.ERROR,
        helper_ttl=120.0,
        helper_timeout=15.5,
    )
    assert set(settings_to_flat(full)) == {key.name for key in SETTING_KEYS}

    returned = TomlSettingsStore(config).update(lambda _: full)

    assert returned == full
    assert TomlSettingsStore(config).load() == full
    assert file_mode(config) == 0o600
    assert file_mode(config.parent) == 0o700


def test_file_we_create_uses_plain_tables(config: Path) -> None:
    store = TomlSettingsStore(config)

    store.update(lambda s: s.with_active(Provider.ANTHROPIC).with_model(Provider.OPENAI, "gpt-4o"))

    assert (
        config.read_text() == '[llm]\nprovider = "anthropic"\n\n[llm.models]\nopenai = "gpt-4o"\n'
    )


def test_forgetting_the_last_model_drops_the_table_we_emptied(config: Path) -> None:
    store = TomlSettingsStore(config)
    store.update(lambda s: s.with_model(Provider.OPENAI, "gpt-4o"))

    store.update(lambda s: s.with_model(Provider.OPENAI, None))

    assert config.read_text() == ""
    assert store.load() == Settings()


def test_dotted_keys_and_inline_tables_are_read_and_edited_in_place(config: Path) -> None:
    _write(config, 'llm.provider = "gemini"  # dotted\nbackend = { env = "local" }\n')
    store = TomlSettingsStore(config)
    assert store.load() == Settings(active_provider=Provider.GEMINI, backend_env=BackendEnv.LOCAL)

    store.update(lambda s: s.with_active(Provider.OPENAI))

    assert config.read_text() == 'llm.provider = "openai"  # dotted\nbackend = { env = "local" }\n'


def test_values_are_read_case_insensitively_and_left_as_written(config: Path) -> None:
    original = _write(config, '[llm]\nprovider = "OpenAI"\n[output]\nformat = "JSON"\n')
    store = TomlSettingsStore(config)

    store.update(lambda s: s.with_active(Provider.OPENAI))

    assert store.load() == Settings(
        active_provider=Provider.OPENAI, output_format=OutputFormat.JSON
    )
    assert config.read_bytes() == original


# --- the user's file is preserved --------------------------------------------------


def test_changing_a_value_rewrites_only_that_line(config: Path) -> None:
    _write(config, USER_FILE)

    TomlSettingsStore(config).update(lambda s: s.with_active(Provider.ANTHROPIC))

    assert config.read_text() == USER_FILE.replace(
        'provider = "openai"   # switched', 'provider = "anthropic"   # switched'
    )


def test_adding_a_model_adds_only_that_line(config: Path) -> None:
    _write(config, USER_FILE)

    TomlSettingsStore(config).update(lambda s: s.with_model(Provider.GEMINI, "gemini-2.5-pro"))

    assert config.read_text() == USER_FILE.replace(
        'openai = "gpt-4o-mini"\n', 'openai = "gpt-4o-mini"\ngemini = "gemini-2.5-pro"\n'
    )


def test_adding_a_new_table_appends_it_and_keeps_the_rest(config: Path) -> None:
    _write(config, USER_FILE)

    TomlSettingsStore(config).update(lambda s: attrs.evolve(s, api_version="v1"))

    text = config.read_text()
    assert text.startswith(USER_FILE)
    assert text[len(USER_FILE) :].strip() == '[backend]\napi_version = "v1"'


def test_forgetting_a_model_removes_only_its_line_and_keeps_the_commented_table(
    config: Path,
) -> None:
    _write(config, USER_FILE)

    TomlSettingsStore(config).update(lambda s: s.with_model(Provider.OPENAI, None))

    assert config.read_text() == USER_FILE.replace('openai = "gpt-4o-mini"\n', "")


def test_update_that_changes_nothing_does_not_touch_the_file(config: Path) -> None:
    _write(config, USER_FILE)
    before = config.stat()

    TomlSettingsStore(config).update(lambda s: s.with_active(Provider.OPENAI))

    after = config.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


# --- corrupt and invalid files are reported, never overwritten -----------------------


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b'[llm\nprovider = "openai"\n', "invalid TOML at line"),
        (b"[llm]\na = 1\n[llm]\nb = 2\n", "invalid TOML"),
        (b'\xff\xfe[llm]\nprovider = "openai"\n', "not UTF-8"),
        (b'[llm]\nprovider = "nope"\n', "llm.provider = 'nope' is not allowed (one of: anthropic"),
        (b"[llm]\nprovider = 3\n", "llm.provider must be a string"),
        (b'llm = "openai"\n', "llm must be a table"),
        (b'[[llm]]\nprovider = "openai"\n', "llm must be a table"),
        (b'[llm.models]\nopenai = "two words"\n', "llm.models.openai = 'two words' is not allowed"),
        (b'[backend]\nenv = "staging"\n', "backend.env = 'staging' is not allowed (one of: prod"),
        (b'[output]\nformat = ""\n', "output.format = '' is not allowed"),
    ],
    ids=[
        "bad-toml",
        "duplicate-table",
        "not-utf8",
        "unknown-provider",
        "provider-not-string",
        "table-is-string",
        "table-is-array",
        "bad-model",
        "bad-env",
        "empty-format",
    ],
)
def test_unusable_file_is_reported_and_left_byte_for_byte(
    config: Path, content: bytes, detail: str
) -> None:
    original = _write(config, content)
    store = TomlSettingsStore(config)

    with pytest.raises(CorruptFileError) as loading:
        store.load()
    with pytest.raises(CorruptFileError):
        store.update(lambda s: s.with_active(Provider.ANTHROPIC))

    assert detail in loading.value.message
    assert str(config) in loading.value.message
    assert f"mv {config} {config}.bad" in loading.value.fix
    assert config.read_bytes() == original
    assert temp_files(config.parent) == []


def test_parse_errors_do_not_quote_the_file(config: Path) -> None:
    _write(config, '[llm]\nprovider = "sk-ant-api03-pasted-here\n')

    with pytest.raises(CorruptFileError) as caught:
        TomlSettingsStore(config).load()

    assert "sk-ant" not in caught.value.message


def test_a_key_pasted_into_the_file_is_refused_without_echoing_it(config: Path) -> None:
    pasted = "sk-proj-Abcdefghijklmnopqrstuvwxyz0123456789"
    original = _write(config, f'[llm.models]\nopenai = "{pasted}"\n')

    with pytest.raises(CorruptFileError, match="looks like an API key") as caught:
        TomlSettingsStore(config).load()

    assert pasted not in caught.value.message
    assert config.read_bytes() == original


def test_a_secret_is_never_written_even_if_a_caller_passes_one(config: Path) -> None:
    original = _write(config, USER_FILE)
    pasted = "sk-proj-Abcdefghijklmnopqrstuvwxyz0123456789"

    with pytest.raises(InvalidSettingError, match="looks like an API key") as caught:
        TomlSettingsStore(config).update(lambda s: s.with_model(Provider.OPENAI, pasted))

    assert pasted not in caught.value.message
    assert config.read_bytes() == original


def test_a_value_the_next_load_would_refuse_is_never_written(config: Path) -> None:
    original = _write(config, USER_FILE)

    with pytest.raises(InvalidInputError):
        TomlSettingsStore(config).update(lambda s: s.with_model(Provider.OPENAI, "two words"))

    assert config.read_bytes() == original


# --- any sequence of updates ------------------------------------------------------

_MODELS = st.sampled_from(["gpt-4o", "claude-opus-4", "gemini-2.5-pro", "ft:gpt-4o:acme:v2"])
_PROVIDERS = st.sampled_from(list(Provider))
_CHANGES: st.SearchStrategy[Callable[[Settings], Settings]] = st.one_of(
    st.builds(lambda p: lambda s: s.with_active(p), st.none() | _PROVIDERS),
    st.builds(
        lambda p, m: lambda s: s.with_model(p, m),
        st.sampled_from(Provider.byok()),
        st.none() | _MODELS,
    ),
    st.builds(
        lambda e: lambda s: attrs.evolve(s, backend_env=e), st.none() | st.sampled_from(BackendEnv)
    ),
    st.builds(
        lambda v: lambda s: attrs.evolve(s, api_version=v),
        st.none() | st.sampled_from(["v1", "latest"]),
    ),
    st.builds(
        lambda f: lambda s: attrs.evolve(s, output_format=f),
        st.none() | st.sampled_from(OutputFormat),
    ),
    st.builds(
        lambda c: lambda s: attrs.evolve(s, credentials_store=c),
        st.none() | st.sampled_from(StoreChoice),
    ),
)


@settings(max_examples=60, deadline=None)
@given(changes=st.lists(_CHANGES, max_size=12))
def test_any_sequence_of_updates_matches_the_memory_store_and_keeps_the_users_lines(
    changes: list[Callable[[Settings], Settings]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        config = Path(directory) / "config.toml"
        _write(config, USER_FILE)
        toml = TomlSettingsStore(config)
        memory = InMemorySettingsStore(toml.load())

        for change in changes:
            assert toml.update(change) == memory.update(change)

        assert TomlSettingsStore(config).load() == memory.load()
        text = config.read_text()
        for kept in USER_FILE.splitlines():
            if "provider" not in kept and "openai =" not in kept:
                assert kept in text


# --- concurrency -----------------------------------------------------------------

# One process per setting, each writing its setting several times: eight different
# keys of one file, all updated at once.
_ROUNDS: dict[str, tuple[str, ...]] = {
    "llm.provider": ("openai", "gemini", "trace", "anthropic", "gemini"),
    "llm.models.anthropic": tuple(f"claude-{r}" for r in range(5)),
    "llm.models.openai": tuple(f"gpt-{r}" for r in range(5)),
    "llm.models.gemini": tuple(f"gemini-{r}" for r in range(5)),
    "backend.env": ("local", "production", "local", "production", "local"),
    "backend.api_version": tuple(f"v{r}" for r in range(5)),
    "output.format": ("json", "text", "json", "text", "json"),
    "credentials.store": ("file", "keychain", "auto", "keychain", "file"),
    "llm.key_names.anthropic": tuple(f"work-{r}" for r in range(5)),
    "llm.key_names.openai": tuple(f"client-{r}" for r in range(5)),
    "llm.key_names.gemini": tuple(f"me-{r}" for r in range(5)),
    "keys.env_override": ("error", "warn", "error", "warn", "error"),
    "keys.helper_ttl": tuple(f"{60 + r}" for r in range(5)),
    "keys.helper_timeout": tuple(f"{10 + r}" for r in range(5)),
}

_UPDATE_ONE_SETTING = (
    GATE_PRELUDE
    + """
from adapters.settings.memory import InMemorySettingsStore
from adapters.settings.toml import TomlSettingsStore
from domain.settings import parse_setting
store = TomlSettingsStore(Path(sys.argv[2]))
for raw in sys.argv[4:]:
    key, value = parse_setting(sys.argv[3], raw)
    store.update(lambda s: key.write(s, value))
"""
)


@pytest.mark.slow
def test_concurrent_processes_updating_different_settings_lose_nothing(config: Path) -> None:
    assert set(_ROUNDS) == {key.name for key in SETTING_KEYS}
    _write(config, "# keep me\nunknown = 1\n")

    results = run_gated(
        _UPDATE_ONE_SETTING,
        [(str(config), name, *values) for name, values in _ROUNDS.items()],
        gate=config.parent.parent / "go",
    )

    assert [r.returncode for r in results] == [0] * len(_ROUNDS), [r.stderr for r in results]
    final = settings_to_flat(TomlSettingsStore(config).load())
    assert final == {name: values[-1] for name, values in _ROUNDS.items()}
    assert config.read_text().startswith("# keep me\nunknown = 1\n")
    assert temp_files(config.parent) == []
