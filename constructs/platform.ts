/**
 * Names fixed by docs/contracts.md. Every construct reads them from here so a rename in the
 * contract is a one-line change.
 */
export const SWOOP_NAMESPACE = 'swoop';
export const PLATFORM_CONFIGMAP = 'swoop-platform';
export const PAYLOAD_STORE_KEY = 'payload-store';
export const STATE_URL_KEY = 'state-url';
export const STATE_TOKENS_SECRET = 'swoop-state-tokens';
/** Holds `Bearer <writer token>`: an Argo HTTP header from a Secret is sent as-is. */
export const STATE_WRITER_TOKEN_KEY = 'writer-authorization';
export const ARTIFACT_REPOSITORY_CONFIGMAP = 'artifact-repositories';
export const ARTIFACT_REPOSITORY_KEY = 'default';
export const WORKFLOW_SERVICE_ACCOUNT = 'swoop-workflow';

/** Label values shared by everything the library emits. */
export const PART_OF = 'swoop';
export const MANAGED_BY = 'swoop-platform';

/** Workflow parameters every synthesized WorkflowTemplate declares (contracts.md). */
export const STANDARD_PARAMETERS = ['input', 'payload-id', 'parent-run', 'replace', 'payload-store', 'state-url'] as const;
export type StandardParameterName = (typeof STANDARD_PARAMETERS)[number];

/** Env vars and Argo input parameters of the task interface (contracts.md). */
export const INPUT_ENV = 'SWOOP_INPUT';
export const OUTPUT_ENV = 'SWOOP_OUTPUT';
export const INPUT_PARAM = 'input';
export const OUTPUT_PARAM = 'output';

/** Name of the template inside each task-library WorkflowTemplate. */
export const TASK_ENTRY_TEMPLATE = 'main';
