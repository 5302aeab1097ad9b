// Named fault points for crash tests: a test setting (`--test-fault-point name@n`) makes perdure kill itself
// (SIGKILL, no cleanup) the n-th time execution reaches the named point. Disabled unless configured; a
// disabled fault point costs one comparison.
//
// Points:
//   batch-applied    a batch's commands were applied inside the transaction, not yet committed
//   batch-committed  a batch was committed, its effects (responses, attempts, notifications) not yet run

export type FaultPointName = "batch-applied" | "batch-committed";
export const FAULT_POINT_NAMES: readonly FaultPointName[] = ["batch-applied", "batch-committed"];

export interface FaultPoints {
  reach(name: FaultPointName): void;
}

export const NO_FAULTS: FaultPoints = { reach: () => {} };

/** Parses `name@n` (n defaults to 1). */
export function parseFaultPoint(spec: string): { name: FaultPointName; count: number } | undefined {
  const [name, n] = spec.split("@");
  if (!FAULT_POINT_NAMES.includes(name as FaultPointName)) return undefined;
  const count = n === undefined ? 1 : Number(n);
  if (!Number.isInteger(count) || count < 1) return undefined;
  return { name: name as FaultPointName, count };
}

export function crashingFaultPoints(name: FaultPointName, count: number, crash: () => void): FaultPoints {
  let seen = 0;
  return {
    reach: (reached) => {
      if (reached === name && ++seen === count) crash();
    },
  };
}
