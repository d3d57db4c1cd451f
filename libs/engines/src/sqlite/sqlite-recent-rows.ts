import { EventFilter } from '@purser/core';
import { Row, hasFilter } from './sqlite-event-rows';

/**
 * The last rows this store appended (at most RECENT_ROWS, consecutive positions), as the events table holds them.
 * In one process, the readers of the store's tail (every in-process projection's subscription, and the command
 * executor's catch-up before each quota check batch) all read the same few rows right after each append: with this,
 * one SQL read of the head replaces one range scan per reader. Another process's append shows as a head beyond the
 * last row kept; then readers go back to SQL until this store appends right after the head again.
 *
 * Rows are only kept while someone reads near the tail (within TAIL_READ_TTL_MS): an API process whose projections
 * run in a worker keeps none, instead of promoting every appended row into its old generation for nothing.
 */
const RECENT_ROWS = 2_048;
const TAIL_READ_TTL_MS = 1_000;

export class RecentRows {
  private rows: Row[] = [];
  private tailReadAt = -Infinity;

  /** Whether anyone read near the tail lately, so that rows appended now are worth keeping. */
  wanted(): boolean {
    return Date.now() - this.tailReadAt <= TAIL_READ_TTL_MS;
  }

  /** Rows just committed, in position order (consecutive within one transaction); null when none were collected. */
  add(rows: Row[] | null): void {
    if (rows === null) {
      this.rows = [];
      return;
    }
    if (rows.length === 0) return;
    const last = this.rows.length ? this.rows[this.rows.length - 1][0] : null;
    if (last === null || rows[0][0] !== last + 1) this.rows = rows.slice(-RECENT_ROWS);
    else {
      for (const r of rows) this.rows.push(r);
      if (this.rows.length > 2 * RECENT_ROWS) this.rows = this.rows.slice(-RECENT_ROWS);
    }
  }

  /** Whether a read after `after` starts within the rows kept (and notes a read near the tail). */
  covers(after: number): boolean {
    if (this.rows.length === 0) {
      this.tailReadAt = Date.now();
      return false;
    }
    const covered = after >= this.rows[0][0] - 1;
    if (covered) this.tailReadAt = Date.now();
    return covered;
  }

  /**
   * The batch readAll answers after `after` when every row up to `head` is kept (else null): up to `max` rows that
   * pass the filter, and the checkpoint SQL would give (the last row returned when the batch is full, else the head).
   */
  read(
    after: number,
    head: number,
    max: number,
    filter?: EventFilter,
  ): { rows: Row[]; checkpoint: number } | null {
    const first = this.rows[0][0];
    const last = this.rows[this.rows.length - 1][0];
    if (head !== last || after < first - 1) return null;
    const filtered = hasFilter(filter);
    const types = filter?.eventTypes?.length ? filter.eventTypes : null;
    const prefixes = filter?.streamPrefixes?.length ? filter.streamPrefixes : null;
    const out: Row[] = [];
    for (let i = Math.max(0, after - first + 1); i < this.rows.length && out.length < max; i++) {
      const r = this.rows[i];
      if (types && !types.includes(r[3])) continue;
      if (prefixes && !prefixes.some((p) => r[1].startsWith(p))) continue;
      out.push(r);
    }
    const full = out.length === max;
    const checkpoint = full
      ? out[out.length - 1][0]
      : filtered
        ? Math.max(head, after)
        : out.length
          ? last
          : after;
    return { rows: out, checkpoint };
  }
}
