/**
 * @module fdl/scar-schema
 * SCAR's FDL (v4.x, `functions.aws`): one item per function, with the `lambda` definition and the settings
 * of the AWS services around it. SCAR deep-merges each item over its `scar.cfg` defaults, so every key of
 * that default configuration is a valid FDL key too; the schema lists them all (from SCAR's `cfgfile.py`,
 * `docs/source/*.rst` and its examples) and rejects anything else.
 */
import { z } from 'zod';
import { LOG_LEVELS } from './service-json.js';
import { bool, choice, num, opt, strictObject, text, textMap } from './schema-kit.js';
import { storageIoSchema } from './storage-json.js';

const optText = () => opt(text());
const optTexts = () => opt(z.array(text()));
const optFlag = () => opt(bool());
const optCount = () => opt(num({ integer: true, min: 0 }));

/** `environment: {Variables: {...}}` (SCAR's Lambda-style spelling; the lower-case one is accepted as well). */
const scarEnvironmentSchema = strictObject({
  Variables: opt(textMap()),
  variables: opt(textMap()),
}).transform((env) => ({
  ...env.variables,
  ...env.Variables,
}));

const containerSchema = strictObject({
  image: optText(),
  /** A `docker save` tarball loaded by udocker instead of pulling `image`. */
  image_file: optText(),
  environment: opt(scarEnvironmentSchema),
  timeout_threshold: opt(num({ min: 0 })),
  alpine: optFlag(),
  create_image: optFlag(),
});

/** The `lambda` section: the function itself. */
export const scarLambdaSchema = strictObject({
  name: text({ nonEmpty: true }),
  boto_profile: optText(),
  region: optText(),
  /** MB. @default 512 */
  memory: opt(num({ integer: true, min: 1 })),
  /** Seconds. @default 300 */
  timeout: opt(num({ min: 1 })),
  execution_mode: opt(choice(['lambda', 'lambda-batch', 'batch'] as const)),
  log_level: opt(choice(LOG_LEVELS, { caseInsensitive: true })),
  layers: optTexts(),
  /** The Lambda's own environment (SCAR's supervisor sees it; the udocker container does not). */
  environment: opt(scarEnvironmentSchema),
  init_script: optText(),
  run_script: optText(),
  container: opt(containerSchema),
  input: opt(z.array(storageIoSchema)),
  output: opt(z.array(storageIoSchema)),
  supervisor: opt(strictObject({ version: optText(), layer_name: optText(), license_info: optText() })),
  deployment: opt(
    strictObject({ bucket: optText(), max_payload_size: optCount(), max_s3_payload_size: optCount() }),
  ),
  runtime: optText(),
  architectures: opt(z.array(choice(['x86_64', 'arm64'] as const))),
  vpc: opt(strictObject({ SubnetIds: optTexts(), SecurityGroupIds: optTexts() })),
  file_system: opt(
    z.array(strictObject({ Arn: text({ nonEmpty: true }), LocalMountPath: text({ nonEmpty: true }) })),
  ),
  extra_payload: optText(),
  file_stage_in: optFlag(),
  description: optText(),
  handler: optText(),
  invocation_type: optText(),
  asynchronous: optFlag(),
  log_type: optText(),
  tags: opt(textMap()),
  config_path: optText(),
});
export type ScarLambdaJson = z.infer<typeof scarLambdaSchema>;

const batchSchema = strictObject({
  boto_profile: optText(),
  region: optText(),
  vcpus: opt(num({ min: 0 })),
  /** MiB. @default 1024 */
  memory: opt(num({ integer: true, min: 1 })),
  enable_gpu: optFlag(),
  state: optText(),
  type: optText(),
  environment: opt(scarEnvironmentSchema),
  multi_node_parallel: opt(
    strictObject({ enabled: optFlag(), number_nodes: optCount(), main_node_index: optCount() }),
  ),
  compute_resources: opt(
    strictObject({
      security_group_ids: optTexts(),
      type: optText(),
      desired_v_cpus: optCount(),
      min_v_cpus: optCount(),
      max_v_cpus: optCount(),
      subnets: optTexts(),
      instance_types: optTexts(),
      launch_template_name: optText(),
      instance_role: optText(),
    }),
  ),
  service_role: optText(),
});
export type ScarBatchJson = z.infer<typeof batchSchema>;

/** A free-form AWS structure (API Gateway method/integration settings, the S3 event template). */
const awsStructure = () => opt(z.record(z.string(), z.unknown()));

/** One item of `functions.aws`. */
export const scarFunctionSchema = strictObject({
  lambda: scarLambdaSchema,
  iam: opt(strictObject({ boto_profile: optText(), role: optText() })),
  api_gateway: opt(
    strictObject({
      name: optText(),
      boto_profile: optText(),
      region: optText(),
      endpoint: optText(),
      request_parameters: awsStructure(),
      http_method: optText(),
      method: awsStructure(),
      integration: awsStructure(),
      path_part: optText(),
      stage_name: optText(),
      service_id: optText(),
      source_arn_testing: optText(),
      source_arn_invocation: optText(),
    }),
  ),
  cloudwatch: opt(
    strictObject({ boto_profile: optText(), region: optText(), log_retention_policy_in_days: optCount() }),
  ),
  batch: opt(batchSchema),
  ecr: opt(strictObject({ delete_image: optFlag(), boto_profile: optText(), region: optText() })),
  s3: opt(strictObject({ boto_profile: optText(), region: optText(), event: awsStructure() })),
});
export type ScarFunctionJson = z.infer<typeof scarFunctionSchema>;
