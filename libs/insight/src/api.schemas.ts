import { ApiSchemas, apiRef, registerApiSchemas } from '@purser/platform';
import { HORIZONS } from './forecast.queries';
import { ENTITY_TYPES } from './series.projection';

const band = {
  type: 'object',
  additionalProperties: false,
  required: ['low', 'high'],
  properties: { low: ApiSchemas.money, high: ApiSchemas.money },
};

registerApiSchemas({
  Forecast: {
    type: 'object',
    additionalProperties: false,
    required: [
      'orgId',
      'entityType',
      'entityId',
      'horizon',
      'currency',
      'timeZone',
      'period',
      'actualToDate',
      'method',
      'backtestMae',
      'expected',
      'interval80',
      'interval95',
      'history',
    ],
    properties: {
      orgId: ApiSchemas.id,
      entityType: { type: 'string', enum: ENTITY_TYPES },
      entityId: { type: 'string' },
      horizon: { type: 'string', enum: HORIZONS },
      currency: { ...ApiSchemas.currency, description: 'The currency most of the entity’s calls were in' },
      timeZone: { type: 'string', description: "The org's zone, as its usage carried it" },
      period: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'start', 'end', 'remainingDays'],
        properties: {
          key: { type: 'string', example: '2026-11' },
          start: ApiSchemas.instant,
          end: ApiSchemas.instant,
          remainingDays: {
            type: 'integer',
            minimum: 1,
            description: 'Today and the days after it in the period',
          },
        },
      },
      actualToDate: { ...ApiSchemas.money, description: "Exact spend of the period's days before today" },
      method: { type: 'string', enum: ['run-rate', 'seasonal-naive', 'holt-winters'] },
      backtestMae: {
        ...ApiSchemas.money,
        description: "Mean absolute error of the method's backtest over the days left",
      },
      expected: {
        ...ApiSchemas.money,
        description: 'The period total: actualToDate + the forecast of the days left',
      },
      interval80: { ...band, description: '80 % prediction interval of the period total' },
      interval95: { ...band, description: '95 % prediction interval of the period total' },
      history: {
        type: 'object',
        additionalProperties: false,
        required: ['days', 'from', 'to'],
        properties: {
          days: { type: 'integer', minimum: 0 },
          from: { type: 'string', format: 'date', nullable: true },
          to: { type: 'string', format: 'date', nullable: true },
        },
      },
    },
  },
});

export const InsightSchemas = { forecast: apiRef('Forecast') };
