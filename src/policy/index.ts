// Public surface of the network policy.
export * from './types.ts';
export {
  type Cidr,
  type Family,
  type IP,
  cidrContains,
  formatIP,
  isLoopback,
  isUnspecified,
  normalizeAddress,
  normalizeName,
  parseCidr,
  parseHostname,
  parseIP,
} from './address.ts';
export { type Host, type PortRange, type Rule, PolicyError, parseRule, parseRules } from './rule.ts';
export { type NamesFor, Policy, type PolicyEntry } from './policy.ts';
export {
  type ConfigEntry,
  type PolicyKey,
  type PolicyObject,
  type PolicyRuleGroup,
  PolicyBuilder,
  buildPolicy,
  entriesFromObject,
  isPolicyFlag,
  parsePolicyFlag,
  policyFromObject,
  readPolicyFile,
} from './config.ts';
export { Checker, type CheckerOptions } from './checker.ts';
export { FileAuditLog, MemoryAuditLog } from './audit.ts';
