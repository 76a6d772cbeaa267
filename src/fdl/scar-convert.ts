/**
 * @module fdl/scar-convert
 * Turns one SCAR function (`functions.aws[i]`) into OSCAR Service JSON, the form every Nubes service takes.
 * What maps is mapped (name, image, init_script, memory in MB, timeout, variables, input/output, Batch
 * resources in `batch` mode, the execution mode); every AWS-only setting becomes a warning at its line, never a silent drop.
 */
import type { ScarFunctionJson } from './scar-schema.js';
import type { ValuePath } from './yaml-tree.js';

/** SCAR's defaults for a function that does not say (from its `scar.cfg`). */
const SCAR_DEFAULT_MEMORY_MB = 512;
const SCAR_DEFAULT_TIMEOUT_SECONDS = 300;
const SCAR_DEFAULT_BATCH_VCPUS = 1;
const SCAR_DEFAULT_BATCH_MEMORY_MB = 1024;

/** A warning about one key of the function item, relative to the item. */
export interface ScarWarning {
  path: ValuePath;
  message: string;
}

export interface ScarConversion {
  /** Service JSON, not yet validated (the name, for one, may not be DNS-safe). */
  json: Record<string, unknown>;
  /** Which lambda key the script came from, to locate a missing script file. */
  scriptKey: 'init_script' | 'run_script' | undefined;
  warnings: ScarWarning[];
  /** Translates a path of `json` to the path of the item's key it came from. */
  sourcePath: (jsonPath: ValuePath) => ValuePath;
}

const UNUSED_LAMBDA_KEYS: Record<string, string> = {
  boto_profile: 'AWS credentials profile',
  region: 'AWS region',
  layers: 'Lambda layers',
  runtime: 'Lambda runtime',
  architectures: 'Lambda architecture',
  vpc: 'Lambda VPC',
  file_system: 'EFS mounts',
  supervisor: 'faas-supervisor release',
  deployment: 'deployment package settings',
  description: 'Lambda description',
  handler: 'Lambda handler',
  invocation_type: 'default invocation type',
  asynchronous: 'default invocation mode',
  log_type: 'Lambda log type',
  tags: 'Lambda tags',
  config_path: 'SCAR configuration path',
  extra_payload: 'extra payload folder',
};

const UNUSED_SECTIONS: Record<string, string> = {
  iam: 'IAM role: not used; jobs run with the credentials of the Nubes platform',
  api_gateway:
    'API Gateway: not used; Nubes serves synchronous calls itself at POST /run/<name> (and /job/<name>)',
  cloudwatch: 'CloudWatch: not used; Nubes keeps job logs (GET /system/logs/<name>)',
  ecr: 'ECR settings: not used; Nubes does not build images',
  s3: 'S3 client settings: not used',
};

/** Converts a validated SCAR function item; `json.script` is the script path as written (the parser inlines it). */
export function scarToServiceJson(item: ScarFunctionJson): ScarConversion {
  const fn = item.lambda;
  const warnings: ScarWarning[] = [];
  const warn = (path: ValuePath, message: string) => warnings.push({ path, message });
  const mode = fn.execution_mode ?? 'lambda';
  const inBatch = mode === 'batch';

  for (const [key, what] of Object.entries(UNUSED_LAMBDA_KEYS)) {
    if ((fn as Record<string, unknown>)[key] !== undefined)
      warn(['lambda', key], `${what}: AWS-only, not used by Nubes`);
  }
  for (const [key, message] of Object.entries(UNUSED_SECTIONS)) {
    if ((item as Record<string, unknown>)[key] !== undefined) warn([key], message);
  }

  // The script: init_script, else the run_script SCAR would send with each `scar run`.
  let scriptKey: ScarConversion['scriptKey'];
  if (fn.init_script !== undefined) {
    scriptKey = 'init_script';
    if (fn.run_script !== undefined)
      warn(['lambda', 'run_script'], 'run_script: not used; the service runs init_script');
  } else if (fn.run_script !== undefined) {
    scriptKey = 'run_script';
    warn(
      ['lambda', 'run_script'],
      'run_script becomes the service script (SCAR sends it with each `scar run`)',
    );
  }

  const container = fn.container ?? {};
  let image = container.image;
  let imageKey: ValuePath = ['lambda', 'container', 'image'];
  if (image === undefined && container.image_file !== undefined) {
    image = `docker-archive:${container.image_file}`;
    imageKey = ['lambda', 'container', 'image_file'];
    warn(imageKey, `image_file: recorded as image "${image}"; Nubes does not upload the tarball`);
  } else if (container.image_file !== undefined) {
    warn(['lambda', 'container', 'image_file'], 'image_file: not used; the service runs container.image');
  }
  if (container.timeout_threshold !== undefined) {
    warn(
      ['lambda', 'container', 'timeout_threshold'],
      'timeout_threshold: not used; uploads are not cut short by the timeout',
    );
  }
  if (container.create_image !== undefined)
    warn(['lambda', 'container', 'create_image'], 'create_image: not used; Nubes does not build images');

  // SCAR gives the udocker container only container.environment; the Lambda environment reaches the
  // supervisor. Nubes has no wrapper around the script, so both reach it, the container's winning.
  const variables: Record<string, string> = { ...fn.environment, ...container.environment };
  if (fn.environment !== undefined) {
    warn(
      ['lambda', 'environment'],
      'the Lambda environment is passed to the script too (container.environment wins on conflicts)',
    );
  }

  const json: Record<string, unknown> = { name: fn.name };
  if (image !== undefined) json.image = image;
  if (scriptKey !== undefined) json.script = fn[scriptKey];
  if (fn.log_level !== undefined) json.log_level = fn.log_level;
  if (container.alpine !== undefined) json.alpine = container.alpine;
  if (fn.file_stage_in !== undefined) json.file_stage_in = fn.file_stage_in;
  if (fn.input !== undefined) json.input = fn.input;
  if (fn.output !== undefined) json.output = fn.output;

  const batch = item.batch;
  if (inBatch) {
    // In `batch` mode the Lambda only dispatches: the job gets the Batch job definition's resources.
    json.cpu = String(batch?.vcpus ?? SCAR_DEFAULT_BATCH_VCPUS);
    json.memory = `${batch?.memory ?? SCAR_DEFAULT_BATCH_MEMORY_MB}Mi`;
    if (batch?.enable_gpu !== undefined) json.enable_gpu = batch.enable_gpu;
    Object.assign(variables, batch?.environment);
    if (fn.timeout !== undefined) json.timeout = fn.timeout;
    if (fn.memory !== undefined)
      warn(['lambda', 'memory'], "memory: the dispatching Lambda's memory; jobs get batch.memory");
    json.execution_mode = 'batch';
    for (const key of [
      'boto_profile',
      'region',
      'state',
      'type',
      'multi_node_parallel',
      'compute_resources',
      'service_role',
    ]) {
      if ((batch as Record<string, unknown> | undefined)?.[key] !== undefined)
        warn(['batch', key], `batch.${key}: AWS-only, not used by Nubes`);
    }
  } else {
    json.memory = `${fn.memory ?? SCAR_DEFAULT_MEMORY_MB}Mi`;
    json.timeout = fn.timeout ?? SCAR_DEFAULT_TIMEOUT_SECONDS;
    // lambda-batch: the function executor first; a job that outgrows it is resubmitted to the batch one.
    if (fn.execution_mode !== undefined)
      json.execution_mode = mode === 'lambda' ? 'function' : 'function-batch';
    if (batch !== undefined) {
      warn(
        ['batch'],
        mode === 'lambda-batch'
          ? "AWS Batch settings: not used; a job resubmitted to the batch executor keeps the function's resources"
          : `AWS Batch settings: not used (execution_mode is ${mode})`,
      );
    }
  }
  if (Object.keys(variables).length > 0) json.environment = { variables };

  const sourcePath = (jsonPath: ValuePath): ValuePath => {
    const [head, ...rest] = jsonPath;
    switch (head) {
      case 'image':
        return imageKey;
      case 'script':
        return ['lambda', scriptKey ?? 'init_script'];
      case 'cpu':
        return ['batch', 'vcpus'];
      case 'memory':
        return inBatch ? ['batch', 'memory'] : ['lambda', 'memory'];
      case 'enable_gpu':
        return ['batch', 'enable_gpu'];
      case 'alpine':
        return ['lambda', 'container', 'alpine'];
      case 'environment':
        // environment.variables.KEY: the container's spelling is the likelier source.
        return ['lambda', 'container', 'environment', 'Variables', ...rest.slice(1)];
      case undefined:
        return ['lambda'];
      default:
        return ['lambda', head, ...rest];
    }
  };

  return { json, scriptKey, warnings, sourcePath };
}
