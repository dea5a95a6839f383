/** Runs tasks one after another, in the order they were queued; a failed task does not stop the next. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every task queued so far has run. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
