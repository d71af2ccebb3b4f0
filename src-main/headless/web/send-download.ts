/**
 * Streams an export to the browser as a file download, reading the store only as fast as the
 * browser takes the bytes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExportPlan } from '../../service/exports';
import { ChunkSourceError, DestinationClosedError, writeChunks } from '../../service/write-chunks';

export async function sendDownload(
  request: IncomingMessage,
  response: ServerResponse,
  plan: ExportPlan,
  headers: Readonly<Record<string, string>>,
  log: (line: string) => void,
): Promise<void> {
  response.writeHead(200, {
    ...headers,
    'Content-Type': contentType(plan.mimeType),
    'Content-Disposition': attachment(plan.fileName),
    'Cache-Control': 'no-store',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  try {
    await writeChunks(plan.chunks(), response);
  } catch (error) {
    // The status is already sent; cutting the connection short is how the browser learns that
    // the download failed, instead of keeping a file that looks complete and is not.
    response.destroy();
    if (error instanceof DestinationClosedError) {
      log(`the download of ${plan.fileName} stopped: the browser closed the connection`);
    } else if (error instanceof ChunkSourceError) {
      log(
        `the download of ${plan.fileName} failed: the history could not be read: ${error.message}`,
      );
    } else {
      log(`the download of ${plan.fileName} failed: ${String(error)}`);
    }
  }
}

function contentType(mimeType: string): string {
  return mimeType.startsWith('text/') || mimeType === 'application/json'
    ? `${mimeType}; charset=utf-8`
    : mimeType;
}

/** RFC 6266: a plain ASCII name for every browser, and the exact name in UTF-8 beside it. */
function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
