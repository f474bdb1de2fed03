// Server lifecycle: workspace trust, choosing the interpreter, the install check,
// starting/restarting the LanguageClient and forwarding settings changes. Why the server
// is not running is told apart (no interpreter, no nearcode in it, a crash) and shown in
// one notification that closes by itself once the server runs.

import * as vscode from 'vscode';
import { DidChangeConfigurationNotification, type LanguageClient, State } from 'vscode-languageclient/node';
import { createClient, executeServerCommand } from './client';
import { type Problem, type ProblemAction, ProblemNotice } from './notice';
import { TailBuffer, recordInto } from './outputTail';
import { ClientCommand, type ExecuteCommandCall, errorMessage } from './protocol';
import { pythonExtensionInterpreter } from './python';
import { RestartBudget } from './restartBudget';
import { checkServerImport, isNotFoundError } from './serverCheck';
import {
  type LaunchInput,
  LAUNCH_SETTINGS,
  type ServerLaunch,
  type ServerSettings,
  describeLaunch,
  installCommand,
  machineValue,
  resolveServerLaunch,
  serverSettingsFrom,
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
  const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => {
    const scoped = vscode.workspace.getConfiguration(SECTION, folder.uri);
    return { uri: folder.uri.toString(), inspect: (key: string) => scoped.inspect(key) };
  });
  return serverSettingsFrom(
    (key) => config.inspect(key),
    (key) => config.get(key),
    folders,
  );
}

/** The interpreters worth trying, in order, for a fresh private environment. */
export async function candidatePythons(log: (line: string) => void): Promise<string[][]> {
  const input = readLaunchInput();
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  const fromExtension = await pythonExtensionInterpreter(resource, log);
  const python = typeof input.python === 'string' && input.python.trim() !== '' ? [[input.python.trim()]] : [];
  return [...python, ...(fromExtension ? [fromExtension] : []), ['python3'], ['python']];
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

const INSTALL_ACTION: ProblemAction = {
  title: 'Install nearcode into a private environment',
  command: ClientCommand.installServer,
};
const SETTINGS_ACTION: ProblemAction = {
  title: 'Open Settings',
  command: 'workbench.action.openSettings',
  args: ['nearcode.server'],
};
const LOG_ACTION: ProblemAction = { title: 'Show Log', command: ClientCommand.showLog };
const RESTART_ACTION: ProblemAction = { title: 'Restart Server', command: ClientCommand.restartServer };

/** Which setting chose the program, for messages ("set nearcode.server.python …"). */
function settingName(launch: ServerLaunch): string {
  return launch.source === 'nearcode.server.command' ? 'nearcode.server.command' : 'nearcode.server.python';
}

export function notFoundProblem(launch: ServerLaunch): Problem {
  const what = launch.python ? 'Python interpreter' : 'server command';
  const origin = launch.source === 'default' ? 'the default' : launch.source === 'python-extension' ? "the Python extension's choice" : settingName(launch);
  return {
    key: `notFound:${describeLaunch(launch)}`,
    message:
      `the ${what} "${launch.command}" (${origin}) was not found. ` +
      `Set ${settingName(launch)} to a Python 3.10+ interpreter that has nearcode, or install it into a private environment.`,
    actions: [INSTALL_ACTION, SETTINGS_ACTION],
  };
}

export function notInstalledProblem(python: readonly string[]): Problem {
  return {
    key: `notInstalled:${python.join(' ')}`,
    message:
      `the nearcode server is not installed for ${python.join(' ')} (it cannot import lsp_server). ` +
      `Install it into a private environment, or into that interpreter: ${installCommand(python)} ` +
      `(the wheel comes from scripts/build-wheel.sh in a nearcode checkout).`,
    actions: [INSTALL_ACTION, SETTINGS_ACTION, LOG_ACTION],
  };
}

export function crashedProblem(launch: ServerLaunch, reason: string, gaveUp: boolean): Problem {
  const what = gaveUp ? 'the server crashed several times in a few minutes and is not restarted again' : 'the server stopped';
  return {
    key: `crashed:${describeLaunch(launch)}:${reason}`,
    message: `${what}${reason ? `: ${reason}` : ''}. Command: ${describeLaunch(launch)}.`,
    actions: [LOG_ACTION, RESTART_ACTION, SETTINGS_ACTION],
  };
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly budget = new RestartBudget();
  private starting: Promise<void> | undefined;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Clients whose death was already reported: at most one problem each. */
  private readonly notifiedStopped = new WeakSet<LanguageClient>();
  private untrustedNotified = false;
  private readonly notice = new ProblemNotice();
  /** The end of the server's stderr, for the reason of a crash. */
  private readonly stderrTail = new TailBuffer();
  private readonly channel: vscode.OutputChannel;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly statusBar: StatusBarController,
  ) {
    this.channel = recordInto(output, this.stderrTail);
    this.disposables.push(
      this.notice,
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.start()),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigurationChanged(e)),
      // A save (or a change from outside: git, a generator) re-indexes that file on the
      // server: show the new counts.
      vscode.workspace.onDidSaveTextDocument(() => this.statusBar.pollSoon()),
    );
    const files = vscode.workspace.createFileSystemWatcher('**/*');
    for (const event of [files.onDidCreate, files.onDidChange, files.onDidDelete]) {
      this.disposables.push(event(() => this.statusBar.pollSoon()));
    }
    this.disposables.push(files);
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
    if (this.problem) {
      return `the server is not running: ${this.problem.message}`;
    }
    return 'The nearcode server is not running yet (see Nearcode: Show Server Log).';
  }

  showLog(): void {
    this.output.show(true);
  }

  async dispose(): Promise<void> {
    this.disposables.forEach((d) => d.dispose());
    await this.stop();
  }

  private problem: Problem | undefined;

  private report(problem: Problem): void {
    this.problem = problem;
    this.log(problem.message);
    this.notice.show(problem);
  }

  private resolved(): void {
    if (this.problem) {
      this.problem = undefined;
      this.notice.clear();
      vscode.window.setStatusBarMessage('$(check) Nearcode: the server is running', 5000);
    }
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
    if (launch.python && !(await this.checkInstalled(launch))) {
      return;
    }
    await this.launch(launch);
  }

  private async checkInstalled(launch: ServerLaunch): Promise<boolean> {
    const python = launch.python ?? [];
    const check = await checkServerImport(python);
    switch (check.outcome) {
      case 'ok':
        return true;
      case 'notFound':
        this.log(`Cannot run ${python.join(' ')}: ${check.detail}`);
        this.statusBar.setPhase('notFound', notFoundProblem(launch).message);
        this.report(notFoundProblem(launch));
        return false;
      case 'notInstalled':
        this.log(`The server package cannot be imported by ${python.join(' ')}:\n${check.detail}`);
        this.statusBar.setPhase('missing', notInstalledProblem(python).message);
        this.report(notInstalledProblem(python));
        return false;
      case 'failed':
        // Not conclusive (a slow or odd interpreter): try to start it, failures show then.
        this.log(`Could not check ${python.join(' ')} (${check.detail}); starting it anyway.`);
        return true;
    }
  }

  private async launch(launch: ServerLaunch): Promise<void> {
    let lastError = '';
    this.stderrTail.clear();
    const client = createClient({
      launch,
      settings: readServerSettings,
      output: this.channel,
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
      this.resolved();
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
   * stopped by us. One problem report per client.
   */
  private checkStoppedLater(client: LanguageClient, lastError: () => string, launch: ServerLaunch): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      if (client !== this.client || client.state !== State.Stopped || this.notifiedStopped.has(client)) {
        return;
      }
      this.notifiedStopped.add(client);
      const error = lastError();
      if (isNotFoundError(error)) {
        this.statusBar.setPhase('notFound', notFoundProblem(launch).message);
        this.report(notFoundProblem(launch));
        return;
      }
      const stderr = this.stderrTail.lastLine;
      const reason = [error.replace(/[.\s]+$/, ''), stderr].filter((s) => s !== '').join(' — ');
      this.report(crashedProblem(launch, reason, this.budget.recent > this.budget.limit));
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

  private log(line: string): void {
    this.output.appendLine(`[nearcode] ${line}`);
  }
}
