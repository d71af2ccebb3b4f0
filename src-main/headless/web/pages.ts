/**
 * The few pages the server writes itself: sign-in, "not built", errors. No scripts: the CSP
 * forbids them.
 */

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Sent with every HTTP answer, pages and files alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
});

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid;
         place-items: center; background: #f4f6f8; color: #1d2733; }
  main { background: #fff; padding: 2rem 2.5rem; border-radius: 8px; max-width: 28rem;
         box-shadow: 0 1px 4px rgb(0 0 0 / 15%); }
  h1 { font-size: 1.25rem; margin: 0 0 1rem; }
  label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
  input { font: inherit; width: 100%; box-sizing: border-box; padding: 0.4rem 0.5rem; }
  button { font: inherit; margin-top: 1rem; padding: 0.4rem 1.2rem; }
  :focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }
  .problem { color: #b00020; }
  code { background: #eef1f4; padding: 0.1rem 0.3rem; border-radius: 3px; }`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Lab Gateway</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** One password field; the form GETs `?token=` on the page the user asked for. */
export function loginPage(action: string, wrongToken: boolean): string {
  const problem = wrongToken
    ? '<p class="problem" role="alert">That access token is not right.</p>\n'
    : '';
  return page(
    'Sign in',
    `<h1>Lab Gateway</h1>
<p>This gateway asks for its access token (the <code>--token</code> it was started with).</p>
${problem}<form method="get" action="${escapeHtml(action)}">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open</button>
</form>`,
  );
}

export function notBuiltPage(): string {
  return page(
    'UI not built',
    `<h1>The UI is not built: run npm run build</h1>
<p>The gateway itself is running. Build the browser UI in the gateway's folder with
<code>npm run build</code>, then reload this page.</p>`,
  );
}

export function errorPage(status: number, words: string): string {
  return page(`Error ${status}`, `<h1>${status}</h1>\n<p>${escapeHtml(words)}</p>`);
}
