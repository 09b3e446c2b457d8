/**
 * Where the Trace backend lives, and where a credential may be sent (DESIGN section 5;
 * the same rules as the Python side's `adapters/backend/http/urls.py`): https, or http
 * to a literal loopback address or `localhost` (pinned to the loopback address it
 * resolves to, so no later lookup can move it). `localhost.` is not loopback.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

import { InsecureTransportError, InvalidSettingError } from "../errors.js";
import { nonBlank, pyRepr } from "../text.js";

/** The production backend. */
export const PRODUCTION_URL = "https://api.buildwithtrace.com";
/** A backend on this machine (`backend.env = local`). */
export const LOCAL_URL = "http://localhost:8000";
const URL_FIX = "set TRACE_BASE_URL to an https:// URL (or unset it to use production)";
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `TRACE_BASE_URL` when set (non-blank), else by the `backend.env` setting. */
export function baseUrlFor(envBaseUrl: string | undefined, backendEnv: string | undefined): string {
  const given = nonBlank(envBaseUrl);
  if (given !== undefined) return normalizeBaseUrl(given);
  return (backendEnv ?? "production") === "local" ? LOCAL_URL : PRODUCTION_URL;
}

/** `url` without trailing slashes; throws for anything but http(s)://host[:port]. */
export function normalizeBaseUrl(url: string): string {
  const cleaned = url.trim().replace(/\/+$/, "");
  let parsed: URL;
  try {
    parsed = new URL(cleaned);
  } catch {
    throw new InvalidSettingError("the Trace base URL is not a valid URL", URL_FIX);
  }
  if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.hostname === "") {
    throw new InvalidSettingError(
      `the Trace base URL must be http(s)://host[:port], got ${pyRepr(redactUrl(cleaned))}`,
      URL_FIX,
    );
  }
  return cleaned;
}

/** `version` when it is a safe path segment; throws otherwise. */
export function checkApiVersion(version: string): string {
  if (!VERSION.test(version)) {
    throw new InvalidSettingError(
      `invalid API version ${pyRepr(version.slice(0, 40))}`,
      "set TRACE_API_VERSION to a version such as latest or v1",
    );
  }
  return version;
}

/** True for `localhost` and the literal loopback addresses (127.0.0.0/8, ::1); nothing else. */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (name === "localhost") return true;
  const kind = isIP(name);
  if (kind === 4) return name.split(".")[0] === "127";
  if (kind === 6) return new URL(`http://[${name}]/`).hostname === "[::1]";
  return false;
}

/**
 * The host exactly as written in `url`. The WHATWG parser rewrites `127.1` or
 * `2130706433` to `127.0.0.1`; the Python side refuses such spellings, and so do we.
 */
function rawHost(url: string): string {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/.exec(url)?.[1] ?? "";
}

/** Throw `InsecureTransportError` unless `url` is https, or http to a loopback host. */
export function checkTransport(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined && parsed.hostname !== "") {
    if (parsed.protocol === "https:") return;
    if (parsed.protocol === "http:" && isLoopbackHost(rawHost(url.trim()))) return;
  }
  throw new InsecureTransportError(redactUrl(url));
}

/** How a host name resolves (injectable for tests). */
export type Resolver = (host: string) => Promise<readonly string[]>;

const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * `url` with an http `localhost` replaced by the loopback address it resolves to.
 * Every address it yields must be loopback; the connection then goes to that literal.
 */
export async function pinLocalhost(url: string, resolve: Resolver = systemResolver): Promise<string> {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" || parsed.hostname.toLowerCase() !== "localhost") return url;
  let addresses: readonly string[] = [];
  try {
    addresses = await resolve("localhost");
  } catch {
    addresses = [];
  }
  if (addresses.length === 0 || !addresses.every(isLoopbackHost)) {
    const shown = [...new Set(addresses)].sort().slice(0, 4).join(", ") || "nothing";
    throw new InsecureTransportError(
      `${redactUrl(url)} (localhost resolves to ${shown}, not only loopback addresses)`,
    );
  }
  const address = addresses.find((a) => !a.includes(":")) ?? addresses[0] ?? "127.0.0.1";
  parsed.hostname = address.includes(":") ? `[${address}]` : address;
  if (parsed.port === "") parsed.port = "80";
  return parsed.toString().replace(/\/$/, "");
}

/** `url` without user info, query or fragment, so a message never shows a secret. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const port = parsed.port ? `:${parsed.port}` : "";
    return `${parsed.protocol}//${parsed.hostname}${port}${parsed.pathname === "/" && !url.endsWith("/") ? "" : parsed.pathname}`.slice(0, 200);
  } catch {
    return "(unparseable URL)";
  }
}
