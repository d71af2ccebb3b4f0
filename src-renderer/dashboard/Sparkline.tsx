import { plural } from '../format';

const WIDTH = 240;
const HEIGHT = 36;

/** Messages per minute over the last hour, oldest first, as a small line chart. */
export function Sparkline({ perMinute }: { perMinute: readonly number[] | undefined }) {
  if (!perMinute || perMinute.length === 0) {
    // The hourly figures come every few seconds; until then the counts above are all there is.
    return <p className="spark-empty">Last hour's traffic: loading…</p>;
  }
  const total = perMinute.reduce((sum, n) => sum + n, 0);
  const peak = Math.max(...perMinute);
  const latest = perMinute[perMinute.length - 1] ?? 0;
  const scale = peak > 0 ? (HEIGHT - 4) / peak : 0;
  const step = perMinute.length > 1 ? WIDTH / (perMinute.length - 1) : WIDTH;
  const points = perMinute.map(
    (n, i) => `${(i * step).toFixed(1)},${(HEIGHT - 2 - n * scale).toFixed(1)}`,
  );
  const line = points.join(' ');
  const area = `0,${HEIGHT} ${line} ${WIDTH},${HEIGHT}`;
  const label = `Messages per minute over the last hour: ${plural(total, 'message')} in total, at most ${peak} a minute, ${latest} in the last minute`;
  return (
    <div className="spark">
      <svg
        className="spark-chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={label}
      >
        <polygon className="spark-area" points={area} />
        <polyline className="spark-line" points={line} vectorEffect="non-scaling-stroke" />
      </svg>
      <p className="spark-caption" aria-hidden="true">
        <span>Last hour: {plural(total, 'message')}</span>
        <span>peak {peak}/min</span>
      </p>
    </div>
  );
}
