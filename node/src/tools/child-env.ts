/**
 * The environment of `kicad-cli` (adapters/tools/local/child_env.py): an allow-list. Only
 * `PATH HOME USER LOGNAME LANG TZ TMPDIR TMP TEMP`, the Windows essentials, and every
 * `LC_*`, `XDG_*` and `KICAD*` pass (names compared in upper case), and never a name
 * containing `TOKEN KEY SECRET PASSWORD PASSWD CREDENTIAL AUTH`: the provider keys and
 * the Trace token stay in this process. The lists are generated from the Python module.
 */
import { ENV_ALLOWED_NAMES, ENV_ALLOWED_PREFIXES, ENV_SECRET_WORDS } from "./policy-data.js";

const allowedNames = new Set(ENV_ALLOWED_NAMES);

/** True when the variable `name` may be passed to a child process. */
export function allowed(name: string): boolean {
  const upper = name.toUpperCase();
  if (ENV_SECRET_WORDS.some((word) => upper.includes(word))) return false;
  return allowedNames.has(upper) || ENV_ALLOWED_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

/** The allow-listed part of `environment`, for `spawn(..., { env })`. */
export function childEnvironment(environment: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (value !== undefined && allowed(name)) out[name] = value;
  }
  return out;
}
