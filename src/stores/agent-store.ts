/**
 * Where an agent cache persists agents it evicts: a key-value store of agent id -> bytes.
 * Implementations: MemoryStore (tests), FileStore (Node), IndexedDBStore (browsers); any
 * object with these four methods works.
 */
export interface AgentStore {
  /** The bytes last written for `id`, or undefined. */
  read(id: string): Promise<Uint8Array | undefined>;
  /** Stores `bytes` for `id`, replacing what was there; resolves once it is durable. */
  write(id: string, bytes: Uint8Array): Promise<void>;
  /** Removes `id` if present. */
  delete(id: string): Promise<void>;
  /** Every id stored. */
  keys(): Promise<string[]>;
}
