/**
 * Stop strings on streamed text: text that could be the start of a stop string is held back until
 * it is known not to be one, and the stop string itself is never emitted (OpenAI semantics).
 */
import {heldTailLength} from './partial-match.js';

export class StopMatcher {
  private held = '';

  constructor(private readonly stops: readonly string[]) {}

  /** Whether there is any stop string to look for. */
  get active(): boolean {
    return this.stops.length > 0;
  }

  /** Adds text; returns what may be emitted now and whether a stop string was hit. */
  push(text: string): {emit: string; stopped: boolean} {
    if (!this.stops.length) return {emit: text, stopped: false};
    this.held += text;
    let at = -1;
    for (const s of this.stops) {
      const i = s ? this.held.indexOf(s) : -1;
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    if (at >= 0) {
      const emit = this.held.slice(0, at);
      this.held = '';
      return {emit, stopped: true};
    }
    const keep = heldTailLength(this.held, this.stops);
    const emit = this.held.slice(0, this.held.length - keep);
    this.held = this.held.slice(this.held.length - keep);
    return {emit, stopped: false};
  }

  flush(): string {
    const t = this.held;
    this.held = '';
    return t;
  }
}
