// An async mutex that runs write operations one after another, in arrival order.
// Invariant: at most one function passed to `run` is executing (between its start and its settlement).

export class WriteMutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
