"""`buildwithtrace completion SHELL` and the completions a shell gets back."""

from __future__ import annotations

import pytest

from tests.e2e.cli_runner import run


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _buildwithtrace_completion buildwithtrace"),
        ("zsh", "#compdef buildwithtrace"),
        ("fish", "complete --no-files --command buildwithtrace"),
    ],
)
def test_completion_prints_the_shells_script(shell: str, marker: str) -> None:
    result = run(["completion", shell])

    assert result.code == 0, result
    assert marker in result.stdout
    assert "_BUILDWITHTRACE_COMPLETE" in result.stdout
    assert result.stderr == ""


def test_the_shell_gets_provider_names_completed() -> None:
    result = run(
        [],
        env_extra={
            "_BUILDWITHTRACE_COMPLETE": "bash_complete",
            "COMP_WORDS": "buildwithtrace byok set o",
            "COMP_CWORD": "3",
        },
    )

    assert result.code == 0, result
    assert result.stdout.splitlines() == ["plain,openai"]
