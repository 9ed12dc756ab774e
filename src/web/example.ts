/** The program the "Load example" button fills in: a small off-by-one the built-in repair search fixes with no model. */
export const EXAMPLE = {
  prompt: "Return the sum of the numbers in xs.",
  entryPoint: "total",
  code: "def total(xs):\n    result = 0\n    for i in range(1, len(xs)):\n        result += xs[i]\n    return result\n",
  tests: [
    { kind: "call", args: [[1, 2, 3]], expected: 6 },
    { kind: "call", args: [[]], expected: 0 },
    { kind: "call", args: [[5]], expected: 5 },
  ],
  hiddenTests: [
    { kind: "call", args: [[10, -1]], expected: 9 },
    { kind: "call", args: [[0, 0, 7]], expected: 7 },
  ],
} as const;
