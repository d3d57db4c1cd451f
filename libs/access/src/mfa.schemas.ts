import { ApiSchemas } from '@purser/platform';
import { AccessSchemas } from './api.schemas';

const enrolment = {
  type: 'object',
  required: ['secret', 'otpauthUri', 'qrCode'],
  additionalProperties: false,
  properties: {
    secret: { type: 'string', description: 'The TOTP secret (base32), shown this once' },
    otpauthUri: {
      type: 'string',
      pattern: '^otpauth://totp/',
      description: 'The secret as an otpauth:// URI',
    },
    qrCode: {
      type: 'string',
      pattern: '^data:image/png;base64,',
      description: 'The URI as a QR code (PNG data URI)',
    },
  },
};

const recoveryCodes = {
  type: 'object',
  required: ['recoveryCodes'],
  additionalProperties: false,
  properties: {
    recoveryCodes: {
      type: 'array',
      minItems: 10,
      maxItems: 10,
      items: { type: 'string', pattern: '^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$' },
      description: 'Shown this once: each signs in once in place of a code',
    },
  },
};

export const MfaSchemas = {
  enrolment,
  recoveryCodes,
  signedInWithCodes: {
    type: 'object',
    required: [...recoveryCodes.required, ...AccessSchemas.tokenPair.required],
    additionalProperties: false,
    properties: { ...recoveryCodes.properties, ...AccessSchemas.tokenPair.properties },
  },
  disabled: {
    type: 'object',
    required: ['mfaDisabled'],
    additionalProperties: false,
    properties: { mfaDisabled: { type: 'boolean', description: 'false: MFA was off already' } },
  },
  reset: {
    type: 'object',
    required: ['mfaDisabled', 'sessionsEnded'],
    additionalProperties: false,
    properties: {
      mfaDisabled: { type: 'boolean', description: 'false: MFA was off already' },
      sessionsEnded: { type: 'integer' },
    },
  },
  policy: {
    type: 'object',
    required: ['orgId', 'required'],
    additionalProperties: false,
    properties: { orgId: ApiSchemas.id, required: { type: 'string', enum: ['none', 'admins', 'everyone'] } },
  },
};
