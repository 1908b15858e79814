/**
 * The audit log: who changed what, when and why. Append-only — there is no method to change or
 * remove an entry, the stores have no statement that could (a test greps for one), and the SQLite
 * table has triggers that abort UPDATE and DELETE.
 *
 * Appended by: key create/revoke (Keys), kill/unkill (KillSwitches), config apply/rollback/reject
 * (ConfigReloader).
 */
import { type Clock, systemClock } from '../../core/clock.ts';
import type { AuditEntry, AuditQuery, ControlStore } from '../control-store/types.ts';

export type AuditAction =
  | 'key.create'
  | 'key.revoke'
  | 'kill'
  | 'unkill'
  | 'config.apply'
  | 'config.rollback'
  | 'config.rejected';

export interface AuditInput {
  /** The admin identity, or `system:<what>` for the gateway itself. */
  who: string;
  action: AuditAction | (string & {});
  subject: string;
  reason?: string | undefined;
  details?: unknown;
}

export class AuditLog {
  constructor(
    private readonly store: Pick<ControlStore, 'appendAudit' | 'listAudit'>,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {}

  append(input: AuditInput): Promise<AuditEntry> {
    return this.store.appendAudit({
      at: this.clock.now(),
      who: input.who,
      action: input.action,
      subject: input.subject,
      reason: input.reason ?? null,
      details: input.details ?? null,
    });
  }

  /** Newest first; `since` in ms since the epoch; `limit` default 100, at most 1000. */
  list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    return this.store.listAudit(query);
  }
}
