// Hand-compiled tasklet functions for runtime tests, until the transformer lands.
// `tf(name, params, body)` builds a function that follows docs/protocol.md exactly:
// it reads `rt.tok` on entry, restores itself from `rt.rf`, announces every call in
// `rt.tok`, saves a record `{ f, pc, up, L }` and returns when `rt.u !== 0`, calls
// `rt.boundary` when entered from ordinary code, spills on stack overflow (u = 2)
// and counts ticks at loop back-edges. The body is a small structured language
// (statements below) interpreted over a flat instruction list, so a frame's state
// is just (pc, locals object).
import { rt as importedRt, type Frame } from '../../../runtime/internal.js';

// A plain local binding: under Vitest an imported binding is read through a getter
// that swallows errors, so near a stack overflow `rt` would read as undefined.
const rt = importedRt;

export type Locals = Record<string, any>;
type Op =
  | { k: 'do'; f: (L: Locals) => void }
  | { k: 'call'; f: (L: Locals) => unknown[]; to?: (L: Locals, v: any) => void; guard?: () => boolean }
  | { k: 'jf'; c: (L: Locals) => unknown; to: number }
  | { k: 'jmp'; to: number }
  | { k: 'ret'; f?: (L: Locals) => unknown }
  | { k: 'try'; h: number; fin: boolean }
  | { k: 'pop' }
  | { k: 'endfin' };

export type Stmt =
  | { s: 'do'; f: (L: Locals) => void }
  | { s: 'call'; f: (L: Locals) => unknown[]; to?: (L: Locals, v: any) => void }
  | { s: 'ret'; f?: (L: Locals) => unknown }
  | { s: 'while'; c: (L: Locals) => unknown; body: Stmt[] }
  | { s: 'if'; c: (L: Locals) => unknown; then: Stmt[]; else: Stmt[] }
  | { s: 'try'; body: Stmt[]; catch?: Stmt[]; finally?: Stmt[] };

/** Statement constructors. In `call`, `f` returns `[callee, thisArg, ...args]`. */
export const S = {
  do: (f: (L: Locals) => void): Stmt => ({ s: 'do', f }),
  call: (f: (L: Locals) => unknown[], to?: (L: Locals, v: any) => void): Stmt => ({ s: 'call', f, to }),
  ret: (f?: (L: Locals) => unknown): Stmt => ({ s: 'ret', f }),
  while: (c: (L: Locals) => unknown, body: Stmt[]): Stmt => ({ s: 'while', c, body }),
  if: (c: (L: Locals) => unknown, then: Stmt[], els: Stmt[] = []): Stmt => ({ s: 'if', c, then, else: els }),
  /** In `catch`, the error is `L.$e`. */
  try: (body: Stmt[], h: { catch?: Stmt[]; finally?: Stmt[] }): Stmt => ({ s: 'try', body, ...h }),
};

function compile(body: Stmt[]): Op[] {
  const code: Op[] = [];
  const emit = (stmts: Stmt[]): void => {
    for (const st of stmts) {
      switch (st.s) {
        case 'do': code.push({ k: 'do', f: st.f }); break;
        case 'call': code.push({ k: 'call', f: st.f, to: st.to }); break;
        case 'ret': code.push({ k: 'ret', f: st.f }); break;
        case 'while': {
          const top = code.length;
          const jf: Op = { k: 'jf', c: st.c, to: -1 };
          code.push(jf);
          emit(st.body);
          // back-edge: count a tick (protocol.md "Preemption")
          code.push({ k: 'call', f: () => [rt.tick, rt], guard: () => --rt.ticks < 0 });
          code.push({ k: 'jmp', to: top });
          jf.to = code.length;
          break;
        }
        case 'if': {
          const jf: Op = { k: 'jf', c: st.c, to: -1 };
          code.push(jf);
          emit(st.then);
          const j: Op = { k: 'jmp', to: -1 };
          code.push(j);
          jf.to = code.length;
          emit(st.else);
          j.to = code.length;
          break;
        }
        case 'try': {
          if (st.finally) {
            const t: Op = { k: 'try', h: -1, fin: true };
            code.push(t);
            emit(st.catch ? [{ s: 'try', body: st.body, catch: st.catch }] : st.body);
            code.push({ k: 'pop' });
            t.h = code.length;
            emit(st.finally);
            code.push({ k: 'endfin' });
          } else {
            const t: Op = { k: 'try', h: -1, fin: false };
            code.push(t);
            emit(st.body);
            code.push({ k: 'pop' });
            const j: Op = { k: 'jmp', to: -1 };
            code.push(j);
            t.h = code.length;
            emit(st.catch ?? []);
            j.to = code.length;
          }
          break;
        }
      }
    }
  };
  emit(body);
  return code;
}

const NONE = {};
const isOverflow = (e: unknown): boolean =>
  e instanceof RangeError && e.message === 'Maximum call stack size exceeded' && e !== rt.spent;

/** Builds a hand-compiled tasklet function named `name`. */
export function tf(name: string, params: string[], body: Stmt[]): (...args: any[]) => any {
  const code = compile(body);
  const holder = {
    [name](this: unknown, ...args: unknown[]): unknown {
      const tk = rt.tok;
      rt.tok = null; // consume the token (protocol.md: a stale token must not match later)
      let L: Locals;
      let pc: number;
      let pendingThrow = false;
      let err: unknown;
      if (rt.rf !== null) {
        const F = rt.rf;
        rt.rf = null;
        L = F.L as Locals;
        const at = F.pc as number;
        pc = at >> 1;
        if (rt.rk) {
          // the call at `pc` threw rt.rv (at a retry entry: the runtime gave up retrying it)
          pendingThrow = true;
          err = rt.rv;
        } else if (at & 1) {
          // value entry: the call at `pc` evaluated to rt.rv
          const op = code[pc] as Extract<Op, { k: 'call' }>;
          op.to?.(L, rt.rv);
          pc++;
        }
      } else {
        L = { this: this, $h: null, $p: null }; // handler stacks, made on first try
        params.forEach((p, i) => (L[p] = args[i]));
        pc = 0;
      }
      for (;;) {
        let inCall = false;
        try {
          if (pendingThrow) {
            pendingThrow = false;
            throw err;
          }
          for (;;) {
            const op = code[pc];
            if (op === undefined) return undefined;
            switch (op.k) {
              case 'do': op.f(L); pc++; break;
              case 'call': {
                // retryable from here: computing the callee and arguments is pure in tests
                inCall = true;
                if (op.guard && !op.guard()) { pc++; inCall = false; break; }
                const [callee, th, ...a] = op.f(L) as [Function, unknown, ...unknown[]];
                rt.tok = callee;
                const v = callee.apply(th, a);
                inCall = false;
                if (rt.u !== 0) {
                  const rec: Frame = { f: self, pc: 2 * pc + 1, up: null, L };
                  if (v !== undefined) (v as Frame).up = rec;
                  else rt.inner = rec;
                  if (tk !== self) return rt.boundary(rec);
                  return rec;
                }
                op.to?.(L, v);
                pc++;
                break;
              }
              case 'jf': pc = op.c(L) ? pc + 1 : op.to; break;
              case 'jmp': pc = op.to; break;
              case 'ret': return op.f ? op.f(L) : undefined;
              case 'try': (L.$h ??= []).push({ pc: op.h, fin: op.fin }); pc++; break;
              case 'pop': {
                const h = L.$h.pop();
                if (h.fin) (L.$p ??= []).push(NONE);
                pc++;
                break;
              }
              case 'endfin': {
                const p = L.$p.pop();
                if (p !== NONE) throw p.e;
                pc++;
                break;
              }
            }
          }
        } catch (e) {
          if (inCall && isOverflow(e)) {
            // the callee never ran: spill this frame and retry the call on a fresh stack
            rt.u = 2;
            const rec: Frame = { f: self, pc: 2 * pc, up: null, L };
            rt.inner = rec; // the innermost record of the spill
            if (tk !== self) return rt.boundary(rec);
            return rec;
          }
          const h = L.$h?.pop();
          if (h === undefined) {
            if (e instanceof RangeError) rt.spent = e;
            throw e;
          }
          if (h.fin) (L.$p ??= []).push({ e });
          else L.$e = e;
          pc = h.pc;
        }
      }
    },
  };
  const self = holder[name];
  return self as (...args: any[]) => any;
}
