import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { KeyMaterial } from './key-material';

export const TOKEN_ISSUER = 'purser';
export const TOKEN_AUDIENCE = 'purser-api';

/** What an access token says: whose session, in which org. 'mfa' tokens only carry a sign-in to its second step. */
export interface AccessClaims {
  typ: 'access' | 'mfa';
  /** The user. */
  sub: string;
  org: string;
  /** The session (access) or the pending sign-in (mfa). */
  sid: string;
  /** Whether this user is the instance administrator. */
  adm?: boolean;
  exp: number;
}

/** Short-lived signed JWTs (EdDSA over Ed25519, `kid` in the header so rotated keys keep verifying). */
export class AccessTokens {
  constructor(private readonly keys: KeyMaterial) {}

  async sign(claims: Omit<AccessClaims, 'exp'>, now: Date, ttlSeconds: number): Promise<string> {
    const key = this.keys.currentSigningKey();
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({
      typ: claims.typ,
      org: claims.org,
      sid: claims.sid,
      ...(claims.adm ? { adm: true } : {}),
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(claims.sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlSeconds)
      .sign(key.privateKey);
  }

  /** The claims of a valid token of the expected type, or null (bad signature, unknown key, expired, malformed). */
  async verify(token: string, typ: AccessClaims['typ'], now: Date): Promise<AccessClaims | null> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = header.kid ? this.keys.verificationKey(header.kid) : null;
          if (!key) throw new joseErrors.JWKSNoMatchingKey();
          return key;
        },
        { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, algorithms: ['EdDSA'], currentDate: now },
      );
      if (
        payload.typ !== typ ||
        typeof payload.sub !== 'string' ||
        typeof payload.org !== 'string' ||
        typeof payload.sid !== 'string' ||
        typeof payload.exp !== 'number'
      )
        return null;
      return {
        typ,
        sub: payload.sub,
        org: payload.org,
        sid: payload.sid,
        exp: payload.exp,
        ...(payload.adm === true ? { adm: true } : {}),
      };
    } catch {
      return null;
    }
  }
}

/** `<prefix>_<id>_<secret>`: opaque credentials that name their stream, so one read finds what to compare. */
export function composeToken(prefix: string, id: string, secret: string): string {
  return `${prefix}_${id}_${secret}`;
}

export function parseToken(prefix: string, token: unknown): { id: string; secret: string } | null {
  if (typeof token !== 'string' || token.length > 512) return null;
  const m = new RegExp(`^${prefix}_([A-Za-z0-9-]{1,64})_([A-Za-z0-9_-]{32,128})$`).exec(token);
  return m ? { id: m[1], secret: m[2] } : null;
}
