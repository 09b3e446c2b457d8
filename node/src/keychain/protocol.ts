/** Messages between the keychain reader and its worker thread. */

/** Read one entry. */
export interface KeychainRequest {
  readonly id: number;
  readonly service: string;
  readonly account: string;
}

/** The entry's value (null when absent), or the library's error message. */
export type KeychainReply =
  | { readonly id: number; readonly value: string | null }
  | { readonly id: number; readonly error: string; readonly atEntry: boolean };
