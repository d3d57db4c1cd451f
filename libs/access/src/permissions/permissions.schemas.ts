import { ApiSchemas } from '@purser/platform';

const permission = {
  type: 'object',
  required: ['name', 'description', 'custom'],
  additionalProperties: false,
  properties: { name: { type: 'string' }, description: { type: 'string' }, custom: { type: 'boolean' } },
};

const role = {
  type: 'object',
  required: ['roleId', 'name', 'description', 'permissions', 'builtIn'],
  additionalProperties: false,
  properties: {
    roleId: ApiSchemas.id,
    name: { type: 'string' },
    description: { type: 'string' },
    permissions: { type: 'array', items: { type: 'string' } },
    builtIn: { type: 'boolean' },
  },
};

const scope = {
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: { type: { type: 'string', enum: ['org', 'team'] }, teamId: ApiSchemas.id },
};

const assignment = {
  type: 'object',
  required: ['principal', 'roleId', 'scope'],
  additionalProperties: false,
  properties: {
    principal: {
      type: 'object',
      required: ['type', 'id'],
      additionalProperties: false,
      properties: { type: { type: 'string', enum: ['user', 'team', 'apiKey'] }, id: ApiSchemas.id },
    },
    roleId: ApiSchemas.id,
    scope,
  },
};

const list = (items: object) => ({
  type: 'object',
  required: ['items'],
  additionalProperties: false,
  properties: { items: { type: 'array', items } },
});

/** The JSON schemas of the roles and permissions routes' answers. */
export const PermissionSchemas = {
  permission,
  permissions: list(permission),
  role,
  roles: list(role),
  assignment,
  assignments: list(assignment),
  check: {
    type: 'object',
    required: ['allowed', 'via'],
    additionalProperties: false,
    properties: {
      allowed: { type: 'boolean' },
      via: {
        type: 'array',
        items: {
          type: 'object',
          required: ['roleId', 'scope'],
          additionalProperties: false,
          properties: { roleId: { type: 'string' }, scope },
        },
      },
    },
  },
};
