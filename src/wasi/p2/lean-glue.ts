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
// Every step checks the shape it expects; a trampoline that does not match is left exactly as
// jco generated it (and still works through the original wrappers).

export interface LeanGlueResult {
  code: string;
  /** Trampolines rewritten. */
  leaned: string[];
  /** Trampolines left as generated, with why. */
  skipped: { name: string; reason: string }[];
}

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
  if (/\b(task|subtask|parentTask)\b/.test(body.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''"))) {
    return { skip: 'task machinery left after the rewrite' };
  }
  if (/\bawait\b/.test(body)) return { skip: 'await left in the body' };
  return body;
}

export function leanGlue(code: string): LeanGlueResult {
  const leaned: string[] = [];
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
    const text = isAsync ? header + r.slice(r.indexOf('{') + 1) : r;
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
  edits.sort((a, b) => b.start - a.start);
  let out = code;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  out = out.replace(`const _debugLog = (...args) => {\n    ${DEBUG_DEF}`,
    `const _debugLogOn = !!globalThis?.process?.env?.JCO_DEBUG;\n  const _debugLog = (...args) => {\n    if (!_debugLogOn) { return; }`);
  return { code: out, leaned, skipped };
}
