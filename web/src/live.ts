/**
 * Live job counts shared by every page: one event stream (GET /system/events) for the whole app, opened
 * while some page listens.
 */
import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { subscribeEvents } from './api';

export type Counts = Record<'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled', number>;

export interface Job {
  id: string;
  service: string;
  status: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Cancelled';
  creation_time: string | null;
  start_time: string | null;
  finish_time: string | null;
  exit_code: number | null;
  attempts: number;
  max_attempts: number;
  input: string | null;
  error: { code: string; message: string } | null;
}

export const counts = signal<Record<string, Counts>>({});
export const connected = signal(false);

type JobsListener = (jobs: Job[], deleted: string[], resync: boolean) => void;
const jobListeners = new Set<JobsListener>();
let stop: (() => void) | null = null;
let users = 0;

function start(): void {
  stop = subscribeEvents(
    '/system/events',
    (event, data) => {
      if (event === 'counts') counts.value = data as Record<string, Counts>;
      else if (event === 'jobs') {
        const { jobs, deleted } = data as { jobs: Job[]; deleted: string[] };
        for (const listener of jobListeners) listener(jobs, deleted, false);
      } else if (event === 'resync') {
        for (const listener of jobListeners) listener([], [], true);
      }
    },
    (state) => {
      connected.value = state;
    },
  );
}

/** Keeps the stream open while the calling component is mounted; `onJobs` hears every job change. */
export function useLiveJobs(onJobs?: JobsListener): void {
  useEffect(() => {
    users += 1;
    if (users === 1) start();
    if (onJobs) jobListeners.add(onJobs);
    return () => {
      if (onJobs) jobListeners.delete(onJobs);
      users -= 1;
      if (users === 0) {
        stop?.();
        stop = null;
        connected.value = false;
      }
    };
  }, [onJobs]);
}
