// Policy from CLI flags, a JSON policy file, or an object with the file's keys. One grammar for
// all: each key/flag takes a list of RULEs and stands for a fixed set of directions.
import { readFileSync } from 'node:fs';
import { Policy, type PolicyEntry } from './policy.ts';
import { PolicyError, type Rule, isNameRule, parseRule } from './rule.ts';
import { DIRECTIONS, type Direction } from './types.ts';

export type PolicyKey = 'allow-net' | 'allow-listen' | 'allow-accept' | 'allow-lookup' | 'deny-net';
const KEYS: readonly PolicyKey[] = ['allow-net', 'allow-listen', 'allow-accept', 'allow-lookup', 'deny-net'];

/** A PolicyEntry, possibly the accept-from-anyone grant that `allow-listen` implies; buildPolicy
 *  drops those when accept is granted explicitly (e.g. by `--allow-accept`). */
export interface ConfigEntry extends PolicyEntry {
  impliedAccept?: boolean;
}

export interface PolicyRuleGroup {
  action: 'allow' | 'deny';
  directions: Direction[];
  rules: string[];
}

/** The JSON policy file's shape (also accepted from library users). */
export interface PolicyObject {
  'allow-net'?: boolean | string[];
  'allow-listen'?: string[];
  'allow-accept'?: string[];
  'allow-lookup'?: string[];
  'deny-net'?: string[];
  rules?: PolicyRuleGroup[];
}

const ANY_RULE: Rule = { text: '*', host: { kind: 'any' }, ports: null };
const OUTBOUND: readonly Direction[] = ['connect', 'send', 'receive'];
const OUTBOUND_AND_LOOKUP: readonly Direction[] = ['connect', 'send', 'receive', 'lookup'];

/** Entries for one key given its parsed rules. `whole` names the flag/key as a whole (used for the
 *  implied accept entry); each rule carries its own source. */
function entriesFor(key: PolicyKey, rules: { rule: Rule; source: string; where: string }[], whole: string): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  for (const { rule, source, where } of rules) {
    switch (key) {
      case 'allow-net':
        // Name rules (and `*`) also grant looking the name up; IP rules cannot match a lookup.
        out.push({ action: 'allow', directions: isNameRule(rule) ? OUTBOUND_AND_LOOKUP : OUTBOUND, rule, source });
        break;
      case 'allow-listen':
        out.push({ action: 'allow', directions: ['bind', 'listen'], rule, source });
        break;
      case 'allow-accept':
        out.push({ action: 'allow', directions: ['accept'], rule, source });
        break;
      case 'allow-lookup':
        if (!isNameRule(rule)) {
          throw new PolicyError(`invalid rule "${rule.text}" in ${where}: allow-lookup takes host names, "*.suffix" or "*", not IP addresses`);
        }
        if (rule.ports !== null) {
          throw new PolicyError(`invalid rule "${rule.text}" in ${where}: allow-lookup takes names without ports`);
        }
        out.push({ action: 'allow', directions: ['lookup'], rule, source });
        break;
      case 'deny-net':
        out.push({ action: 'deny', directions: DIRECTIONS, rule, source });
        break;
    }
  }
  if (key === 'allow-listen' && rules.length > 0) {
    out.push({ action: 'allow', directions: ['accept'], rule: ANY_RULE, source: whole, impliedAccept: true });
  }
  return out;
}

function flagKey(name: string): string {
  return name.startsWith('--') ? name.slice(2) : name;
}

/** One CLI flag (`--allow-net`, with or without the dashes) and its value (the text after `=`,
 *  undefined if none). `--policy FILE` reads the file. `source` replaces the flag name in
 *  Decision.rule texts and messages. */
export function parsePolicyFlag(name: string, value: string | undefined, source?: string): ConfigEntry[] {
  const key = flagKey(name);
  const label = source ?? `--${key}`;
  if (key === 'policy') {
    if (value === undefined || value === '') throw new PolicyError(`${label} needs a file name`);
    return readPolicyFile(value);
  }
  if (!(KEYS as readonly string[]).includes(key)) {
    throw new PolicyError(`unknown policy flag "${name}" (expected one of ${KEYS.map((k) => '--' + k).join(', ')}, --policy)`);
  }
  const k = key as PolicyKey;
  if (value === undefined) {
    if (k === 'allow-net') return [{ action: 'allow', directions: DIRECTIONS, rule: ANY_RULE, source: label }];
    throw new PolicyError(`${label} needs a value, e.g. ${label}=${k === 'allow-lookup' ? 'example.com' : '127.0.0.1:8080'}`);
  }
  const rules = value.split(',').map((token) => {
    const rule = parseRule(token, label);
    return { rule, source: `${label}=${rule.text}`, where: label };
  });
  return entriesFor(k, rules, `${label}=${value}`);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function stringList(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new PolicyError(`${where}: expected a list of rule strings, got ${typeName(v)}`);
  // An empty list is refused like an empty flag value: `"allow-accept": []` would otherwise be
  // ambiguous between "accept nobody" and "not given".
  if (v.length === 0) throw new PolicyError(`${where}: empty list (omit the key instead)`);
  v.forEach((item, i) => {
    if (typeof item !== 'string') throw new PolicyError(`${where}[${i}]: expected a rule string, got ${typeName(item)}`);
  });
  return v as string[];
}

function rulesAt(list: string[], where: string) {
  return list.map((token, i) => {
    const at = `${where}[${i}]`;
    return { rule: parseRule(token, at), source: at, where: at };
  });
}

const GROUP_KEYS = ['action', 'directions', 'rules'];

/** Entries from an object with the policy file's keys. `sourceName` (e.g. the file name) prefixes
 *  every source and message: `policy.json allow-net[1]`. */
export function entriesFromObject(obj: unknown, sourceName: string): ConfigEntry[] {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new PolicyError(`${sourceName}: expected a JSON object with keys ${[...KEYS, 'rules'].join(', ')}, got ${typeName(obj)}`);
  }
  const out: ConfigEntry[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const where = `${sourceName} ${key}`;
    if (key === 'rules') {
      if (!Array.isArray(value)) throw new PolicyError(`${where}: expected a list of {action, directions, rules} objects, got ${typeName(value)}`);
      value.forEach((group: unknown, gi) => out.push(...groupEntries(group, `${where}[${gi}]`)));
      continue;
    }
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new PolicyError(`${sourceName}: unknown key "${key}" (expected ${[...KEYS, 'rules'].join(', ')})`);
    }
    const k = key as PolicyKey;
    if (k === 'allow-net' && typeof value === 'boolean') {
      if (value) out.push({ action: 'allow', directions: DIRECTIONS, rule: ANY_RULE, source: where });
      continue;
    }
    if (k === 'allow-net' && !Array.isArray(value)) {
      throw new PolicyError(`${where}: expected true, false or a list of rule strings, got ${typeName(value)}`);
    }
    out.push(...entriesFor(k, rulesAt(stringList(value, where), where), where));
  }
  return out;
}

function groupEntries(group: unknown, where: string): ConfigEntry[] {
  if (typeof group !== 'object' || group === null || Array.isArray(group)) {
    throw new PolicyError(`${where}: expected an object {action, directions, rules}, got ${typeName(group)}`);
  }
  const g = group as Record<string, unknown>;
  for (const key of Object.keys(g)) {
    if (!GROUP_KEYS.includes(key)) throw new PolicyError(`${where}: unknown key "${key}" (expected ${GROUP_KEYS.join(', ')})`);
  }
  const action = g.action;
  if (action !== 'allow' && action !== 'deny') {
    throw new PolicyError(`${where}.action: expected "allow" or "deny", got ${JSON.stringify(action) ?? 'nothing'}`);
  }
  const dirs = g.directions;
  if (!Array.isArray(dirs) || dirs.length === 0) {
    throw new PolicyError(`${where}.directions: expected a non-empty list of directions (${DIRECTIONS.join(', ')})`);
  }
  dirs.forEach((d: unknown, i) => {
    if (typeof d !== 'string' || !(DIRECTIONS as readonly string[]).includes(d)) {
      throw new PolicyError(`${where}.directions[${i}]: unknown direction ${JSON.stringify(d)} (expected one of ${DIRECTIONS.join(', ')})`);
    }
  });
  const rules = rulesAt(stringList(g.rules, `${where}.rules`), `${where}.rules`);
  const directions = [...(dirs as Direction[])];
  return rules.map(({ rule, source }) => ({ action, directions, rule, source }));
}

/** Reads a JSON policy file. Sources and messages are prefixed with `path` as given. */
export function readPolicyFile(path: string): ConfigEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PolicyError(`${path}: cannot read policy file: ${(e as Error).message}`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new PolicyError(`${path}: invalid JSON: ${(e as Error).message}`);
  }
  return entriesFromObject(obj, path);
}

/** The Policy for a list of entries. Listening implies accepting any peer, unless some explicit
 *  allow entry grants `accept` (`--allow-accept`, a `rules` group with accept, `--allow-net`
 *  with no value): then accept is exactly what those grant. */
export function buildPolicy(entries: readonly ConfigEntry[]): Policy {
  const narrowed = entries.some((e) => e.action === 'allow' && !e.impliedAccept && e.directions.includes('accept'));
  return new Policy(narrowed ? entries.filter((e) => !e.impliedAccept) : entries);
}

/** A Policy from an object with the policy file's keys. */
export function policyFromObject(obj: PolicyObject, sourceName = 'policy'): Policy {
  return buildPolicy(entriesFromObject(obj, sourceName));
}

/** Collects flags in command-line order; `build()` once all are in (accept narrowing depends on
 *  every flag). */
export class PolicyBuilder {
  readonly entries: ConfigEntry[] = [];

  flag(name: string, value?: string): this {
    this.entries.push(...parsePolicyFlag(name, value));
    return this;
  }

  file(path: string): this {
    this.entries.push(...readPolicyFile(path));
    return this;
  }

  object(obj: PolicyObject, sourceName = 'policy'): this {
    this.entries.push(...entriesFromObject(obj, sourceName));
    return this;
  }

  build(): Policy {
    return buildPolicy(this.entries);
  }
}

/** Whether `name` (with or without `--`) is a policy flag, for CLI argument parsing. */
export function isPolicyFlag(name: string): boolean {
  const key = flagKey(name);
  return key === 'policy' || (KEYS as readonly string[]).includes(key);
}
