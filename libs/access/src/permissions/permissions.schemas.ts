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

const aclEntry = {
  type: 'object',
  required: ['resource', 'principal', 'permissions'],
  additionalProperties: false,
  properties: {
    resource: {
      type: 'object',
      required: ['type', 'id'],
      additionalProperties: false,
      properties: {
        type: { type: 'string', enum: ['quota', 'team', 'user', 'apiKey', 'org'] },
        id: ApiSchemas.id,
      },
    },
    principal: {
      type: 'object',
      required: ['type', 'id'],
      additionalProperties: false,
      properties: { type: { type: 'string', enum: ['user', 'team', 'role', 'apiKey'] }, id: ApiSchemas.id },
    },
    permissions: { type: 'array', items: { type: 'string' } },
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
  aclEntry,
  aclEntries: list(aclEntry),
  check: {
    type: 'object',
    required: ['allowed', 'via'],
    additionalProperties: false,
    properties: {
      allowed: { type: 'boolean' },
      via: {
        type: 'array',
        items: {
          oneOf: [
            {
              type: 'object',
              required: ['roleId', 'scope'],
              additionalProperties: false,
              properties: { roleId: { type: 'string' }, scope },
            },
            {
              type: 'object',
              required: ['acl'],
              additionalProperties: false,
              properties: {
                acl: {
                  type: 'object',
                  required: ['resource', 'principal'],
                  additionalProperties: false,
                  properties: {
                    resource: aclEntry.properties.resource,
                    principal: aclEntry.properties.principal,
                  },
                },
              },
            },
          ],
        },
      },
    },
  },
};
