// Browser test: drives code-server (started by e2e/run.sh) with Playwright and
// Debian's Chromium. Runs the real extension against the real nearcode server, and
// compares what the editor shows with what the server itself ranks (through the CLI on
// the same index).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, type Locator, type Page, chromium } from 'playwright-core';

const URL = requireEnv('NEARCODE_E2E_URL');
const WORKSPACE = requireEnv('NEARCODE_E2E_WORKSPACE');
const OUTPUT = requireEnv('NEARCODE_TEST_OUTPUT');
const PYTHON = requireEnv('NEARCODE_E2E_PYTHON');
const SETTINGS_FILE = requireEnv('NEARCODE_E2E_SETTINGS_FILE');
const LOGS = requireEnv('NEARCODE_E2E_LOGS');
const CHROMIUM = process.env.NEARCODE_CHROMIUM ?? '/usr/bin/chromium';

const QUERY = 'retry failed http requests with backoff';
const TARGET_FILE = 'net/retry.py';
const TARGET_SYMBOL = 'retry_http_request';
/** A query where a lower-ranked result's name contains the text (VS Code would move it up). */
const LABEL_QUERY = 'time';
const BULK_DIR = 'gen';
// Functions per generated file: ~77 bytes each keeps a file under the 1 MiB maxFileSize.
const BULK_PER_FILE = 6000;

// Step limits: the whole test must stay well under run.sh's limit.
const WORKBENCH_MS = 90_000;
const INDEX_READY_MS = Number(process.env.NEARCODE_E2E_INDEX_MS ?? 150_000);
const STEP_MS = 30_000;

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run this test through e2e/run.sh`);
  }
  return value;
}

const started = Date.now();
function step(message: string): void {
  console.log(`[e2e +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

let browser: Browser;
let page: Page;

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  // The error test pastes settings into settings.json through the clipboard.
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
});

async function screenshot(name: string): Promise<void> {
  const path = join(OUTPUT, name);
  await page.screenshot({ path }).then(
    () => step(`screenshot ${path}`),
    (error: unknown) => step(`screenshot failed: ${String(error)}`),
  );
}

/** Runs `body`; on failure keeps a screenshot named after the test. */
async function withFailureShot(name: string, body: () => Promise<void>): Promise<void> {
  try {
    if (name !== 'start') {
      // Whatever an earlier (failed) test left open: a Quick Pick, an input box.
      await page.keyboard.press('Escape');
      await page.keyboard.press('Escape');
    }
    await body();
  } catch (error) {
    await screenshot(`vscode-e2e-${name}-failure.png`);
    throw error;
  }
}

// ---- What the server ranks: the CLI on the same index (same cache, same model).

interface ServerResult {
  path: string;
  symbol: string;
  score: number;
  range: { start: { line: number } };
  /** Where opening the result puts the cursor: the name, past doc comments and decorators. */
  selectionRange: { start: { line: number; character: number } };
}

function cli(args: string[]): ServerResult[] {
  const out = execFileSync(PYTHON, ['-m', 'lsp_server', ...args, '--json'], { encoding: 'utf8', timeout: 120_000 });
  return (JSON.parse(out) as { results: ServerResult[] }).results;
}

function serverSearch(query: string, extra: string[] = []): ServerResult[] {
  return cli(['search', WORKSPACE, query, '--limit', '50', ...extra]);
}

/** How a result is labelled in the editor: its symbol, or file:line for anonymous chunks. */
function title(result: ServerResult): string {
  if (result.symbol) {
    return result.symbol;
  }
  const base = result.path.split('/').pop() ?? result.path;
  return `${base}:${result.selectionRange.start.line + 1}`;
}

function location(result: ServerResult): string {
  return `${result.path}:${result.selectionRange.start.line + 1}`;
}

// ---- Workbench helpers

async function openWorkbench(): Promise<void> {
  // code-server may still be starting: retry the first load until it answers.
  const deadline = Date.now() + WORKBENCH_MS;
  for (;;) {
    try {
      await page.goto(`${URL}?folder=${encodeURIComponent(WORKSPACE)}`, { timeout: 10_000 });
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        throw error;
      }
      await page.waitForTimeout(1000);
    }
  }
  await page.locator('.monaco-workbench').waitFor({ timeout: WORKBENCH_MS });
  await page.locator('.statusbar').waitFor({ timeout: WORKBENCH_MS });
}

function statusItem(): Locator {
  return page.locator('.statusbar-item').filter({ hasText: /nearcode/ }).first();
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Polls a locator's text until `done` accepts it; the error names the last text seen. */
async function pollText(
  locator: Locator,
  done: (text: string) => boolean,
  timeoutMs: number,
  what: string,
  seen?: (text: string) => void,
): Promise<string> {
  await locator.waitFor({ timeout: timeoutMs });
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = squash(await locator.innerText().catch(() => ''));
    seen?.(text);
    if (done(text)) {
      return text;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`${what} not reached after ${timeoutMs / 1000}s; it shows "${text}"`);
}

function isReadyCount(text: string): boolean {
  return /nearcode \d[\d,]* chunks/.test(text);
}

async function waitForIndex(): Promise<string> {
  return pollText(statusItem(), isReadyCount, INDEX_READY_MS, 'nearcode index ready (status bar)');
}

function chunkCount(text: string): number {
  return Number(/(\d[\d,]*) chunks/.exec(text)?.[1].replace(/,/g, '') ?? Number.NaN);
}

/** Opens Semantic Search and waits for its picker, so no keystroke goes elsewhere. */
async function openSemanticSearch(): Promise<void> {
  await runPaletteCommand('Nearcode: Semantic Search');
  await quickInput().locator('.quick-input-title', { hasText: 'Nearcode: Semantic Search' }).waitFor({ timeout: STEP_MS });
}

function quickInput(): Locator {
  return page.locator('.quick-input-widget');
}

function quickRows(): Locator {
  return quickInput().locator('.monaco-list-row');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Runs a command by its exact palette title (fuzzy neighbours such as "Compare New
 * Untitled…" are skipped), or by a title that starts with `title` when `prefix`.
 */
async function runPaletteCommand(title: string, prefix = false): Promise<void> {
  if (await quickInput().isVisible()) {
    await page.keyboard.press('Escape'); // a Quick Pick or input box left open
    await quickInput().waitFor({ state: 'hidden', timeout: STEP_MS });
  }
  const input = quickInput().locator('input');
  const label = page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}${prefix ? '' : '…?$'}`) });
  const row = quickRows().filter({ has: label }).first();
  // F1 now and then goes unheard on a loaded machine, or the palette closes again at once
  // (focus still moving after the last step), also after the title is typed, leaving its
  // row hidden: open it again rather than wait the whole step out.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    const timeout = attempt < 3 ? 5_000 : STEP_MS;
    try {
      await input.waitFor({ state: 'visible', timeout });
      await input.fill(`>${title}`, { timeout });
      await row.waitFor({ timeout });
      break;
    } catch (error) {
      if (attempt >= 3) {
        throw error;
      }
      step(`the command palette did not open, or closed again (try ${attempt}): opening it again`);
      if (await quickInput().isVisible()) {
        await page.keyboard.press('Escape');
      }
    }
  }
  // Enter runs the highlighted row; a click only when another row is highlighted (a click
  // can land on a row the list is still moving).
  const highlighted = quickRows().filter({ has: label }).and(page.locator('.focused'));
  if ((await highlighted.count()) > 0) {
    await page.keyboard.press('Enter');
  } else {
    await row.click();
  }
  // The palette closes (or turns into the command's own picker) before anything is typed.
  const deadline = Date.now() + STEP_MS;
  while (Date.now() < deadline && (await input.isVisible())) {
    if (!(await input.inputValue().catch(() => '')).startsWith('>')) {
      break;
    }
    await page.waitForTimeout(50);
  }
  // A pointer left over the quick input raises hovers that swallow later clicks.
  await page.mouse.move(1, 450);
}

interface ShownResult {
  title: string;
  location: string;
  score: number;
}

/** `net/retry.py:9  ·  0.91` */
function parseDescription(description: string): { location: string; score: number } | undefined {
  const match = /^(\S+:\d+)\s+·\s+(\d+\.\d+)$/.exec(squash(description));
  return match ? { location: match[1], score: Number(match[2]) } : undefined;
}

interface Row {
  index: number;
  label: string;
  description: string;
}

/** The rows of a list (Quick Pick or tree) in their on-screen order (the DOM order may differ). */
async function listRows(rows: Locator): Promise<Row[]> {
  const entries = await rows.evaluateAll((elements) =>
    elements.map((e) => ({
      index: Number(e.getAttribute('data-index')),
      label: e.querySelector('.label-name')?.textContent ?? '',
      description: e.querySelector('.label-description')?.textContent ?? '',
    })),
  );
  return entries
    .sort((a, b) => a.index - b.index)
    .map((e) => ({ index: e.index, label: squash(e.label), description: squash(e.description) }));
}

/** Result rows of a list (Quick Pick or tree) in their on-screen order. */
async function shownResults(rows: Locator): Promise<ShownResult[]> {
  return (await listRows(rows))
    .map((e) => ({ label: e.label.replace(/^\$\([^)]*\)\s*/, '').trim(), parsed: parseDescription(e.description) }))
    .filter((e): e is { label: string; parsed: { location: string; score: number } } => e.parsed !== undefined)
    .map((e) => ({ title: e.label, location: e.parsed.location, score: e.parsed.score }));
}

/**
 * Waits until a list shows the server's ranking (a reply for the last keystroke may still be
 * on its way), then checks it: the same results, in the same order, with the same scores.
 */
async function expectServerOrder(rows: Locator, server: ServerResult[], what: string, count?: number): Promise<void> {
  const deadline = Date.now() + STEP_MS;
  const expected = (shown: ShownResult[]): string[] =>
    server.slice(0, shown.length).map((r) => `${title(r)} ${location(r)} ${r.score.toFixed(2)}`);
  const actual = (shown: ShownResult[]): string[] => shown.map((r) => `${r.title} ${r.location} ${r.score.toFixed(2)}`);
  let shown: ShownResult[] = [];
  for (;;) {
    shown = (await shownResults(rows)).slice(0, count);
    if ((shown.length >= 3 && actual(shown).join('\n') === expected(shown).join('\n')) || Date.now() > deadline) {
      break;
    }
    await page.waitForTimeout(250);
  }
  assertServerOrder(shown, server, what);
}

/** The rows shown must be the server's ranking, in its order, with its scores. */
function assertServerOrder(shown: ShownResult[], server: ServerResult[], what: string): void {
  assert.ok(shown.length >= 3, `${what}: only ${shown.length} results shown`);
  const expected = server.slice(0, shown.length).map((r) => `${title(r)} ${location(r)} ${r.score.toFixed(2)}`);
  const actual = shown.map((r) => `${r.title} ${r.location} ${r.score.toFixed(2)}`);
  assert.deepEqual(actual, expected, `${what}: not in the server's order`);
  for (let i = 1; i < shown.length; i++) {
    assert.ok(shown[i - 1].score >= shown[i].score, `${what}: score ${shown[i].score} after ${shown[i - 1].score}`);
  }
  step(`${what}: ${shown.length} results in the server's order: ${actual.slice(0, 5).join(' | ')} …`);
}

/** Waits until the active editor tab's title matches `expected`; returns the title. */
function waitForActiveTab(expected: RegExp): Promise<string> {
  const tab = page.locator('.tabs-container .tab.active').first();
  return pollText(tab, (t) => expected.test(t), STEP_MS, `active tab ${expected}`);
}

/** The editor's "Ln X, Col Y" item once it shows `line` with nothing selected. */
/** The cursor is on a 1-based line (and column), nothing selected: the status bar says so. */
async function expectCursorAt(line: number, column?: number): Promise<string> {
  const item = page.locator('[id="status.editor.selection"]').first();
  const where = column === undefined ? `Ln ${line},` : `Ln ${line}, Col ${column}`;
  const text = await pollText(item, (t) => t.startsWith(where), STEP_MS, `cursor at ${where}`);
  assert.doesNotMatch(text, /selected/, `opening a result selected text: "${text}"`);
  return text;
}

function resultsPanel(): Locator {
  return page.locator('.part.panel [id="workbench.view.extension.nearcode"]');
}

function resultsRows(): Locator {
  return resultsPanel().locator('.monaco-list-row');
}

/** The panel at full height, so that more than two results with their previews show. */
async function withMaximizedPanel(body: () => Promise<void>): Promise<void> {
  await runPaletteCommand('View: Toggle Maximized Panel');
  try {
    await page.waitForTimeout(500);
    await body();
  } finally {
    await runPaletteCommand('View: Toggle Maximized Panel');
  }
}

async function focusEditor(): Promise<void> {
  await runPaletteCommand('View: Focus Active Editor Group');
}

/**
 * Changes settings as a user does: pasted into the settings editor, then saved. code-server
 * is a remote window: machine-scoped settings such as nearcode.server.python are the remote
 * machine's (Machine/settings.json), not the user's.
 */
async function writeSettings(changes: Record<string, unknown>): Promise<void> {
  const wanted = { ...(JSON.parse(readFileSync(SETTINGS_FILE, 'utf8')) as Record<string, unknown>), ...changes };
  const text = JSON.stringify(wanted, null, 2);
  await runPaletteCommand('Preferences: Open Remote Settings (JSON)', true);
  await waitForActiveTab(/settings\.json/);
  await page.locator('.editor-instance .monaco-editor textarea').first().focus();
  await page.evaluate(`navigator.clipboard.writeText(${JSON.stringify(text)})`);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Control+V');
  await page.keyboard.press('Control+S');
  const deadline = Date.now() + STEP_MS;
  while (readFileSync(SETTINGS_FILE, 'utf8') !== text) {
    if (Date.now() > deadline) {
      await screenshot('vscode-e2e-settings-failure.png');
      throw new Error(`settings.json was not saved as wanted; it holds:\n${readFileSync(SETTINGS_FILE, 'utf8')}`);
    }
    await page.waitForTimeout(250);
  }
  await runPaletteCommand('View: Close Editor');
}

function notifications(): Locator {
  return page.locator('.notifications-toasts .notification-toast').filter({ hasText: /Nearcode/ });
}

/** 1-based line of `text` in a workspace file. */
function lineOf(file: string, text: string): number {
  const index = readFileSync(join(WORKSPACE, file), 'utf8').split('\n').findIndex((l) => l.includes(text));
  assert.ok(index >= 0, `${file} has no "${text}"`);
  return index + 1;
}

// ---- The tests, in order: one browser page, one server.

test('the first start announces the model export, then shows the index count', () =>
  withFailureShot('start', async () => {
    await openWorkbench();
    step('workbench loaded');
    // The first start exports the model to ONNX: the status bar says so instead of "0%".
    const seen = new Set<string>();
    let preparingShot = false;
    await pollText(statusItem(), isReadyCount, INDEX_READY_MS, 'nearcode index ready (status bar)', (text) => {
      seen.add(text);
      if (!preparingShot && text.includes('preparing the model')) {
        preparingShot = true;
        void screenshot('vscode-e2e-status-preparing.png');
      }
    });
    step(`status bar went through: ${[...seen].map((t) => `"${t}"`).join(' → ')}`);
    assert.ok(
      [...seen].some((t) => /preparing the model \(first run, about \d+ s\)/.test(t)),
      'the model export was never announced',
    );
    assert.ok(![...seen].some((t) => /nearcode 0 chunks/.test(t)), 'the status bar showed "0 chunks"');
  }));

test('the Quick Pick keeps the server order and previews the highlighted result', () =>
  withFailureShot('quickpick', async () => {
    await openSemanticSearch();
    await page.keyboard.type(LABEL_QUERY, { delay: 20 });
    const server = serverSearch(LABEL_QUERY);
    // The precondition that makes this test able to fail: VS Code's own sorting would move a
    // lower result whose name contains the query above the server's first.
    assert.ok(!title(server[0]).toLowerCase().includes(LABEL_QUERY), `server's first is a name match: ${title(server[0])}`);
    assert.ok(server.slice(1).some((r) => title(r).toLowerCase().includes(LABEL_QUERY)), 'no lower name match');
    await quickRows().filter({ hasText: title(server[0]) }).first().waitFor({ timeout: STEP_MS });
    await page.waitForTimeout(500);
    await expectServerOrder(quickRows(), server, `Quick Pick "${LABEL_QUERY}"`);

    // Moving through the list shows each result in the editor, the list stays open.
    await page.keyboard.press('ArrowDown');
    const second = server[1];
    await waitForActiveTab(new RegExp(escapeRegExp(second.path.split('/').pop() ?? '')));
    assert.ok(await quickInput().isVisible(), 'the Quick Pick closed while previewing');
    await expectCursorAt(second.selectionRange.start.line + 1);
    await screenshot('vscode-e2e-quickpick-preview.png');

    // Enter opens it: the cursor at the definition, nothing selected.
    await page.keyboard.press('Enter');
    await quickInput().waitFor({ state: 'hidden', timeout: STEP_MS });
    // On its name (column 1-based), not at the start of the line.
    const cursor = await expectCursorAt(second.selectionRange.start.line + 1, second.selectionRange.start.character + 1);
    step(`opened ${location(second)}: "${cursor}"`);
    await screenshot('vscode-e2e-opened.png');
    // The next keystroke must not replace a selection: typing adds text, the file keeps its lines.
    await page.keyboard.press('End');
    await page.keyboard.type('  # typed');
    await expectCursorAt(second.selectionRange.start.line + 1);
    const lines = page.locator('.editor-instance .view-lines').first();
    await pollText(lines, (t) => t.includes('# typed'), STEP_MS, 'the typed text next to the kept line');
    await runPaletteCommand('File: Revert File');
  }));

test('the Results view lists runs in rank order with previews; F4 and Shift+F4 step through them', () =>
  withFailureShot('results-view', async () => {
    await page.keyboard.press('Control+Alt+Shift+F');
    await quickInput().getByText('Nearcode: Semantic Search').first().waitFor({ timeout: STEP_MS });
    await page.keyboard.type(QUERY, { delay: 10 });
    await quickRows().filter({ hasText: TARGET_SYMBOL }).first().waitFor({ timeout: STEP_MS });
    await quickInput().getByRole('button', { name: /Results view/ }).first().click();
    await resultsRows().filter({ hasText: TARGET_SYMBOL }).first().waitFor({ timeout: STEP_MS });
    assert.ok(await page.locator('.part.panel').isVisible(), 'the results are not in the panel');
    const server = serverSearch(QUERY);
    await withMaximizedPanel(async () => {
      await expectServerOrder(resultsRows(), server, 'Results view');
      // A multi-line preview: the signature and the best-matching body lines under the result.
      const rows = await listRows(resultsRows());
      const at = rows.findIndex((r) => r.label === TARGET_SYMBOL);
      const defLine = lineOf(TARGET_FILE, `def ${TARGET_SYMBOL}(`);
      assert.deepEqual([rows[at + 1].label, rows[at + 1].description], [`def ${TARGET_SYMBOL}(url, attempts=3):`, `:${defLine}`]);
      const body = rows.slice(at + 2, at + 6).map((r) => r.label);
      assert.ok(body.some((t) => /retrying failed HTTP requests/.test(t)), `preview lines: ${body.join(' | ')}`);
      await screenshot('vscode-e2e-results-view.png');
    });

    await focusEditor();
    await page.keyboard.press('F4');
    await waitForActiveTab(new RegExp(escapeRegExp(server[0].path.split('/').pop() ?? '')));
    await expectCursorAt(server[0].selectionRange.start.line + 1);
    await page.keyboard.press('F4');
    await waitForActiveTab(new RegExp(escapeRegExp(server[1].path.split('/').pop() ?? '')));
    await expectCursorAt(server[1].selectionRange.start.line + 1);
    await screenshot('vscode-e2e-f4.png');
    await page.keyboard.press('Shift+F4');
    await expectCursorAt(server[0].selectionRange.start.line + 1);
    step('F4, F4, Shift+F4 went to results 1, 2, 1');

    // A preview line opens its own line.
    const rows = await listRows(resultsRows());
    const at = rows.findIndex((r) => r.label === TARGET_SYMBOL);
    const line = Number(rows[at + 2].description.replace(':', ''));
    await resultsRows().and(page.locator(`[data-index="${rows[at + 2].index}"]`)).click();
    await expectCursorAt(line);
  }));

test('filters go with every search and show in the view', () =>
  withFailureShot('filters', async () => {
    try {
      await filteredSearch();
    } finally {
      await page.keyboard.press('Escape');
      await runPaletteCommand('Nearcode: Clear Search Filters').catch((error: unknown) => step(`clearing filters: ${String(error)}`));
    }
  }));

async function filteredSearch(): Promise<void> {
  {
    await runPaletteCommand('Nearcode: Set Search Filters');
    await quickInput().locator('.quick-input-title', { hasText: 'Nearcode: Search Filters' }).waitFor({ timeout: STEP_MS });
    await page.keyboard.type('web/** lang:javascript');
    await page.keyboard.press('Enter');
    await openSemanticSearch();
    await page.keyboard.type('format a byte count as a readable size', { delay: 10 });
    await quickRows().filter({ hasText: 'formatBytes' }).first().waitFor({ timeout: STEP_MS });
    const server = serverSearch('format a byte count as a readable size', ['--include', 'web/**', '--language', 'javascript']);
    assert.ok(server.every((r) => r.path.startsWith('web/')), JSON.stringify(server));
    await expectServerOrder(quickRows(), server, 'filtered search');
    assert.ok((await shownResults(quickRows())).every((r) => r.location.startsWith('web/')));
    // formatBytes is listed on its name's line, past the JSDoc comment its range starts with.
    const first = server[0];
    const nameLine = lineOf('web/format.js', 'export function formatBytes(');
    assert.equal(first.symbol, 'formatBytes');
    const docLine = lineOf('web/format.js', '/** Formats a number of bytes');
    assert.ok(first.range.start.line + 1 <= docLine, `the range starts at line ${first.range.start.line + 1}, below its doc comment`);
    assert.deepEqual(first.selectionRange.start, { line: nameLine - 1, character: 'export function '.length });
    const listed = (await shownResults(quickRows())).find((r) => r.title === 'formatBytes');
    assert.equal(listed?.location, `web/format.js:${nameLine}`);
    await quickInput().getByRole('button', { name: /Results view/ }).first().click();
    await pollText(page.locator('.part.panel'), (t) => t.includes('Filters: web/** lang:javascript'), STEP_MS, 'the filters in the view');
    const run = resultsRows().filter({ hasText: 'format a byte count as a readable size' }).first();
    await pollText(run, (t) => t.includes('web/** lang:javascript'), STEP_MS, 'the filtered search in the view');
    await screenshot('vscode-e2e-filters.png');
  }
}

test('Search by Selection finds the code behind a pasted stack trace and opens it without a selection', () =>
  withFailureShot('selection', async () => {
    await runPaletteCommand('File: New Untitled Text File');
    await page.locator('.editor-instance .monaco-editor textarea').first().waitFor({ timeout: STEP_MS });
    const raising = lineOf(TARGET_FILE, 'urllib.request.urlopen(url');
    const trace = [
      'Traceback (most recent call last):',
      '  File "sync.py", line 40, in run',
      '    body = retry_http_request(feed_url, attempts=5)',
      `  File "net/retry.py", line ${raising}, in retry_http_request`,
      '    with urllib.request.urlopen(url, timeout=10) as response:',
      'urllib.error.URLError: <urlopen error [Errno 111] Connection refused>',
    ].join('\n');
    await page.keyboard.insertText(trace);
    await page.keyboard.press('Control+A');
    await runPaletteCommand('Nearcode: Search by Selection');
    const row = quickRows().filter({ hasText: TARGET_SYMBOL }).first();
    await row.waitFor({ timeout: STEP_MS });
    await page.waitForTimeout(500);
    const shown = await shownResults(quickRows());
    assert.equal(shown[0].title, TARGET_SYMBOL, 'the frame named in the trace is not first');
    await screenshot('vscode-e2e-selection.png');
    await page.keyboard.press('Enter');
    await waitForActiveTab(/retry\.py/);
    // The cursor lands on the frame's own line, which the list shows.
    assert.equal(shown[0].location, `${TARGET_FILE}:${raising}`);
    await expectCursorAt(raising);
  }));

/** Closes every editor, answering "Don't Save" for the untitled stack trace of the last test. */
async function closeAllEditorsWithoutSaving(): Promise<void> {
  const dontSave = page.getByRole('button', { name: /Don't Save/ });
  const firstTab = page.locator('.tabs-container .tab').first();
  // On a loaded machine the close can go unheard (the dialog never comes and the tabs stay):
  // ask again rather than fail the test in its setup.
  for (let attempt = 1; ; attempt++) {
    await runPaletteCommand('View: Close All Editors');
    await dontSave.click({ timeout: 10_000 }).catch((error: unknown) => step(`no save dialog: ${String(error)}`));
    try {
      await firstTab.waitFor({ state: 'detached', timeout: attempt < 3 ? 10_000 : STEP_MS });
      return;
    } catch (error) {
      if (attempt >= 3) {
        throw error;
      }
      step(`editors still open after closing them (try ${attempt}): closing again`);
    }
  }
}

test('Find Similar Code lists its results in rank order with scores', () =>
  withFailureShot('similar', async () => {
    await closeAllEditorsWithoutSaving();
    await runPaletteCommand('Go to File...');
    await quickInput().locator('input').waitFor({ state: 'visible', timeout: STEP_MS });
    await page.keyboard.type('models.py', { delay: 10 });
    await quickRows().filter({ hasText: 'models.py' }).first().click();
    await waitForActiveTab(/models\.py/);
    // Cursor into Customer.total_spent, then ask for similar code.
    const line = lineOf('app/models.py', 'def total_spent');
    await page.keyboard.press('Control+G');
    await quickInput().locator('input').waitFor({ state: 'visible', timeout: STEP_MS });
    await page.keyboard.type(String(line + 1));
    await page.keyboard.press('Enter');
    await expectCursorAt(line + 1);
    await runPaletteCommand('Nearcode: Find Similar Code');
    const entry = resultsRows().filter({ hasText: /Similar to app\/models\.py:/ }).first();
    await entry.waitFor({ timeout: STEP_MS });
    await resultsRows().filter({ hasText: 'Order.total' }).first().waitFor({ timeout: STEP_MS });
    const server = cli(['similar', `${join(WORKSPACE, 'app/models.py')}:${line + 1}`, '--limit', '50']);
    await withMaximizedPanel(async () => {
      // The view holds older runs too: the newest run's results come first.
      await expectServerOrder(resultsRows(), server, 'Find Similar', server.length);
      await screenshot('vscode-e2e-similar.png');
    });
  }));

test('the status bar counts a new function as soon as the file is saved', () =>
  withFailureShot('save', async () => {
    const before = chunkCount(await waitForIndex());
    await focusEditor();
    await page.keyboard.press('Control+End');
    // No quotes or brackets to type: the editor would auto-close them.
    await page.keyboard.type('\n\ndef count_orders_of_customer(customer):\n# how many orders a customer placed\nreturn 0\n');
    await page.keyboard.press('Control+S');
    const after = await pollText(statusItem(), (t) => isReadyCount(t) && chunkCount(t) > before, 15_000, 'a higher chunk count after the save');
    step(`chunks: ${before} → ${chunkCount(after)}`);
    await screenshot('vscode-e2e-save-count.png');
  }));

test('server problems are told apart, each with its fix, and the notice goes once fixed', () =>
  withFailureShot('errors', async () => {
    await writeSettings({ 'nearcode.server.python': '/nonexistent/bin/python3' });
    const notFound = notifications().filter({ hasText: /was not found/ }).first();
    await notFound.waitFor({ timeout: STEP_MS });
    const notFoundText = squash(await notFound.innerText());
    step(`notice: "${notFoundText}"`);
    assert.match(notFoundText, /Python interpreter "\/nonexistent\/bin\/python3" \(nearcode\.server\.python\) was not found/);
    assert.match(notFoundText, /Install nearcode into a private environment/);
    assert.doesNotMatch(notFoundText, /pip install nearcode\b/);
    await screenshot('vscode-e2e-error-not-found.png');

    await writeSettings({ 'nearcode.server.python': '/usr/bin/python3' });
    const notInstalled = notifications().filter({ hasText: /not installed/ }).first();
    await notInstalled.waitFor({ timeout: STEP_MS });
    const notInstalledText = squash(await notInstalled.innerText());
    step(`notice: "${notInstalledText}"`);
    assert.match(notInstalledText, /the nearcode server is not installed for \/usr\/bin\/python3 \(it cannot import lsp_server\)/);
    assert.match(notInstalledText, /scripts\/build-wheel\.sh/);
    assert.equal(await notifications().filter({ hasText: /was not found/ }).count(), 0, 'the old notice stayed');
    await screenshot('vscode-e2e-error-not-installed.png');

    await writeSettings({ 'nearcode.server.python': PYTHON });
    // A restart must not flash "0 chunks" before the index is open.
    const seen = new Set<string>();
    await pollText(statusItem(), isReadyCount, INDEX_READY_MS, 'the index after the fix', (t) => seen.add(t));
    step(`status bar after the fix: ${[...seen].map((t) => `"${t}"`).join(' → ')}`);
    assert.ok(![...seen].some((t) => /nearcode 0 chunks/.test(t)), 'the status bar showed "0 chunks"');
    await notifications().first().waitFor({ state: 'detached', timeout: STEP_MS });
    assert.equal(await notifications().count(), 0, 'a Nearcode notice stayed after the fix');
    await screenshot('vscode-e2e-error-fixed.png');
  }));

// `count` new functions (in files under the size limit) keep the index partial for a while.
// They are about something else, so that the query's results stay the fixture's.
function writeBulkFiles(count: number): void {
  execFileSync('mkdir', ['-p', join(WORKSPACE, BULK_DIR)]);
  for (let start = 0; start < count; start += BULK_PER_FILE) {
    const bulk = Array.from(
      { length: Math.min(BULK_PER_FILE, count - start) },
      (_, k) => {
        const i = start + k;
        return `def paint_pixel_${i}(canvas):\n    return canvas.fill(color=${i}, alpha=${i % 7})\n`;
      },
    ).join('\n\n');
    writeFileSync(join(WORKSPACE, BULK_DIR, `bulk_handlers_${start / BULK_PER_FILE}.py`), bulk);
  }
}

// Runs the query while the index builds and returns its row in the Results view, or null
// when the machine indexed the bulk file before the search could be made.
async function searchWhileIndexing(count: number): Promise<Locator | null> {
  writeBulkFiles(count);
  const busy = await pollText(statusItem(), (t) => /nearcode \d+%/.test(t), STEP_MS, 'the status bar to show embedding progress')
    .catch(() => null);
  if (busy === null) {
    step(`${count} functions were indexed before the status bar showed progress`);
    return null;
  }
  step(`${count} functions; status bar: "${busy}"`);
  await openSemanticSearch();
  await page.keyboard.type(QUERY, { delay: 10 });
  await quickRows().filter({ hasText: TARGET_SYMBOL }).first().waitFor({ timeout: STEP_MS });
  await quickInput().getByRole('button', { name: /Results view/ }).first().click();
  const query = resultsRows().filter({ hasText: QUERY }).first();
  const text = await pollText(query, (t) => t.length > 0, STEP_MS, 'the search in the Results view');
  step(`results view, while indexing: "${text}"`);
  return /index still building/.test(text) ? query : null;
}

test('a search made while the index builds says so, and is refreshed when indexing is done', () =>
  withFailureShot('refresh', async () => {
    await waitForIndex();
    // A fast machine may embed 6,000 small functions before a search lands: then more.
    let query: Locator | null = null;
    for (const count of [6000, 24000]) {
      query = await searchWhileIndexing(count);
      if (query !== null) {
        break;
      }
      await waitForIndex();
    }
    assert.ok(query, 'no search was made while the index was building, even with 24,000 new functions');
    const partial = await query.innerText();
    assert.match(partial, /index still building: refreshed when it is done/);

    const refreshed = await pollText(query, (t) => /refreshed/.test(t) && !/still building/.test(t), 180_000, 'the refreshed search');
    step(`results view, after indexing: "${refreshed}"`);
    await waitForIndex();
    await withMaximizedPanel(async () => {
      // The first five: further down, 1,500 near-identical new vectors make the approximate
      // (HNSW) neighbours of the server and of a second process differ now and then.
      await expectServerOrder(resultsRows(), serverSearch(QUERY), 'refreshed search', 5);
      await screenshot('vscode-e2e-refreshed.png');
    });

    // Leave the fixture as it was.
    rmSync(join(WORKSPACE, BULK_DIR), { recursive: true, force: true });
    await pollText(statusItem(), (t) => isReadyCount(t) && chunkCount(t) < 100, 60_000, 'the bulk file dropped from the index');
  }));

/** A workspace folder's row of Show Index Status once it reads `wanted` (reopened to see). */
async function statusRowWhen(wanted: (text: string) => boolean, what: string, folder = 'workspace'): Promise<string> {
  const row = quickRows().filter({ hasText: new RegExp(`${escapeRegExp(folder)} — ready`) }).first();
  const deadline = Date.now() + INDEX_READY_MS;
  let text = '';
  while (Date.now() < deadline) {
    await statusItem().click();
    text = await row.waitFor({ timeout: STEP_MS }).then(async () => squash(await row.innerText()), () => '');
    if (text !== '' && wanted(text)) {
      return text;
    }
    await page.keyboard.press('Escape');
    await page.waitForTimeout(500);
  }
  throw new Error(`Show Index Status never showed ${what}; last: "${text}"`);
}

test('Show Index Status lists the workspace folder as ready, and the files a setting leaves out', () =>
  withFailureShot('status', async () => {
    const plain = await statusRowWhen((t) => /files ·/.test(t), 'the folder ready');
    step(`status: "${plain}"`);
    assert.doesNotMatch(plain, /excluding/);
    await screenshot('vscode-e2e-status.png');
    await page.keyboard.press('Escape');

    await writeSettings({ 'nearcode.exclude': ['scratch/**'] });
    const scoped = await statusRowWhen((t) => /excluding/.test(t), 'the exclude setting');
    step(`status with nearcode.exclude: "${scoped}"`);
    // First in its line, which the window cuts at its width (the model and index come last).
    assert.match(scoped, /chunks\s?excluding scratch\/\*\* · model all-MiniLM-L6-v2 \(onnx-fp32\) · index /);
    await page.keyboard.press('Escape');

    // Removed, the setting leaves nothing behind: the index recorded it as the editor's.
    await writeSettings({ 'nearcode.exclude': undefined });
    const unset = await statusRowWhen((t) => !/excluding/.test(t), 'the setting removed');
    step(`status without it: "${unset}"`);
    await page.keyboard.press('Escape');
  }));

function outputChannelLog(): string {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        walk(path);
      } else if (/Nearcode\.log$/.test(name)) {
        files.push(path);
      }
    }
  };
  walk(LOGS);
  return files.map((f) => readFileSync(f, 'utf8')).join('\n');
}

test('the output channel has no noise: no ignored client settings, no error for a deliberate restart', () => {
  const log = outputChannelLog();
  assert.ok(log.includes('Server settings changed: restarting the server.'), 'no restart in the log to check');
  assert.doesNotMatch(log, /ignoring setting/);
  assert.doesNotMatch(log, /\[Error[^\]]*\][^\n]*exited with code 0/);
});

/** Writes `files` (path relative to `root` -> text), making their folders. */
function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

// Last: it reopens the window as a multi-root workspace (a new extension host and server).
test("a multi-root window's folders each keep to the files their own folder settings choose", () =>
  withFailureShot('multi-root', async () => {
    const other = join(dirname(WORKSPACE), 'other');
    const folderSettings = join(other, '.vscode', 'settings.json');
    writeTree(other, {
      'tools/build.py': 'def build_wheel(out_dir):\n    return out_dir\n',
      'scratch/notes.py': 'def scratch_note():\n    return 1\n',
      'scratch/more.py': 'def another_note():\n    return 2\n',
      '.vscode/settings.json': JSON.stringify({ 'nearcode.exclude': ['scratch/**'] }),
    });
    const workspaceFile = join(dirname(WORKSPACE), 'two.code-workspace');
    writeFileSync(workspaceFile, JSON.stringify({ folders: [{ path: WORKSPACE }, { path: other }] }));
    await page.goto(`${URL}?workspace=${encodeURIComponent(workspaceFile)}`, { timeout: WORKBENCH_MS });
    await page.locator('.statusbar').waitFor({ timeout: WORKBENCH_MS });

    const scoped = await statusRowWhen((t) => /excluding/.test(t), "the folder's exclude setting", 'other');
    step(`other folder: "${scoped}"`);
    // tools/build.py and the folder's .vscode/settings.json; not the two scratch files.
    assert.match(scoped, /other — ready\s?2 files · 2 chunks\s?excluding scratch\/\*\* · model /);
    await page.keyboard.press('Escape');
    const main = await statusRowWhen((t) => /files ·/.test(t), 'the first folder ready');
    step(`first folder: "${main}"`);
    assert.doesNotMatch(main, /excluding/);
    await screenshot('vscode-e2e-multi-root.png');
    await page.keyboard.press('Escape');

    // The folder's setting edited on disk: that folder takes the new scope.
    writeFileSync(folderSettings, JSON.stringify({ 'nearcode.exclude': ['tools/**'] }));
    const changed = await statusRowWhen((t) => /3 files · .*excluding tools/.test(t), 'the edited folder setting', 'other');
    step(`other folder, edited: "${changed}"`);
    assert.match(changed, /other — ready\s?3 files · 3 chunks\s?excluding tools\/\*\* · model /);
    await page.keyboard.press('Escape');
  }));
