/**
 * Mints test tokens the way a backend would (jose SignJWT), with HS256, RS256 and ES256 keys, and
 * serves a JWKS document from a real local HTTP server on port 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';

export const HS256_SECRET = 'test-secret-that-is-at-least-32-characters-long';

export interface Grants {
  readonly subscribe?: readonly string[];
  readonly publish?: readonly string[];
}

export interface MintOptions {
  readonly alg?: 'HS256' | 'RS256' | 'ES256';
  /** Seconds from now; negative for an expired token; null for no `exp` at all. Default 60. */
  readonly expiresIn?: number | null;
  readonly notBefore?: number;
  readonly audience?: string;
  readonly issuer?: string;
  readonly subject?: string;
  readonly kid?: string;
  readonly key?: CryptoKey | Uint8Array;
  /** Replace the claims entirely (for malformed-claim tests). */
  readonly payload?: JWTPayload;
}

export function mint(grants: Grants, options: MintOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(options.payload ?? { ssehub: grants })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', ...(options.kid ? { kid: options.kid } : {}) })
    .setIssuedAt(now);
  if (options.expiresIn !== null) jwt.setExpirationTime(now + (options.expiresIn ?? 60));
  if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore);
  if (options.audience) jwt.setAudience(options.audience);
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.subject) jwt.setSubject(options.subject);
  return jwt.sign(options.key ?? new TextEncoder().encode(HS256_SECRET));
}

/** An unsigned token (`alg: none`), as an attacker would send it. */
export function unsignedToken(payload: JWTPayload): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}

/** Swap the payload of a signed token, keeping its header and signature. */
export function tamper(token: string, payload: JWTPayload): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
}

export interface KeyPair {
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: CryptoKey;
  readonly publicPem: string;
  readonly kid: string;
}

export async function keyPair(alg: 'RS256' | 'ES256', kid = `${alg}-key`): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, privateKey, publicPem: await exportSPKI(publicKey), kid };
}

export interface JwksServer extends AsyncDisposable {
  readonly url: string;
  /** Times the document was fetched. */
  readonly hits: () => number;
  /** Serve these pairs from now on (a key rotation at the identity provider). */
  serve(pairs: readonly KeyPair[]): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP server on port 0 serving `{"keys": [...]}` for the given pairs. */
export async function serveJwks(pairs: readonly KeyPair[]): Promise<JwksServer> {
  const { createPublicKey } = await import('node:crypto');
  const document = async (served: readonly KeyPair[]): Promise<string> => {
    const keys = await Promise.all(
      served.map(async (pair) => ({ ...(await exportJWK(createPublicKey(pair.publicPem))), kid: pair.kid, alg: pair.alg, use: 'sig' })),
    );
    return JSON.stringify({ keys });
  };
  let body = await document(pairs);
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'Content-Type': 'application/jwk-set+json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const serve = async (served: readonly KeyPair[]): Promise<void> => {
    body = await document(served);
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`, hits: () => hits, serve, close, [Symbol.asyncDispose]: close };
}
