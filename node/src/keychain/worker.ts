/**
 * The keychain worker: `@napi-rs/keyring` calls are synchronous and a Secret Service
 * that hangs would block whoever makes them, so they run here, on a thread the
 * reader can abandon. Reads only: the SDK never writes the keychain (an item written
 * by napi-rs lacks the attribute Python keyring matches on, and a later
 * `buildwithtrace byok set` would add a second item next to it).
 */
import { parentPort } from "node:worker_threads";

import { Entry } from "@napi-rs/keyring";

import type { KeychainReply, KeychainRequest } from "./protocol.js";

const port = parentPort;
if (port === null) throw new Error("keychain/worker.js runs as a worker thread only");

port.on("message", (request: KeychainRequest) => {
  let entry: Entry;
  try {
    // Pinned to the Secret Service on Linux: left to itself the library silently falls
    // back to the kernel keyring, which the Python side never reads. Without a bus the
    // constructor itself throws.
    entry = new Entry(request.service, request.account, { linux: { store: "secret-service" } });
  } catch (error) {
    port.postMessage(failure(request.id, error, true));
    return;
  }
  try {
    port.postMessage({ id: request.id, value: entry.getPassword() } satisfies KeychainReply);
  } catch (error) {
    port.postMessage(failure(request.id, error, false));
  }
});

function failure(id: number, error: unknown, atEntry: boolean): KeychainReply {
  return { id, error: error instanceof Error ? error.message : String(error), atEntry };
}
