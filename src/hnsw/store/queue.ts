/**
 * One at a time per (store, name): saves and opens of one name in one store run in call order
 * (stores with the same `identity`, such as FileStores over one directory, are one store),
 * each starting when the previous one has settled. An idle name runs its task at once
 * (synchronously up to the task's first await), so a save takes the index's state at the call.
 */
import type { ByteStore } from '../../stores/byte-store.js';
import { storeTarget } from './changes.js';

const queues = new WeakMap<object, Map<string, Promise<void>>>();
const identityQueues = new Map<string, Map<string, Promise<void>>>();

/** Runs `task` after every earlier task of (store, name) has settled; resolves as it does. Cost: O(1). */
export function serialised<T>(store: ByteStore, name: string, task: () => Promise<T>): Promise<T> {
  const target = storeTarget(store);
  let names = typeof target === 'string' ? identityQueues.get(target) : queues.get(target);
  if (names === undefined) {
    names = new Map();
    if (typeof target === 'string') identityQueues.set(target, names);
    else queues.set(target, names);
  }
  const tail = names.get(name);
  const run = tail === undefined ? task() : tail.then(task);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  names.set(name, settled);
  void settled.then(() => {
    if (names.get(name) !== settled) return;
    names.delete(name);
    if (names.size === 0 && typeof target === 'string') identityQueues.delete(target);
  });
  return run;
}
