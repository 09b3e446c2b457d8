/**
 * The keychain helper process: `@napi-rs/keyring` calls are synchronous and a Secret
 * Service that hangs would block whoever makes them, so they run here, in a child
 * process the reader can kill. (A worker thread is not enough: a thread stuck in a
 * native call cannot be stopped, and Node waits for it at exit, so a hung D-Bus
 * handshake would keep the program from ever exiting.) Reads only: the SDK never writes the keychain (an item written
 * by napi-rs lacks the attribute Python keyring matches on, and a later
 * `buildwithtrace byok set` would add a second item next to it).
 */
import { Entry } from "@napi-rs/keyring";

import type { KeychainReply, KeychainRequest } from "./protocol.js";

const send = process.send?.bind(process);
if (send === undefined) throw new Error("keychain/worker.js runs as a child process with IPC only");
const port = { postMessage: (reply: KeychainReply): void => void send(reply) };

process.on("message", (request: KeychainRequest) => {
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
    port.postMessage({ id: request.id, value: entry.getPassword() });
  } catch (error) {
    port.postMessage(failure(request.id, error, false));
  }
});
process.on("disconnect", () => process.exit(0));

function failure(id: number, error: unknown, atEntry: boolean): KeychainReply {
  return { id, error: error instanceof Error ? error.message : String(error), atEntry };
}
