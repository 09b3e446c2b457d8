"""``domain.value.Value`` behaves like the methods attrs would have written for the class.

Our frozen values are declared ``@attrs.frozen(eq=False, repr=False)`` on ``Value`` so
that importing a module compiles less (docs/performance.md); these tests hold the
generic ``==``, ``hash()`` and ``repr()`` to attrs' own, field options included.
"""

from __future__ import annotations

import attrs
import pytest

from domain.credential import KeySource, SourceKind, StoredSecret
from domain.secret import Secret
from domain.value import Value


@attrs.frozen(eq=False, repr=False)
class Cheap(Value):
    """A value the way our modules declare one."""

    name: str
    count: int = 0
    note: str = attrs.field(default="", eq=False)
    hidden: str = attrs.field(default="", repr=False)
    shown: int = attrs.field(default=1, repr=lambda n: f"<{n}>")


@attrs.frozen
class Generated:
    """The same fields, with every method written by attrs."""

    name: str
    count: int = 0
    note: str = attrs.field(default="", eq=False)
    hidden: str = attrs.field(default="", repr=False)
    shown: int = attrs.field(default=1, repr=lambda n: f"<{n}>")


CASES = [
    (("a",), ("a",)),
    (("a", 1), ("a", 2)),
    (("a", 1, "x"), ("a", 1, "y")),  # note does not count for ==
    (("a", 1, "", "h"), ("a", 1, "", "i")),
    (("a", 1, "", "", 2), ("a", 1, "", "", 2)),
    (("a",), ("b",)),
]


@pytest.mark.parametrize(("left", "right"), CASES)
def test_equality_and_hash_match_attrs(left: tuple[object, ...], right: tuple[object, ...]) -> None:
    ours = Cheap(*left) == Cheap(*right)  # type: ignore[arg-type]
    theirs = Generated(*left) == Generated(*right)  # type: ignore[arg-type]

    assert ours is theirs
    assert (Cheap(*left) != Cheap(*right)) is (not theirs)  # type: ignore[arg-type]
    if ours:
        assert hash(Cheap(*left)) == hash(Cheap(*right))  # type: ignore[arg-type]


def test_repr_matches_attrs_and_hides_what_attrs_hides() -> None:
    args = ("a", 2, "n", "secret-ish", 5)

    assert repr(Cheap(*args)) == repr(Generated(*args)).replace("Generated", "Cheap")
    assert "secret-ish" not in repr(Cheap(*args))


def test_another_class_is_never_equal() -> None:
    assert Cheap("a") != Generated("a")
    assert Cheap("a") != ("a", 0)
    assert Cheap("a").__eq__(("a", 0)) is NotImplemented


def test_values_still_are_frozen_and_usable_as_keys() -> None:
    value = Cheap("a")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        value.name = "b"  # type: ignore[misc]
    assert {Cheap("a"): 1}[Cheap("a", note="other")] == 1
    assert attrs.evolve(value, count=3) == Cheap("a", 3)


def test_a_secret_inside_a_value_shows_only_its_mask() -> None:
    stored = StoredSecret(Secret("sk-ant-value-test-0123456789abcdef"), KeySource(SourceKind.FILE))

    assert "0123456789" not in repr(stored)
    assert "…cdef" in repr(stored)
    assert repr(KeySource.env("X")) == (
        "KeySource(kind=<SourceKind.ENV: 'env'>, name='X', key_name=None)"
    )
