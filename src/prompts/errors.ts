/**
 * The prompt registry's errors. Each is a KeelError with an existing code, so the HTTP layer answers
 * with the right status and a message that names the problem (variable, field or reference).
 */
import { KeelError } from '../core/errors.ts';

/** A render-time variable problem: missing, mistyped, unknown, or used by the template but undeclared. */
export class PromptVariableError extends KeelError {
  /** The variable (or `variable.field`) at fault; '' when the variables value itself is wrong. */
  readonly variable: string;

  constructor(variable: string, problem: string) {
    const path = variable === '' ? 'variables' : `variables.${variable}`;
    super('KEEL_INVALID_REQUEST', `${path}: ${problem}`, { param: path });
    this.name = 'PromptVariableError';
    this.variable = variable;
  }
}

/** A prompt file (YAML or JSON) that does not parse or validate; `issues` are `path: problem` lines. */
export class PromptFileError extends KeelError {
  readonly issues: string[];

  constructor(issues: string[], source?: string) {
    const where = source ? ` ${source}` : '';
    super('KEEL_INVALID_REQUEST', `invalid prompt file${where}: ${issues.join('; ')}`, {
      ...(issues[0] ? { param: issues[0].split(':')[0] } : {}),
    });
    this.name = 'PromptFileError';
    this.issues = issues;
  }
}

/** No such prompt, version or label. */
export class PromptNotFoundError extends KeelError {
  constructor(message: string, param = 'ref') {
    super('KEEL_NOT_FOUND', message, { param });
    this.name = 'PromptNotFoundError';
  }
}

/** A well-formed request the registry's state refuses (a bad reference, no earlier label step). */
export class PromptRequestError extends KeelError {
  constructor(message: string, param?: string) {
    super('KEEL_INVALID_REQUEST', message, param === undefined ? {} : { param });
    this.name = 'PromptRequestError';
  }
}
