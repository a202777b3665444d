// The last N calls drawn as SVG: latency per call (one dot per call, one
// colour per protocol, a line joining each protocol's calls) above, and per
// protocol the median latency and the mean bytes on the wire (request +
// response bodies) as bars below. The drawing is laid out at the element's
// real width (redrawn on resize), so text stays at its CSS size on a phone
// and on a wide screen alike.
import { PAGE_PROTOCOLS, type CallResult, type PageProtocol } from "./calls.js";

const SVG = "http://www.w3.org/2000/svg";
const TOP_H = 180;
const BAR_ROW = 22;
const PAD = { left: 56, right: 12, top: 14, bottom: 22 };

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A round axis maximum (1, 2, 5 × 10^k) at or above `value`. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${Math.round(bytes)} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export function drawChart(svg: SVGSVGElement, history: readonly CallResult[]): void {
  const W = Math.max(280, Math.round(svg.getBoundingClientRect().width) || 640);
  const used = PAGE_PROTOCOLS.filter((p) => history.some((h) => h.protocol === p.id));
  const barsTop = TOP_H + 28;
  const height = barsTop + Math.max(1, used.length) * BAR_ROW * 2 + 24;
  svg.setAttribute("viewBox", `0 0 ${W} ${height}`);
  svg.replaceChildren();
  svg.append(el("title", {}, "Latency of the last calls per protocol, and bytes on the wire"));

  if (history.length === 0) {
    svg.append(el("text", { x: W / 2, y: TOP_H / 2, "text-anchor": "middle", class: "muted" }, "No calls yet: send one, or press “Run all protocols”."));
    return;
  }

  // Latency per call.
  const maxMs = niceMax(Math.max(...history.map((h) => h.latencyMs)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = TOP_H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (history.length === 1 ? plotW / 2 : (i / (history.length - 1)) * plotW);
  const y = (ms: number) => PAD.top + plotH - (ms / maxMs) * plotH;
  for (const fraction of [0, 0.5, 1]) {
    const ms = maxMs * fraction;
    svg.append(el("line", { x1: PAD.left, x2: W - PAD.right, y1: y(ms), y2: y(ms), class: "grid" }));
    svg.append(el("text", { x: PAD.left - 6, y: y(ms) + 4, "text-anchor": "end", class: "axis" }, `${ms === 0 ? 0 : ms.toFixed(ms < 10 ? 1 : 0)} ms`));
  }
  svg.append(el("text", { x: PAD.left, y: TOP_H - 4, class: "axis" }, `latency, last ${history.length} calls (oldest left)`));
  for (const p of used) {
    const points = history.map((h, i) => ({ h, i })).filter(({ h }) => h.protocol === p.id);
    if (points.length > 1) {
      svg.append(el("polyline", { points: points.map(({ h, i }) => `${x(i)},${y(h.latencyMs)}`).join(" "), fill: "none", stroke: p.colour, "stroke-width": 1.5, opacity: 0.6 }));
    }
    for (const { h, i } of points) {
      const dot = el("circle", { cx: x(i), cy: y(h.latencyMs), r: 4, fill: h.ok ? p.colour : "#fff", stroke: p.colour, "stroke-width": 2 });
      dot.append(el("title", {}, `${p.label}: ${h.latencyMs.toFixed(1)} ms, ${formatBytes(h.requestBytes + h.responseBytes)}${h.ok ? "" : ` (${h.code})`}`));
      svg.append(dot);
    }
  }

  // Per protocol: median latency and mean bytes, each scaled to its own maximum.
  const stats = used.map((p) => {
    const calls = history.filter((h) => h.protocol === p.id);
    return {
      p,
      ms: median(calls.map((c) => c.latencyMs)),
      bytes: calls.reduce((sum, c) => sum + c.requestBytes + c.responseBytes, 0) / calls.length,
    };
  });
  const msMax = Math.max(...stats.map((s) => s.ms), 0.001);
  const bytesMax = Math.max(...stats.map((s) => s.bytes), 1);
  const barLeft = W < 480 ? 104 : 128;
  const barW = W - barLeft - 80;
  svg.append(el("text", { x: 0, y: barsTop - 8, class: "axis" }, W < 480 ? "median latency (solid), mean bytes (light)" : "per protocol: median latency (solid), mean bytes on the wire (light)"));
  stats.forEach((s, row) => {
    const top = barsTop + row * BAR_ROW * 2;
    svg.append(el("text", { x: 0, y: top + 14, class: "label" }, s.p.label));
    svg.append(el("rect", { x: barLeft, y: top + 3, width: Math.max(1, (s.ms / msMax) * barW), height: 14, fill: s.p.colour, rx: 2 }));
    svg.append(el("text", { x: barLeft + (s.ms / msMax) * barW + 6, y: top + 14, class: "value" }, `${s.ms.toFixed(1)} ms`));
    svg.append(el("rect", { x: barLeft, y: top + 20, width: Math.max(1, (s.bytes / bytesMax) * barW), height: 14, fill: s.p.colour, opacity: 0.35, rx: 2 }));
    svg.append(el("text", { x: barLeft + (s.bytes / bytesMax) * barW + 6, y: top + 31, class: "value" }, formatBytes(s.bytes)));
  });
}

export function protocolsIn(history: readonly CallResult[]): PageProtocol[] {
  return [...new Set(history.map((h) => h.protocol))];
}
