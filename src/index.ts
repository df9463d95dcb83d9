// The public library API.
export { run, type RunOptions, type RunResult } from './run/run.ts';
export { Policy } from './policy/policy.ts';
export { PolicyBuilder, policyFromObject, type PolicyObject } from './policy/config.ts';
export { PolicyError } from './policy/rule.ts';
export { Checker } from './policy/checker.ts';
export { FileAuditLog, MemoryAuditLog } from './policy/audit.ts';
export type { AuditEvent, AuditSink, Decision, Direction, Request } from './policy/types.ts';
export { NetworkCore } from './net/core.ts';
export { NetError, DEFAULT_LIMITS, type Accounting, type Limits, type SocketAddress } from './net/types.ts';
export { serve, DEFAULT_REQUEST_TIMEOUT_MS, type ServeOptions, type Server } from './serve/server.ts';
