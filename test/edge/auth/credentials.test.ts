import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey, parseApiKey } from "../../../edge/auth/api-keys.js";
import { challenge } from "../../../edge/auth/errors.js";
import { readCredential } from "../../../edge/auth/credentials.js";
import { GatewayError } from "../../../edge/errors.js";

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

function refused(headers: Record<string, string>): GatewayError {
  try {
    readCredential(new Headers(headers));
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe(Code.Unauthenticated);
    return error as GatewayError;
  }
  throw new Error("expected a refusal");
}

describe("API key format", () => {
  it("generates gw_<16 hex>_<43 base64url> keys whose id parses back", () => {
    for (let i = 0; i < 50; i++) {
      const { id, key } = generateApiKey();
      expect(key).toMatch(/^gw_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(parseApiKey(key)).toEqual({ id });
    }
    expect(parseApiKey("gw_xyz_abc")).toBeNull();
    expect(parseApiKey(`gw_${"a".repeat(16)}_${"b".repeat(42)}`)).toBeNull();
  });

  it("hashes with SHA-256 (hex), so only the hash needs storing", async () => {
    expect(await hashApiKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const { key } = generateApiKey();
    expect(await hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashApiKey(key)).not.toContain(key.slice(20));
  });
});

describe("credential headers", () => {
  const { key } = generateApiKey();

  it("reads none, Bearer API key, x-api-key and Bearer JWT", () => {
    expect(readCredential(new Headers())).toEqual({ kind: "none" });
    expect(readCredential(new Headers({ authorization: `Bearer ${key}` }))).toEqual({ kind: "api-key", key });
    expect(readCredential(new Headers({ authorization: `bearer  ${key}` }))).toEqual({ kind: "api-key", key });
    expect(readCredential(new Headers({ "x-api-key": key }))).toEqual({ kind: "api-key", key });
    expect(readCredential(new Headers({ authorization: `Bearer ${JWT}` }))).toEqual({ kind: "jwt", token: JWT });
  });

  it("accepts both headers only when they carry the same key", () => {
    expect(readCredential(new Headers({ authorization: `Bearer ${key}`, "x-api-key": key }))).toEqual({ kind: "api-key", key });
    expect(refused({ authorization: `Bearer ${JWT}`, "x-api-key": key }).message).toMatch(/not both/);
  });

  it("refuses other schemes, a JWT in x-api-key and unrecognisable bearer values", () => {
    const basic = refused({ authorization: "Basic dXNlcjpwYXNz" });
    expect(basic.message).toMatch(/Bearer/);
    expect(basic.headers["www-authenticate"]).toMatch(/error="invalid_request"/);
    expect(refused({ "x-api-key": JWT }).message).toMatch(/x-api-key must hold an API key/);
    expect(refused({ authorization: "Bearer hello" }).message).toMatch(/neither an API key/);
    expect(refused({ authorization: `Bearer ${"a".repeat(9000)}` }).message).toMatch(/too long/);
  });

  it("builds RFC 6750 challenges", () => {
    expect(challenge()).toBe('Bearer realm="inference"');
    expect(challenge("invalid_token", 'token "x" expired')).toBe(
      'Bearer realm="inference", error="invalid_token", error_description="token x expired"',
    );
  });
});
