// concatRows and splitRows for every datatype: merging callers' rows and
// handing each caller back exactly its own, BYTES included (a split that gave
// every caller the first caller's strings once passed every other test).
import { describe, expect, it } from "vitest";
import type { Datatype } from "../../../common/oip/index.js";
import { concatRows, splitRows } from "../../../gpu-worker/batching/rows.js";
import type { Tensor } from "../../../gpu-worker/model/tensors.js";
import { datatypeSamples } from "../../support/datatype-samples.js";

/** The samples' 6 elements as [rows, 6 / rows]: callers with 1, 2, 3 and 6 rows. */
const callerInputs = (rows: number): Tensor[] =>
  Object.entries(datatypeSamples()).map(([datatype, values]) => ({
    name: datatype.toLowerCase(),
    datatype: datatype as Datatype,
    shape: [rows, 6 / rows],
    values,
  }));

describe("rows of every datatype", () => {
  it.each([1, 2, 3, 6])("callers of %i row(s) each get their own back after a merge", (rows) => {
    // Three callers; the second and third reverse and rotate the samples so each caller's rows differ.
    const callers = [0, 1, 2].map((caller) =>
      callerInputs(rows).map((t) => {
        const values = Array.from(t.values as ArrayLike<unknown>);
        const shifted = caller === 0 ? values : caller === 1 ? values.reverse() : [...values.slice(2), ...values.slice(0, 2)];
        const typed = Array.isArray(t.values) ? shifted : new (t.values.constructor as new (v: unknown[]) => typeof t.values)(shifted);
        return { ...t, values: typed } as Tensor;
      }),
    );
    const merged = concatRows(callers);
    expect(merged.every((t) => t.shape[0] === 3 * rows)).toBe(true);
    const parts = splitRows(merged, [rows, rows, rows]);
    parts.forEach((part, caller) => {
      part.forEach((tensor, i) => {
        expect(tensor.shape, `${caller} ${tensor.name}`).toEqual(callers[caller]![i]!.shape);
        expect(Array.from(tensor.values as ArrayLike<unknown>), `${caller} ${tensor.name}`).toEqual(
          Array.from(callers[caller]![i]!.values as ArrayLike<unknown>),
        );
      });
    });
  });
});
