/**
 * CSV cells as spreadsheets read them, for the history's exports and the test-code table's
 * import and export: quoting, and text that a spreadsheet would run as a formula made harmless.
 */

/**
 * One CSV cell. Text starting with = + - @ (or tab / CR) would be run as a formula by
 * spreadsheets, so it is prefixed with a quote (OWASP's advice on CSV injection); a plain number
 * such as a base excess of -2.5 is left as it is.
 */
export function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  const formula = /^[=+\-@\t\r]/.test(text) && !/^[-+]?\d+(\.\d+)?$/.test(text);
  const safe = formula ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * Rows of CSV text: cells separated by commas or, as spreadsheets set to a decimal comma write
 * them, semicolons (the separator is taken from the first line); quoted cells may hold
 * separators, quotes ("") and line breaks. A quote `csvCell` put before formula-like text is
 * taken off again. Blank lines are dropped.
 */
export function parseCsv(text: string): string[][] {
  const body = text.replace(/^\uFEFF/u, '');
  const firstLine = body.split(/\r?\n/u, 1)[0] ?? '';
  const separator = firstLine.split(';').length > firstLine.split(',').length ? ';' : ',';
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let wasQuoted = false;
  const endCell = () => {
    const text = wasQuoted ? cell : cell.trim();
    row.push(/^'[=+\-@\t\r]/.test(text) ? text.slice(1) : text);
    cell = '';
    wasQuoted = false;
  };
  const endRow = () => {
    endCell();
    if (row.some((c) => c !== '')) rows.push(row);
    row = [];
  };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (quoted) {
      if (ch === '"' && body[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell.trim() === '') {
      quoted = true;
      wasQuoted = true;
      cell = '';
    } else if (ch === separator) endCell();
    else if (ch === '\n') endRow();
    else if (ch !== '\r') cell += ch;
  }
  if (cell !== '' || row.length > 0) endRow();
  return rows;
}
