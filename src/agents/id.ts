/** The agent ids an AgentCache accepts: what every store (FileStore too) can keep and give back. */
import { InvalidArgumentError } from '../errors.js';
import { INDEX_KEY_PREFIX } from '../hnsw/store/keys.js';
import { checkStoreKey } from '../stores/store-key.js';

/** Longest agent id in UTF-8 bytes; FileStore names any id up to this length. */
export const MAX_AGENT_ID_BYTES = 128;

/**
 * Returns `id` if it is a valid agent id: a non-empty string, no lone surrogates, at most
 * MAX_AGENT_ID_BYTES in UTF-8, not starting with '@index/' (saved indexes' keys in a shared
 * store). Otherwise InvalidArgumentError. Cost: O(length), no allocation.
 */
export function checkAgentId(id: unknown): string {
  const bytes = checkStoreKey(id, 'agent id');
  if (bytes > MAX_AGENT_ID_BYTES) {
    throw new InvalidArgumentError(`agent id is ${bytes} bytes in UTF-8; at most ${MAX_AGENT_ID_BYTES} are allowed`);
  }
  if ((id as string).startsWith(INDEX_KEY_PREFIX)) {
    throw new InvalidArgumentError(
      `agent id '${id as string}' starts with '${INDEX_KEY_PREFIX}', which is reserved for saved indexes`,
    );
  }
  return id as string;
}
