/**
 * One at a time per (store, name): saves and opens of one name in one store run in call order,
 * each starting when the previous one has settled. An idle name runs its task at once
 * (synchronously up to the task's first await), so a save takes the index's state at the call.
 */
const queues = new WeakMap<object, Map<string, Promise<void>>>();

/** Runs `task` after every earlier task of (store, name) has settled; resolves as it does. Cost: O(1). */
export function serialised<T>(store: object, name: string, task: () => Promise<T>): Promise<T> {
  let names = queues.get(store);
  if (names === undefined) queues.set(store, (names = new Map()));
  const tail = names.get(name);
  const run = tail === undefined ? task() : tail.then(task);
  const settled = run.then(() => undefined, () => undefined);
  names.set(name, settled);
  void settled.then(() => {
    if (names.get(name) === settled) names.delete(name);
  });
  return run;
}
