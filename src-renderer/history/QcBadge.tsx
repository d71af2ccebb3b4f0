import './qc.css';

/** Marks quality-control and calibration results, which are never forwarded with patient results. */
export function QcBadge() {
  return (
    <span
      className="history-qc"
      title="Quality control or calibration: stored and shown, never forwarded with patient results"
    >
      QC
    </span>
  );
}
