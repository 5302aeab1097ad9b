// Time and randomness, injected everywhere they are needed so that logic stays testable with a manual clock.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface RandomSource {
  bytes(n: number): Buffer;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Random bytes from a pre-filled pool, refilled from `fill` when exhausted: one system call per 4 KiB instead
 * of one per id. Returned buffers are copies, never views of the pool.
 */
export function pooledRandom(fill: (n: number) => Buffer, poolSize = 4096): RandomSource {
  let pool: Buffer = Buffer.alloc(0);
  let offset = 0;
  return {
    bytes(n: number): Buffer {
      if (n > poolSize) return fill(n);
      if (offset + n > pool.length) {
        pool = fill(poolSize);
        offset = 0;
      }
      const out = Buffer.from(pool.subarray(offset, offset + n));
      offset += n;
      return out;
    },
  };
}
