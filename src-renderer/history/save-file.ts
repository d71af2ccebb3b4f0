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
