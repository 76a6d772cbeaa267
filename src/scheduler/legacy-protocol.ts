/**
 * @module scheduler/legacy-protocol
 * The TaScaaS / RUPER-LB text protocol, byte for byte as TaScaaS's LB Lambda answered it (the output of
 * RUPER-LB's `LBserver`, lines joined with "\n", no final newline):
 *   start  → "0 \n Assigned: <n>\n ETA: <s>"   (RUPER-LB prints "0 " for start)
 *   report → "0\n Assigned: <n>\n ETA: <s>"
 *   finish → "0"
 *   error  → "<instruction> <LB_ERRCODE>"     (report 1, start 2, finish 3), still HTTP 200
 * Clients parse it with `sscanf("%d")` then `sscanf("%*d %*s %llu")`.
 */

/** RUPER-LB instruction numbers. */
export const LEGACY_INSTRUCTION = { report: 1, start: 2, finish: 3 } as const;
export type LegacyAction = keyof typeof LEGACY_INSTRUCTION;

/** RUPER-LB's LB_ERRCODE values we answer with. */
export const LB_ERRCODE = {
  WORKER_OUT_OF_RANGE: 3,
  LESS_ITERATIONS_DONE: 4,
  WORKER_NOT_STARTED: 5,
  UNEXPECTED_FORMAT: 29,
} as const;

export function formatLegacyAssignment(
  action: 'start' | 'report',
  assigned: number,
  etaSec: number | null,
): string {
  const eta = etaSec === null || !Number.isFinite(etaSec) ? 0 : Math.max(0, Math.ceil(etaSec));
  return `${action === 'start' ? '0 ' : '0'}\n Assigned: ${Math.floor(assigned)}\n ETA: ${eta}`;
}

export function formatLegacyFinish(): string {
  return '0';
}

export function formatLegacyError(action: LegacyAction, code: number): string {
  return `${LEGACY_INSTRUCTION[action]} ${code}`;
}

/** What a RUPER-LB client reads from an answer: the flag, and the assigned count or the error code. */
export function parseLegacyAnswer(
  body: string,
):
  | { ok: true; assigned: number | null; etaSec: number | null }
  | { ok: false; instruction: number; code: number } {
  const text = body.trim();
  const flag = /^(-?\d+)/.exec(text);
  if (!flag) throw new Error(`unexpected answer: ${JSON.stringify(body)}`);
  if (Number(flag[1]) !== 0) {
    const code = /^-?\d+\s+(-?\d+)/.exec(text);
    return { ok: false, instruction: Number(flag[1]), code: code ? Number(code[1]) : -1 };
  }
  const assigned = /^-?\d+\s+\S+\s+(\d+)/.exec(text);
  const eta = /ETA:\s*(\d+)/.exec(text);
  return { ok: true, assigned: assigned ? Number(assigned[1]) : null, etaSec: eta ? Number(eta[1]) : null };
}
