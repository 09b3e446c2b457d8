"""Who else could change a path: the checks that keep other local users out of our files.

A config or secrets file is only as safe as the directories above it. Whoever can write
to the config directory, or to any directory above it, can rename it away and put their
own in its place, or plant a link named ``config.toml`` so that our next write lands in
the victim's ``~/.bash_login``, or leave settings that send the victim's keys to their
server. So before anything in the config directory is read or written:

- the directory itself must belong to the user and must not be writable by group or
  others (the secrets store also wants it 0700, which its caller checks);
- every directory above it, on the path as given and on the path with links resolved,
  must belong to the user or to root, and must not be writable by others unless it has
  the sticky bit (``/tmp``: others cannot rename or delete what they do not own);
- a link on the way must belong to the user or to root;
- group write counts as safe only for the user's private group (a group named like the
  user, which is their primary group and has no other member), as Debian's OpenSSH
  accepts it: under "user private groups" with umask 002 every directory a user makes is
  group-writable, and nobody else is in that group.

Writes never follow a link (:func:`refuse_link`): files are replaced by renaming a temp
file over them, so a link there would either be followed (and a planted one would write
wherever it points) or be silently replaced (and a dotfile manager's link would stop
being updated). Both surprise someone, so the write stops and says how to proceed.

POSIX only: on Windows ownership and mode bits mean something else, and ACLs decide.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from domain.errors import UntrustedLocationError

_POSIX = os.name == "posix"
_ROOT = 0
_USE_OWN_DIRECTORY = (
    "set TRACE_CONFIG_DIR to a directory only you can write (or unset it to use the default)"
)


def check_directory_chain(directory: Path) -> None:
    """Refuse ``directory`` when another local user could change it or anything above it.

    Parts that do not exist yet are skipped (whoever creates them checks again).
    Raises ``UntrustedLocationError`` naming the first offending path and the fix.
    """
    if not _POSIX:
        return
    me = os.getuid()
    # abspath, not resolve(): the links on the way are what this looks at.
    lexical = Path(os.path.abspath(directory))  # noqa: PTH100
    real = Path(os.path.realpath(directory))
    checked: set[Path] = set()
    for path in (lexical, *lexical.parents, real, *real.parents):
        if path in checked:
            continue
        checked.add(path)
        try:
            status = os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError:
            continue  # unreadable: the open that follows reports it with its own words
        _check_one(path, status, me, target=path == real)


def _check_one(path: Path, status: os.stat_result, me: int, *, target: bool) -> None:
    """One step of the chain: its owner, then who may write to it."""
    if stat.S_ISLNK(status.st_mode):
        if status.st_uid not in (me, _ROOT):
            raise UntrustedLocationError(
                str(path),
                f"it is a link owned by uid {status.st_uid}, who could point it elsewhere",
                _USE_OWN_DIRECTORY,
            )
        return  # a link's own mode bits mean nothing
    if target and status.st_uid != me:
        raise UntrustedLocationError(
            str(path),
            f"the directory is owned by uid {status.st_uid}, not you; that user could "
            "change your settings or plant links in it",
            _USE_OWN_DIRECTORY,
        )
    if not target and status.st_uid not in (me, _ROOT):
        raise UntrustedLocationError(
            str(path),
            f"a directory above the config directory is owned by uid {status.st_uid}, "
            "who could replace what is inside it",
            _USE_OWN_DIRECTORY,
        )
    others_write = status.st_mode & stat.S_IWOTH
    group_write = status.st_mode & stat.S_IWGRP and not _private_group(status.st_gid, me)
    if not (others_write or group_write):
        return
    if not target and status.st_mode & stat.S_ISVTX:
        return  # sticky, like /tmp: others cannot rename or delete our entries in it
    who = "other users" if others_write else "its group"
    where = "it" if target else "this directory above the config directory"
    raise UntrustedLocationError(
        str(path),
        f"{who} can write to {where}, so they could replace your settings or plant links",
        # The config directory also holds credentials.json, which wants it 0700: one fix.
        f"chmod 700 {path}" if target else f"chmod go-w {path}",
    )


def _private_group(gid: int, me: int) -> bool:
    """True for the user's own private group: their primary group, named like them, alone."""
    import grp
    import pwd

    try:
        user = pwd.getpwuid(me)
        group = grp.getgrgid(gid)
    except KeyError:
        return False
    others = [member for member in group.gr_mem if member != user.pw_name]
    return gid == user.pw_gid and group.gr_name == user.pw_name and not others


def refuse_link(path: Path) -> None:
    """Refuse to write ``path`` when it is a link (see the module docstring for why)."""
    try:
        status = os.lstat(path)
    except OSError:
        return  # absent (we create it) or unreadable (the write reports it)
    if not stat.S_ISLNK(status.st_mode):
        return
    target = os.path.realpath(path)
    raise UntrustedLocationError(
        str(path),
        f"it is a symbolic link (to {target}); buildwithtrace never writes through a link",
        f"replace the link with a copy of its target (cp --remove-destination {target} "
        f"{path}); or, if the target is named {path.name}, set TRACE_CONFIG_DIR to its "
        "directory",
    )
