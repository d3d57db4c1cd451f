import { ApiSchemas, apiRef, registerApiSchemas } from '@purser/platform';

/** The directory's response schemas in the OpenAPI document (the views of queries.ts, the command result). */
const nullableString = { type: 'string', nullable: true };
const nullableId = { ...ApiSchemas.id, nullable: true };

registerApiSchemas({
  CommandResult: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'position', 'revision', 'events'],
    properties: {
      id: ApiSchemas.id,
      position: {
        ...ApiSchemas.position,
        description: 'Global position of the last event (for ?minPosition=)',
      },
      revision: { ...ApiSchemas.revision, description: "The entity's revision after the command (If-Match)" },
      events: { type: 'array', items: { type: 'string' }, description: 'Names of the events appended' },
    },
  },
  Org: {
    type: 'object',
    additionalProperties: false,
    required: [
      'id',
      'name',
      'address',
      'contactInfo',
      'baseCurrency',
      'timeZone',
      'createdAt',
      'updatedAt',
      'revision',
    ],
    properties: {
      id: ApiSchemas.id,
      name: { type: 'string' },
      address: nullableString,
      contactInfo: {
        type: 'object',
        additionalProperties: false,
        properties: { email: { type: 'string' }, phone: { type: 'string' }, name: { type: 'string' } },
      },
      baseCurrency: ApiSchemas.currency,
      timeZone: { type: 'string' },
      createdAt: ApiSchemas.instant,
      updatedAt: ApiSchemas.instant,
      revision: ApiSchemas.revision,
    },
  },
  OrgPage: {
    type: 'object',
    additionalProperties: false,
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: apiRef('Org') }, nextCursor: nullableString },
  },
  Team: {
    type: 'object',
    required: ['id', 'orgId', 'name', 'parentTeamId', 'createdAt', 'updatedAt', 'revision'],
    properties: {
      id: ApiSchemas.id,
      orgId: ApiSchemas.id,
      name: { type: 'string' },
      parentTeamId: nullableId,
      createdAt: ApiSchemas.instant,
      updatedAt: ApiSchemas.instant,
      revision: ApiSchemas.revision,
      children: {
        type: 'array',
        items: apiRef('Team'),
        description: 'Only in the tree view (?view=tree): the sub-teams, by name',
      },
    },
  },
  TeamList: {
    type: 'object',
    additionalProperties: false,
    required: ['items'],
    properties: { items: { type: 'array', items: apiRef('Team') } },
  },
  User: {
    type: 'object',
    additionalProperties: false,
    required: [
      'id',
      'orgId',
      'username',
      'email',
      'displayName',
      'status',
      'primaryTeamId',
      'teamIds',
      'roleId',
      'mfaEnabled',
      'lastLogin',
      'createdAt',
      'updatedAt',
      'revision',
    ],
    properties: {
      id: ApiSchemas.id,
      orgId: ApiSchemas.id,
      username: { type: 'string' },
      email: { type: 'string' },
      displayName: nullableString,
      status: { type: 'string', enum: ['active', 'inactive'] },
      primaryTeamId: nullableId,
      teamIds: { type: 'array', items: ApiSchemas.id },
      roleId: nullableId,
      mfaEnabled: { type: 'boolean' },
      lastLogin: { ...ApiSchemas.instant, nullable: true },
      createdAt: ApiSchemas.instant,
      updatedAt: ApiSchemas.instant,
      revision: ApiSchemas.revision,
    },
  },
  UserPage: {
    type: 'object',
    additionalProperties: false,
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: apiRef('User') }, nextCursor: nullableString },
  },
});

export const DirectorySchemas = {
  commandResult: apiRef('CommandResult'),
  org: apiRef('Org'),
  orgPage: apiRef('OrgPage'),
  team: apiRef('Team'),
  teamList: apiRef('TeamList'),
  user: apiRef('User'),
  userPage: apiRef('UserPage'),
};
