/** Prompt files the prompt tests share. */
export const SUPPORT_V1 = `
name: support-reply
description: First answer to a support ticket
variables:
  customer_name: { type: string, maxLength: 40 }
  question: { type: string }
  tone: { type: enum, values: [formal, friendly], default: friendly }
  order: { type: object, required: false }
  attempts: { type: integer, required: false }
messages:
  - role: system
    content: Answer in a {{tone}} tone.
  - role: user
    content: "{{ customer_name }} asks: {{question}}"
params: { temperature: 0.2, max_tokens: 300 }
`;

/** v1 with a new required variable: callers that do not send it cannot render v2. */
export const SUPPORT_V2 = SUPPORT_V1.replace(
  '  question: { type: string }',
  '  question: { type: string }\n  product: { type: string }',
).replace('content: Answer in a {{tone}} tone.', 'content: Answer in a {{tone}} tone about {{product}}.');

export const support = (extra = '') => `${SUPPORT_V1}${extra}`;

export const minimal = (name: string, text: string) => `
name: ${name}
messages:
  - { role: user, content: "${text}" }
`;
