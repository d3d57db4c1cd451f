import { ApiSchemas } from '@purser/platform';

const str = { type: 'string' };
const nullableStr = { type: 'string', nullable: true };
const instant = { type: 'string', format: 'date-time' };

const tokenPair = {
  type: 'object',
  required: ['accessToken', 'refreshToken', 'tokenType', 'expiresIn', 'sessionId'],
  additionalProperties: false,
  properties: {
    accessToken: {
      type: 'string',
      description: 'A signed JWT (EdDSA); send it as Authorization: Bearer <token>',
    },
    refreshToken: {
      type: 'string',
      description: 'Opaque; rotates on every use (a spent one revokes its session)',
    },
    tokenType: { type: 'string', enum: ['Bearer'] },
    expiresIn: { type: 'integer', description: 'Seconds until the access token expires' },
    sessionId: ApiSchemas.id,
  },
};

const mfaStep = {
  type: 'object',
  required: ['mfaRequired', 'mfaToken', 'methods', 'expiresIn'],
  additionalProperties: false,
  properties: {
    mfaRequired: { type: 'boolean', enum: [true] },
    enrolmentRequired: {
      type: 'boolean',
      enum: [true],
      description:
        'The org requires MFA and the account has none: enrol at POST /v1/auth/mfa/enrol with the token',
    },
    mfaToken: {
      type: 'string',
      description: 'Exchange it with a code at POST /v1/auth/mfa; it is no credential',
    },
    methods: { type: 'array', items: { type: 'string', enum: ['totp', 'recoveryCode'] } },
    expiresIn: { type: 'integer' },
  },
};

const session = {
  type: 'object',
  required: [
    'sessionId',
    'userId',
    'method',
    'ip',
    'userAgent',
    'startedAt',
    'expiresAt',
    'lastRefreshedAt',
    'current',
  ],
  additionalProperties: false,
  properties: {
    sessionId: ApiSchemas.id,
    userId: ApiSchemas.id,
    method: str,
    ip: str,
    userAgent: nullableStr,
    startedAt: instant,
    expiresAt: instant,
    lastRefreshedAt: { ...instant, nullable: true },
    current: { type: 'boolean', description: 'The session of the token this request came with' },
  },
};

const password = { type: 'string', format: 'password', minLength: 1, maxLength: 256 };
const signInBy = (field: 'username' | 'email', schema: object) => ({
  type: 'object',
  required: ['orgId', field, 'password'],
  additionalProperties: false,
  properties: { orgId: ApiSchemas.id, [field]: schema, password },
});

export const AccessSchemas = {
  /** The fixed sign-in body: the org, the username or the email (exactly one), the password. */
  login: {
    oneOf: [
      signInBy('username', { type: 'string', minLength: 1, maxLength: 64 }),
      signInBy('email', { type: 'string', minLength: 1, maxLength: 254 }),
    ],
  },
  tokenPair,
  mfaStep,
  signIn: { oneOf: [tokenPair, mfaStep] },
  setup: {
    type: 'object',
    required: ['orgId', 'userId', ...tokenPair.required],
    additionalProperties: false,
    properties: { orgId: ApiSchemas.id, userId: ApiSchemas.id, ...tokenPair.properties },
  },
  jwks: {
    type: 'object',
    required: ['keys'],
    properties: {
      keys: {
        type: 'array',
        items: {
          type: 'object',
          required: ['kid', 'kty'],
          properties: { kid: str, kty: str, crv: str, x: str, alg: str, use: str },
        },
      },
    },
  },
  me: {
    type: 'object',
    required: [
      'userId',
      'orgId',
      'username',
      'email',
      'displayName',
      'status',
      'roleId',
      'instanceAdmin',
      'mfaEnabled',
      'sessionId',
    ],
    additionalProperties: false,
    properties: {
      userId: ApiSchemas.id,
      orgId: ApiSchemas.id,
      username: str,
      email: str,
      displayName: nullableStr,
      status: { type: 'string', enum: ['active', 'inactive'] },
      roleId: nullableStr,
      instanceAdmin: { type: 'boolean' },
      mfaEnabled: { type: 'boolean' },
      sessionId: { ...ApiSchemas.id, nullable: true },
    },
  },
  sessions: {
    type: 'object',
    required: ['items'],
    additionalProperties: false,
    properties: { items: { type: 'array', items: session } },
  },
  passwordChanged: {
    type: 'object',
    required: ['sessionsEnded'],
    additionalProperties: false,
    properties: { sessionsEnded: { type: 'integer', description: 'Your other sessions, now ended' } },
  },
  sessionsEnded: {
    type: 'object',
    required: ['sessionsEnded'],
    additionalProperties: false,
    properties: { sessionsEnded: { type: 'integer' } },
  },
  unlocked: {
    type: 'object',
    required: ['unlocked'],
    additionalProperties: false,
    properties: { unlocked: { type: 'boolean', description: 'false: the account was not locked' } },
  },
};
