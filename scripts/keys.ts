// API key admin: `npm run keys -- <command>` (or `npx tsx scripts/keys.ts`).
//   create --tenant <t> --plan <p> [--name <text>]   prints the new key ONCE
//   list [--tenant <t>]
//   revoke <id>
// Talks to Redis with @upstash/redis using UPSTASH_REDIS_REST_URL and
// UPSTASH_REDIS_REST_TOKEN (hosted Upstash, or the local bridge `npm start` runs).
import { Redis } from "@upstash/redis";
import { parseArgs } from "node:util";
import { createKey, listKeys, revokeKey } from "./keys/commands.js";

const USAGE = `usage:
  keys create --tenant <tenant> --plan <plan> [--name <text>]
  keys list [--tenant <tenant>]
  keys revoke <id>
env: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN (and PLANS if the edge uses its own)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { tenant: { type: "string" }, plan: { type: "string" }, name: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    console.log(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const url = process.env.UPSTASH_REDIS_REST_URL;
  const token = process.env.UPSTASH_REDIS_REST_TOKEN;
  if (!url || !token) {
    console.error("UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set (the same Redis the edge uses)");
    return 2;
  }
  const redis = new Redis({ url, token, enableTelemetry: false });

  switch (command) {
    case "create": {
      if (!values.tenant || !values.plan) {
        console.error("create needs --tenant and --plan\n" + USAGE);
        return 2;
      }
      const { key, record } = await createKey(redis, { tenant: values.tenant, plan: values.plan, name: values.name });
      console.log(`created key ${record.id} for tenant "${record.tenant}" on plan "${record.plan}"`);
      console.log("\n  " + key + "\n");
      console.log("This is the only time the key is shown; only its SHA-256 is stored. Use it as");
      console.log('  Authorization: Bearer <key>   or   x-api-key: <key>');
      return 0;
    }
    case "list": {
      const keys = await listKeys(redis, { tenant: values.tenant });
      if (keys.length === 0) console.log("no keys");
      for (const k of keys) console.log(`${k.id}  tenant=${k.tenant}  plan=${k.plan}  created=${k.created_at}${k.name ? `  name=${k.name}` : ""}`);
      return 0;
    }
    case "revoke": {
      const id = rest[0];
      if (!id) {
        console.error("revoke needs the key id (see `keys list`)");
        return 2;
      }
      if (!(await revokeKey(redis, id))) {
        console.error(`no key with id ${id}`);
        return 1;
      }
      console.log(`revoked ${id}; edges stop accepting it within API_KEY_CACHE_TTL_MS (default 30 s)`);
      return 0;
    }
    default:
      console.error(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
