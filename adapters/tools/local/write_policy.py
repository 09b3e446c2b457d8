"""Which files the model may write: design files, never what other tools execute or trust.

A name qualifies when its key (:func:`adapters.tools.local.path_policy.name_key`:
NFC, casefolded, trailing dots and spaces removed, as Windows compares and opens
names) has a design-file suffix (``.kicad_sch .kicad_pcb .kicad_sym .kicad_mod
.trace_sch .trace_pcb .net .csv .json .md``) or is a KiCad library table
(``sym-lib-table``, ``fp-lib-table``), does not contain ``:`` (an NTFS stream:
``board.json:x`` writes a hidden stream of ``board.json``), and is not refused
below. Both the name the model gave and the resolved target must qualify, so a
link named ``x.json`` cannot lead to a script; the path policy (no hidden
component) applies too. ``.kicad_pro`` is not writable: it holds project settings,
and a broken one stops KiCad opening the project.

Refused although their suffix is writable: files that package managers, build
tools, CI services, editors or coding agents read as instructions. Writing one
plants code that runs on the user's next ``npm install``, build, deploy or editor
start (``package.json`` scripts, ``tsconfig.json`` plugins, ``tasks.json``,
``cdk.json``'s ``app`` command, ``lefthook.json`` git hooks, ``CMakePresets.json``
toolchains..., ``dprint.json`` native plugins, the MCP servers of ``opencode.json``
and ``crush.json``), or instructions the user's other AI agents follow
(``AGENTS.md``, ``AGENTS.override.md``, ``CLAUDE.md``). They are refused by name
(:data:`REFUSED_NAMES`) and by pattern (:data:`REFUSED_PATTERNS`: ``*.config.json``,
``*-lock.json``, ``tsconfig.*.json``, ``appsettings*.json``...), in every directory,
in any case (a case-insensitive file system opens ``PACKAGE.JSON`` as ``package.json``).

Why a list: ``.json`` and ``.md`` must stay writable (BOMs, netlists as JSON, design
notes), and no rule tells a design file's JSON from a tool's. Residual risk: a tool
this list does not know, or one configured to read a file of any other name (a
``"extends": "./board.json"`` in a config the user wrote, a CI job that runs
``node`` on a data file), can still be fed through a writable file; hidden
directories (``.vscode``, ``.github``, ``.devcontainer``, ``.husky``), which hold
most such files, are refused wholesale by the path policy.
"""

from __future__ import annotations

import fnmatch
from pathlib import PurePath

from adapters.tools.local.path_policy import name_key

WRITABLE_SUFFIXES = frozenset(
    {
        ".kicad_sch",
        ".kicad_pcb",
        ".kicad_sym",
        ".kicad_mod",
        ".trace_sch",
        ".trace_pcb",
        ".net",
        ".csv",
        ".json",
        ".md",
    }
)
WRITABLE_NAMES = frozenset({"sym-lib-table", "fp-lib-table"})
DELETABLE_SUFFIXES = frozenset({".trace_sch", ".trace_pcb"})

REFUSED_NAMES = frozenset(
    {
        # JavaScript / TypeScript package managers and monorepo tools: scripts, hooks.
        "package.json", "package-lock.json", "npm-shrinkwrap.json", "bower.json",
        "lerna.json", "nx.json", "project.json", "workspace.json", "rush.json",
        "turbo.json", "deno.json", "deno.jsonc", "jsr.json", "nodemon.json",
        "components.json", "bunfig.json",
        # Compilers, linters and frameworks that load plugins named in their config.
        "tsconfig.json", "jsconfig.json", "babel.config.json", "tslint.json",
        "biome.json", "biome.jsonc", "angular.json", "angular-cli.json", "nest-cli.json",
        "typedoc.json", "bsconfig.json", "rescript.json", "electron-builder.json",
        "pyrightconfig.json",
        # Deploy and cloud tools that run build commands.
        "vercel.json", "now.json", "firebase.json", "app.json", "manifest.json",
        "cdk.json", "serverless.json", "cloudbuild.json", "wrangler.json",
        "wrangler.jsonc", "devbox.json",
        # Bots and CI helpers, git hook managers, formatters that run native plugins.
        "renovate.json", "lefthook.json", "lefthook-local.json", "simple-git-hooks.json",
        "dprint.json",
        # Editors and dev containers (usually under hidden directories, refused anyway).
        "devcontainer.json", "tasks.json", "launch.json", "settings.json",
        "extensions.json", "mcp.json",
        # Coding agents' project configs: MCP servers and LSPs are commands they start.
        "opencode.json", "crush.json",
        # .NET, C/C++ and other build systems.
        "global.json", "launchsettings.json", "dotnet-tools.json", "cmakepresets.json",
        "cmakeuserpresets.json", "compile_commands.json", "vcpkg.json",
        "vcpkg-configuration.json", "dub.json", "esy.json", "elm.json", "composer.json",
        # Instructions that coding agents follow.
        "agents.md", "agent.md", "claude.md", "claude.local.md", "gemini.md",
        "copilot-instructions.md", "warp.md", "agents.override.md", "crush.md", "qwen.md",
    }
)  # fmt: skip
REFUSED_PATTERNS = (
    "*.config.json",  # jest, vite, capacitor, ionic, lint-staged ... configs
    "*.conf.json",  # tauri.conf.json, karma ...
    "*-lock.json",
    "*.lock.json",  # packages.lock.json (NuGet), Brewfile.lock.json ...
    "tsconfig.*.json",
    "appsettings*.json",  # .NET: connection strings, URLs
    "jupyter_*.json",  # Jupyter server / notebook configs
)


def refused(name: str) -> bool:
    """True for a file that tools execute or trust (compared by key)."""
    key = name_key(name)
    return key in REFUSED_NAMES or any(fnmatch.fnmatchcase(key, p) for p in REFUSED_PATTERNS)


def writable_name(name: str) -> bool:
    """True for a design file's name that is not refused."""
    if ":" in name or refused(name):
        return False
    key = name_key(name)
    return key in WRITABLE_NAMES or PurePath(key).suffix in WRITABLE_SUFFIXES


def deletable_name(name: str) -> bool:
    """True for a Trace scratch file's name."""
    return ":" not in name and PurePath(name_key(name)).suffix in DELETABLE_SUFFIXES


def allowed_description() -> str:
    """The writable suffixes and names, for error messages."""
    return ", ".join(sorted(WRITABLE_SUFFIXES | WRITABLE_NAMES))
