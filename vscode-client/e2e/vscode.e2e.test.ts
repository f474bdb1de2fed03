// Browser test: drives code-server (started by e2e/run.sh) with Playwright and
// Debian's Chromium. Runs the real extension against the real nearcode server.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, type Locator, type Page, chromium } from 'playwright-core';

const URL = requireEnv('NEARCODE_E2E_URL');
const WORKSPACE = requireEnv('NEARCODE_E2E_WORKSPACE');
const OUTPUT = requireEnv('NEARCODE_TEST_OUTPUT');
const CHROMIUM = process.env.NEARCODE_CHROMIUM ?? '/usr/bin/chromium';

const QUERY = 'retry failed http requests with backoff';
const TARGET_FILE = 'net/retry.py';
const TARGET_SYMBOL = 'retry_http_request';

// Step limits: the whole test must stay well under run.sh's 5 minutes.
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

/** 1-based line of the target function's `def` in the fixture. */
function defLine(): number {
  const lines = readFileSync(join(WORKSPACE, TARGET_FILE), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.startsWith(`def ${TARGET_SYMBOL}(`));
  assert.ok(index >= 0, 'fixture lost its target function');
  return index + 1;
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
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
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

function statusItem(text: RegExp): Locator {
  return page.locator('.statusbar-item').filter({ hasText: text });
}

/** Polls a locator's text until `done` accepts it; the error names the last text seen. */
async function pollText(
  locator: Locator,
  done: (text: string) => boolean,
  timeoutMs: number,
  what: string,
  seen?: Set<string>,
): Promise<string> {
  await locator.waitFor({ timeout: timeoutMs });
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = (await locator.innerText()).replace(/\s+/g, ' ').trim();
    seen?.add(text);
    if (done(text)) {
      return text;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`${what} not reached after ${timeoutMs / 1000}s; it shows "${text}"`);
}

/** Waits until the extension's status bar item reports a ready index ("nearcode 12 chunks"). */
async function waitForIndex(): Promise<string> {
  const item = statusItem(/nearcode/).first();
  const seen = new Set<string>();
  try {
    return await pollText(item, (t) => /\d[\d,]* chunks/.test(t), INDEX_READY_MS, 'nearcode index ready (status bar)', seen);
  } finally {
    step(`status bar went through: ${[...seen].map((t) => `"${t}"`).join(' → ')}`);
  }
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

/** Runs a command by its exact palette title (fuzzy neighbours such as "Compare New Untitled…" are skipped). */
async function runPaletteCommand(title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = quickInput().locator('input');
  await input.waitFor({ state: 'visible', timeout: STEP_MS });
  await input.fill(`>${title}`);
  const label = page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}…?$`) });
  const row = quickRows().filter({ has: label }).first();
  await row.waitFor({ timeout: STEP_MS });
  step(`palette lists "${title}"`);
  await row.click();
  // A pointer left over the quick input raises hovers that swallow later clicks.
  await page.mouse.move(1, 450);
}

/** Waits for the result row of the target function; returns its list index and line. */
async function waitForResultRow(): Promise<{ index: number; line: number; text: string }> {
  const row = quickRows().filter({ hasText: TARGET_SYMBOL }).filter({ hasText: `${TARGET_FILE}:` }).first();
  await row.waitFor({ timeout: STEP_MS });
  const text = (await row.innerText()).replace(/\s+/g, ' ');
  const match = new RegExp(`${TARGET_FILE.replace(/[.]/g, '\\.')}:(\\d+)`).exec(text);
  assert.ok(match, `no path:line in "${text}"`);
  const index = Number(await row.getAttribute('data-index'));
  return { index: Number.isFinite(index) ? index : 0, line: Number(match[1]), text };
}

/** Waits until the active editor tab's title matches `expected`; returns the title. */
function waitForActiveTab(expected: RegExp): Promise<string> {
  const tab = page.locator('.tabs-container .tab.active').first();
  return pollText(tab, (t) => expected.test(t), STEP_MS, `active tab ${expected}`);
}

/** Waits for the editor's "Ln X, Col Y" status item to show `line`. */
function waitForCursorLine(line: number): Promise<string> {
  const item = page.locator('[id="status.editor.selection"]').first();
  return pollText(item, (t) => t.includes(`Ln ${line},`), STEP_MS, `cursor on line ${line}`);
}

test('Semantic Search finds the retry function and opens it at its line', async () => {
  try {
    await openWorkbench();
    step('workbench loaded');
    const status = await waitForIndex();
    step(`status bar: "${status}"`);

    await runPaletteCommand('Nearcode: Semantic Search');
    await quickInput().locator('input').waitFor({ state: 'visible', timeout: STEP_MS });
    await page.keyboard.type(QUERY, { delay: 15 });
    step(`typed "${QUERY}"`);

    const result = await waitForResultRow();
    step(`result row ${result.index}: "${result.text}"`);
    await screenshot('vscode-e2e-quickpick.png');
    const expected = defLine();
    // The chunk may start at a decorator or comment just above the def.
    assert.ok(result.line <= expected && expected - result.line <= 3, `line ${result.line} is not at def line ${expected}`);

    for (let i = 0; i < result.index; i++) {
      await page.keyboard.press('ArrowDown');
    }
    await page.keyboard.press('Enter');

    const title = await waitForActiveTab(/retry\.py/);
    step(`active tab: "${title}"`);
    const cursor = await waitForCursorLine(result.line);
    step(`cursor: "${cursor}"`);
  } finally {
    await screenshot('vscode-e2e.png');
  }
});

/** Runs `body`; on failure keeps a screenshot named after the test. */
async function withFailureShot(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    await screenshot(`vscode-e2e-${name}-failure.png`);
    throw error;
  }
}

test('the keybinding opens Semantic Search and its button fills the Results view', () =>
  withFailureShot('results-view', async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Alt+Shift+F');
    await quickInput().getByText('Nearcode: Semantic Search').first().waitFor({ timeout: STEP_MS });
    step('Ctrl+Alt+Shift+F opened the Semantic Search picker');
    await page.keyboard.type('format a byte count as a readable size', { delay: 10 });
    await quickRows().filter({ hasText: 'formatBytes' }).first().waitFor({ timeout: STEP_MS });
    await quickInput().getByRole('button', { name: /Results view/ }).first().click();
    const view = page.locator('[id="workbench.view.explorer"] .pane').filter({ hasText: /Nearcode Results/i });
    const tree = view.locator('.monaco-list-row');
    await tree.filter({ hasText: 'format a byte count' }).first().waitFor({ timeout: STEP_MS });
    await tree.filter({ hasText: 'formatBytes' }).first().waitFor({ timeout: STEP_MS });
    step(`results view: ${(await tree.allInnerTexts()).slice(0, 4).map((t) => t.replace(/\s+/g, ' ')).join(' | ')}`);
    await tree.filter({ hasText: 'formatBytes' }).first().click();
    await waitForActiveTab(/format\.js/);
    await screenshot('vscode-e2e-results-view.png');
  }));

test('Search by Selection finds the code behind a pasted stack trace', () =>
  withFailureShot('selection', async () => {
    await runPaletteCommand('File: New Untitled Text File');
    await page.locator('.editor-instance .monaco-editor textarea').first().waitFor({ timeout: STEP_MS });
    await page.keyboard.insertText(
      [
        'Traceback (most recent call last):',
        '  File "sync.py", line 40, in run',
        '    body = retry_http_request(feed_url, attempts=5)',
        '  File "net/retry.py", line 18, in retry_http_request',
        '    with urllib.request.urlopen(url, timeout=10) as response:',
        'urllib.error.URLError: <urlopen error [Errno 111] Connection refused>',
      ].join('\n'),
    );
    await page.keyboard.press('Control+A');
    await runPaletteCommand('Nearcode: Search by Selection');
    const row = quickRows().filter({ hasText: TARGET_SYMBOL }).first();
    await row.waitFor({ timeout: STEP_MS });
    step(`selection picker: "${(await row.innerText()).replace(/\s+/g, ' ')}"`);
    await screenshot('vscode-e2e-selection.png');
    await page.keyboard.press('Escape');
  }));

test('Find Similar Code peeks at similar functions', () =>
  withFailureShot('similar', async () => {
    await runPaletteCommand('View: Revert and Close Editor');
    await runPaletteCommand('Go to File...');
    await page.keyboard.type('models.py', { delay: 10 });
    await quickRows().filter({ hasText: 'models.py' }).first().click();
    await waitForActiveTab(/models\.py/);
    // Cursor into Customer.total_spent, then ask for similar code.
    await page.keyboard.press('Control+G');
    await page.keyboard.type('13');
    await page.keyboard.press('Enter');
    await runPaletteCommand('Nearcode: Find Similar Code');
    const peek = page.locator('.peekview-widget');
    await peek.first().waitFor({ timeout: STEP_MS });
    const text = (await peek.first().innerText()).replace(/\s+/g, ' ');
    step(`peek view: "${text.slice(0, 160)}"`);
    assert.match(text, /total/);
    await screenshot('vscode-e2e-similar.png');
    await page.keyboard.press('Escape');
  }));

test('Show Index Status lists the workspace folder as ready', () =>
  withFailureShot('status', async () => {
    // Embedding may still be finishing (the first start exports the model): reopen until ready.
    const row = quickRows().filter({ hasText: /workspace — ready/ }).first();
    const deadline = Date.now() + INDEX_READY_MS;
    for (;;) {
      await statusItem(/nearcode/).first().click();
      try {
        await row.waitFor({ timeout: 5_000 });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await page.keyboard.press('Escape');
      }
    }
    step(`status: "${(await row.innerText()).replace(/\s+/g, ' ')}"`);
    await screenshot('vscode-e2e-status.png');
    await page.keyboard.press('Escape');
  }));
