import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ApiSchemas } from '@purser/platform';
import { AccessSchemas } from '../sign-in/api.schemas';
import { TOTP_CODE_PATTERN } from './mfa.dto';

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

const mfaToken = {
  type: 'string',
  minLength: 1,
  maxLength: 2048,
  description: 'The mfaToken the first step (POST /v1/auth/login) answered',
};

/** The second step's body: a code or a recovery code, never both (the DTO checks the same). */
const signInBody: SchemaObject = {
  oneOf: [
    {
      type: 'object',
      required: ['mfaToken', 'code'],
      additionalProperties: false,
      properties: {
        mfaToken,
        code: {
          type: 'string',
          pattern: TOTP_CODE_PATTERN.source,
          example: '123456',
          description: 'The 6-digit code the authenticator app shows now (each works once)',
        },
      },
    },
    {
      type: 'object',
      required: ['mfaToken', 'recoveryCode'],
      additionalProperties: false,
      properties: {
        mfaToken,
        recoveryCode: {
          type: 'string',
          minLength: 1,
          maxLength: 64,
          example: 'abcd-efgh-jkmn',
          description: 'One of the recovery codes (each works once)',
        },
      },
    },
  ],
};

export const MfaSchemas = {
  signInBody,
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
