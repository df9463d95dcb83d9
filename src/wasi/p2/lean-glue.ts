// Lean host-call glue for jco-transpiled components (applied by component.ts when transpiling).
//
// jco 1.35's generated trampolines run every host call, even a plain synchronous one, through the
// component-model-async task machinery (a task and a subtask per call, their waitables and
// promises, current-task bookkeeping, debug-log argument objects) and wrap every import in
// `_lowerImportBackwardsCompat`. For a WASI 0.2 component, which has no async lifts or lowers,
// that bookkeeping does nothing observable but costs ~6 µs per synchronous call and ~16 µs per
// `poll` (measured on Node 24), 10-40x the call itself. This rewrite keeps each trampoline's
// lifting, lowering, resource and error handling exactly as generated and removes only the task
// machinery around the host call; the core instance then imports the trampoline directly (sync) or
// through `new WebAssembly.Suspending(...)` (imports listed as async), which returns without
// suspending when the host answers synchronously (a `poll` on something already ready).
//
// Exports get the same treatment once every import has been rewritten (a trampoline left as
// generated may look for the current task): the task, its lock and its promises go, the argument
// lowering, the core call, result lifting and post-return stay. An export keeps its
// `WebAssembly.promising` stack only when some import can suspend; a component that imports
// nothing that can (a handler that only writes its response) is called without a stack switch.
//
// Every step checks the shape it expects; a trampoline that does not match is left exactly as
// jco generated it (and still works through the original wrappers).

export interface LeanGlueResult {
  code: string;
  /** Trampolines rewritten. */
  leaned: string[];
  /** Trampolines (and exports) left as generated, with why. */
  skipped: { name: string; reason: string }[];
  /** Host functions (by jco's name) whose byte-list argument is passed as a view of guest memory. */
  borrowed: string[];
  /** Export functions rewritten. */
  exportsLeaned: string[];
  /** The exports call the core functions directly, without `WebAssembly.promising`: nothing the
   *  component imports can suspend. */
  syncExports: boolean;
}

/** Host functions whose list<u8> argument is lifted as a view of guest memory instead of a copy:
 *  output-stream writes, whose sinks copy what they keep (see io/streams.ts), into reused blocks for
 *  sockets. A fresh 64 KiB copy per write made the garbage collector the bulk path's main cost. */
const BORROWED_BYTES = /^wasi:io\/streams@0\.2\.\d+#(write|blockingWriteAndFlush)$/;
const SLICE_LIFT = /new Uint8Array\((memory\d+)\.buffer\.slice\((ptr\d+), \2 \+ (len\d+) \* 1\)\)/;

const DEBUG_DEF = 'if (!globalThis?.process?.env?.JCO_DEBUG) { return; }';

/** Index just past the bracket/paren/brace that closes the one opening at `open`; -1 if none.
 *  Skips string and template literals (no nested template expressions in jco's output). */
function closeOf(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** End (past the `;`) of the statement starting at `start`, at bracket depth 0. */
function statementEnd(text: string, start: number): number {
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      const e = closeOf(text, i);
      if (e < 0) return -1;
      i = e - 1;
      continue;
    }
    if (c === ';') return i + 1;
  }
  return -1;
}

/** Removes `_debugLog(...)` statements. */
function dropDebugLogs(text: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const j = text.indexOf('_debugLog(', i);
    if (j < 0) return out + text.slice(i);
    const end = closeOf(text, j + '_debugLog'.length);
    if (end < 0 || text[end] !== ';') return out + text.slice(i);
    // drop the whole line(s) of the statement, with its indentation
    const lineStart = text.lastIndexOf('\n', j);
    out += text.slice(i, lineStart < i ? j : lineStart);
    i = end + 1;
  }
}

/** Removes whole lines that mention the task machinery. */
function dropTaskLines(text: string): string {
  return text.split('\n').filter((l) => !/\b(task|subtask|parentTask)\b/.test(l) || /^\s*\/\//.test(l)).join('\n');
}

interface Lean {
  name: string;
  isAsync: boolean;
  start: number;
  end: number;
  text: string;
}

function leanOne(name: string, isAsync: boolean, fn: string): string | { skip: string } {
  const A = fn.indexOf('\n    const hostProvided = true;\n');
  if (A < 0) return { skip: 'no host-call prologue' };
  const call = fn.indexOf('_trackHostOperation(() => ', A);
  if (call < 0 || fn.indexOf('_trackHostOperation(', call + 1) >= 0) return { skip: 'not exactly one host call' };
  const callOpen = call + '_trackHostOperation'.length;
  const callEnd = closeOf(fn, callOpen);
  if (callEnd < 0) return { skip: 'unbalanced host call' };
  const expr = fn.slice(callOpen + '(() => '.length, callEnd - 1).trim();
  // the statement wrapping it: _withGlobalCurrentTaskMeta[Async]({ ..., fn: () => _trackHostOperation(...), })
  const wrapName = isAsync ? '_withGlobalCurrentTaskMetaAsync(' : '_withGlobalCurrentTaskMeta(';
  const wrap = fn.lastIndexOf(wrapName, call);
  if (wrap < A) return { skip: 'no task-meta wrapper' };
  const wrapEnd = closeOf(fn, wrap + wrapName.length - 1);
  if (wrapEnd < 0) return { skip: 'unbalanced wrapper' };
  const letRet = fn.indexOf('\n    let ret;\n', A);
  const tryAt = fn.indexOf('\n    try {\n', A);
  if (letRet < 0 || tryAt < 0 || !(letRet < tryAt && tryAt < wrap)) return { skip: 'unexpected call-site layout' };
  const catchAt = fn.indexOf('\n    } catch (', wrapEnd);
  if (catchAt < 0) return { skip: 'no catch' };
  const catchVar = /^\n {4}\} catch \((\w+)\) \{/.exec(fn.slice(catchAt))?.[1];
  const catchEnd = fn.indexOf('\n    }\n', catchAt + 1);
  if (!catchVar || catchEnd < 0) return { skip: 'unexpected catch' };
  const prologue = fn.slice(0, A);
  const tryBody = fn.slice(tryAt, catchAt);
  let catchBody = fn.slice(catchAt, catchEnd + '\n    }\n'.length);
  const suffix = fn.slice(catchEnd + '\n    }\n'.length);

  // the call itself: the host function, nothing around it
  const callSite = tryBody.replace(fn.slice(wrap, wrapEnd), isAsync ? '__take()' : expr).replace(/\bawait\s+__take\(\)/, '__take()');
  catchBody = dropDebugLogs(catchBody).replace(/return task\.completionPromise\(\);/, `throw ${catchVar};`);
  catchBody = dropTaskLines(catchBody);
  let rest = dropTaskLines(dropDebugLogs(suffix));
  const head = dropDebugLogs(prologue);
  let body: string;
  if (!isAsync) {
    body = `${head}\n    let ret;${callSite}${catchBody}${rest}`;
  } else {
    // sync when the host answers synchronously, a promise (suspending the caller) only when it
    // returns one; the original try/catch then sees the settled value
    rest = rest.replace(/\n {2}\}\s*$/, '\n');
    body = `${head}
    let __r, __threw = false, __err;
    try { __r = ${expr}; } catch (__e) { __threw = true; __err = __e; }
    const __take = () => { if (__threw) throw __err; return __r; };
    const __finish = () => {
    let ret;${callSite}${catchBody}${rest}
    };
    if (!__threw && __r !== null && typeof __r === 'object' && typeof __r.then === 'function') {
      return __r.then((v) => { __r = v; return __finish(); }, (x) => { __threw = true; __err = x; return __finish(); });
    }
    return __finish();
  }`;
  }
  if (mentionsTask(body)) return { skip: 'task machinery left after the rewrite' };
  if (/\bawait\b/.test(body)) return { skip: 'await left in the body' };
  return body;
}

/** Word `task`/`subtask`/`parentTask` outside string literals. */
function mentionsTask(text: string): boolean {
  return /\b(task|subtask|parentTask)\b/.test(text.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''"));
}

/** An export function without the task machinery: the same argument lowering, call, result lifting
 *  and post-return as generated, and a guard against a second call entering the instance while one
 *  is suspended (what jco's task lock did; wasinet never does it, but an embedder might). */
function leanExport(fn: string): string | { skip: string } {
  const header = /^ {2}async function ([\w$]+)\(([^)]*)\) \{/.exec(fn);
  if (!header) return { skip: 'unexpected header' };
  if (!fn.includes('callingWasmExport: true') || !fn.includes('const hostProvided = false;')) return { skip: 'not an export' };
  const trapCheck = /getOrCreateAsyncState\(\d+\)\.throwIfTrapped\(\);/.exec(fn)?.[0];
  if (!trapCheck) return { skip: 'no trap check' };
  const outer = fn.indexOf('_withGlobalCurrentTaskMetaAsync({');
  if (outer < 0) return { skip: 'no task-meta wrapper' };
  const arrow = fn.indexOf('fn: async () => {', outer);
  if (arrow < 0) return { skip: 'no inner function' };
  const tryAt = fn.indexOf('try {', arrow);
  if (tryAt < 0 || fn.slice(arrow + 'fn: async () => {'.length, tryAt).trim() !== '') return { skip: 'unexpected inner layout' };
  const tryEnd = closeOf(fn, tryAt + 'try '.length);
  if (tryEnd < 0) return { skip: 'unbalanced try' };
  let inner = fn.slice(tryAt + 'try {'.length, tryEnd - 1);
  // the core call: `_withGlobalCurrentTaskMeta({ ..., fn: () => CALL, })` becomes CALL
  const call = inner.indexOf('_withGlobalCurrentTaskMeta({');
  if (call < 0 || inner.indexOf('_withGlobalCurrentTaskMeta(', call + 1) >= 0) return { skip: 'not exactly one core call' };
  const callEnd = closeOf(inner, call + '_withGlobalCurrentTaskMeta'.length);
  if (callEnd < 0) return { skip: 'unbalanced core call' };
  const expr = /\bfn: \(\) => ([\s\S]*?),\s*\}\)$/.exec(inner.slice(call, callEnd))?.[1];
  if (!expr) return { skip: 'unexpected core call' };
  inner = inner.slice(0, call) + expr + inner.slice(callEnd);
  // a trap: marked (later calls fail at once) and thrown, instead of settling the task
  const settle = inner.indexOf('return task.completionPromise();');
  const caught = settle < 0 ? undefined : [...inner.slice(0, settle).matchAll(/\} catch \((\w+)\) \{/g)].pop()?.[1];
  if (!caught) return { skip: 'unexpected trap handling' };
  inner = inner.replace('return task.completionPromise();', `throw ${caught};`);
  inner = dropTaskLines(dropDebugLogs(inner));
  if (mentionsTask(inner) || inner.includes('_withGlobalCurrentTaskMeta')) return { skip: 'task machinery left after the rewrite' };
  return `  async function ${header[1]}(${header[2]}) {
    ${trapCheck}
    if (__exportBusy) throw new Error('this component instance is already running an export call');
    __exportBusy = true;
    try {${inner}} finally {
      __exportBusy = false;
    }
  }`;
}

export function leanGlue(code: string): LeanGlueResult {
  const leaned: string[] = [];
  const borrowed: string[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const edits: Lean[] = [];
  const defRe = /^ {2}const (_trampoline\d+) = (async )?function\(/gm;
  for (let m = defRe.exec(code); m; m = defRe.exec(code)) {
    const name = m[1]!;
    const isAsync = m[2] !== undefined;
    const start = m.index;
    const headerEnd = code.indexOf('{', start + m[0].length);
    const end = closeOf(code, headerEnd);
    if (headerEnd < 0 || end < 0) {
      skipped.push({ name, reason: 'unbalanced function' });
      continue;
    }
    const fn = code.slice(start, end);
    const r = leanOne(name, isAsync, fn);
    if (typeof r !== 'string') {
      skipped.push({ name, reason: r.skip });
      continue;
    }
    // the wiring: `let trampolineN = <wrapped>;` gets reassigned to the lean function
    const wireAt = code.indexOf(`\n  let ${name.slice(1)} = `);
    if (wireAt < 0) {
      skipped.push({ name, reason: 'no import wiring found' });
      continue;
    }
    const wireEnd = statementEnd(code, wireAt + 1);
    if (wireEnd < 0) {
      skipped.push({ name, reason: 'unbalanced import wiring' });
      continue;
    }
    const header = isAsync ? fn.slice(0, fn.indexOf('{') + 1).replace('async function', 'function') : '';
    let text = isAsync ? header + r.slice(r.indexOf('{') + 1) : r;
    const fnName = new RegExp(`\\n  ${name}\\.fnName = '([^']*)';`).exec(code)?.[1] ?? '';
    if (BORROWED_BYTES.test(fnName) && SLICE_LIFT.test(text)) {
      text = text.replace(SLICE_LIFT, 'new Uint8Array($1.buffer, $2, $3)');
      borrowed.push(fnName);
    }
    try {
      new Function(text); // a syntax check only: the body is never called
    } catch (e) {
      skipped.push({ name, reason: `rewrite does not parse: ${(e as Error).message}` });
      continue;
    }
    edits.push({ name, isAsync, start, end, text });
    edits.push({
      name: `${name}:wire`, isAsync, start: wireEnd, end: wireEnd,
      text: `\n  ${name.slice(1)} = ${isAsync ? `new WebAssembly.Suspending(${name})` : name};`,
    });
    leaned.push(name);
  }
  // Exports lose their task bookkeeping only when every import did: a trampoline left as generated
  // may look for the current task.
  const exportsLeaned: string[] = [];
  let syncExports = false;
  if (skipped.length === 0 && leaned.length > 0) {
    const expRe = /^ {2}async function ([\w$]+)\(/gm;
    const exportEdits: Lean[] = [];
    const callees: string[] = [];
    for (let m = expRe.exec(code); m; m = expRe.exec(code)) {
      const start = m.index;
      const end = closeOf(code, code.indexOf('{', start + m[0].length));
      if (end < 0) continue;
      const fn = code.slice(start, end);
      if (!fn.includes('callingWasmExport: true')) continue;
      const r = leanExport(fn);
      if (typeof r !== 'string') {
        skipped.push({ name: `export ${m[1]}`, reason: r.skip });
        continue;
      }
      try {
        new Function(r.replace(/^ {2}async function/, 'return async function'));
      } catch (e) {
        skipped.push({ name: `export ${m[1]}`, reason: `rewrite does not parse: ${(e as Error).message}` });
        continue;
      }
      exportEdits.push({ name: m[1]!, isAsync: true, start, end, text: r });
      callees.push(...[...r.matchAll(/\bawait ([\w$]+)\(/g)].map((c) => c[1]!));
    }
    if (exportEdits.length > 0) {
      // Nothing the component imports can suspend: its exports need no JSPI stack of their own, and
      // a call runs to its end before the export function returns.
      if (!edits.some((e) => e.isAsync && e.name.endsWith(':wire'))) {
        for (const c of new Set(callees)) {
          const wire = new RegExp(`\\n  ${c.replace(/\$/g, '\\$')} = WebAssembly\\.promising\\(`).exec(code);
          if (!wire) continue;
          const open = wire.index + wire[0].length - 1;
          const close = closeOf(code, open);
          if (close < 0) continue;
          edits.push({ name: `${c}:sync`, isAsync: false, start: wire.index, end: close, text: `\n  ${c} = ${code.slice(open + 1, close - 1)}` });
          for (const e of exportEdits) e.text = e.text.replace(`await ${c}(`, `${c}(`);
          syncExports = true;
        }
      }
      // one flag per instance, declared in the instantiation scope the exports live in (pushed after
      // the export edits: the sort below is stable, and at the same start the insertion goes last)
      const first = exportEdits.reduce((a, b) => (a.start < b.start ? a : b));
      edits.push(...exportEdits);
      edits.push({ name: 'export-busy', isAsync: false, start: first.start, end: first.start, text: '  let __exportBusy = false;\n' });
      exportsLeaned.push(...exportEdits.map((e) => e.name));
    }
  }
  edits.sort((a, b) => b.start - a.start);
  let out = code;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  out = out.replace(`const _debugLog = (...args) => {\n    ${DEBUG_DEF}`,
    `const _debugLogOn = !!globalThis?.process?.env?.JCO_DEBUG;\n  const _debugLog = (...args) => {\n    if (!_debugLogOn) { return; }`);
  return { code: out, leaned, skipped, exportsLeaned, syncExports, borrowed };
}
