// Tests of the in-memory timer queue on an injected manual clock, with node:test's mock timers standing in
// for the host's setTimeout: due-time order, nothing early, overdue timers at once, duplicates ignored,
// re-arming for an earlier timer, long delays beyond setTimeout's limit, stop, and coalescing of timers that
// fall due close together.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { TimerRecord } from "../storage/api/records.ts";
import { TimerQueue } from "./timer-queue.ts";

const START = 1_700_000_000_000;
const MAX_TIMEOUT = 2 ** 31 - 1;

/** A queue on a manual clock; `advance` moves the clock and the mocked host timers together. */
function setup(t: TestContext, coalescingMs = 0, sleepLeadMs = 0) {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  let now = START;
  const fired: number[] = [];
  const queue = new TimerQueue({ now: () => now }, (timer) => fired.push(timer.id), { coalescingMs, sleepLeadMs });
  return {
    queue,
    fired,
    advance(ms: number, hostMs: number = ms) {
      now += ms;
      t.mock.timers.tick(hostMs);
    },
    moveClock(ms: number) {
      now += ms;
    },
  };
}

let nextId = 1;
const timer = (dueAt: number, id: number = nextId++): TimerRecord => ({
  id,
  partitionKey: 1n,
  dueAt,
  kind: "sleep",
  invocationId: `inv_${id}`,
  completionId: 1,
  epoch: undefined,
});

test("timers fire in due-time order, each when it is due and not before", (t) => {
  const { queue, fired, advance } = setup(t);
  queue.add(timer(START + 300, 3));
  queue.add(timer(START + 100, 1));
  queue.add(timer(START + 200, 2));
  queue.add(timer(START + 250, 4));
  assert.equal(queue.size, 4);
  advance(99);
  assert.deepEqual(fired, []);
  advance(1);
  assert.deepEqual(fired, [1]);
  advance(100);
  assert.deepEqual(fired, [1, 2]);
  advance(50);
  assert.deepEqual(fired, [1, 2, 4]);
  advance(50);
  assert.deepEqual(fired, [1, 2, 4, 3]);
  assert.equal(queue.size, 0);
});

test("with a sleep lead, sleep timers fire that much before they are due and other timers when due, in firing order", (t) => {
  const { queue, fired, advance } = setup(t, 0, 5);
  queue.add({ ...timer(START + 100, 1), kind: "retry", epoch: 1 });
  queue.add(timer(START + 103, 2)); // a sleep: fires at START + 98, before the retry due earlier
  queue.add({ ...timer(START + 200, 3), kind: "start" });
  queue.add(timer(START + 3, 4)); // a sleep due within the lead: fires at once
  advance(0);
  assert.deepEqual(fired, [4]);
  advance(97);
  assert.deepEqual(fired, [4]);
  advance(1);
  assert.deepEqual(fired, [4, 2]);
  advance(1);
  assert.deepEqual(fired, [4, 2]);
  advance(1);
  assert.deepEqual(fired, [4, 2, 1], "the retry fires when due, not early");
  advance(99);
  assert.deepEqual(fired, [4, 2, 1]);
  advance(1);
  assert.deepEqual(fired, [4, 2, 1, 3]);
});

test("timers due at once all fire in one go, earliest first", (t) => {
  const { queue, fired, advance } = setup(t);
  queue.add(timer(START + 30, 30));
  queue.add(timer(START + 10, 10));
  queue.add(timer(START + 20, 20));
  advance(1_000, 1_000);
  assert.deepEqual(fired, [10, 20, 30]);
});

test("overdue timers (loaded after a restart) fire at once", (t) => {
  const { queue, fired, advance } = setup(t);
  queue.add(timer(START - 60_000, 1));
  queue.add(timer(START, 2));
  queue.add(timer(START + 5_000, 3));
  assert.deepEqual(fired, [], "never synchronously inside add");
  advance(0);
  assert.deepEqual(fired.sort(), [1, 2]);
  advance(5_000);
  assert.deepEqual(fired, [1, 2, 3]);
});

test("adding a timer id that is already queued is ignored", (t) => {
  const { queue, fired, advance } = setup(t);
  queue.add(timer(START + 100, 7));
  queue.add(timer(START + 100, 7));
  queue.add(timer(START + 50, 7));
  assert.equal(queue.size, 1);
  advance(50);
  assert.deepEqual(fired, [], "the duplicate did not move the timer earlier");
  advance(50);
  assert.deepEqual(fired, [7]);
  advance(1_000);
  assert.deepEqual(fired, [7]);
});

test("an earlier timer added later re-arms the host timeout", (t) => {
  const { queue, fired, advance } = setup(t);
  queue.add(timer(START + 10_000, 1));
  advance(100);
  queue.add(timer(START + 200, 2));
  advance(99);
  assert.deepEqual(fired, []);
  advance(1);
  assert.deepEqual(fired, [2]);
  advance(9_800);
  assert.deepEqual(fired, [2, 1]);
});

test("a host timeout that fires before the clock reaches the due time re-arms instead of firing", (t) => {
  const { queue, fired, advance, moveClock } = setup(t);
  queue.add(timer(START + 100, 1));
  advance(60, 100); // host timer expires, but the injected clock says only 60 ms passed
  assert.deepEqual(fired, []);
  advance(39);
  assert.deepEqual(fired, []);
  moveClock(1);
  t.mock.timers.tick(1);
  assert.deepEqual(fired, [1]);
});

test("delays beyond setTimeout's limit are waited out in steps", (t) => {
  const { queue, fired, advance } = setup(t);
  const thirtyDays = 30 * 24 * 3_600_000;
  queue.add(timer(START + thirtyDays, 1));
  advance(MAX_TIMEOUT);
  assert.deepEqual(fired, []);
  advance(thirtyDays - MAX_TIMEOUT - 1);
  assert.deepEqual(fired, []);
  advance(1);
  assert.deepEqual(fired, [1]);
});

test("the fire callback may add timers; a due one fires too", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  let now = START;
  const fired: number[] = [];
  const queue: TimerQueue = new TimerQueue({ now: () => now }, (tm) => {
    fired.push(tm.id);
    if (tm.id === 1) queue.add(timer(now, 2));
  });
  queue.add(timer(START + 10, 1));
  now += 10;
  t.mock.timers.tick(10);
  t.mock.timers.tick(0);
  assert.deepEqual(fired, [1, 2]);
});

test("stop cancels the pending timeout and ignores later adds", (t) => {
  const { queue, fired, advance } = setup(t);
  queue.add(timer(START + 100, 1));
  queue.stop();
  advance(1_000);
  queue.add(timer(START, 2));
  advance(1_000);
  assert.deepEqual(fired, []);
});

test("with coalescing, timers due soon after a fire wait for the window and fire together; sparse ones fire on time", (t) => {
  const { queue, fired, advance } = setup(t, 5);
  queue.add(timer(START + 10, 1));
  queue.add(timer(START + 11, 2));
  queue.add(timer(START + 13, 3));
  queue.add(timer(START + 16, 4));
  queue.add(timer(START + 40, 5));
  advance(10);
  assert.deepEqual(fired, [1], "the first fires on time");
  advance(4);
  assert.deepEqual(fired, [1], "nothing fires within the window after a fire");
  advance(1);
  assert.deepEqual(fired, [1, 2, 3], "the timers due meanwhile fire together when the window ends, at most 5 ms late");
  advance(4);
  assert.deepEqual(fired, [1, 2, 3], "a timer due inside the next window waits too");
  advance(1);
  assert.deepEqual(fired, [1, 2, 3, 4]);
  advance(19);
  assert.deepEqual(fired, [1, 2, 3, 4], "never early");
  advance(1);
  assert.deepEqual(fired, [1, 2, 3, 4, 5], "a timer due long after the last fire fires on time");
});
