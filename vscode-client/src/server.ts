// Server lifecycle: workspace trust, choosing the interpreter, the install check,
// starting/restarting the LanguageClient and forwarding settings changes.

import * as vscode from 'vscode';
import { DidChangeConfigurationNotification, type LanguageClient, State } from 'vscode-languageclient/node';
import { createClient, executeServerCommand } from './client';
import { type ExecuteCommandCall, errorMessage } from './protocol';
import { pythonExtensionInterpreter } from './python';
import { RestartBudget } from './restartBudget';
import { checkServerImport } from './serverCheck';
import {
  type LaunchInput,
  LAUNCH_SETTINGS,
  type ServerLaunch,
  EMBEDDINGS_KEYS,
  type RawEmbeddingsSettings,
  type ServerSettings,
  buildServerSettings,
  describeLaunch,
  installCommand,
  machineValue,
  resolveServerLaunch,
} from './settings';
import type { StatusBarController } from './statusBar';

const SECTION = 'nearcode';
/** How long the client must stay Stopped before it counts as dead (restarts take less). */
const STOP_SETTLE_MS = 3000;

function readLaunchInput(): LaunchInput {
  const config = vscode.workspace.getConfiguration(SECTION);
  return {
    command: machineValue(config.inspect<string[]>('server.command')),
    python: machineValue(config.inspect<string>('server.python')),
  };
}

export function readServerSettings(): ServerSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  // User (machine) values only: where code is sent is not a repository's choice.
  const embeddings: RawEmbeddingsSettings = {};
  for (const key of EMBEDDINGS_KEYS) {
    embeddings[key] = machineValue(config.inspect(`embeddings.${key}`));
  }
  return buildServerSettings({
    embeddings,
    model: machineValue(config.inspect<string | null>('model')),
    exclude: config.get('exclude'),
    maxFileSize: config.get('maxFileSize'),
    resultLimit: config.get('resultLimit'),
    workspaceSymbols: config.get('workspaceSymbols'),
  });
}

async function resolveLaunch(log: (line: string) => void): Promise<ServerLaunch> {
  const input = readLaunchInput();
  const explicit = resolveServerLaunch(input);
  if (explicit.source !== 'default') {
    return explicit;
  }
  // Only ask the Python extension (which may take seconds to activate) when no setting decides.
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  return resolveServerLaunch({ ...input, pythonExtension: await pythonExtensionInterpreter(resource, log) });
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly budget = new RestartBudget();
  private starting: Promise<void> | undefined;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Clients whose death was already notified: at most one notification each. */
  private readonly notifiedStopped = new WeakSet<LanguageClient>();
  private untrustedNotified = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly statusBar: StatusBarController,
  ) {
    this.disposables.push(
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.start()),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigurationChanged(e)),
    );
  }

  /** Starts the server unless it is already starting or running. */
  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async restart(): Promise<void> {
    // Let a start in progress finish first, or it would install its client after our stop.
    await this.starting;
    this.budget.reset();
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    // Cleared first, so the state events of a deliberate stop are ignored.
    this.client = undefined;
    clearTimeout(this.settleTimer);
    if (client) {
      try {
        await client.stop();
      } catch (error) {
        this.log(`Stopping the server failed: ${errorMessage(error)}`);
      }
      await client.dispose();
    }
  }

  /** Sends one workspace/executeCommand; rejects with a readable error if the server is down. */
  execute(call: ExecuteCommandCall, token?: vscode.CancellationToken): Promise<unknown> {
    const client = this.client;
    if (!client || client.state !== State.Running) {
      return Promise.reject(new Error(this.notRunningReason()));
    }
    return executeServerCommand(client, call, token);
  }

  notRunningReason(): string {
    if (!vscode.workspace.isTrusted) {
      return 'Nearcode is off in Restricted Mode: trust this workspace to start its server.';
    }
    return 'The nearcode server is not running (see Nearcode: Show Server Log).';
  }

  showLog(): void {
    this.output.show(true);
  }

  async dispose(): Promise<void> {
    this.disposables.forEach((d) => d.dispose());
    await this.stop();
  }

  private async doStart(): Promise<void> {
    if (this.client && this.client.state !== State.Stopped) {
      return;
    }
    // A client that failed or gave up is replaced, not restarted: its settings may be stale.
    await this.stop();
    if (!vscode.workspace.isTrusted) {
      this.onUntrusted();
      return;
    }
    this.statusBar.setPhase('starting');
    const launch = await resolveLaunch((line) => this.log(line));
    this.log(`Server command (${launch.source}): ${describeLaunch(launch)}`);
    // A custom nearcode.server.command is trusted as given; its failures show at start.
    if (launch.python && !(await this.checkInstalled(launch.python))) {
      return;
    }
    await this.launch(launch);
  }

  private async checkInstalled(python: string[]): Promise<boolean> {
    const check = await checkServerImport(python);
    if (check.ok) {
      return true;
    }
    this.log(`The server package cannot be imported by ${python.join(' ')}:\n${check.detail}`);
    this.statusBar.setPhase('missing', `Install it with: ${installCommand(python)}`);
    void this.notifyMissing(python);
    return false;
  }

  private async launch(launch: ServerLaunch): Promise<void> {
    let lastError = '';
    const client = createClient({
      launch,
      settings: readServerSettings,
      output: this.output,
      budget: this.budget,
      hooks: {
        onProgress: (token, value) => this.statusBar.onProgress(token, value),
        onRestart: (attempt) =>
          this.log(`The server stopped unexpectedly; restart ${attempt} of ${this.budget.limit}.`),
        onGiveUp: (crashes) => this.log(`The server crashed ${crashes} times in a few minutes; not restarting it.`),
        onError: (message) => {
          lastError = message;
        },
      },
    });
    client.onDidChangeState((e) => this.onStateChanged(client, e.newState, () => lastError || 'unknown error', launch));
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      // Not final: the error handler may already be restarting it. onStateChanged decides.
      lastError = errorMessage(error);
      this.log(`Starting the server failed: ${lastError}`);
    }
  }

  private onStateChanged(client: LanguageClient, state: State, lastError: () => string, launch: ServerLaunch): void {
    if (client !== this.client) {
      return; // a replaced client's late events
    }
    if (state === State.Running) {
      this.statusBar.setPhase('running');
      void this.statusBar.poll();
    } else if (state === State.Starting) {
      this.statusBar.setPhase('starting');
    } else {
      this.statusBar.setPhase('stopped', lastError());
      this.checkStoppedLater(client, lastError, launch);
    }
  }

  /**
   * The client passes through Stopped on every automatic restart, and a server that
   * dies during initialize can end up stopped without the error handler being asked.
   * So "dead" is decided by the state settling: still Stopped a moment later, and not
   * stopped by us. One notification per client.
   */
  private checkStoppedLater(client: LanguageClient, lastError: () => string, launch: ServerLaunch): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      if (client !== this.client || client.state !== State.Stopped || this.notifiedStopped.has(client)) {
        return;
      }
      this.notifiedStopped.add(client);
      void this.notifyStopped(launch, lastError());
    }, STOP_SETTLE_MS);
  }

  private onConfigurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (!event.affectsConfiguration(SECTION)) {
      return;
    }
    if (LAUNCH_SETTINGS.some((key) => event.affectsConfiguration(key))) {
      this.log('Server settings changed: restarting the server.');
      void this.restart();
      return;
    }
    const client = this.client;
    if (client?.state === State.Running) {
      const settings = { [SECTION]: readServerSettings() };
      void client.sendNotification(DidChangeConfigurationNotification.type, { settings });
    }
  }

  private onUntrusted(): void {
    const reason =
      'Nearcode is off in Restricted Mode: it runs a local Python server, so it starts only in a trusted workspace.';
    this.statusBar.setPhase('untrusted');
    this.log(reason);
    if (!this.untrustedNotified) {
      this.untrustedNotified = true;
      void vscode.window.showInformationMessage(reason, 'Manage Workspace Trust').then((choice) => {
        if (choice) {
          void vscode.commands.executeCommand('workbench.trust.manage');
        }
      });
    }
  }

  private async notifyMissing(python: string[]): Promise<void> {
    const install = installCommand(python);
    const message =
      `Nearcode: the language server is not installed for ${python.join(' ')}. ` +
      `Install it with: ${install} — or set "nearcode.server.python" to an interpreter that has it.`;
    const choice = await vscode.window.showErrorMessage(message, 'Open Settings', 'Copy Install Command', 'Show Log');
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'nearcode.server');
    } else if (choice === 'Copy Install Command') {
      await vscode.env.clipboard.writeText(install);
    } else if (choice === 'Show Log') {
      this.showLog();
    }
  }

  private async notifyStopped(launch: ServerLaunch, reason: string): Promise<void> {
    const crashes = this.budget.recent;
    const what =
      crashes > this.budget.limit
        ? `the server crashed ${crashes} times in a few minutes and is not restarted again`
        : `the server stopped (${reason.replace(/[.\s]+$/, '')})`;
    const message = `Nearcode: ${what}. Command: ${describeLaunch(launch)}. The log says why.`;
    const choice = await vscode.window.showErrorMessage(message, 'Show Log', 'Restart Server', 'Open Settings');
    if (choice === 'Show Log') {
      this.showLog();
    } else if (choice === 'Restart Server') {
      await this.restart();
    } else if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'nearcode.server');
    }
  }

  private log(line: string): void {
    this.output.appendLine(`[nearcode] ${line}`);
  }
}
