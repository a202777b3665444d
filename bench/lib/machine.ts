// Facts about the machine and tool versions, saved with every result so
// figures from different machines are never compared blindly.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, type as osType } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../test/support/paths.js";
import { H2LOAD, WRK } from "./tools.js";

function version(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 }).trim().split("\n")[0]!;
  } catch (error) {
    // wrk -v exits 1 after printing its version.
    const out = (error as { stdout?: string }).stdout?.trim().split("\n")[0];
    return out || "unavailable";
  }
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unavailable";
  }
}

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  loadAverageAtStart: number[];
  versions: Record<string, string>;
}

export function machineFacts(): MachineFacts {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
    versions: {
      "onnxruntime-node": packageVersion("onnxruntime-node"),
      "@connectrpc/connect-node": packageVersion("@connectrpc/connect-node"),
      "@grpc/grpc-js": packageVersion("@grpc/grpc-js"),
      workerd: version(join(ROOT, "node_modules/.bin/workerd"), ["--version"]),
      wrangler: packageVersion("wrangler"),
      autocannon: packageVersion("autocannon"),
      h2load: version(H2LOAD, ["--version"]),
      wrk: version(WRK, ["-v"]),
    },
  };
}
