import { Injectable } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import * as argon2 from 'argon2';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as common } from '@zxcvbn-ts/language-common';
import { dictionary as english, translations } from '@zxcvbn-ts/language-en';
import { RuleViolationError, ValidationError } from '@purser/core';

/**
 * argon2id with OWASP's minimum (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1). The native binding hashes on
 * libuv's thread pool, never on the event loop. Stated in the README; `npm run bench` measures sign-ins with them.
 */
export const ARGON2_PARAMS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;
/** zxcvbn's score (0-4) a new password must reach: 3 is "safely unguessable: moderate protection from offline attacks". */
export const PASSWORD_MIN_SCORE = 3;

const estimator = new ZxcvbnFactory({
  dictionary: { ...common, ...english },
  graphs: adjacencyGraphs,
  translations,
});

/**
 * At most this many argon2 computations at once: one core stays free for the event loop (libuv's pool has four
 * threads; four 19 MiB hashes on a two-core machine starve every other request). The rest queue.
 */
export const ARGON2_CONCURRENCY = Math.max(1, availableParallelism() - 1);

/** A counting semaphore: `run` waits for a free slot. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** Hashing, verifying and judging passwords. */
@Injectable()
export class Passwords {
  private readonly slots = new Slots(ARGON2_CONCURRENCY);

  /** A hash of a password nobody has: verified against when the user is unknown, so both answers take as long. */
  private readonly decoy: Promise<string> = argon2.hash('decoy password that matches nothing', ARGON2_PARAMS);

  hash(password: string): Promise<string> {
    return this.slots.run(() => argon2.hash(password, ARGON2_PARAMS));
  }

  /** Verifies against a stored hash, or against the decoy (and answers false) when there is none. */
  async verify(hash: string | null, password: string): Promise<boolean> {
    try {
      const stored = hash ?? (await this.decoy);
      const ok = await this.slots.run(() => argon2.verify(stored, password));
      return hash !== null && ok;
    } catch {
      return false;
    }
  }

  /** Whether a stored hash was made with weaker parameters than today's (rehash at the next sign-in). */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, ARGON2_PARAMS);
  }

  /**
   * Refuses a weak new password (422 naming the field), judged by zxcvbn-ts against its dictionaries and the user's
   * own words (username, email, names): never the password itself in the message.
   */
  assertStrong(password: unknown, field: string, userInputs: string[]): string {
    if (typeof password !== 'string') {
      throw new ValidationError(`${field} must be a string`, [{ field, problem: 'not a string' }]);
    }
    if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
      throw new RuleViolationError(
        `${field} must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`,
        [{ field, problem: 'length' }],
      );
    }
    const inputs = userInputs.flatMap((s) => [s, ...s.split(/[@.\s_-]+/)]).filter((s) => s.length >= 3);
    const result = estimator.check(password, inputs);
    if (result.score < PASSWORD_MIN_SCORE) {
      const hint = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(' ');
      throw new RuleViolationError(`${field} is too easy to guess${hint ? `: ${hint}` : ''}`, [
        { field, problem: 'weak', score: result.score, minScore: PASSWORD_MIN_SCORE },
      ]);
    }
    return password;
  }
}
