import {
  KeyObject,
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface StoredSigningKey {
  kid: string;
  createdAt: string;
  /** The private key as a JWK (OKP, Ed25519). */
  jwk: Record<string, unknown>;
}

interface SigningKey {
  kid: string;
  createdAt: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

const PEPPER = 'pepper';
const SEAL = 'seal.key';
const SIGNING = 'signing-keys.json';

/**
 * The instance's key material, in one directory (mode 0700, files 0600), created on first start: a pepper for keyed
 * digests of tokens, codes and API key secrets; a sealing key for secrets that must be read back (TOTP); Ed25519
 * signing keys for access tokens, the newest signing, all verifying (rotation: `purser keys rotate` adds one;
 * servers pick it up within a minute). Several servers share the directory (or a copy of it).
 */
export class KeyMaterial {
  private signing: SigningKey[] = [];
  private loadedMtimeMs = 0;
  private checkedAt = 0;

  private constructor(
    private readonly dir: string,
    private readonly pepper: Buffer,
    private readonly sealKey: Buffer,
  ) {}

  static open(dir: string): KeyMaterial {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pepper = readOrCreate(join(dir, PEPPER), () => randomBytes(32));
    const seal = readOrCreate(join(dir, SEAL), () => randomBytes(32));
    const path = join(dir, SIGNING);
    readOrCreate(path, () => Buffer.from(JSON.stringify({ keys: [newSigningKey()] }, null, 2)));
    const km = new KeyMaterial(dir, pepper, seal);
    km.reload();
    return km;
  }

  /** Adds a signing key (the new one signs from now on; older ones keep verifying until removed). */
  static rotate(dir: string, keep = 3): string {
    const km = KeyMaterial.open(dir);
    const stored = km.readStored();
    const fresh = newSigningKey();
    const keys = [...stored, fresh].slice(-Math.max(2, keep));
    const path = join(dir, SIGNING);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ keys }, null, 2), { mode: 0o600 });
    renameSync(tmp, path);
    return fresh.kid;
  }

  /** HMAC-SHA256 of a high-entropy secret under the instance pepper (hex): what events and states keep. */
  digest(secret: string): string {
    return createHmac('sha256', this.pepper).update(secret).digest('hex');
  }

  /** Compares a secret with a stored digest in constant time. */
  matches(secret: string, digest: string): boolean {
    const a = Buffer.from(this.digest(secret), 'hex');
    const b = Buffer.from(digest, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** AES-256-GCM under the sealing key: `v1.<iv>.<ciphertext>.<tag>` (base64url). */
  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv, ct, cipher.getAuthTag()]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  unseal(sealed: string): string {
    const [v, iv, ct, tag] = sealed.split('.');
    if (v !== 'v1' || !iv || !ct || !tag) throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** The key that signs new access tokens (the newest). */
  currentSigningKey(): SigningKey {
    this.refresh();
    return this.signing[this.signing.length - 1];
  }

  verificationKey(kid: string): KeyObject | null {
    this.refresh();
    return this.signing.find((k) => k.kid === kid)?.publicKey ?? null;
  }

  /** The public keys, as a JWKS document (RFC 7517). */
  jwks(): { keys: Array<Record<string, unknown>> } {
    this.refresh();
    return { keys: this.signing.map((k) => k.publicJwk) };
  }

  /** Picks up a rotation made by another process (checked at most once a minute). */
  private refresh(): void {
    const now = Date.now();
    if (now - this.checkedAt < 60_000) return;
    this.checkedAt = now;
    try {
      if (statSync(join(this.dir, SIGNING)).mtimeMs !== this.loadedMtimeMs) this.reload();
    } catch {
      /* keep the keys in memory */
    }
  }

  private readStored(): StoredSigningKey[] {
    const parsed = JSON.parse(readFileSync(join(this.dir, SIGNING), 'utf8')) as { keys: StoredSigningKey[] };
    if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error(`${SIGNING} holds no keys`);
    return parsed.keys;
  }

  private reload(): void {
    this.loadedMtimeMs = statSync(join(this.dir, SIGNING)).mtimeMs;
    this.checkedAt = Date.now();
    this.signing = this.readStored().map((k) => {
      const privateKey = createPrivateKey({ key: k.jwk as never, format: 'jwk' });
      const publicKey = createPublicKey(privateKey);
      const publicJwk = {
        ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
        kid: k.kid,
        alg: 'EdDSA',
        use: 'sig',
      };
      return { kid: k.kid, createdAt: k.createdAt, privateKey, publicKey, publicJwk };
    });
  }
}

function newSigningKey(): StoredSigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    kid: randomBytes(8).toString('hex'),
    createdAt: new Date().toISOString(),
    jwk: privateKey.export({ format: 'jwk' }) as Record<string, unknown>,
  };
}

/** Reads a file, or creates it (0600) when absent; a concurrent creator wins and its content is read. */
function readOrCreate(path: string, make: () => Buffer): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // Written whole to a private file, then linked into place: readers never see a half-written file, and of two
  // processes starting at once exactly one creates it.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, make(), { mode: 0o600 });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readFileSync(path);
}

/** A random high-entropy secret (256 bits), base64url. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
