import { AuditEntry } from './entry';

const COLUMNS = [
  'seq',
  'occurredAt',
  'type',
  'actorType',
  'actorId',
  'entityType',
  'entityId',
  'streamId',
  'position',
  'eventId',
  'correlationId',
  'data',
  'prevHash',
  'hash',
] as const;
export const CSV_HEADER = COLUMNS.join(',') + '\n';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Quote when needed; neutralize spreadsheet formulas.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One entry as a CSV line (data as JSON in one cell). */
export function csvLine(e: AuditEntry): string {
  const row: Record<(typeof COLUMNS)[number], unknown> = {
    seq: e.seq,
    occurredAt: e.occurredAt,
    type: e.type,
    actorType: e.actor.type,
    actorId: e.actor.id,
    entityType: e.entityType,
    entityId: e.entityId,
    streamId: e.streamId,
    position: e.position,
    eventId: e.eventId,
    correlationId: e.correlationId,
    data: e.data,
    prevHash: e.prevHash,
    hash: e.hash,
  };
  return COLUMNS.map((c) => cell(row[c])).join(',') + '\n';
}
