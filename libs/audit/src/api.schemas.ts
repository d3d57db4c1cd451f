import { ApiSchemas, apiRef, registerApiSchemas } from '@purser/platform';

const hash = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const entry = {
  type: 'object',
  additionalProperties: false,
  required: [
    'seq',
    'eventId',
    'org',
    'position',
    'occurredAt',
    'type',
    'streamId',
    'actor',
    'correlationId',
    'entityType',
    'entityId',
    'data',
    'prevHash',
    'hash',
  ],
  properties: {
    seq: { type: 'integer', minimum: 1, description: 'Place in the org chain: 1, 2, 3 ...' },
    eventId: { type: 'string' },
    org: { type: 'string' },
    position: { ...ApiSchemas.position, description: 'Commit position of the event (zero-padded)' },
    occurredAt: ApiSchemas.instant,
    type: { type: 'string', description: 'The event type' },
    streamId: { type: 'string' },
    actor: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'id'],
      properties: { type: { type: 'string', enum: ['user', 'apiKey', 'system'] }, id: { type: 'string' } },
    },
    correlationId: { type: 'string' },
    entityType: {
      type: 'string',
      description: 'From the stream id: org, teams, user, credential, session, ...',
    },
    entityId: { type: 'string' },
    data: {
      type: 'object',
      description: 'The event data; hash, sealedSecret and the digests read "[redacted]"',
    },
    prevHash: { ...hash, description: 'The previous entry hash of the org (64 zeros for seq 1)' },
    hash: { ...hash, description: 'sha256 hex of prevHash + the canonical JSON of the entry (keys sorted)' },
  },
};

registerApiSchemas({
  AuditEntry: entry,
  AuditPage: {
    type: 'object',
    additionalProperties: false,
    required: ['items', 'nextCursor'],
    properties: {
      items: { type: 'array', items: apiRef('AuditEntry') },
      nextCursor: {
        type: 'string',
        nullable: true,
        description: 'The last seq of this page, or null at the end',
      },
    },
  },
  AuditVerification: {
    type: 'object',
    additionalProperties: false,
    required: ['ok', 'entries'],
    properties: {
      ok: { type: 'boolean' },
      entries: { type: 'integer', minimum: 0, description: 'Entries checked' },
      firstBadSeq: { type: 'integer', minimum: 1 },
      problem: { type: 'string', enum: ['altered', 'missing', 'reordered'] },
    },
  },
});

export const AuditSchemas = {
  entry: apiRef('AuditEntry'),
  page: apiRef('AuditPage'),
  verification: apiRef('AuditVerification'),
};
