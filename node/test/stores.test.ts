/**
 * What the Python CLI stores, read by this SDK: the keychain (the private Secret Service
 * of scripts/with-keychain), credentials.json and config.toml, with the Python side's
 * file rules; and the keychain's failure modes (no bus, a hung bus, two entries).
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "node:test";

import {
  CorruptFileError,
  InsecurePermissionsError,
  KeychainUnavailableError,
  StorageError,
  Trace,
  UntrustedLocationError,
} from "../src/index.js";
import { configDir, REPO } from "./support.js";

const KEY = "sk-ant-interop-canary-0123456789abcd";
const HAVE_BUS = Boolean(process.env["DBUS_SESSION_BUS_ADDRESS"]);
const REQUIRE = process.env["REQUIRE_SECRET_SERVICE"] === "1";
const keychain = { skip: !HAVE_BUS && !REQUIRE ? "no Secret Service (run under scripts/with-keychain)" : false };

function cliEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(TRACE_|ANTHROPIC_|OPENAI_|GEMINI_|GOOGLE_API)/.test(name)) env[name] = value;
  }
  return {
    ...env,
    TRACE_CONFIG_DIR: dir,
    TRACE_KEYCHAIN_SERVICE: `buildwithtrace-node-test-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
    ...extra,
  };
}

/** `buildwithtrace ARGS` (the Python CLI of the repository's .venv). */
function cli(args: string[], env: Record<string, string>, input?: string): string {
  return execFileSync(join(REPO, ".venv", "bin", "buildwithtrace"), args, { env, input, cwd: REPO, encoding: "utf8" });
}

test("a key set with the CLI in the keychain resolves with source keychain", keychain, async () => {
  const dir = configDir();
  const env = cliEnv(dir, { TRACE_CREDENTIALS_STORE: "keychain" });
  cli(["byok", "set", "anthropic", "--key-stdin"], env, `${KEY}\n`);
  cli(["byok", "model", "claude-opus-4-1"], env);
  const resolution = await new Trace({ env }).resolve();
  assert.deepEqual(
    [resolution.provider, resolution.keySource, resolution.model, resolution.modelSource, resolution.origin],
    ["anthropic", "keychain", "claude-opus-4-1", "config", "config"],
  );
  assert.equal(resolution.credential?.secret.reveal(), KEY);
  // auto reads the keychain first as well
  const auto = await new Trace({ env: { ...env, TRACE_CREDENTIALS_STORE: "auto" } }).resolve();
  assert.equal(auto.keySource, "keychain");
});

test("two keychain entries for one account are a storage error with a fix, never a guess", keychain, async () => {
  const dir = configDir();
  const env = cliEnv(dir, { TRACE_CREDENTIALS_STORE: "keychain" });
  cli(["byok", "set", "openai", "--key-stdin"], env, "sk-openai-first-0123456789\n");
  execFileSync("secret-tool", ["store", "--label=other", "service", env["TRACE_KEYCHAIN_SERVICE"] ?? "", "username", "llm:openai", "application", "another-tool"], {
    input: "sk-openai-second-0123456789",
    env,
  });
  await assert.rejects(new Trace({ env }).resolve(), (error: unknown) => {
    assert.ok(error instanceof StorageError && !(error instanceof KeychainUnavailableError));
    assert.equal(error.exitCode, 5);
    assert.match(error.problem, /holds 2 entries/);
    assert.match(error.fix, /secret-tool clear service .* username llm:openai/);
    assert.ok(!error.message.includes("sk-openai"));
    return true;
  });
  // auto must not silently fall back to the file for this either
  await assert.rejects(new Trace({ env: { ...env, TRACE_CREDENTIALS_STORE: "auto" } }).resolve(), StorageError);
});

test("two keychain entries for a named key: the fix stores it again with --name", keychain, async () => {
  const dir = configDir();
  const env = cliEnv(dir, { TRACE_CREDENTIALS_STORE: "keychain" });
  cli(["byok", "set", "openai", "--name", "ci", "--key-stdin"], env, "sk-openai-named-first-0123456789\n");
  execFileSync("secret-tool", ["store", "--label=other", "service", env["TRACE_KEYCHAIN_SERVICE"] ?? "", "username", "llm:openai:ci", "application", "another-tool"], {
    input: "sk-openai-named-second-0123456789",
    env,
  });
  await assert.rejects(new Trace({ env }).resolve(), (error: unknown) => {
    assert.ok(error instanceof StorageError && !(error instanceof KeychainUnavailableError));
    assert.match(error.problem, /holds 2 entries for service .*, account llm:openai:ci;/);
    assert.match(error.fix, /username llm:openai:ci\), then store the key again: buildwithtrace byok set openai --name ci$/);
    assert.ok(!error.message.includes("sk-openai"));
    return true;
  });
});

test("a key in credentials.json (file store) resolves with source file", async () => {
  const dir = configDir();
  const env = cliEnv(dir, { TRACE_CREDENTIALS_STORE: "file" });
  cli(["byok", "set", "gemini", "--key-stdin"], env, "AIza-interop-file-key-0123456789\n");
  const resolution = await new Trace({ env }).resolve();
  assert.deepEqual([resolution.provider, resolution.keySource, resolution.model], ["gemini", "file", "gemini-2.5-flash"]);
  assert.equal(resolution.credential?.secret.reveal(), "AIza-interop-file-key-0123456789");
});

test("config.toml: the active provider and the per-provider model", async () => {
  const dir = configDir();
  const env = cliEnv(dir, { TRACE_CREDENTIALS_STORE: "file", OPENAI_API_KEY: "sk-openai-from-env-0123456789" });
  cli(["byok", "model", "gpt-4.1", "--provider", "openai"], env);
  cli(["byok", "model", "claude-opus-4-1", "--provider", "anthropic"], env);
  cli(["byok", "use", "openai"], env);
  const resolution = await new Trace({ env }).resolve();
  assert.deepEqual(
    [resolution.provider, resolution.keySource, resolution.model, resolution.modelSource],
    ["openai", "env:OPENAI_API_KEY", "gpt-4.1", "config"],
  );
});

test("credentials.json readable by others, or in an open directory, is refused with the chmod fix", async () => {
  const dir = configDir();
  const env = cliEnv(dir, { TRACE_CREDENTIALS_STORE: "file" });
  cli(["byok", "set", "gemini", "--key-stdin"], env, "AIza-interop-file-key-0123456789\n");
  const file = join(dir, "credentials.json");
  chmodSync(file, 0o644);
  await assert.rejects(new Trace({ env }).resolve({ llmProvider: "gemini" }), (error: unknown) => {
    assert.ok(error instanceof InsecurePermissionsError);
    assert.equal(error.fix, `chmod 600 ${file}`);
    return true;
  });
  chmodSync(file, 0o600);
  chmodSync(dir, 0o750);
  await assert.rejects(new Trace({ env }).resolve({ llmProvider: "gemini" }), InsecurePermissionsError);
});

test("a corrupt credentials.json or config.toml is reported with its name, never replaced", async () => {
  const dir = configDir();
  const env = cliEnv(dir, { TRACE_CREDENTIALS_STORE: "file" });
  const file = join(dir, "credentials.json");
  writeFileSync(file, '{"version": 1, "secrets": {', { mode: 0o600 });
  await assert.rejects(new Trace({ env }).resolve({ llmProvider: "openai" }), (error: unknown) => {
    assert.ok(error instanceof CorruptFileError);
    assert.equal(error.path, file);
    assert.match(error.problem, /invalid JSON at line 1 column/);
    return true;
  });
  writeFileSync(join(dir, "config.toml"), "[llm\nprovider = 'openai'\n", { mode: 0o600 });
  await assert.rejects(new Trace({ env }).resolve(), (error: unknown) => error instanceof CorruptFileError && error.path === join(dir, "config.toml"));
  writeFileSync(join(dir, "config.toml"), "[llm]\nprovider = 'mistral'\n", { mode: 0o600 });
  await assert.rejects(new Trace({ env }).resolve(), (error: unknown) => error instanceof CorruptFileError && /llm.provider = 'mistral' is not allowed \(one of: anthropic, openai, gemini, trace\)/.test(error.problem));
});

test("a config directory other users can write to is refused", async () => {
  const parent = configDir();
  const dir = join(parent, "cfg");
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(parent, 0o777);
  await assert.rejects(new Trace({ env: cliEnv(dir) }).resolve(), UntrustedLocationError);
});

interface ChildOutcome {
  keySource?: string;
  error?: string;
  reason?: string;
  ms: number;
}

/** A script that resolves with `new Trace()` and prints the outcome as JSON. */
function childScript(): string {
  const file = join(configDir(), "resolve.mjs");
  writeFileSync(
    file,
    `import { Trace } from ${JSON.stringify(new URL("../src/index.js", import.meta.url).href)};
const started = Date.now();
try {
  const r = await new Trace().resolve();
  console.log(JSON.stringify({ keySource: r.keySource, ms: Date.now() - started }));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, reason: e.reason, ms: Date.now() - started }));
}
`,
  );
  return file;
}

/**
 * Resolve in a child process whose real environment is `env`: the keychain library reads
 * the process's own DBUS_SESSION_BUS_ADDRESS, which only a new process can change.
 * Asynchronous, so this process can keep serving a fake bus meanwhile.
 */
function resolveInChild(env: Record<string, string>): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [childScript()], { env, timeout: 60_000 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(JSON.parse(stdout) as ChildOutcome);
    });
  });
}

test("no D-Bus session: keychain-only is KeychainUnavailableError, auto falls back to the file", async () => {
  const dir = configDir();
  const env = cliEnv(dir, { TRACE_CREDENTIALS_STORE: "file" });
  cli(["byok", "set", "anthropic", "--key-stdin"], env, `${KEY}\n`);
  const noBus: Record<string, string> = { ...env };
  delete noBus["DBUS_SESSION_BUS_ADDRESS"];
  const only = await resolveInChild({ ...noBus, TRACE_CREDENTIALS_STORE: "keychain" });
  assert.equal(only.error, "KeychainUnavailableError");
  assert.equal(only.reason, "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is unset)");
  assert.equal((await resolveInChild({ ...noBus, TRACE_CREDENTIALS_STORE: "auto" })).keySource, "file");
});

test("a keychain that never answers is given up after TRACE_KEYCHAIN_TIMEOUT, then the file is used", async () => {
  // A "session bus" that accepts connections and never says a word: the D-Bus handshake hangs.
  const sockets: Socket[] = [];
  const bus: Server = createServer((socket) => sockets.push(socket));
  const path = join(configDir(), "bus");
  await new Promise<void>((resolve) => bus.listen(path, resolve));
  try {
    const dir = configDir();
    const env = cliEnv(dir, { TRACE_CREDENTIALS_STORE: "file" });
    cli(["byok", "set", "anthropic", "--key-stdin"], env, `${KEY}\n`);
    const hung = { ...env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${path}`, TRACE_KEYCHAIN_TIMEOUT: "0.5" };
    const child = (extra: Record<string, string>): Promise<ChildOutcome> => resolveInChild({ ...hung, ...extra });
    const only = await child({ TRACE_CREDENTIALS_STORE: "keychain" });
    assert.equal(only.error, "KeychainUnavailableError");
    assert.equal(only.reason, "the keychain did not answer within 0.5s");
    const auto = await child({ TRACE_CREDENTIALS_STORE: "auto" });
    assert.equal(auto.keySource, "file");
    assert.ok(auto.ms < 30_000, "bounded, not hung");
  } finally {
    for (const socket of sockets) socket.destroy();
    bus.close();
  }
});

