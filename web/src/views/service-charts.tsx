/** A service's charts: jobs finished per minute, durations, queue depth over time (GET /system/stats/{svc}). */
import { useEffect, useState } from 'preact/hooks';
import { enc, getJson } from '../api';
import { BarChart, LineChart } from '../components/charts';

interface Stats {
  per_minute: { minuteMs: number; succeeded: number; failed: number }[];
  durations: { leSeconds: number | null; count: number }[];
  queue_depth: { timeMs: number; queued: number; running: number }[];
}

function bucketLabel(le: number | null, previous: number | null): string {
  const show = (s: number) => (s < 1 ? `${s * 1000}ms` : s < 60 ? `${s}s` : `${s / 60}m`);
  if (le === null) return `>${previous === null ? '' : show(previous)}`;
  return `≤${show(le)}`;
}

/** Reloads when `version` changes (the page bumps it on live job changes, at most every few seconds). */
export function ServiceCharts({ service, version }: { service: string; version: number }) {
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    getJson<Stats>(`/system/stats/${enc(service)}?minutes=30`)
      .then(setStats)
      .catch((e: Error) => setError(e.message));
  }, [service, version]);
  if (error) return <p class="error">{error}</p>;
  if (!stats) return <p>Loading charts…</p>;
  const minuteLabel = (ms: number) =>
    new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return (
    <div class="charts">
      <BarChart
        title="Jobs finished per minute"
        series={['succeeded', 'failed']}
        bars={stats.per_minute.map((m) => ({
          label: minuteLabel(m.minuteMs),
          values: [m.succeeded, m.failed],
        }))}
      />
      <BarChart
        title="Duration distribution (last 30 min)"
        series={['jobs']}
        bars={stats.durations.map((d, i) => ({
          label: bucketLabel(d.leSeconds, stats.durations[i - 1]?.leSeconds ?? null),
          values: [d.count],
        }))}
      />
      <LineChart
        title="Queue depth"
        series={['queued', 'running']}
        points={stats.queue_depth.map((s) => ({ timeMs: s.timeMs, values: [s.queued, s.running] }))}
      />
    </div>
  );
}
