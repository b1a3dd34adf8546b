export {
  createGroundworkClient,
  isRunOf,
  isTerminal,
  TERMINAL_STATUSES,
  type AssessmentRequest,
  type ExportRequest,
  type GenerateRequest,
  type GetRunOptions,
  type GroundworkClient,
  type GroundworkClientOptions,
  type ListRunsParams,
  type RequestOptions,
  type ResearchRequest,
  type Run,
  type RunKind,
  type RunEvent,
  type RunList,
  type RunOf,
  type RunResults,
  type RunProgress,
  type RunStatus,
  type StartOptions,
  type WaitForRunOptions,
} from "./client.js";
export { GroundworkProblem, isGroundworkProblem, parseRetryAfter, type FieldError, type ProblemBody, type ProblemSlug, type ProblemType } from "./problem.js";
export { readSSE, type SSEMessage } from "./sse.js";
export type { components, operations, paths } from "./schema.js";
