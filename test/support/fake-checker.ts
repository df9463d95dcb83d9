// A PolicyChecker for network-core unit tests: allows everything except what `deny` matches, and
// records every request and pin so tests can assert what the core asked.
import type { Decision, PolicyChecker, Request } from '../../src/policy/types.ts';

export class FakeChecker implements PolicyChecker {
  readonly requests: Request[] = [];
  readonly pins: { name: string; addresses: string[]; ttlMs: number }[] = [];
  deny: (r: Request) => boolean;
  constructor(deny: (r: Request) => boolean = () => false) {
    this.deny = deny;
  }
  check(req: Request): Decision {
    this.requests.push({ ...req });
    return this.deny(req) ? { allow: false, rule: 'default deny' } : { allow: true, rule: 'test' };
  }
  pin(name: string, addresses: readonly string[], ttlMs: number): void {
    this.pins.push({ name, addresses: [...addresses], ttlMs });
  }
  readonly drops: { req: Request; reason: string }[] = [];
  dropped(req: Request, reason: string): void {
    this.drops.push({ req: { ...req }, reason });
  }
  flush(): void {}
}
