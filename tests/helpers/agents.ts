/** A scripted agent workload and a fingerprint of agents, for cache tests. */
import type { Agent, AgentCache } from '../../src/index';
import { rng } from './random';

export const QTABLE = { actions: 6, alpha: 0.2, gamma: 0.9, epsilon: 0.3, seed: 11 };

/** One step of work on an agent: an action choice, a transition pushed, a few updates. */
export function work(agent: Agent, next: () => number): void {
  const s = Math.floor(next() * 40);
  const a = agent.q.selectAction(s);
  const r = next() * 2 - 1;
  const s2 = Math.floor(next() * 40);
  const done = next() < 0.1;
  agent.trajectory.push(s, a, r, s2, done);
  agent.q.update(s, a, r, s2, done);
  if (next() < 0.3) agent.q.decayEpsilon();
}

/** Runs `steps` gets with skewed (Zipf-like) access over `agents` ids, working and releasing each. */
export async function runWorkload(cache: AgentCache, agents: number, steps: number, seed: number): Promise<void> {
  const next = rng(seed);
  for (let step = 0; step < steps; step++) {
    const id = `agent-${Math.floor(agents * next() ** 2)}`;
    const agent = await cache.get(id);
    work(agent, next);
    agent.release();
  }
}

/** Everything an agent holds, as bytes: its Q-table and trajectory snapshots. */
export function agentState(agent: Agent): string {
  return `${Buffer.from(agent.q.serialize()).toString('base64')}|${Buffer.from(agent.trajectory.serialize()).toString('base64')}`;
}
