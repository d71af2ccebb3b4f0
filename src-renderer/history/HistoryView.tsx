export function HistoryView() {
  return <section aria-label="Message history" />;
}
