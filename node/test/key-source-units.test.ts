/**
 * The parts of key sources below the client: how helper keys are held (a fake clock),
 * how a helper process runs (no shell, output that outlives it), and config.toml's key
 * sections read with the Python reader's values and corrupt-file words (the Python
 * `TomlSettingsStore` runs on the same files), and project files read or refused as the
 * Python `LocalProjectFiles` does.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { LocalProjectFiles } from "../src/config/project-files.js";
import { TomlSettingsReader } from "../src/config/settings.js";
import { CorruptFileError, ProjectFileError } from "../src/errors.js";
import { HelperKeys } from "../src/helpers/helper-keys.js";
import { ScriptedKeyHelper } from "../src/helpers/scripted.js";
import { type KeyHelper, SubprocessKeyHelper } from "../src/helpers/subprocess.js";
import { HelperCommand, KeyRef } from "../src/keys.js";
import type { PendingKey } from "../src/resolution.js";
import { configDir, PYTHON, REPO } from "./support.js";

const KEY = "sk-ant-api03-held-in-memory-0001";

/**
 * A fresh directory whose path is lower-case: the shared helper-command rule refuses a
 * 32-character path piece mixing cases and digits as key-shaped (mkdtemp's suffix can).
 */
function lowerCaseDir(prefix: string): string {
  const dir = join(tmpdir(), `${prefix}${process.pid}-${randomBytes(6).toString("hex")}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}
const OP = "op read op://Work/Anthropic/credential";

function pending(command = OP, name: string | null = null): PendingKey {
  return { ref: new KeyRef("anthropic", name), helper: new HelperCommand(command) };
}

function clocked(answer: string | (() => string), ttl = 300): { keys: HelperKeys; helper: ScriptedKeyHelper; now: { t: number } } {
  const now = { t: 1_700_000_000 };
  const helper = new ScriptedKeyHelper({ [OP]: typeof answer === "string" ? answer : () => answer(), other: KEY });
  return { keys: new HelperKeys({ runner: helper, ttl, clock: () => now.t }), helper, now };
}

test("a helper's key is held for the TTL, then fetched again", async () => {
  const { keys, helper, now } = clocked(KEY);
  const first = await keys.fetch(pending(), "sdk");
  now.t += 299;
  await keys.fetch(pending(), "sdk");
  assert.equal(helper.runs.length, 1);
  now.t += 1;
  await keys.fetch(pending(), "chat");
  assert.deepEqual(helper.runs.map((r) => [r.key, r.reason]), [["anthropic", "sdk"], ["anthropic", "chat"]]);
  assert.deepEqual([first.source, first.kind, first.keyName, first.secret.reveal()], ["helper", "helper", null, KEY]);
});

test("an expiring key is held until 30 s before its expires_at; an expired one is used once, not held", async () => {
  const start = new Date(1_700_000_000 * 1000);
  const { keys, helper, now } = clocked(JSON.stringify({ key: KEY, expires_at: new Date(start.getTime() + 100_000).toISOString() }));
  await keys.fetch(pending(), "sdk");
  now.t += 69;
  await keys.fetch(pending(), "sdk");
  assert.equal(helper.runs.length, 1);
  now.t += 1;
  await keys.fetch(pending(), "sdk");
  assert.equal(helper.runs.length, 2);

  const soon = clocked(JSON.stringify({ key: KEY, expires_at: new Date(start.getTime() + 10_000).toISOString() }));
  const used = await soon.keys.fetch(pending(), "sdk");
  await soon.keys.fetch(pending(), "sdk");
  assert.equal(used.secret.reveal(), KEY);
  assert.equal(soon.helper.runs.length, 2, "a key that dies within the margin is never held");
});

test("one run per key at a time; a changed command or another key is a separate slot", async () => {
  let release: (value: string) => void = () => undefined;
  let runs = 0;
  const slow: KeyHelper = {
    run: () => {
      runs += 1;
      return new Promise((resolve) => {
        release = resolve;
      });
    },
  };
  const keys = new HelperKeys({ runner: slow, ttl: 300 });
  const all = Promise.all([keys.fetch(pending(), "sdk"), keys.fetch(pending(), "sdk"), keys.fetch(pending(), "sdk")]);
  await new Promise((r) => setImmediate(r));
  assert.equal(runs, 1);
  release(KEY);
  assert.deepEqual((await all).map((c) => c.secret.reveal()), [KEY, KEY, KEY]);
  assert.equal(runs, 1);

  const { keys: scripted, helper } = clocked(KEY);
  await scripted.fetch(pending(), "sdk");
  await scripted.fetch(pending("other"), "sdk");
  await scripted.fetch(pending(OP, "work"), "sdk");
  assert.equal(helper.runs.length, 3);
  await scripted.refresh(pending(), "sdk"); // after a rejection: run again whatever its age
  assert.equal(helper.runs.length, 4);
  const named = await scripted.fetch(pending(OP, "work"), "sdk");
  assert.deepEqual([named.source, named.keyName, helper.runs.length], ["helper:work", "work", 4]);
});

test("a helper runs without a shell unless stored with one", async () => {
  const dir = lowerCaseDir("trace-node-shell-");
  const marker = join(dir, "pwned");
  const echo = join(dir, "echo.mjs");
  writeFileSync(echo, 'console.log(process.argv.slice(2).join(" "));\n');
  const runner = new SubprocessKeyHelper(process.env, { timeoutSeconds: 10 });
  const ref = new KeyRef("openai");
  const plain = await runner.run(HelperCommand.parse(`${process.execPath} ${echo} $HOME ';' touch ${marker} '\`id\`'`), ref, "sdk");
  assert.equal(plain.trim(), `$HOME ; touch ${marker} \`id\``);
  assert.ok(!existsSync(marker));
  const shelled = await runner.run(HelperCommand.parse(`echo a-key-from-sh && touch ${marker}`, true), ref, "sdk");
  assert.equal(shelled.trim(), "a-key-from-sh");
  assert.ok(existsSync(marker));
});

test("a helper that leaves a child holding its output still returns, about 1 s after it exited", async () => {
  const dir = lowerCaseDir("trace-node-linger-");
  const script = join(dir, "linger.mjs");
  writeFileSync(
    script,
    `import { spawn } from "node:child_process";
spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: ["ignore", "inherit", "inherit"] }).unref();
console.log(${JSON.stringify(KEY)});
`,
  );
  const started = Date.now();
  const printed = await new SubprocessKeyHelper(process.env, { timeoutSeconds: 20 }).run(
    HelperCommand.parse(`${process.execPath} ${script}`),
    new KeyRef("anthropic"),
    "sdk",
  );
  assert.equal(printed.trim(), KEY);
  assert.ok(Date.now() - started < 15_000, "bounded by the 1 s after exit, not the child's 30 s");
});

test("a helper that exits leaves nothing it started running (its group is stopped)", async () => {
  const dir = lowerCaseDir("trace-node-leftover-");
  const pidFile = join(dir, "child.pid");
  await new SubprocessKeyHelper(process.env, { timeoutSeconds: 10 }).run(
    HelperCommand.parse(`sleep 300 & echo $! > ${pidFile}; echo printed`, true),
    new KeyRef("anthropic"),
    "sdk",
  );
  const child = Number(readFileSync(pidFile, "ascii").trim());
  const alive = (): boolean => {
    try {
      return readFileSync(`/proc/${child}/stat`, "ascii").split(")").pop()?.trim().split(" ")[0] !== "Z";
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 50 && alive(); i += 1) await new Promise((r) => setTimeout(r, 100)); // up to a generous 5 s
  assert.ok(!alive(), "the helper's child is still running");
});

// --- config.toml's key sections, read by both readers ------------------------------------

const CONFIGS = [
  '[llm]\nprovider = "anthropic"\n\n[llm.key_names]\nanthropic = "work"\nopenai = " client-a "\n',
  '[llm.key_names]\nanthropic = "Work"\n',
  '[llm.key_names]\nanthropic = "sk-ant-api03-a-pasted-key-000000000"\n',
  '[llm]\nkey_names = "work"\n',
  '[keys]\nenv_override = "error"\nhelper_ttl = 120\nhelper_timeout = "30"\n',
  '[keys]\nenv_override = "loud"\n',
  "[keys]\nhelper_ttl = 0\n",
  "[keys]\nhelper_ttl = 0.0\n",
  "[keys]\nhelper_ttl = 300.0\nhelper_timeout = 1e-7\n",
  "[keys]\nhelper_ttl = 1e9\n",
  "[keys]\nhelper_timeout = inf\n",
  "[keys]\nhelper_timeout = nan\n",
  "[keys]\nhelper_ttl = true\n",
  '[keys]\nhelper_ttl = "1_000"\nhelper_timeout = " 5 "\n',
  '[keys]\nhelper_ttl = "0x10"\n',
  "[keys]\nhelper_ttl = 99999999999999999999\n",
  "keys = 3\n",
  '[keys]\nanthropic = "op read x"\n',
  "[keys.anthropic]\nhelper = 3\n",
  '[keys.anthropic]\nhelper = "op read x"\nshell = "yes"\n',
  '[keys.anthropic]\nhelper = "echo sk-ant-api03-a-real-looking-key-0000"\n',
  '[keys.anthropic]\nhelper = "op read \'unclosed"\n',
  "[keys.anthropic.Work]\n",
  '[keys.anthropic.helper]\ncommand = "x"\n',
  '[keys.openai]\nhelper = "op read op://Private/OpenAI/credential"\n\n[keys.openai.ci]\nhelper = "pass show ci | head -n 1"\nshell = true\n\n[keys.gemini.team]\n',
  '[[keys.gemini.team]]\nhelper = "x"\n',
  '[keys.trace]\nhelper = "sk-ant-api03-not-read-here-0000000000"\n',
  "[keys.anthropic]\nshell = 5\n",
  '[projects.allowed]\n"/a/trace.toml" = "sha256:abc"\n',
  "projects = 1\n",
  "[projects]\nallowed = 2\n",
  `[projects.allowed]\n"/home/me/client-a/trace.toml" = "sha256:${"0123456789abcdef".repeat(4)}"\n"/x/__proto__" = "sha256:${"f".repeat(64)}"\n`,
];

const PYTHON_READER = `
import json, sys, tempfile
from pathlib import Path
from adapters.settings.toml import TomlSettingsStore
from domain.errors import CorruptFileError
out = []
for text in json.load(sys.stdin):
    directory = Path(tempfile.mkdtemp())
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    try:
        s = TomlSettingsStore(path).load()
    except CorruptFileError as exc:
        out.append({"error": exc.problem.replace(str(path), "<config>")})
        continue
    out.append({
        "key_names": {p.value: n for p, n in s.key_names.items()},
        "env_override": s.env_override.value if s.env_override else None,
        "helper_ttl": s.helper_ttl,
        "helper_timeout": s.helper_timeout,
        "helpers": {r.label: [h.command, h.shell] for r, h in s.helpers.items()},
        "named_keys": sorted(r.label for r in s.named_keys),
        "allowed_projects": dict(s.allowed_projects),
    })
print(json.dumps(out))
`;

test("config.toml's key sections read as the Python reader reads them, corrupt-file words included", async () => {
  const python = JSON.parse(
    execFileSync(PYTHON, ["-c", PYTHON_READER], { cwd: REPO, input: JSON.stringify(CONFIGS), encoding: "utf8" }),
  ) as unknown[];
  const node: unknown[] = [];
  for (const text of CONFIGS) {
    const dir = configDir();
    const path = join(dir, "config.toml");
    writeFileSync(path, text);
    try {
      const s = await new TomlSettingsReader(dir).load();
      node.push({
        key_names: s.keyNames ?? {},
        env_override: s.envOverride ?? null,
        helper_ttl: s.helperTtl ?? null,
        helper_timeout: s.helperTimeout ?? null,
        helpers: Object.fromEntries(Object.entries(s.helpers ?? {}).map(([label, h]) => [label, [h.command, h.shell]])),
        named_keys: [...(s.namedKeys ?? [])].sort(),
        allowed_projects: { ...s.allowedProjects },
      });
    } catch (error) {
      assert.ok(error instanceof CorruptFileError, String(error));
      node.push({ error: error.problem.replaceAll(path, "<config>") });
    }
  }
  for (const [index, text] of CONFIGS.entries()) assert.deepEqual(node[index], python[index], text);
});

// --- project files, read by both readers -----------------------------------------------

const PROJECT_FILES: [string, Buffer][] = [
  ["plain", Buffer.from('[llm]\nprovider = "anthropic"\nkey_name = "client-a"\n')],
  // Python's tomllib refuses a byte order mark; smol-toml alone would skip it.
  ["bom", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[llm]\nprovider = "openai"\n')])],
  ["bom-only", Buffer.from([0xef, 0xbb, 0xbf])],
  ["bom-comment", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("# client work\n")])],
  ["unclosed", Buffer.from("[llm\n")],
  ["bare-value", Buffer.from("[llm]\nprovider = anthropic\n")],
  ["unknown", Buffer.from('[llm]\nprovider = "openai"\nbudget = "high"\n')],
  ["latin-1", Buffer.from([0x23, 0x20, 0xe9, 0x0a])],
];

const PYTHON_PROJECT_READER = `
import json, sys
from adapters.project.files import LocalProjectFiles
from domain.errors import ProjectFileError
out = []
for directory in json.load(sys.stdin):
    try:
        found = LocalProjectFiles().find(directory)
    except ProjectFileError as exc:
        out.append({"error": exc.problem.replace(directory, "<dir>")})
        continue
    s = found.selection
    out.append({"digest": found.digest, "selection": [s.provider.value if s.provider else None, s.key_name, s.model]})
print(json.dumps(out))
`;

test("project files (a byte order mark included) are read or refused as the Python reader does", async () => {
  const root = lowerCaseDir("trace-node-projects-");
  const dirs = PROJECT_FILES.map(([name, bytes]) => {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "trace.toml"), bytes);
    return dir;
  });
  const python = JSON.parse(
    execFileSync(PYTHON, ["-c", PYTHON_PROJECT_READER], { cwd: REPO, input: JSON.stringify(dirs), encoding: "utf8" }),
  ) as unknown[];
  for (const [index, dir] of dirs.entries()) {
    let node: unknown;
    try {
      const found = await new LocalProjectFiles().find(dir);
      assert.ok(found !== null);
      node = { digest: found.digest, selection: [found.selection.provider, found.selection.keyName, found.selection.model] };
    } catch (error) {
      assert.ok(error instanceof ProjectFileError, String(error));
      node = { error: error.problem.replaceAll(dir, "<dir>") };
    }
    assert.deepEqual(node, python[index], PROJECT_FILES[index]?.[0]);
  }
});
