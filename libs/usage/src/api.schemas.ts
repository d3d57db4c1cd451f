import { ApiSchemas, CURRENCY_CODES, INSTANT_PATTERN, apiRef, registerApiSchemas } from '@purser/platform';
import { ITEM_TYPES } from './events';
import { MAX_BATCH } from './ingest';
import { MAX_ATTRIBUTES } from './usage-input';

/** Usage's schemas in the OpenAPI document: the event as usage-input.ts checks it, and the views of queries.ts. */
const nullableString = { type: 'string', nullable: true };
const money = {
  type: 'object',
  additionalProperties: false,
  required: ['amount', 'currency'],
  properties: { amount: ApiSchemas.money, currency: ApiSchemas.currency },
};
const figure = {
  amounts: { type: 'array', items: money, description: 'Exact sums per currency' },
  base: {
    type: 'object',
    additionalProperties: false,
    required: ['amount', 'currency', 'complete', 'unconverted'],
    properties: {
      amount: ApiSchemas.money,
      currency: ApiSchemas.currency,
      complete: { type: 'boolean', description: 'false when some amounts had no exchange rate' },
      unconverted: { type: 'array', items: money },
    },
  },
  count: { type: 'integer', minimum: 0 },
};
const events = {
  type: 'array',
  minItems: 1,
  maxItems: MAX_BATCH,
  items: apiRef('UsageEvent'),
};

registerApiSchemas({
  UsageEvent: {
    type: 'object',
    additionalProperties: false,
    required: ['eventId', 'orgId', 'userId', 'itemType', 'itemId', 'amount', 'currency', 'occurredAt'],
    properties: {
      eventId: {
        type: 'string',
        pattern: '^[A-Za-z0-9_.:-]{1,128}$',
        description: 'Chosen by the client; the same eventId again is recorded once',
      },
      orgId: ApiSchemas.id,
      userId: ApiSchemas.id,
      teamId: { ...ApiSchemas.id, nullable: true, description: "Default: the user's primary team" },
      itemType: { type: 'string', enum: ITEM_TYPES },
      itemId: { type: 'string', pattern: '^[A-Za-z0-9_.:/@-]{1,128}$' },
      amount: { ...ApiSchemas.decimal, description: 'At most 18 integer and 9 fraction digits' },
      currency: { ...ApiSchemas.currency, enum: CURRENCY_CODES, description: 'ISO 4217' },
      inputTokens: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, nullable: true },
      outputTokens: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, nullable: true },
      model: { type: 'string', minLength: 1, maxLength: 128, nullable: true },
      occurredAt: {
        type: 'string',
        pattern: INSTANT_PATTERN.source,
        description: 'With a zone; not before 2000-01-01, at most 5 minutes in the future',
      },
      reservationId: { ...ApiSchemas.id, nullable: true, description: 'The quota check this usage settles' },
      attributes: {
        type: 'object',
        maxProperties: MAX_ATTRIBUTES,
        propertyNames: { pattern: '^[A-Za-z0-9_.-]{1,64}$' },
        additionalProperties: { type: 'string', maxLength: 256 },
      },
    },
  },
  UsageRequest: {
    description: `One event, a JSON array of 1-${MAX_BATCH} events, or {"events": [...]}`,
    oneOf: [
      apiRef('UsageEvent'),
      events,
      { type: 'object', additionalProperties: false, required: ['events'], properties: { events } },
    ],
  },
  UsageOutcome: {
    oneOf: [
      {
        type: 'object',
        additionalProperties: false,
        required: ['eventId', 'status', 'position'],
        properties: {
          eventId: nullableString,
          status: { type: 'string', enum: ['recorded', 'duplicate'] },
          position: ApiSchemas.position,
        },
      },
      {
        type: 'object',
        additionalProperties: false,
        required: ['eventId', 'status', 'code', 'reason'],
        properties: {
          eventId: nullableString,
          status: { type: 'string', enum: ['rejected'] },
          code: {
            type: 'string',
            enum: ['invalid', 'refused'],
            description: 'invalid: malformed (a single event: 400); refused: unknown org, user or team (422)',
          },
          reason: { type: 'string' },
        },
      },
    ],
  },
  IngestResult: {
    type: 'object',
    additionalProperties: false,
    required: ['results', 'recorded', 'duplicates', 'rejected', 'position'],
    properties: {
      results: { type: 'array', items: apiRef('UsageOutcome') },
      recorded: { type: 'integer', minimum: 0 },
      duplicates: { type: 'integer', minimum: 0 },
      rejected: { type: 'integer', minimum: 0 },
      position: { ...ApiSchemas.position, nullable: true },
    },
  },
  ExchangeRateSet: {
    type: 'object',
    additionalProperties: false,
    required: ['orgId', 'currency', 'baseCurrency', 'rate', 'effectiveFrom', 'position', 'events'],
    properties: {
      orgId: ApiSchemas.id,
      currency: ApiSchemas.currency,
      baseCurrency: ApiSchemas.currency,
      rate: { type: 'string' },
      effectiveFrom: ApiSchemas.instant,
      position: ApiSchemas.position,
      events: { type: 'array', items: { type: 'string' } },
    },
  },
  ExchangeRates: {
    type: 'object',
    additionalProperties: false,
    required: ['items'],
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['currency', 'baseCurrency', 'rate', 'effectiveFrom', 'setAt'],
          properties: {
            currency: ApiSchemas.currency,
            baseCurrency: ApiSchemas.currency,
            rate: { type: 'string' },
            effectiveFrom: ApiSchemas.instant,
            setAt: ApiSchemas.instant,
          },
        },
      },
    },
  },
  Expenditure: {
    type: 'object',
    additionalProperties: false,
    required: ['orgId', 'from', 'to', 'timeZone', 'groupBy', 'source', 'rows', 'total'],
    properties: {
      orgId: ApiSchemas.id,
      from: ApiSchemas.instant,
      to: ApiSchemas.instant,
      timeZone: { type: 'string' },
      groupBy: { type: 'array', items: { type: 'string' } },
      source: { type: 'string', description: 'buckets (pre-aggregated) or records (scanned)' },
      rows: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['amounts', 'base', 'count'],
          properties: {
            period: { type: 'string', description: 'With a time grain: the period key' },
            periodStart: ApiSchemas.instant,
            user: { type: 'string' },
            team: { type: 'string' },
            itemType: { type: 'string' },
            item: { type: 'string' },
            ...figure,
          },
        },
      },
      total: {
        type: 'object',
        additionalProperties: false,
        required: ['amounts', 'base', 'count'],
        properties: figure,
      },
    },
  },
  TopSpenders: {
    type: 'object',
    additionalProperties: false,
    required: ['orgId', 'by', 'from', 'to', 'rankedBy', 'items'],
    properties: {
      orgId: ApiSchemas.id,
      by: { type: 'string', enum: ['user', 'team', 'itemType', 'item'] },
      from: ApiSchemas.instant,
      to: ApiSchemas.instant,
      rankedBy: { type: 'string' },
      items: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['rank', 'amounts', 'base', 'count'],
          properties: {
            rank: { type: 'integer', minimum: 1 },
            user: { type: 'string' },
            team: { type: 'string' },
            itemType: { type: 'string' },
            item: { type: 'string' },
            ...figure,
          },
        },
      },
    },
  },
  UsageRecordPage: {
    type: 'object',
    additionalProperties: false,
    required: ['items', 'nextCursor'],
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          properties: {
            eventId: { type: 'string' },
            orgId: ApiSchemas.id,
            userId: ApiSchemas.id,
            teamId: { ...ApiSchemas.id, nullable: true },
            teamPath: { type: 'array', items: ApiSchemas.id },
            itemType: { type: 'string', enum: ITEM_TYPES },
            itemId: { type: 'string' },
            amount: ApiSchemas.money,
            currency: ApiSchemas.currency,
            base: {
              type: 'object',
              additionalProperties: false,
              properties: {
                amount: { ...ApiSchemas.money, nullable: true },
                currency: ApiSchemas.currency,
                rate: nullableString,
                rateEffectiveFrom: { ...ApiSchemas.instant, nullable: true },
                rateMissing: { type: 'boolean' },
              },
            },
            inputTokens: { type: 'integer', nullable: true },
            outputTokens: { type: 'integer', nullable: true },
            model: nullableString,
            occurredAt: ApiSchemas.instant,
            recordedAt: ApiSchemas.instant,
            reservationId: nullableString,
            attributes: { type: 'object', additionalProperties: { type: 'string' } },
            position: ApiSchemas.position,
          },
        },
      },
      nextCursor: nullableString,
    },
  },
});

export const UsageSchemas = {
  request: apiRef('UsageRequest'),
  outcome: apiRef('UsageOutcome'),
  ingestResult: apiRef('IngestResult'),
  rateSet: apiRef('ExchangeRateSet'),
  rates: apiRef('ExchangeRates'),
  expenditure: apiRef('Expenditure'),
  top: apiRef('TopSpenders'),
  records: apiRef('UsageRecordPage'),
};
