"""`buildwithtrace config get|set|unset|list`: non-secret settings only."""

from __future__ import annotations

import click

from application.settings_view import SettingView
from entrypoints.cli.app import json_option, state
from entrypoints.cli.output import emit_json, emit_result, say, table


def _show(view: SettingView, as_json: bool) -> None:
    if not emit_result(view, as_json):
        say(f"{view.name} = {view.value if view.value is not None else '(unset)'}  [{view.source}]")


@click.group()
def config() -> None:
    """Read and change non-secret settings (keys live in the secret store, never here)."""


@config.command("get")
@click.argument("name")
@json_option
def get(name: str, as_json: bool) -> None:
    """Show setting NAME's effective value and where it comes from."""
    _show(state().runtime.use_cases.get_setting().execute(name), as_json)


@config.command("set")
@click.argument("name")
@click.argument("value")
@json_option
def set_(name: str, value: str, as_json: bool) -> None:
    """Set NAME to VALUE (validated; values that look like secrets are refused)."""
    _show(state().runtime.use_cases.change_setting().execute(name, value), as_json)


@config.command("unset")
@click.argument("name")
@json_option
def unset(name: str, as_json: bool) -> None:
    """Remove NAME from config.toml (back to its default)."""
    _show(state().runtime.use_cases.change_setting().execute(name, None), as_json)


@config.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Every setting with its value, source and allowed values."""
    views = state().runtime.use_cases.list_settings().execute()
    if as_json:
        from entrypoints.presentation import to_data

        emit_json({"settings": to_data(views)})
        return
    rows = [
        (v.name, v.value if v.value is not None else "", v.source, "|".join(v.choices) or v.help)
        for v in views
    ]
    say(table(rows, ("NAME", "VALUE", "SOURCE", "ALLOWED")))
