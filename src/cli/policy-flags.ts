// The policy flags of the CLI: parsed by the policy module's own grammar, in command-line order.
import type { FlagSpec, ParsedFlag } from './args.ts';
import { formatAddress } from './listen.ts';
import { parsePolicyFlag, PolicyBuilder } from '../policy/config.ts';
import type { Policy } from '../policy/policy.ts';
import type { SocketAddress } from '../net/types.ts';

export const POLICY_FLAGS: Record<string, FlagSpec> = {
  '--allow-net': { arity: 'optional', value: 'RULES', help: 'outbound connect/send (and replies) to RULES; alone: everything' },
  '--allow-listen': { arity: 'required', value: 'RULES', help: 'bind and listen on RULES (accept any peer unless --allow-accept)' },
  '--allow-accept': { arity: 'required', value: 'RULES', help: 'peers that may be accepted' },
  '--allow-lookup': { arity: 'required', value: 'NAMES', help: 'name resolution only' },
  '--deny-net': { arity: 'required', value: 'RULES', help: 'deny RULES in every direction (wins over every allow)' },
  '--policy': { arity: 'required', value: 'FILE', help: 'read rules from a JSON policy file' },
};

/** Builds the guest's policy from the flags. Each `--listen` address adds its listen grant; sockets
 *  inherited from systemd add only what a listen grant implies for accept (any peer, unless
 *  `--allow-accept` narrows it), since their addresses are the operator's business. */
export function policyFromFlags(flags: readonly ParsedFlag[], listen: readonly SocketAddress[], inherited: boolean): Policy {
  const b = new PolicyBuilder();
  for (const f of flags) if (f.name in POLICY_FLAGS) b.flag(f.name, f.value);
  for (const addr of listen) b.entries.push(...parsePolicyFlag('--allow-listen', formatAddress(addr), '--listen'));
  if (inherited) b.entries.push(...parsePolicyFlag('--allow-listen', '*', '--inherit-listen-fds').filter((e) => e.impliedAccept));
  return b.build();
}
