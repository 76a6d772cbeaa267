/**
 * @module supervisor/lambda-envelope
 * What travels between the Lambda executor and the Nubes runtime inside the function. The executor wraps
 * each invocation in an envelope (the job id, the service, the event or the http body); an S3 trigger
 * invokes the function with a bare S3 event instead, and the runtime takes the service from the function's
 * environment then. The runtime answers with the supervisor's result, the job's log and, for sync calls,
 * the output files, within Lambda's 6 MB response limit.
 */
import { z } from 'zod';

/** The invocation payload the executor sends. */
export const lambdaEnvelopeSchema = z
  .object({
    nubes: z
      .object({
        version: z.literal(1),
        jobId: z.string().min(1),
        /** The service as FUNCTION_CONFIG (base64 JSON): the function's environment holds at most 4 KB. */
        functionConfig: z.string().min(1),
        /** The raw event JSON of a storage event, or the text of an http body. */
        event: z.string(),
        /** An http call's body, base64 (the bytes the script gets as its input file). */
        bodyBase64: z.string().nullable(),
        /** Return the output files in the answer (sync calls). */
        returnFiles: z.boolean(),
      })
      .strict(),
  })
  .strict();

export type LambdaEnvelope = z.infer<typeof lambdaEnvelopeSchema>['nubes'];

/** The runtime's answer (the invocation's response payload). */
export const lambdaAnswerSchema = z
  .object({
    /** The supervisor's result line (see result-line.ts), as text; null when the supervisor itself failed. */
    resultLine: z.string().nullable(),
    /** The job's log, its last `maxLogBytes` when longer (the whole log is in CloudWatch Logs). */
    log: z.string(),
    logTruncated: z.boolean(),
    /** TMP_OUTPUT_DIR's files for a sync call, when asked and small enough to travel. */
    files: z.array(z.object({ name: z.string().min(1), base64: z.string() }).strict()),
    filesOmitted: z.boolean(),
  })
  .strict();

export type LambdaAnswer = z.infer<typeof lambdaAnswerSchema>;

/** Most of the job's log carried in an answer. */
export const ANSWER_MAX_LOG_BYTES = 512 * 1024;
/** Most output bytes carried in an answer (base64 grows them by a third; Lambda's limit is 6 MB). */
export const ANSWER_MAX_FILE_BYTES = 3 * 1024 * 1024;
