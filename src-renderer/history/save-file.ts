/**
 * Starts the browser's own download of an address on the gateway's server, as a link with a
 * `download` attribute does when clicked. The browser streams the file to disk itself, so the
 * export never has to fit in the page's memory.
 */
export function startDownload(url: string, fileName: string, doc: Document = document): void {
  const link = doc.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  doc.body.append(link);
  link.click();
  link.remove();
}

/** Revoking the URL at once can cancel a download that has not started reading it yet. */
const REVOKE_AFTER_MS = 60_000;

/** Saves a small text made in the page (a table as CSV) as a download. */
export function saveText(fileName: string, mimeType: string, text: string, doc = document): void {
  const url = URL.createObjectURL(new Blob([text], { type: mimeType }));
  startDownload(url, fileName, doc);
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}
