/** Stream names of the access context come from here, never typed inline. */
export const AccessStreams = {
  instance: () => 'access-instance',
  credential: (userId: string) => `credential-${userId}`,
  session: (sessionId: string) => `session-${sessionId}`,
  policy: (orgId: string) => `access-policy-${orgId}`,
  apiKey: (keyId: string) => `apikey-${keyId}`,
  roles: (orgId: string) => `roles-${orgId}`,
  refusals: (orgId: string) => `access-refusals-${orgId}`,
} as const;

export const ACCESS_STREAM_PREFIXES = [
  'access-instance',
  'credential-',
  'session-',
  'access-policy-',
  'apikey-',
  'roles-',
  'access-refusals-',
];
