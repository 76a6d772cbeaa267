/**
 * Hand-drawn SVG charts (no chart library): stacked bars per minute, a histogram, a line over time. Each
 * chart is an image with a text alternative summarising its data.
 */

const WIDTH = 480;
const HEIGHT = 160;
const PAD = { left: 36, right: 8, top: 8, bottom: 22 };

function niceMax(value: number): number {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / magnitude) * magnitude;
}

function Axis({ max }: { max: number }) {
  const ticks = [0, max / 2, max];
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  return (
    <g class="axis">
      {ticks.map((tick) => {
        const y = PAD.top + plotHeight - (tick / max) * plotHeight;
        return (
          <g key={tick}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y} y2={y} />
            <text x={PAD.left - 4} y={y + 4} text-anchor="end">
              {Number.isInteger(tick) ? tick : tick.toFixed(1)}
            </text>
          </g>
        );
      })}
    </g>
  );
}

export interface Bar {
  label: string;
  values: number[];
}

/** Bars, each stacked from `values` (colours by series index). */
export function BarChart({ title, bars, series }: { title: string; bars: Bar[]; series: string[] }) {
  const max = niceMax(Math.max(0, ...bars.map((bar) => bar.values.reduce((a, b) => a + b, 0))));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / Math.max(1, bars.length);
  const totals = series.map((_, s) => bars.reduce((sum, bar) => sum + (bar.values[s] ?? 0), 0));
  const summary = `${title}: ${series.map((name, s) => `${totals[s]} ${name}`).join(', ')} over ${bars.length} intervals`;
  const labelEvery = Math.ceil(bars.length / 6);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary}>
        <Axis max={max} />
        {bars.map((bar, i) => {
          let y = PAD.top + plotHeight;
          return (
            <g key={i}>
              {bar.values.map((value, s) => {
                const h = (value / max) * plotHeight;
                y -= h;
                return value > 0 ? (
                  <rect
                    key={s}
                    class={`series-${s}`}
                    x={PAD.left + i * slot + 1}
                    y={y}
                    width={Math.max(1, slot - 2)}
                    height={h}
                  >
                    <title>{`${bar.label}: ${value} ${series[s]}`}</title>
                  </rect>
                ) : null;
              })}
              {i % labelEvery === 0 && (
                <text class="label" x={PAD.left + i * slot + slot / 2} y={HEIGHT - 6} text-anchor="middle">
                  {bar.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <p class="legend">
        {series.map((name, s) => (
          <span key={name}>
            <i class={`swatch series-${s}`} /> {name} ({totals[s]})
          </span>
        ))}
      </p>
    </figure>
  );
}

export interface Point {
  timeMs: number;
  values: number[];
}

/** Lines over time, one per series. */
export function LineChart({ title, points, series }: { title: string; points: Point[]; series: string[] }) {
  const max = niceMax(Math.max(0, ...points.flatMap((p) => p.values)));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const first = points[0]?.timeMs ?? 0;
  const last = points[points.length - 1]?.timeMs ?? first + 1;
  const span = Math.max(1, last - first);
  const x = (t: number) => PAD.left + ((t - first) / span) * plotWidth;
  const y = (v: number) => PAD.top + plotHeight - (v / max) * plotHeight;
  const latest = points[points.length - 1];
  const summary = latest
    ? `${title}: now ${series.map((name, s) => `${latest.values[s] ?? 0} ${name}`).join(', ')}; highest ${max}`
    : `${title}: no samples yet`;
  const time = (t: number) =>
    new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary}>
        <Axis max={max} />
        {series.map((_, s) => (
          <polyline
            key={s}
            class={`line series-${s}`}
            points={points
              .map((p) => `${x(p.timeMs).toFixed(1)},${y(p.values[s] ?? 0).toFixed(1)}`)
              .join(' ')}
          />
        ))}
        {points.length > 0 && (
          <>
            <text class="label" x={PAD.left} y={HEIGHT - 6}>
              {time(first)}
            </text>
            <text class="label" x={WIDTH - PAD.right} y={HEIGHT - 6} text-anchor="end">
              {time(last)}
            </text>
          </>
        )}
      </svg>
      <p class="legend">
        {series.map((name, s) => (
          <span key={name}>
            <i class={`swatch line-${s}`} /> {name}
          </span>
        ))}
      </p>
    </figure>
  );
}
