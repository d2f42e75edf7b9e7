// Undo/redo: a bounded stack of whole-graph snapshots (the file form). Snapshots are cheap next to
// rendering, and a snapshot can never drift from what Save writes.

export class UndoStack<T> {
  private past: T[] = [];
  private future: T[] = [];

  constructor(private current: T, private readonly limit = 200, private readonly same = defaultSame) {}

  get present(): T {
    return this.current;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** Record a new state after an edit; an edit clears what could be redone. Unchanged states are ignored. */
  push(state: T): boolean {
    if (this.same(state, this.current)) return false;
    this.past.push(this.current);
    if (this.past.length > this.limit) this.past.shift();
    this.current = state;
    this.future = [];
    return true;
  }

  /** Replace the present without making an undo step (e.g. after loading a file). */
  reset(state: T): void {
    this.past = [];
    this.future = [];
    this.current = state;
  }

  /** Bring back steps kept elsewhere (a tab's history across a reload). */
  restore(past: T[], future: T[]): void {
    this.past = past.slice(-this.limit);
    this.future = future.slice(-this.limit);
  }

  pastSteps(limit: number): T[] {
    return this.past.slice(-limit);
  }

  futureSteps(limit: number): T[] {
    return this.future.slice(-limit);
  }

  undo(): T | null {
    const previous = this.past.pop();
    if (previous === undefined) return null;
    this.future.push(this.current);
    this.current = previous;
    return previous;
  }

  redo(): T | null {
    const next = this.future.pop();
    if (next === undefined) return null;
    this.past.push(this.current);
    this.current = next;
    return next;
  }
}

function defaultSame<T>(a: T, b: T): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
