/**
 * Work arrays kept between fits: a nested choice fits hundreds of LDAs (and clips as many tables)
 * on matrices of a few sizes, and fresh arrays for each cost allocation, zeroing and garbage
 * collection. A fit takes its temporaries from here instead, by name, and keeps none of them in
 * the model it returns, so one workspace serves one fit after another (never two at once, and a
 * caller that takes a named array for longer — the clipped table of one inner fold — names it
 * apart and is done with it before taking it again). Optional everywhere: a fit without one
 * allocates as usual and gives the same numbers.
 */
import { type Matrix, zeros } from '../linalg/index.js';

export class FitWorkspace {
  private readonly arrays = new Map<string, Float64Array>();

  /** A zeroed rows × cols matrix over the kept array named `key` (grown when too small). */
  matrix(key: string, rows: number, cols: number): Matrix {
    const len = rows * cols;
    let a = this.arrays.get(key);
    if (!a || a.length < len) this.arrays.set(key, (a = new Float64Array(len)));
    const data = a.subarray(0, len);
    data.fill(0);
    return { rows, cols, data };
  }
}

/** A zeroed matrix from the workspace when there is one, else a fresh one. */
export function workMatrix(ws: FitWorkspace | undefined, key: string, rows: number, cols: number): Matrix {
  return ws ? ws.matrix(key, rows, cols) : zeros(rows, cols);
}
