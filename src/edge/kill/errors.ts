import { KeelError } from '../../core/errors.ts';
import type { KillScope } from '../control-store/types.ts';

/**
 * The error a killed route, feature or tool answers with (503). The operator's reason is not sent to
 * clients (it may be internal); it is in the audit log and `keel kill` lists it.
 */
export class KilledError extends KeelError {
  readonly scope: KillScope;
  readonly subject: string;
  constructor(scope: KillScope, name: string) {
    super('KEEL_KILLED', `${scope} "${name.slice(0, 200)}" is turned off by a kill switch`, {
      ...(scope === 'route' ? { param: 'model' } : scope === 'tool' ? { param: 'tools' } : {}),
    });
    this.name = 'KilledError';
    this.scope = scope;
    this.subject = name;
  }
}

export function killedError(scope: KillScope, name: string): KilledError {
  return new KilledError(scope, name);
}
