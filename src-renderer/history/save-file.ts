import { base64ToBytes } from './control-symbols';

export interface FileToSave {
  fileName: string;
  mimeType: string;
  content: string;
  encoding: 'utf8' | 'base64';
}

/** Revoking the URL at once can cancel a download that has not started reading it yet. */
const REVOKE_AFTER_MS = 60_000;

/** Hands content to the browser as a download, the same in Electron and in a browser tab. */
export function saveFile(file: FileToSave, doc: Document = document): void {
  const data = file.encoding === 'base64' ? base64ToBytes(file.content) : file.content;
  const url = URL.createObjectURL(new Blob([data], { type: file.mimeType }));
  const link = doc.createElement('a');
  link.href = url;
  link.download = file.fileName;
  link.hidden = true;
  doc.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}
