/**
 * Exports on the desktop: the user picks the file in the system's save dialog, and the export is
 * streamed into it from the store.
 */
import path from 'node:path';
import { dialog, type BrowserWindow, type FileFilter, type SaveDialogOptions } from 'electron';
import { writeExportFile } from '../service/export-file';
import type { DeliverExport, ExportPlan } from '../service/exports';

const FILTER_NAMES: Readonly<Record<string, string>> = {
  '.csv': 'CSV of results',
  '.json': 'JSON',
  '.bin': 'Raw bytes',
};

export interface ExportDialogOptions {
  /** The window the dialog belongs to, when one is open. */
  parent(): BrowserWindow | undefined;
  /** The folder the dialog opens in. */
  folder(): string;
}

export function exportThroughSaveDialog(options: ExportDialogOptions): DeliverExport {
  return async (plan) => {
    const parent = options.parent();
    const settings: SaveDialogOptions = {
      title: 'Save the export',
      defaultPath: path.join(options.folder(), plan.fileName),
      filters: filtersFor(plan),
      properties: ['createDirectory', 'showOverwriteConfirmation'],
    };
    const choice = await (parent
      ? dialog.showSaveDialog(parent, settings)
      : dialog.showSaveDialog(settings));
    if (choice.canceled || !choice.filePath) {
      return { fileName: plan.fileName, count: null, savedTo: null, downloadUrl: null };
    }
    const count = await writeExportFile(plan, choice.filePath);
    return {
      fileName: path.basename(choice.filePath),
      count,
      savedTo: choice.filePath,
      downloadUrl: null,
    };
  };
}

function filtersFor(plan: ExportPlan): FileFilter[] {
  const extension = path.extname(plan.fileName);
  const name = FILTER_NAMES[extension];
  const all = { name: 'All files', extensions: ['*'] };
  return name ? [{ name, extensions: [extension.slice(1)] }, all] : [all];
}
