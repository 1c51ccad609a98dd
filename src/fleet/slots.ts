// The concurrency limit of a fleet run. It bounds the active steps (API calls, execs) only: a REC that
// starts a wait (propagation, settle) gives its slot back and takes one again, ahead of RECs that have
// not started, when the wait ends. So the waits of all RECs overlap and the run takes about one settle.
import type { Idle } from '../procedures/waits.js';

export class Slots {
  private free: number;
  private readonly fresh: (() => void)[] = [];
  private readonly returning: (() => void)[] = [];
  private waitingCount = 0;

  constructor(readonly size: number) {
    this.free = size;
  }

  get active(): number {
    return this.size - this.free;
  }

  get waiting(): number {
    return this.waitingCount;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire(this.fresh);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** For waits inside `run`. */
  readonly idle: Idle = async (wait) => {
    this.release();
    this.waitingCount += 1;
    try {
      return await wait();
    } finally {
      this.waitingCount -= 1;
      await this.acquire(this.returning);
    }
  };

  private acquire(queue: (() => void)[]): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => queue.push(resolve));
  }

  private release(): void {
    // The slot passes straight to the next in line, so `free` never lets a newcomer jump the queue.
    const next = this.returning.shift() ?? this.fresh.shift();
    if (next) next();
    else this.free += 1;
  }
}
