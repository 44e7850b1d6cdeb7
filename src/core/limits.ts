/**
 * Size bounds of everything a caller can store. They keep one agent from filling the database or another agent's
 * context window by accident; each is documented in docs/limits.md.
 */
export const LIMITS = {
  name: 100,
  title: 200,
  shortText: 2_000,
  longText: 20_000,
  messageContent: 20_000,
  factKey: 200,
  factValue: 20_000,
  documentContent: 262_144,
  label: 50,
  listItems: 50,
  agentId: 64,
  pageSize: 500,
  cursor: 500,
  idempotencyKey: 200,
  /** Bytes of one answer's JSON; the MCP layer sends it twice (text and structured content), ≈1 MB on the wire. */
  answerBytes: 512 * 1024,
  /** Characters of a body (description, comment, value) inside a list or feed before it is cut. */
  listBody: 2_000,
  /**
   * What a count that grows with history (unread mail, unread notifications) counts up to: beyond it the answer
   * says `…_capped: true` instead of counting every row an agent never read, on every call.
   */
  countCap: 1_000,
} as const;
