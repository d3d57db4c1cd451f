import { ApiSchemas } from '@purser/platform';

const instant = { type: 'string', format: 'date-time' };
const nullableInstant = { ...instant, nullable: true };

const owner = {
  type: 'object',
  required: ['type', 'id'],
  additionalProperties: false,
  properties: { type: { type: 'string', enum: ['user', 'team'] }, id: ApiSchemas.id },
};

const scopes = { type: 'array', items: { type: 'string' } };

const key = {
  type: 'string',
  description: 'prk_<keyId>_<secret>: send it as Authorization: Bearer <key>. Shown once, never again',
};

const apiKey = {
  type: 'object',
  required: [
    'keyId',
    'name',
    'owner',
    'scopes',
    'expiresAt',
    'createdAt',
    'lastUsedAt',
    'revoked',
    'revokedAt',
    'rotatedAt',
  ],
  additionalProperties: false,
  properties: {
    keyId: ApiSchemas.id,
    name: { type: 'string' },
    owner,
    scopes,
    expiresAt: nullableInstant,
    createdAt: instant,
    lastUsedAt: {
      ...nullableInstant,
      description: 'The last UTC day it was used on (its first use that day)',
    },
    revoked: { type: 'boolean' },
    revokedAt: nullableInstant,
    rotatedAt: { ...nullableInstant, description: 'The last rotation' },
  },
};

/** OpenAPI schemas of the API key routes. */
export const ApiKeySchemas = {
  created: {
    type: 'object',
    required: ['keyId', 'key', 'name', 'owner', 'scopes', 'expiresAt', 'createdAt'],
    additionalProperties: false,
    properties: {
      keyId: ApiSchemas.id,
      key,
      name: { type: 'string' },
      owner,
      scopes,
      expiresAt: nullableInstant,
      createdAt: instant,
    },
  },
  rotated: {
    type: 'object',
    required: ['keyId', 'key'],
    additionalProperties: false,
    properties: { keyId: ApiSchemas.id, key },
  },
  apiKey,
  page: {
    type: 'object',
    required: ['items', 'nextCursor'],
    additionalProperties: false,
    properties: {
      items: { type: 'array', items: apiKey },
      nextCursor: { type: 'string', nullable: true, description: 'Pass as ?cursor= for the next page' },
    },
  },
};
