/**
 * @module core/clock
 * An injectable clock so that retry, lease and scheduler logic can be tested without waiting.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
