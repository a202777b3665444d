// A form generated from a model's input metadata: one block per input, a
// "rows" field when the first dimension is the (variable) batch dimension,
// and one field per element for small tensors (a textarea of values for big
// ones, where hundreds of boxes would help nobody). The form writes the OIP
// REST body; the JSON editor shows and sends that body.
import type { Datatype, TensorInput } from "../../client/index.js";

export interface TensorMeta {
  name: string;
  datatype: Datatype;
  shape: number[];
}

/** Above this many elements a tensor gets one textarea instead of a field per value. */
const MAX_FIELDS = 32;

interface InputState {
  meta: TensorMeta;
  rows: number;
  values: string[];
}

export class InputForm {
  private states: InputState[] = [];

  constructor(
    private readonly root: HTMLElement,
    private readonly onChange: (body: { inputs: TensorInput[] }) => void,
  ) {}

  /** Rebuilds the form for a model's inputs, starting from zeros (or `seed` values where given). */
  show(inputs: TensorMeta[], seed: Record<string, number[]> = {}): void {
    this.states = inputs.map((meta) => {
      const rows = 1;
      const count = elementsFor(meta, rows);
      const start = seed[meta.name];
      const values = Array.from({ length: count }, (_, i) => String(start?.[i] ?? defaultValue(meta.datatype)));
      return { meta, rows, values };
    });
    this.render();
    this.emit();
  }

  /** Fills every input with random values suited to its datatype. */
  randomise(): void {
    for (const state of this.states) state.values = state.values.map(() => randomValue(state.meta.datatype));
    this.render();
    this.emit();
  }

  body(): { inputs: TensorInput[] } {
    return {
      inputs: this.states.map(({ meta, rows, values }) => ({
        name: meta.name,
        datatype: meta.datatype,
        shape: concreteShape(meta.shape, rows),
        data: values.map((v) => parseValue(meta.datatype, v)),
      })),
    };
  }

  private emit(): void {
    this.onChange(this.body());
  }

  private render(): void {
    this.root.replaceChildren();
    if (this.states.length === 0) {
      this.root.append(text("p", "This model declares no inputs.", "muted"));
      return;
    }
    for (const state of this.states) {
      const box = document.createElement("fieldset");
      box.className = "tensor";
      const legend = text("legend", `${state.meta.name} `);
      legend.append(text("code", `${state.meta.datatype} [${state.meta.shape.join(", ")}]`));
      box.append(legend);
      if (state.meta.shape[0] === -1) {
        const label = text("label", "rows ");
        const rows = document.createElement("input");
        rows.type = "number";
        rows.min = "1";
        rows.max = "64";
        rows.value = String(state.rows);
        rows.className = "rows";
        rows.setAttribute("aria-label", `${state.meta.name} rows`);
        rows.addEventListener("change", () => {
          state.rows = Math.max(1, Math.min(64, Math.floor(Number(rows.value)) || 1));
          const count = elementsFor(state.meta, state.rows);
          state.values = Array.from({ length: count }, (_, i) => state.values[i] ?? defaultValue(state.meta.datatype));
          this.render();
          this.emit();
        });
        label.append(rows);
        box.append(label);
      }
      box.append(this.valuesEditor(state));
      this.root.append(box);
    }
  }

  private valuesEditor(state: InputState): HTMLElement {
    if (state.values.length > MAX_FIELDS) {
      const area = document.createElement("textarea");
      area.rows = 4;
      area.value = state.values.join(", ");
      area.setAttribute("aria-label", `${state.meta.name} values`);
      area.addEventListener("input", () => {
        const parts = area.value.split(/[\s,]+/).filter((p) => p !== "");
        state.values = Array.from({ length: state.values.length }, (_, i) => parts[i] ?? defaultValue(state.meta.datatype));
        this.emit();
      });
      return area;
    }
    const grid = document.createElement("div");
    grid.className = "cells";
    const inner = state.meta.shape.at(-1);
    const columns = inner !== undefined && inner > 0 && inner <= 8 ? inner : Math.min(8, state.values.length);
    grid.style.gridTemplateColumns = `repeat(${columns}, minmax(3.5rem, 1fr))`;
    state.values.forEach((value, i) => {
      const cell = document.createElement("input");
      const numeric = state.meta.datatype !== "BYTES";
      cell.type = numeric ? "number" : "text";
      if (numeric) cell.step = "any";
      cell.inputMode = numeric ? "decimal" : "text";
      cell.value = value;
      cell.setAttribute("aria-label", `${state.meta.name}[${i}]`);
      cell.addEventListener("input", () => {
        state.values[i] = cell.value;
        this.emit();
      });
      grid.append(cell);
    });
    return grid;
  }
}

function text<K extends keyof HTMLElementTagNameMap>(tag: K, content: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

/** -1 dimensions: the first is the batch (rows); any later one is taken as 1. */
function concreteShape(shape: number[], rows: number): number[] {
  return shape.map((d, i) => (d >= 0 ? d : i === 0 ? rows : 1));
}

function elementsFor(meta: TensorMeta, rows: number): number {
  return concreteShape(meta.shape, rows).reduce((a, b) => a * b, 1);
}

function defaultValue(datatype: Datatype): string {
  return datatype === "BYTES" ? "" : datatype === "BOOL" ? "0" : "0";
}

function randomValue(datatype: Datatype): string {
  if (datatype === "BYTES") return Math.random().toString(36).slice(2, 7);
  if (datatype === "BOOL") return Math.random() < 0.5 ? "0" : "1";
  if (/INT/.test(datatype)) return String(Math.floor(Math.random() * 10));
  return (Math.random() * 8).toFixed(1);
}

function parseValue(datatype: Datatype, value: string): number | string | boolean {
  if (datatype === "BYTES") return value;
  if (datatype === "BOOL") return value === "1" || value.toLowerCase() === "true";
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}
