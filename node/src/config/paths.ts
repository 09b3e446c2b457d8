/** Where the CLI keeps its files: `TRACE_CONFIG_DIR`, else the platform's user config dir. */
import { homedir } from "node:os";
import { join } from "node:path";

import { pyStrip } from "../text.js";

/** The application's directory name. */
export const APP_NAME = "buildwithtrace";
/** The settings file. */
export const CONFIG_FILE = "config.toml";
/** The 0600 secrets file (the store where no keychain works). */
export const CREDENTIALS_FILE = "credentials.json";

/** The config directory, as the Python CLI computes it (platformdirs, roaming). */
export function configDir(env: Readonly<Record<string, string | undefined>>): string {
  const override = pyStrip(env["TRACE_CONFIG_DIR"] ?? "");
  if (override !== "") return expandHome(override);
  if (process.platform === "darwin") return join(homedir(), "Library", "Application Support", APP_NAME);
  if (process.platform === "win32") {
    return join(env["APPDATA"] ?? join(homedir(), "AppData", "Roaming"), APP_NAME);
  }
  const xdg = pyStrip(env["XDG_CONFIG_HOME"] ?? "");
  return join(xdg !== "" ? expandHome(xdg) : join(homedir(), ".config"), APP_NAME);
}

function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return join(homedir(), path.slice(2));
  return path;
}
