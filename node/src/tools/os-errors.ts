/** An OS error in Python's words (`strerror`, then the file relative to the root). */
import { basename } from "node:path";
import { getSystemErrorMap } from "node:util";

import { pyRepr } from "../text.js";
import type { Sandbox } from "./sandbox.js";

const MESSAGES = getSystemErrorMap();

/** `reason: 'file'` as the Python runner words an `OSError`. */
export function describeOsError(error: unknown, sandbox: Sandbox | null): string {
  const { errno, path: file, message } = (error ?? {}) as { errno?: number; path?: string; message?: string };
  const known = errno === undefined ? undefined : MESSAGES.get(errno)?.[1];
  // libuv's words are C's strerror in lower case: "permission denied".
  const reason = known === undefined ? String(message ?? error) : known.charAt(0).toUpperCase() + known.slice(1);
  if (typeof file !== "string") return reason;
  const shown = sandbox !== null && sandbox.contains(file) ? sandbox.display(file) : basename(file);
  return `${reason}: ${pyRepr(shown)}`;
}
