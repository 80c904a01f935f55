import { EventEmitter } from 'node:events';
import type { RefusedTopic, UpstreamState, UpstreamSupervisorEvents } from '../../src/kucoin/stream/supervisor.js';

/**
 * Stands in for UpstreamSupervisor: the same events and methods, driven by the test. By default
 * the first acquire brings it up (connecting, up, resubscribed) on the next turn of the loop.
 */
export class FakeUpstream extends EventEmitter<UpstreamSupervisorEvents> {
  state: UpstreamState = 'idle';
  acquires = 0;
  releases = 0;
  /** Every setTopics call, in order. */
  readonly topicSets: string[][] = [];
  /** Come up by itself after the first acquire. */
  autoUp = true;
  refusedTopics: RefusedTopic[] = [];

  get topics(): string[] | undefined {
    return this.topicSets.at(-1);
  }

  acquire(): void {
    this.acquires += 1;
    if (this.state !== 'idle') return;
    this.setState('connecting');
    if (this.autoUp) setTimeout(() => this.comeUp(), 1);
  }

  release(): void {
    this.releases += 1;
  }

  /** Every lingerAfterRelease call (the kill switch flipped), in order. */
  readonly lingerCalls: boolean[] = [];

  lingerAfterRelease(linger: boolean): void {
    this.lingerCalls.push(linger);
  }

  setTopics(topics: string[]): void {
    this.topicSets.push([...topics]);
  }

  async close(): Promise<void> {
    this.setState('closed');
  }

  setState(state: UpstreamState, reason?: string): void {
    if (state === this.state) return;
    this.state = state;
    if (reason === undefined) this.emit('state', state);
    else this.emit('state', state, reason);
  }

  /** Connected with every topic acked. */
  comeUp(): void {
    this.setState('up');
    this.emit('resubscribed');
  }

  /** A lost connection, as the supervisor reports it. */
  drop(reason = 'dropped'): void {
    this.setState('reconnecting', reason);
  }

  /** KuCoin refused (or, with [], no longer refuses) these topics, as the supervisor reports it. */
  refuse(topics: RefusedTopic[]): void {
    this.refusedTopics = topics;
    this.emit('refused', topics);
  }

  push(topic: string, subject: string, data: unknown): void {
    this.emit('push', { topic, subject, data, receivedAt: Date.now() });
  }
}
