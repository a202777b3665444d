import { CompactSign, SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWTPayload } from "jose";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAuthConfig } from "../../../edge/auth/config.js";
import { createJwtVerifier } from "../../../edge/auth/jwt.js";
import { GatewayError } from "../../../edge/errors.js";

const ISS = "https://issuer.test";
const AUD = "inference-api";
const SECRET = "a-test-secret-that-is-at-least-32-bytes-long!";
const now = () => Math.floor(Date.now() / 1000);

let server: Server;
let jwksUrl = "";
let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
let ec: Awaited<ReturnType<typeof generateKeyPair>>;
let rogue: Awaited<ReturnType<typeof generateKeyPair>>;
let jwksHits = 0;

beforeAll(async () => {
  rsa = await generateKeyPair("RS256", { extractable: true });
  ec = await generateKeyPair("ES256", { extractable: true });
  rogue = await generateKeyPair("RS256", { extractable: true });
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
    { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
  ];
  server = createServer((req, res) => {
    jwksHits++;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function verifier(extra: Record<string, string> = {}) {
  const config = parseAuthConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_JWKS_URL: jwksUrl, JWT_HS256_SECRET: SECRET, ...extra });
  return createJwtVerifier(config.jwt!);
}

const claims = (over: JWTPayload = {}): JWTPayload => ({ iss: ISS, aud: AUD, sub: "user-1", exp: now() + 300, iat: now(), ...over });

async function hs256(payload: JWTPayload, secret = SECRET): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
}

async function rs256(payload: JWTPayload, key = rsa.privateKey, kid = "rsa-1"): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid }).sign(key);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

async function expect401(token: string, message: RegExp, v = verifier()): Promise<void> {
  const error = await rejection(v.verify(token));
  expect(error.code).toBe(Code.Unauthenticated);
  expect(error.message).toMatch(message);
  expect(error.headers["www-authenticate"]).toMatch(/^Bearer realm="inference", error="invalid_token", error_description="/);
}

describe("JWT verification", () => {
  it("accepts a valid HS256 token", async () => {
    const token = await verifier().verify(await hs256(claims()));
    expect(token).toMatchObject({ issuer: ISS, subject: "user-1" });
  });

  it("accepts valid RS256 and ES256 tokens via the JWKS, fetching it once", async () => {
    const v = verifier();
    const before = jwksHits;
    expect((await v.verify(await rs256(claims()))).subject).toBe("user-1");
    const es = await new SignJWT(claims({ sub: "user-2" })).setProtectedHeader({ alg: "ES256", kid: "ec-1" }).sign(ec.privateKey);
    expect((await v.verify(es)).subject).toBe("user-2");
    expect((await v.verify(await rs256(claims()))).subject).toBe("user-1");
    expect(jwksHits - before).toBe(1);
  });

  it('refuses alg "none"', async () => {
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}.`;
    await expect401(token, /algorithm "none" is not accepted/);
  });

  it("refuses an HS256 token signed with the RSA public key (algorithm confusion)", async () => {
    const pem = await exportSPKI(rsa.publicKey);
    const forged = await hs256(claims(), pem);
    // With an HS256 secret configured the forgery is checked against that secret...
    await expect401(forged, /signature is invalid/);
    // ...and with only the JWKS configured HS256 is not accepted at all.
    const jwksOnly = createJwtVerifier(parseAuthConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_JWKS_URL: jwksUrl }).jwt!);
    await expect401(forged, /algorithm "HS256" is not accepted/, jwksOnly);
  });

  it("refuses an RS256 token when only HS256 is configured", async () => {
    const hsOnly = createJwtVerifier(parseAuthConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_HS256_SECRET: SECRET }).jwt!);
    await expect401(await rs256(claims()), /algorithm "RS256" is not accepted/, hsOnly);
  });

  it("refuses a tampered payload and a foreign signing key", async () => {
    const [header, , signature] = (await hs256(claims())).split(".");
    await expect401(`${header}.${b64(claims({ sub: "admin" }))}.${signature}`, /signature is invalid/);
    const [rh, , rsig] = (await rs256(claims())).split(".");
    await expect401(`${rh}.${b64(claims({ sub: "admin" }))}.${rsig}`, /signature is invalid/);
    await expect401(await rs256(claims(), rogue.privateKey), /signature is invalid/);
  });

  it("refuses a non-numeric exp and a missing exp", async () => {
    const payload = new TextEncoder().encode(JSON.stringify(claims({ exp: String(now() + 300) as unknown as number })));
    const token = await new CompactSign(payload).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET));
    await expect401(token, /"exp" claim has the wrong type/);
    const noExp = claims();
    delete noExp.exp;
    await expect401(await hs256(noExp), /lacks the required "exp" claim/);
  });

  it("refuses expired tokens and tokens not valid yet (beyond the clock tolerance)", async () => {
    await expect401(await hs256(claims({ exp: now() - 120 })), /token expired/);
    await expect401(await hs256(claims({ nbf: now() + 120 })), /not valid yet/);
    // Within the 30 s tolerance both pass.
    await expect(verifier().verify(await hs256(claims({ exp: now() - 5, nbf: now() + 5 })))).resolves.toBeTruthy();
  });

  it("refuses the wrong audience, the wrong issuer and a missing sub", async () => {
    await expect401(await hs256(claims({ aud: "someone-else" })), /audience is not accepted/);
    await expect401(await hs256(claims({ iss: "https://evil.test" })), /issuer is not accepted/);
    const noSub = claims();
    delete noSub.sub;
    await expect401(await hs256(noSub), /lacks the required "sub" claim/);
  });

  it("refuses a sub, tenant or plan claim that is not a string (never the principal \"[object Object]\")", async () => {
    // Signed by hand: jose's builder would refuse to write these claims.
    const raw = (payload: Record<string, unknown>) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET));
    for (const sub of [{ id: "admin" }, ["user-1"], 42, true, null, ""]) {
      await expect401(await raw(claims({ sub: sub as never })), /"sub" claim must be a non-empty string/);
    }
    await expect401(await raw(claims({ tenant: { name: "acme" } })), /"tenant" claim must be a string/);
    await expect401(await raw(claims({ plan: ["pro"] })), /"plan" claim must be a string/);
    const custom = verifier({ JWT_TENANT_CLAIM: "org", JWT_PLAN_CLAIM: "tier" });
    await expect401(await raw(claims({ org: 7 })), /"org" claim must be a string/, custom);
    await expect401(await raw(claims({ tier: null })), /"tier" claim must be a string/, custom);
    // Strings pass, as before.
    await expect(verifier().verify(await raw(claims({ tenant: "acme", plan: "pro" })))).resolves.toMatchObject({ subject: "user-1" });
  });

  it("refuses an unknown kid and garbage", async () => {
    await expect401(await rs256(claims(), rogue.privateKey, "nope"), /kid/);
    await expect401("not-base64!.x.y", /malformed/);
  });

  it("answers 503 (not 401, not 500) when the JWKS cannot be fetched", async () => {
    const dead = createJwtVerifier(parseAuthConfig({ JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_JWKS_URL: "http://127.0.0.1:9/jwks" }).jwt!);
    const error = await rejection(dead.verify(await rs256(claims())));
    expect(error.code).toBe(Code.Unavailable);
  });
});
