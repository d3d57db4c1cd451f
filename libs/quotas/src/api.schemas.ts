import { ApiSchemas, ERROR_BODY_SCHEMA, apiRef, registerApiSchemas } from '@purser/platform';
import { ITEM_TYPES } from './dto';

/** Quotas' response schemas in the OpenAPI document (the views of views.ts, check.ts and the controller). */
const nullableString = { type: 'string', nullable: true };
const entityType = { type: 'string', enum: ['Org', 'Team', 'User'] };
const quotaView = {
  quotaId: ApiSchemas.id,
  entityType,
  entityId: ApiSchemas.id,
  itemType: { type: 'string', enum: [...ITEM_TYPES, null], nullable: true },
  itemId: nullableString,
  metric: { type: 'string', enum: ['cost', 'tokens', 'requests'] },
  currency: { ...ApiSchemas.currency, nullable: true },
  limit: ApiSchemas.money,
  period: { type: 'string', enum: ['day', 'week', 'month', 'none'] },
  enforcement: { type: 'string', enum: ['hard', 'soft'] },
  thresholds: { type: 'array', items: { type: 'integer' } },
  currentPeriod: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'start', 'end'],
    properties: {
      key: { type: 'string' },
      start: { ...ApiSchemas.instant, nullable: true },
      end: { ...ApiSchemas.instant, nullable: true },
    },
  },
  used: ApiSchemas.money,
  reserved: ApiSchemas.money,
  remaining: ApiSchemas.money,
  revision: ApiSchemas.revision,
};
const quotaRequired = ['quotaId', 'entityType', 'entityId', 'metric', 'limit', 'period', 'used', 'remaining'];
const checkResult = {
  allowed: { type: 'boolean' },
  reservationId: { ...ApiSchemas.id, nullable: true, description: 'Send it with the usage to settle it' },
  expiresAt: { ...ApiSchemas.instant, nullable: true },
  refusedBy: {
    type: 'object',
    nullable: true,
    additionalProperties: false,
    required: ['quotaId', 'entityType', 'entityId', 'message'],
    properties: { quotaId: ApiSchemas.id, entityType, entityId: ApiSchemas.id, message: { type: 'string' } },
  },
  quotas: { type: 'array', items: apiRef('Quota') },
  position: { ...ApiSchemas.position, nullable: true, description: 'Of the reservation (for ?minPosition=)' },
};
const page = (items: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  required: ['items', 'nextCursor'],
  properties: { items: { type: 'array', items }, nextCursor: nullableString },
});
const fact = {
  type: 'object',
  required: ['eventId', 'quotaId', 'orgId', 'at', 'position'],
  properties: {
    eventId: { type: 'string' },
    quotaId: ApiSchemas.id,
    orgId: ApiSchemas.id,
    at: ApiSchemas.instant,
    position: ApiSchemas.position,
  },
};

registerApiSchemas({
  QuotaCommandResult: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'position', 'events'],
    properties: {
      id: ApiSchemas.id,
      position: ApiSchemas.position,
      revision: {
        ...ApiSchemas.revision,
        description: "The quota's revision (If-Match); not after a removal",
      },
      events: { type: 'array', items: { type: 'string' } },
    },
  },
  Quota: { type: 'object', additionalProperties: false, required: quotaRequired, properties: quotaView },
  QuotaList: {
    type: 'object',
    additionalProperties: false,
    required: ['items'],
    properties: { items: { type: 'array', items: apiRef('Quota') } },
  },
  UserQuotas: {
    type: 'object',
    additionalProperties: false,
    required: ['userId', 'items'],
    properties: {
      userId: ApiSchemas.id,
      items: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: [...quotaRequired, 'via'],
          properties: { ...quotaView, via: { type: 'string', description: 'Why it applies' } },
        },
      },
    },
  },
  QuotaCheckResult: {
    type: 'object',
    additionalProperties: false,
    required: ['allowed', 'reservationId', 'expiresAt', 'refusedBy', 'quotas'],
    properties: checkResult,
  },
  QuotaCheckRefused: {
    description: 'The one error shape, with the check result (allowed: false, refusedBy)',
    type: 'object',
    additionalProperties: false,
    required: ['statusCode', 'error', 'message', 'details', 'allowed', 'refusedBy', 'quotas'],
    properties: {
      ...(ERROR_BODY_SCHEMA.properties as object),
      ...checkResult,
    },
  },
  Release: {
    type: 'object',
    additionalProperties: false,
    required: ['reservationId', 'released', 'position'],
    properties: {
      reservationId: ApiSchemas.id,
      released: { type: 'integer', minimum: 0, description: 'How many quotas it held' },
      position: { ...ApiSchemas.position, nullable: true },
    },
  },
  Reservation: {
    type: 'object',
    additionalProperties: false,
    required: ['reservationId', 'quotas'],
    properties: {
      reservationId: ApiSchemas.id,
      quotas: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['quotaId', 'period', 'amount', 'state', 'expiresAt', 'closedAt'],
          properties: {
            quotaId: ApiSchemas.id,
            period: { type: 'string' },
            amount: ApiSchemas.money,
            state: { type: 'string', enum: ['live', 'settled', 'released', 'expired'] },
            expiresAt: ApiSchemas.instant,
            closedAt: { ...ApiSchemas.instant, nullable: true },
          },
        },
      },
    },
  },
  QuotaAlertPage: page({
    ...fact,
    required: [...fact.required, 'type'],
    properties: {
      ...fact.properties,
      type: { type: 'string', enum: ['QuotaWarningReached', 'QuotaBreached'] },
    },
  }),
  QuotaRefusalPage: page(fact),
});

export const QuotasSchemas = {
  commandResult: apiRef('QuotaCommandResult'),
  quota: apiRef('Quota'),
  list: apiRef('QuotaList'),
  userQuotas: apiRef('UserQuotas'),
  check: apiRef('QuotaCheckResult'),
  refused: apiRef('QuotaCheckRefused'),
  release: apiRef('Release'),
  reservation: apiRef('Reservation'),
  alerts: apiRef('QuotaAlertPage'),
  refusals: apiRef('QuotaRefusalPage'),
};
